#pragma once
// A fake MySQL client driving odp through a FakeConn: it logs in (native password or a switch
// from caching_sha2, compressed or not, with or without CLIENT_SESSION_TRACK), runs its script
// (fake_script.h), pipelining where it may, and takes each answer apart as it arrives: it must be
// byte for byte one of the answers a server generated for that command (ResponseRecords; odp's
// statement ids in PREPARE_OK and the session-state records odp strips aside) or one packet odp
// made itself. Every answer then goes through the client's model of its session (fake_expect.h).
#include <algorithm>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "core/conn.h"
#include "protocol/compress.h"
#include "protocol/packet.h"
#include "tests/unit/proxy/fake_expect.h"
#include "tests/unit/proxy/fake_io.h"
#include "tests/unit/proxy/fake_records.h"
#include "tests/unit/proxy/fake_script.h"

namespace odp::fakeio {

// What a fake client needs from the world.
class ClientWorld {
 public:
  virtual ~ClientWorld() = default;
  virtual const ResponseRecords& records() const = 0;
  // The client is about to send a KILL naming client `target`.
  virtual void kill_sent(uint32_t target) = 0;
};

class FakeClient final : public core::StreamHandler {
 public:
  enum class State { greeting, auth, running, waiting, quitting, idle, closed };
  // `id`: the client's number, which is odp's connection id for it.
  FakeClient(Sim& sim, ClientWorld& world, FakeConn& conn, uint32_t id, ClientPlan plan, bool strict);
  void start() { conn_.start_reading(); }
  void set_kills(bool kills) { model_.set_kills(kills); }

  void on_stream_data(std::span<const uint8_t> data) override;
  void on_stream_closed(int err) override;

  State state() const { return state_; }
  uint32_t id() const { return id_; }
  bool logged_in() const { return logged_in_; }
  uint16_t login_error() const { return login_error_; }
  size_t steps_done() const { return step_; }
  const std::vector<uint8_t>& received() const { return got_; }
  bool vanished() const { return vanished_; }
  int closed_err() const { return closed_err_; }
  bool quit_sent() const { return quit_sent_; }
  // The connection ended in the middle of an answer.
  bool truncated() const { return truncated_; }
  // Answers that reached this client (without CLIENT_SESSION_TRACK) with session-state records
  // odp should have stripped.
  uint64_t unstripped() const { return unstripped_; }
  // The command waiting for its answer when it has no tag (the server attributes it here).
  Tag solo_tag() const;
  // A KILL naming client `target` waits for its answer.
  bool killing(uint32_t target) const {
    return std::any_of(outstanding_.begin(), outstanding_.end(), [&](const Sent& s) { return s.target == target; });
  }
  const ClientModel& model() const { return model_; }
  // The first check that failed: bytes that no server sent for the command, or the model's.
  std::string failure() const {
    if (!failure_.empty()) return failure_;
    if (model_.failure().find("odp answered") != std::string::npos) return model_.failure() + " [" + local_note_ + "]";
    return model_.failure();
  }
  // Empty unless a compressed frame was numbered other than a strict client (libmysqlclient)
  // expects: one past the last frame it sent, then consecutively.
  const std::string& frame_seq_error() const { return frame_seq_error_; }

 private:
  struct Match {
    enum class Kind { need_more, server, infile, local, diverged } kind = Kind::need_more;
    size_t length = 0;
    const ResponseRecord* record = nullptr;
    bool unstripped = false;  // the server's session-state records reached a client that did not ask
  };

  // --- protocol (fake_client.cpp) ---
  void on_login_packet(std::span<const uint8_t> payload, uint8_t seq);
  void on_plain(std::span<const uint8_t> plain);
  Match match(Sent& s, std::span<const uint8_t> view) const;
  void take_answers();
  void send_infile();
  void send_command(const std::vector<uint8_t>& payload);
  void send_packets(const std::vector<uint8_t>& framed);
  void close_now(bool flush);
  void lose_outstanding();
  void trace(const Sent& s, const Outcome& o) const;
  std::string diverged_message(const Sent& s, std::span<const uint8_t> view) const;
  std::string local_note(const Sent& s, std::span<const uint8_t> packet) const;

  // --- steps (fake_client_steps.cpp) ---
  void next_step();
  // Builds the command for a step; false when it has no answer (COM_STMT_CLOSE).
  bool build(const Step& step, Sent& s, std::vector<uint8_t>& payload);

  Sim& sim_;
  ClientWorld& world_;
  FakeConn& conn_;
  uint32_t id_;
  ClientPlan plan_;
  ClientModel model_;
  State state_ = State::greeting;
  protocol::PacketAssembler login_in_{1u << 20};
  std::unique_ptr<protocol::CompressedDecoder> decoder_;
  bool asked_compression_ = false;
  bool compressed_ = false;
  bool logged_in_ = false;
  bool vanished_ = false;
  bool quit_sent_ = false;
  bool truncated_ = false;
  bool diverged_ = false;
  uint16_t login_error_ = 0;
  int closed_err_ = -1;
  uint8_t comp_seq_ = 0;
  uint8_t expect_comp_seq_ = 0;  // of the next frame from the proxy
  std::string frame_seq_error_;
  size_t step_ = 0;
  uint32_t seq_ = 0;
  std::deque<Sent> outstanding_;
  Tag lost_solo_;  // the last untagged command the client sent and lost with its connection
  std::array<uint8_t, 20> proxy_scramble_{};
  std::vector<uint8_t> got_;
  size_t consumed_ = 0;  // bytes of got_ matched to answers
  uint64_t unstripped_ = 0;
  uint32_t prepared_ = 0;  // statements the servers prepared for the client (odp's last id)
  std::string failure_;
  std::string local_note_;  // the last packet taken for odp's own, next to the servers' answers
};

}  // namespace odp::fakeio
