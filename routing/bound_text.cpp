#include "routing/bound_text.h"

#include <charconv>

#include "base/ascii.h"

namespace odp::routing {

namespace {
constexpr size_t kMaxListTuples = 4096;

struct Token {
  enum class Kind : uint8_t { value, open, close, comma, end, bad } kind = Kind::end;
  BoundValue value;
};

class Reader {
 public:
  explicit Reader(std::string_view text) : s_(text) {}

  Token next() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t')) ++pos_;
    Token t;
    if (pos_ == s_.size()) return t;
    const char c = s_[pos_];
    if (c == '(' || c == ')' || c == ',') {
      ++pos_;
      t.kind = c == '(' ? Token::Kind::open : c == ')' ? Token::Kind::close : Token::Kind::comma;
      return t;
    }
    t.kind = Token::Kind::bad;
    if (c == '\'') return quoted();
    size_t end = pos_;
    while (end < s_.size() && s_[end] != ',' && s_[end] != ')' && s_[end] != '(' && s_[end] != ' ') ++end;
    std::string_view word = s_.substr(pos_, end - pos_);
    pos_ = end;
    if (base::iequals(word, "MAXVALUE")) {
      t.kind = Token::Kind::value;
      t.value.kind = BoundValue::Kind::maxvalue;
      return t;
    }
    int64_t v = 0;
    auto [p, ec] = std::from_chars(word.data(), word.data() + word.size(), v);
    if (ec == std::errc() && p == word.data() + word.size() && !word.empty()) {
      t.kind = Token::Kind::value;
      t.value.integer = v;
    }
    return t;
  }

 private:
  Token quoted() {
    Token t;
    t.kind = Token::Kind::bad;
    std::string out;
    for (size_t i = pos_ + 1; i < s_.size(); ++i) {
      const char c = s_[i];
      if (c == '\\' && i + 1 < s_.size()) {
        out += s_[++i];
      } else if (c == '\'' && i + 1 < s_.size() && s_[i + 1] == '\'') {
        out += '\'';
        ++i;
      } else if (c == '\'') {
        pos_ = i + 1;
        t.kind = Token::Kind::value;
        t.value.kind = BoundValue::Kind::text;
        t.value.text = std::move(out);
        return t;
      } else {
        out += c;
      }
    }
    pos_ = s_.size();
    return t;
  }

  std::string_view s_;
  size_t pos_ = 0;
};

// Values separated by commas up to `close` (or the end when close is Kind::end).
bool read_values(Reader& r, Token::Kind close, BoundTuple& out) {
  while (true) {
    Token v = r.next();
    if (v.kind != Token::Kind::value) return false;
    out.push_back(std::move(v.value));
    Token sep = r.next();
    if (sep.kind == close) return true;
    if (sep.kind != Token::Kind::comma) return false;
  }
}

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}
}  // namespace

std::optional<BoundTuple> parse_high_bound(std::string_view text) {
  text = trimmed(text);
  Reader r(text);
  BoundTuple out;
  if (!text.empty() && text.front() == '(') {
    r.next();
    if (!read_values(r, Token::Kind::close, out) || r.next().kind != Token::Kind::end) return std::nullopt;
  } else if (!read_values(r, Token::Kind::end, out)) {
    return std::nullopt;
  }
  return out;
}

std::optional<ListValues> parse_list_values(std::string_view text, size_t columns) {
  text = trimmed(text);
  ListValues out;
  if (base::iequals(text, "DEFAULT")) {
    out.is_default = true;
    return out;
  }
  if (columns == 0) return std::nullopt;
  Reader r(text);
  while (out.tuples.size() < kMaxListTuples) {
    Token t = r.next();
    BoundTuple tuple;
    if (t.kind == Token::Kind::open) {
      if (!read_values(r, Token::Kind::close, tuple)) return std::nullopt;
    } else if (t.kind == Token::Kind::value && columns == 1) {
      tuple.push_back(std::move(t.value));
    } else {
      return std::nullopt;
    }
    if (tuple.size() != columns) return std::nullopt;
    for (const auto& v : tuple)
      if (v.kind == BoundValue::Kind::maxvalue) return std::nullopt;
    out.tuples.push_back(std::move(tuple));
    Token sep = r.next();
    if (sep.kind == Token::Kind::end) return out;
    if (sep.kind != Token::Kind::comma) return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace odp::routing
