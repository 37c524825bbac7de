#include "proxy/backend_probe.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "admin/address.h"
#include "core/worker.h"
#include "protocol/constants.h"
#include "protocol/handshake.h"
#include "protocol/packet.h"

namespace odp::proxy {

Result<BackendInfo, std::string> probe_backend(const std::string& host_port, int timeout_ms) {
  auto addr = admin::parse_sockaddr(host_port);
  if (!addr) return Err(addr.error());
  int fd = ::socket(addr->family(), SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return Err(std::string("socket: ") + strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  uint64_t deadline = core::Worker::monotonic_ms() + static_cast<uint64_t>(timeout_ms);
  auto wait_for = [&](short events) -> bool {
    for (;;) {
      uint64_t now = core::Worker::monotonic_ms();
      if (now >= deadline) return false;
      pollfd p{fd, events, 0};
      int rc = ::poll(&p, 1, static_cast<int>(deadline - now));
      if (rc > 0) return true;
      if (rc == 0) return false;
      if (errno != EINTR) return false;
    }
  };
  if (::connect(fd, addr->addr(), addr->len) < 0 && errno != EINPROGRESS) {
    return Err(host_port + ": " + strerror(errno));
  }
  if (!wait_for(POLLOUT)) return Err(host_port + ": connect timed out");
  int soerr = 0;
  socklen_t len = sizeof soerr;
  getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
  if (soerr != 0) return Err(host_port + ": " + strerror(soerr));
  std::vector<uint8_t> buf;
  for (;;) {
    if (buf.size() >= protocol::kPacketHeaderBytes) {
      auto h = protocol::decode_header(buf.data());
      if (h.length > 65536) return Err(host_port + ": oversized handshake");
      if (buf.size() >= protocol::kPacketHeaderBytes + h.length) {
        std::span<const uint8_t> payload(buf.data() + protocol::kPacketHeaderBytes, h.length);
        if (!payload.empty() && payload[0] == 0xFF) return Err(host_port + ": server refused the connection");
        auto hs = protocol::decode_handshake_v10(payload);
        if (!hs) return Err(host_port + ": bad handshake: " + hs.error().what);
        BackendInfo info;
        info.server_version = hs->server_version;
        info.capabilities = hs->capabilities;
        info.charset = hs->charset;
        if (!(hs->capabilities & protocol::cap::MARIADB_CLIENT_MYSQL))
          info.mariadb_ext_capabilities = hs->mariadb_ext_capabilities;
        return info;
      }
    }
    if (!wait_for(POLLIN)) return Err(host_port + ": no handshake within the timeout");
    uint8_t chunk[4096];
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n == 0) return Err(host_port + ": closed before its handshake");
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return Err(host_port + ": " + strerror(errno));
    }
    buf.insert(buf.end(), chunk, chunk + n);
  }
}

}  // namespace odp::proxy
