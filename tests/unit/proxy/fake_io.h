#pragma once
// A deterministic simulation of the network under the proxy's session code: a discrete-event
// scheduler over a virtual clock (with the real core::TimerWheel), and FakeConn pairs that carry
// bytes between two ends in random chunks after random delays, through a bounded "kernel buffer",
// with resets and byte corruption injected from a seed. Everything random comes from one seeded
// PRNG, so a failing seed replays exactly.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/byte_buffer.h"
#include "core/conn.h"
#include "core/timer_wheel.h"

namespace odp::fakeio {

// xorshift64*: small, fast, and good enough to pick chunk sizes and faults.
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull) {
    if (s_ == 0) s_ = 1;
  }
  uint64_t next() {
    s_ ^= s_ >> 12;
    s_ ^= s_ << 25;
    s_ ^= s_ >> 27;
    return s_ * 0x2545F4914F6CDD1Dull;
  }
  uint64_t below(uint64_t n) { return n == 0 ? 0 : next() % n; }
  uint64_t range(uint64_t lo, uint64_t hi) { return lo + below(hi - lo + 1); }  // inclusive
  bool chance(uint32_t per_mille) { return below(1000) < per_mille; }

 private:
  uint64_t s_;
};

class Sim {
 public:
  explicit Sim(uint64_t seed) : rng_(seed), timers_(0) {}
  Sim(const Sim&) = delete;
  Sim& operator=(const Sim&) = delete;

  uint64_t now_ms() const { return now_ms_; }
  Rng& rng() { return rng_; }
  core::TimerWheel& timers() { return timers_; }
  uint64_t events_run() const { return events_run_; }
  uint64_t next_serial() { return ++serials_; }

  // Runs fn at now + delay_ms; events at the same time run in the order they were scheduled.
  void at(uint64_t delay_ms, std::function<void()> fn);
  // Runs the next event or fires the next timer slot; false when nothing is left to do.
  bool step();
  // Called after every event (the end of a "loop iteration": sessions are reaped there).
  std::function<void()> after_event;

  // Receive buffers lent out for zero-copy forwarding (Conn::hold_current_buffer), like the
  // worker's provided-buffer ring: each must come back exactly once.
  uint16_t hold(std::unique_ptr<std::vector<uint8_t>> buffer);
  bool holds(uint16_t id, std::span<const uint8_t> bytes) const;
  void give_back(uint16_t id, const char* who);
  size_t held_count() const { return held_.size(); }
  // The first misuse of the Conn contract seen (empty when none).
  const std::string& violation() const { return violation_; }
  void violate(std::string what) {
    if (violation_.empty()) violation_ = std::move(what);
  }

 private:
  struct Event {
    uint64_t t;
    uint64_t seq;
    std::function<void()> fn;
  };
  static bool later(const Event& a, const Event& b) { return a.t > b.t || (a.t == b.t && a.seq > b.seq); }

  Rng rng_;
  core::TimerWheel timers_;
  uint64_t now_ms_ = 0;
  uint64_t next_seq_ = 0;
  uint64_t events_run_ = 0;
  std::vector<Event> heap_;
  std::map<uint16_t, std::unique_ptr<std::vector<uint8_t>>> held_;
  uint16_t next_buffer_id_ = 0;
  uint64_t serials_ = 0;
  std::string violation_;
};

// How one end sends: chunk sizes (partial reads on the other side), delays, and the receiver's
// window (the bounded kernel buffers between the two ends).
struct LinkParams {
  uint32_t max_chunk_bytes = 4096;
  uint32_t max_delay_ms = 2;
  size_t window_bytes = 256 * 1024;
  size_t high_watermark_bytes = 1 << 20;
};

// What the fake network did, summed over every FakeConn of the process (for the suite's summary).
struct NetCounters {
  uint64_t reads = 0;        // on_stream_data calls
  uint64_t writable = 0;     // on_stream_writable calls (after reaching the high watermark)
  uint64_t window_full = 0;  // sends held back by a full receive window
  uint64_t resets = 0;       // ECONNRESET delivered
  uint64_t eofs = 0;         // EOF delivered
  uint64_t corruptions = 0;  // bytes flipped or inserted
  uint64_t zero_copy = 0;    // write_held sends from a held receive buffer
};
NetCounters& net_counters();

