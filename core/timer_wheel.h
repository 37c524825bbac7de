#pragma once
// A hashed timing wheel for coarse per-connection deadlines (handshake, idle, query timeouts).
// Arming and disarming are O(1) and allocation-free: a Timer is an intrusive node owned by its
// connection. Deadlines past the wheel's span are re-inserted when their slot comes round.
#include <cstdint>

namespace odp::core {

struct Timer {
  using Fn = void (*)(Timer&);
  Fn fn = nullptr;
  void* ctx = nullptr;
  uint64_t deadline_ms = 0;
  Timer* prev = nullptr;
  Timer* next = nullptr;
  bool armed() const { return prev != nullptr; }
};

class TimerWheel {
 public:
  static constexpr uint64_t kSlotMs = 8;
  static constexpr uint32_t kSlots = 2048;  // ~16 s span

  explicit TimerWheel(uint64_t now_ms);
  TimerWheel(const TimerWheel&) = delete;
  TimerWheel& operator=(const TimerWheel&) = delete;

  void arm(Timer& t, uint64_t deadline_ms);
  void disarm(Timer& t);
  // Fires every timer whose deadline is <= now_ms. A callback may re-arm or disarm any timer.
  void advance(uint64_t now_ms);
  // Milliseconds until the next slot that holds a timer could fire; -1 when none is armed.
  int64_t ms_until_next(uint64_t now_ms) const;
  uint32_t armed_count() const { return armed_; }

 private:
  Timer heads_[kSlots];  // sentinel heads of circular lists
  uint64_t current_tick_;
  uint32_t armed_ = 0;
  friend struct TimerWheelTest;
};

}  // namespace odp::core
