#include "core/timer_wheel.h"

#include <vector>

#include <doctest/doctest.h>

using odp::core::Timer;
using odp::core::TimerWheel;

namespace {
struct Fired {
  std::vector<int> order;
};
void record(Timer& t) {
  auto* pair = static_cast<std::pair<Fired*, int>*>(t.ctx);
  pair->first->order.push_back(pair->second);
}
}  // namespace

TEST_CASE("timers fire in deadline order, not before their deadline") {
  TimerWheel wheel(1000);
  Fired fired;
  std::pair<Fired*, int> a{&fired, 1}, b{&fired, 2}, c{&fired, 3};
  Timer ta, tb, tc;
  ta.fn = tb.fn = tc.fn = &record;
  ta.ctx = &a;
  tb.ctx = &b;
  tc.ctx = &c;
  wheel.arm(tb, 1100);
  wheel.arm(ta, 1050);
  wheel.arm(tc, 1000 + 60'000);  // beyond the wheel's span: goes round until due
  CHECK(wheel.armed_count() == 3);
  wheel.advance(1040);
  CHECK(fired.order.empty());
  wheel.advance(1200);
  CHECK(fired.order == std::vector<int>{1, 2});
  wheel.advance(30'000);
  CHECK(fired.order.size() == 2);
  wheel.advance(61'100);
  CHECK(fired.order == std::vector<int>{1, 2, 3});
  CHECK(wheel.armed_count() == 0);
}

TEST_CASE("disarm and re-arm, including from inside a callback") {
  TimerWheel wheel(0);
  Fired fired;
  Timer t1, t2;
  struct Ctx {
    TimerWheel* wheel;
    Timer* other;
    Fired* fired;
  } ctx{&wheel, &t2, &fired};
  t1.ctx = &ctx;
  t1.fn = [](Timer& t) {
    auto* c = static_cast<Ctx*>(t.ctx);
    c->fired->order.push_back(1);
    c->wheel->disarm(*c->other);  // the other timer is due in the same slot
  };
  t2.ctx = &ctx;
  t2.fn = [](Timer& t) { static_cast<Ctx*>(t.ctx)->fired->order.push_back(2); };
  wheel.arm(t1, 100);
  wheel.arm(t2, 101);
  wheel.advance(500);
  CHECK(fired.order == std::vector<int>{1});
  CHECK_FALSE(t2.armed());
  wheel.arm(t2, 600);
  wheel.disarm(t2);
  wheel.advance(1000);
  CHECK(fired.order == std::vector<int>{1});
  CHECK(wheel.ms_until_next(1000) == -1);
}