class FakeConn final : public core::Conn {
 public:
  FakeConn(Sim& sim, std::string name, LinkParams params);

  // Two connected ends. `connected` false: bytes wait until set_connected() (a TCP connect).
  static void link(FakeConn& a, FakeConn& b, bool connected);
  void set_connected();

  // core::Conn
  void set_handler(core::StreamHandler* handler) override { handler_ = closed_ ? nullptr : handler; }
  void write(std::span<const uint8_t> bytes) override;
  size_t pending_output() const override { return out_.size(); }
  bool above_high_watermark() const override { return out_.size() >= params_.high_watermark_bytes; }
  void start_reading() override;
  void stop_reading() override { reading_ = false; }
  void close(bool flush) override;
  bool hold_current_buffer(uint16_t& buffer_id) override;
  bool write_held(std::span<const uint8_t> bytes, uint16_t buffer_id) override;
  void release_held(uint16_t buffer_id) override;

  // The network breaks the connection: each end still open hears ECONNRESET a little later
  // (bytes already in its receive buffer may or may not be read first).
  void reset_link();
  // Flips (or inserts) one byte at this offset of this end's outgoing stream.
  void corrupt_outgoing_at(uint64_t offset) { corrupt_at_ = offset; }

  bool closed() const { return closed_; }
  bool heard_closed() const { return heard_closed_; }
  core::StreamHandler* handler() const { return handler_; }
  uint64_t bytes_sent() const { return sent_total_; }
  // Bytes ever written by this end's owner, and bytes handed to its handler: a byte offset in
  // one end's written stream is known to the other end once that end's delivered count passes it.
  uint64_t written_total() const { return written_total_; }
  uint64_t delivered_total() const { return delivered_total_; }
  uint64_t serial() const { return serial_; }
  FakeConn* peer() const { return peer_; }
  bool corrupted_something() const { return corrupted_; }
  const std::string& name() const { return name_; }

 private:
  void schedule_pump();
  void pump();
  void arrive(std::vector<uint8_t> bytes, size_t accounted);
  void schedule_deliver();
  void deliver();
  void send_fin();
  void release_lent(bool all);
  uint64_t arrival_delay();
  size_t window_left() const;

  Sim& sim_;
  std::string name_;
  LinkParams params_;
  FakeConn* peer_ = nullptr;
  core::StreamHandler* handler_ = nullptr;
  bool connected_ = false;
  bool reading_ = false;
  bool closed_ = false;  // the owner called close(): no more callbacks
  bool flush_then_fin_ = false;
  bool fin_sent_ = false;
  bool broken_ = false;        // reset: nothing more is sent
  bool heard_closed_ = false;  // the handler got on_stream_closed
  bool eof_pending_ = false;   // the peer's FIN arrived (after its data)
  bool reset_pending_ = false;
  bool pump_scheduled_ = false;
  bool deliver_scheduled_ = false;
  bool was_above_high_ = false;
  bool corrupted_ = false;
  uint64_t corrupt_at_ = UINT64_MAX;
  uint64_t sent_total_ = 0;
  uint64_t written_total_ = 0;
  uint64_t delivered_total_ = 0;
  uint64_t serial_ = 0;
  uint64_t last_arrival_ms_ = 0;
  size_t in_flight_ = 0;  // bytes on their way to this end
  core::ByteBuffer out_;
  core::ByteBuffer inbox_;
  std::unique_ptr<std::vector<uint8_t>> delivering_;  // the chunk on_stream_data is looking at
  struct Lent {
    uint64_t sent_by;  // the buffer goes back once sent_total_ reaches this
    uint16_t id;
  };
  std::vector<Lent> lent_;
};

}  // namespace odp::fakeio
