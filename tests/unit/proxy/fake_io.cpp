#include "tests/unit/proxy/fake_io.h"

#include <algorithm>
#include <cerrno>

namespace odp::fakeio {

NetCounters& net_counters() {
  static NetCounters counters;
  return counters;
}

void Sim::at(uint64_t delay_ms, std::function<void()> fn) {
  heap_.push_back(Event{now_ms_ + delay_ms, next_seq_++, std::move(fn)});
  std::push_heap(heap_.begin(), heap_.end(), &Sim::later);
}

bool Sim::step() {
  uint64_t next_event = heap_.empty() ? UINT64_MAX : heap_.front().t;
  int64_t until_timer = timers_.ms_until_next(now_ms_);
  if (until_timer >= 0 && now_ms_ + static_cast<uint64_t>(until_timer) <= next_event) {
    // Timers due first: advance the wheel to the next slot boundary (a timer may re-arm).
    now_ms_ += static_cast<uint64_t>(until_timer);
    timers_.advance(now_ms_);
    ++events_run_;
    if (after_event) after_event();
    return true;
  }
  if (heap_.empty()) return false;
  std::pop_heap(heap_.begin(), heap_.end(), &Sim::later);
  Event ev = std::move(heap_.back());
  heap_.pop_back();
  now_ms_ = ev.t;
  timers_.advance(now_ms_);
  ++events_run_;
  ev.fn();
  if (after_event) after_event();
  return true;
}

uint16_t Sim::hold(std::unique_ptr<std::vector<uint8_t>> buffer) {
  while (held_.count(next_buffer_id_) != 0) ++next_buffer_id_;
  uint16_t id = next_buffer_id_++;
  held_[id] = std::move(buffer);
  return id;
}

bool Sim::holds(uint16_t id, std::span<const uint8_t> bytes) const {
  auto it = held_.find(id);
  if (it == held_.end()) return false;
  const auto& b = *it->second;
  return bytes.data() >= b.data() && bytes.data() + bytes.size() <= b.data() + b.size();
}

void Sim::give_back(uint16_t id, const char* who) {
  if (held_.erase(id) == 0)
    violate(std::string(who) + ": buffer " + std::to_string(id) + " given back twice or never held");
}

FakeConn::FakeConn(Sim& sim, std::string name, LinkParams params)
    : sim_(sim), name_(std::move(name)), params_(params), serial_(sim.next_serial()) {}

void FakeConn::link(FakeConn& a, FakeConn& b, bool connected) {
  a.peer_ = &b;
  b.peer_ = &a;
  a.connected_ = b.connected_ = connected;
}

void FakeConn::set_connected() {
  connected_ = true;
  if (peer_ != nullptr) peer_->connected_ = true;
  schedule_pump();
  if (peer_ != nullptr) peer_->schedule_pump();
}

uint64_t FakeConn::arrival_delay() {
  uint64_t t = sim_.now_ms() + sim_.rng().below(params_.max_delay_ms + 1);
  // One direction is a FIFO: nothing overtakes what was sent before it.
  t = std::max(t, last_arrival_ms_);
  last_arrival_ms_ = t;
  return t - sim_.now_ms();
}

size_t FakeConn::window_left() const {
  if (peer_ == nullptr) return 0;
  size_t used = peer_->inbox_.size() + peer_->in_flight_;
  return used >= params_.window_bytes ? 0 : params_.window_bytes - used;
}

void FakeConn::write(std::span<const uint8_t> bytes) {
  if (closed_ || broken_ || bytes.empty()) return;
  written_total_ += bytes.size();
  out_.append(bytes);
  if (above_high_watermark()) was_above_high_ = true;
  schedule_pump();
}

void FakeConn::schedule_pump() {
  if (pump_scheduled_ || !connected_ || broken_ || out_.empty()) return;
  pump_scheduled_ = true;
  sim_.at(sim_.rng().below(2), [this] { pump(); });
}

void FakeConn::pump() {
  pump_scheduled_ = false;
  if (!connected_ || broken_ || out_.empty() || peer_ == nullptr) return;
  size_t space = window_left();
  if (space == 0) {
    ++net_counters().window_full;
    return;  // the peer kicks us when it reads
  }
  size_t n = std::min<size_t>({out_.size(), space, 1 + sim_.rng().below(params_.max_chunk_bytes)});
  auto src = out_.data().first(n);
  std::vector<uint8_t> bytes(src.begin(), src.end());
  out_.consume(n);
  if (corrupt_at_ >= sent_total_ && corrupt_at_ < sent_total_ + n) {
    size_t at = static_cast<size_t>(corrupt_at_ - sent_total_);
    if (sim_.rng().chance(700)) {
      bytes[at] = static_cast<uint8_t>(bytes[at] ^ (1u << sim_.rng().below(8)));
    } else {
      bytes.insert(bytes.begin() + static_cast<std::ptrdiff_t>(at), static_cast<uint8_t>(sim_.rng().next()));
    }
    corrupt_at_ = UINT64_MAX;
    corrupted_ = true;
    ++net_counters().corruptions;
  }
  sent_total_ += n;
  release_lent(false);
  peer_->in_flight_ += n;
  FakeConn* peer = peer_;
  sim_.at(arrival_delay(), [peer, n, bytes = std::move(bytes)]() mutable { peer->arrive(std::move(bytes), n); });
  if (was_above_high_ && out_.size() < params_.high_watermark_bytes / 2) {
    was_above_high_ = false;
    sim_.at(0, [this] {
      if (closed_ || handler_ == nullptr || heard_closed_) return;
      ++net_counters().writable;
      handler_->on_stream_writable();
    });
  }
  if (!out_.empty()) {
    schedule_pump();
  } else if (flush_then_fin_) {
    send_fin();
  }
}

void FakeConn::arrive(std::vector<uint8_t> bytes, size_t accounted) {
  in_flight_ -= accounted;
  if (closed_ || broken_) return;  // the owner is gone: the bytes are dropped
  inbox_.append(bytes);
  schedule_deliver();
}

void FakeConn::schedule_deliver() {
  if (deliver_scheduled_ || closed_) return;
  deliver_scheduled_ = true;
  sim_.at(sim_.rng().below(2), [this] { deliver(); });
}

void FakeConn::start_reading() {
  reading_ = true;
  schedule_deliver();
}

void FakeConn::deliver() {
  deliver_scheduled_ = false;
  if (closed_ || handler_ == nullptr || heard_closed_) return;
  if (reset_pending_) {
    heard_closed_ = true;
    reading_ = false;
    inbox_.clear();
    ++net_counters().resets;
    handler_->on_stream_closed(ECONNRESET);
    return;
  }
  if (!reading_) return;
  if (!inbox_.empty()) {
    size_t n = std::min<size_t>(inbox_.size(), 1 + sim_.rng().below(params_.max_chunk_bytes));
    auto src = inbox_.data().first(n);
    delivering_ = std::make_unique<std::vector<uint8_t>>(src.begin(), src.end());
    std::span<const uint8_t> chunk(*delivering_);
    inbox_.consume(n);
    if (peer_ != nullptr) peer_->schedule_pump();  // the window opened
    schedule_deliver();
    ++net_counters().reads;
    delivered_total_ += n;
    handler_->on_stream_data(chunk);
    delivering_.reset();  // back to the "kernel" unless the handler kept it
    return;
  }
  if (eof_pending_) {
    heard_closed_ = true;
    reading_ = false;
    ++net_counters().eofs;
    handler_->on_stream_closed(0);
  }
}

void FakeConn::send_fin() {
  if (fin_sent_ || broken_ || peer_ == nullptr || !connected_) return;
  fin_sent_ = true;
  FakeConn* peer = peer_;
  sim_.at(arrival_delay(), [peer] {
    if (peer->closed_) return;
    peer->eof_pending_ = true;
    peer->schedule_deliver();
  });
}

bool FakeConn::hold_current_buffer(uint16_t& buffer_id) {
  // Sometimes refuse, as a real worker does when too many buffers are held.
  if (delivering_ == nullptr || sim_.rng().chance(200)) return false;
  buffer_id = sim_.hold(std::move(delivering_));
  return true;
}

bool FakeConn::write_held(std::span<const uint8_t> bytes, uint16_t buffer_id) {
  if (!sim_.holds(buffer_id, bytes)) {
    sim_.violate(name_ + ": write_held with bytes outside held buffer " + std::to_string(buffer_id));
    return false;
  }
  if (closed_ || broken_) return false;
  write(bytes);
  ++net_counters().zero_copy;
  lent_.push_back({sent_total_ + out_.size(), buffer_id});
  release_lent(false);
  return true;
}

void FakeConn::release_held(uint16_t buffer_id) {
  sim_.give_back(buffer_id, "release_held");
}

void FakeConn::release_lent(bool all) {
  size_t keep = 0;
  for (const Lent& l : lent_) {
    if (all || l.sent_by <= sent_total_)
      sim_.give_back(l.id, "send completion");
    else
      lent_[keep++] = l;
  }
  lent_.resize(keep);
}

void FakeConn::close(bool flush) {
  if (closed_) return;
  closed_ = true;
  handler_ = nullptr;
  reading_ = false;
  inbox_.clear();
  if (!flush) {
    out_.clear();
    release_lent(true);
  }
  if (out_.empty())
    send_fin();
  else
    flush_then_fin_ = true;
}

void FakeConn::reset_link() {
  for (FakeConn* end : {this, peer_}) {
    if (end == nullptr || end->broken_) continue;
    end->broken_ = true;
    end->out_.clear();
    end->release_lent(true);
    if (end->closed_) continue;
    sim_.at(sim_.rng().below(5), [end] {
      end->reset_pending_ = true;
      end->schedule_deliver();
    });
  }
}

}  // namespace odp::fakeio
