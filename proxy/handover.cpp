#include "proxy/handover.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "protocol/wire.h"

namespace odp::proxy {

using namespace protocol;

namespace {
constexpr uint32_t kMagic = 0x484F444F;  // "ODOH"
constexpr uint16_t kVersion = 1;
constexpr size_t kMaxMessage = 16u << 20;
}  // namespace

void encode_handover(const HandoverMessage& m, std::vector<uint8_t>& out) {
  put_u32(out, kMagic);
  put_u16(out, kVersion);
  put_u32(out, m.connection_id);
  put_u8(out, m.flags);
  put_u32(out, m.mariadb_ext_caps);
  put_lenenc_str(out, m.peer);
  put_lenenc_int(out, m.model.size());
  put_bytes(out, std::span<const uint8_t>(m.model));
}

Result<HandoverMessage, std::string> decode_handover(std::span<const uint8_t> in) {
  auto bad = [](const char* what) { return Err(std::string("handover message: ") + what); };
  if (in.size() > kMaxMessage) return bad("too large");
  Reader r(in.data(), in.size());
  uint32_t magic = 0;
  uint16_t version = 0;
  if (!r.u32(magic) || magic != kMagic) return bad("not a handover message");
  if (!r.u16(version) || version != kVersion) return bad("unknown version");
  HandoverMessage m;
  std::string_view peer;
  uint64_t n = 0;
  std::span<const uint8_t> model;
  if (!r.u32(m.connection_id) || !r.u8(m.flags) || !r.u32(m.mariadb_ext_caps) || !r.lenenc_str(peer) ||
      !r.lenenc_int(n) || n > r.remaining() || !r.bytes(static_cast<size_t>(n), model))
    return bad("truncated");
  if (!r.empty()) return bad("trailing bytes");
  if (m.connection_id == 0) return bad("connection id 0");
  if ((m.flags & ~HandoverMessage::kCompressed) != 0) return bad("unknown flags");
  m.peer.assign(peer);
  m.model.assign(model.begin(), model.end());
  return m;
}

int send_handover(int sock, int fd, std::span<const uint8_t> bytes) {
  iovec iov{const_cast<uint8_t*>(bytes.data()), bytes.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
  for (;;) {
    ssize_t n = ::sendmsg(sock, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n >= 0) return 0;
    if (errno != EINTR) return errno;
  }
}

std::vector<uint8_t> recv_handover(int sock, int& fd, int& err) {
  fd = -1;
  err = 0;
  // Peek the size first (MSG_TRUNC reports a datagram's real length).
  std::vector<uint8_t> buf(64u << 10);
  for (;;) {
    ssize_t want = ::recv(sock, buf.data(), 0, MSG_PEEK | MSG_TRUNC);
    if (want < 0 && errno == EINTR) continue;
    if (want < 0) {
      err = errno;
      return {};
    }
    if (want == 0) {
      // Either the end (peer closed) or an empty datagram: a real read tells them apart below.
      want = 1;
    }
    if (static_cast<size_t>(want) > kMaxMessage) want = kMaxMessage;
    if (buf.size() < static_cast<size_t>(want)) buf.resize(static_cast<size_t>(want));
    break;
  }
  iovec iov{buf.data(), buf.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    err = errno;
    return {};
  }
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int got = -1;
      std::memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
      if (fd < 0) {
        fd = got;
      } else {
        ::close(got);  // one descriptor per message; extras are not ours to keep
      }
    }
  }
  if ((msg.msg_flags & MSG_TRUNC) != 0) {
    if (fd >= 0) ::close(fd);
    fd = -1;
    err = EMSGSIZE;
    return {};
  }
  buf.resize(static_cast<size_t>(n));
  return buf;
}

}  // namespace odp::proxy
