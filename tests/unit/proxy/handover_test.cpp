// The hot upgrade's handover message (proxy/handover.h): round trip, and refusal of bytes that
// are not one whole message; the descriptor passing over a real socketpair.
#include "proxy/handover.h"

#include <sys/socket.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include "proxy/session_model.h"

using namespace odp::proxy;

namespace {
HandoverMessage sample() {
  SessionModel model;
  SessionIdentity id;
  id.login.user = "app";
  id.connection_id = 77;
  id.peer = "127.0.0.1:5555";
  id.client_caps = 0x000FA685;
  model.start(id, 0);
  HandoverMessage m;
  m.connection_id = 77;
  m.flags = HandoverMessage::kCompressed;
  m.mariadb_ext_caps = 0x1C;
  m.peer = "127.0.0.1:5555";
  model.serialize(m.model);
  return m;
}
}  // namespace

TEST_CASE("handover message: round trip") {
  HandoverMessage m = sample();
  std::vector<uint8_t> bytes;
  encode_handover(m, bytes);
  auto back = decode_handover(bytes);
  REQUIRE(back);
  CHECK(back->connection_id == 77);
  CHECK(back->compressed());
  CHECK(back->mariadb_ext_caps == 0x1C);
  CHECK(back->peer == "127.0.0.1:5555");
  CHECK(back->model == m.model);
  auto model = SessionModel::deserialize(back->model);
  REQUIRE(model);
  CHECK(model->identity().login.user == "app");
  CHECK(model->identity().connection_id == 77);
}

TEST_CASE("handover message: malformed input refused") {
  HandoverMessage m = sample();
  std::vector<uint8_t> bytes;
  encode_handover(m, bytes);
  CHECK_FALSE(decode_handover({}));
  for (size_t n = 0; n < bytes.size(); ++n) {
    CHECK_FALSE(decode_handover(std::span<const uint8_t>(bytes.data(), n)));  // every truncation
  }
  auto extra = bytes;
  extra.push_back(0);
  CHECK_FALSE(decode_handover(extra));  // trailing bytes
  auto magic = bytes;
  magic[0] ^= 0xFF;
  CHECK_FALSE(decode_handover(magic));
  auto version = bytes;
  version[4] = 9;
  CHECK_FALSE(decode_handover(version));
  auto flags = bytes;
  flags[10] = 0x80;  // after magic (4), version (2), id (4)
  CHECK_FALSE(decode_handover(flags));
  HandoverMessage zero = m;
  zero.connection_id = 0;
  std::vector<uint8_t> z;
  encode_handover(zero, z);
  CHECK_FALSE(decode_handover(z));
}

TEST_CASE("handover message: the socket travels with the bytes") {
  int pair[2];
  REQUIRE(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) == 0);
  int pipe_fds[2];
  REQUIRE(pipe(pipe_fds) == 0);
  HandoverMessage m = sample();
  std::vector<uint8_t> bytes;
  encode_handover(m, bytes);
  CHECK(send_handover(pair[0], pipe_fds[1], bytes) == 0);
  int fd = -1, err = 0;
  auto got = recv_handover(pair[1], fd, err);
  CHECK(err == 0);
  CHECK(got == bytes);
  REQUIRE(fd >= 0);
  CHECK(write(fd, "x", 1) == 1);  // the passed descriptor is the pipe's write end
  char c = 0;
  CHECK(read(pipe_fds[0], &c, 1) == 1);
  CHECK(c == 'x');
  close(fd);
  close(pair[0]);  // the end: an empty result, no descriptor
  got = recv_handover(pair[1], fd, err);
  CHECK(got.empty());
  CHECK(fd == -1);
  close(pair[1]);
  close(pipe_fds[0]);
  close(pipe_fds[1]);
}
