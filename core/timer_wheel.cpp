#include "core/timer_wheel.h"

#include "base/assert.h"

namespace odp::core {

TimerWheel::TimerWheel(uint64_t now_ms) : current_tick_(now_ms / kSlotMs) {
  for (Timer& h : heads_) h.prev = h.next = &h;
}

void TimerWheel::arm(Timer& t, uint64_t deadline_ms) {
  if (t.armed()) disarm(t);
  ++armed_;
  t.deadline_ms = deadline_ms;
  uint64_t tick = deadline_ms / kSlotMs;
  if (tick <= current_tick_) tick = current_tick_ + 1;
  if (tick - current_tick_ >= kSlots) tick = current_tick_ + kSlots - 1;
  Timer& head = heads_[tick % kSlots];
  t.next = &head;
  t.prev = head.prev;
  head.prev->next = &t;
  head.prev = &t;
}

void TimerWheel::disarm(Timer& t) {
  if (!t.armed()) return;
  t.prev->next = t.next;
  t.next->prev = t.prev;
  t.prev = t.next = nullptr;
  --armed_;
}

void TimerWheel::advance(uint64_t now_ms) {
  uint64_t target = now_ms / kSlotMs;
  if (armed_ == 0 && current_tick_ < target) current_tick_ = target;  // nothing to visit on the way
  while (current_tick_ < target) {
    ++current_tick_;
    Timer& head = heads_[current_tick_ % kSlots];
    if (head.next == &head) continue;
    // Move the slot's timers to a local list with its own sentinel: callbacks may then arm
    // into this slot or disarm any timer (even one still waiting here) safely.
    Timer due;
    due.next = head.next;
    due.prev = head.prev;
    due.next->prev = &due;
    due.prev->next = &due;
    head.next = head.prev = &head;
    while (due.next != &due) {
      Timer* t = due.next;
      disarm(*t);
      if (t->deadline_ms > now_ms) {
        arm(*t, t->deadline_ms);  // was beyond the span when armed: go round again
      } else {
        ODP_ASSERT(t->fn != nullptr);
        t->fn(*t);
      }
    }
  }
}

int64_t TimerWheel::ms_until_next(uint64_t now_ms) const {
  if (armed_ == 0) return -1;
  uint64_t next_tick_ms = (current_tick_ + 1) * kSlotMs;
  return next_tick_ms > now_ms ? static_cast<int64_t>(next_tick_ms - now_ms) : 0;
}

}  // namespace odp::core
