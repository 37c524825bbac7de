#pragma once
// A small Result<T, E>: the data path returns errors as values, never throws.
// libstdc++ 12's std::expected needs C++23 and is invisible to clang 14/16, so we keep our own.
#include <cassert>
#include <type_traits>
#include <utility>
#include <variant>

namespace odp {

template <typename E>
struct Err {
  explicit Err(E e) : error(std::move(e)) {}  // a constructor: clang 14 has no parenthesised aggregate init
  E error;
};
template <typename E>
Err(E) -> Err<E>;

template <typename T, typename E>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT(google-explicit-constructor)
  template <typename F>
  Result(Err<F> e) : v_(std::in_place_index<1>, E(std::move(e.error))) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const E& error() const { return std::get<1>(v_); }
  E& error() { return std::get<1>(v_); }

 private:
  std::variant<T, E> v_;
};

// Result<void, E>: success carries nothing.
struct Ok {};

template <typename E>
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Ok) {}  // NOLINT(google-explicit-constructor)
  template <typename F>
  Status(Err<F> e) : failed_(true), error_(std::move(e.error)) {}  // NOLINT(google-explicit-constructor)
  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const E& error() const { return error_; }

 private:
  bool failed_ = false;
  E error_{};
};

}  // namespace odp
