#include "core/listener.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/log.h"
#include "core/worker.h"

namespace odp::core {

Result<int, std::string> open_listen_socket(const sockaddr* addr, socklen_t len, int backlog,
                                            const std::string& label) {
  int fd = ::socket(addr->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return Err("listen " + label + ": socket: " + strerror(errno));
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) {
    int e = errno;
    ::close(fd);
    return Err("listen " + label + ": SO_REUSEPORT: " + strerror(e));
  }
  if (::bind(fd, addr, len) < 0) {
    int e = errno;
    ::close(fd);
    return Err("listen " + label + ": " + strerror(e));
  }
  if (::listen(fd, backlog) < 0) {
    int e = errno;
    ::close(fd);
    return Err("listen " + label + ": " + strerror(e));
  }
  return fd;
}

Listener::Listener(Worker& worker, int listen_fd, AcceptFn on_accept)
    : worker_(worker), fd_(listen_fd), on_accept_(std::move(on_accept)) {
  // Accepted sockets inherit TCP_NODELAY from the listening one (Linux copies the option at
  // accept): set here, it saves a setsockopt per connection (TcpStream::accepted). Also on a
  // listening socket inherited from an older process that did not set it.
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  accept_c_.fn = &Listener::on_accept;
  accept_c_.ctx = this;
  retry_timer_.fn = &Listener::on_retry;
  retry_timer_.ctx = this;
}

Listener::~Listener() {
  worker_.timers().disarm(retry_timer_);
  if (fd_ >= 0) ::close(fd_);
}

void Listener::start() {
  arm();
}

void Listener::arm() {
  io_uring_sqe* sqe = worker_.ring().prepare(accept_c_);
  io_uring_prep_multishot_accept(sqe, fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
}

void Listener::stop() {
  if (stopping_) return;
  stopping_ = true;
  worker_.timers().disarm(retry_timer_);
  if (accept_c_.pending) {
    io_uring_sqe* sqe = worker_.ring().prepare_untracked();
    io_uring_prep_cancel64(sqe, reinterpret_cast<uint64_t>(&accept_c_), 0);
  }
  // Closing the socket now makes the kernel refuse new connections at once; the multishot
  // accept holds its own file reference until it completes with -ECANCELED.
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

void Listener::on_accept(Completion& c, int32_t res, uint32_t /*flags*/) {
  auto* self = static_cast<Listener*>(c.ctx);
  if (res >= 0) {
    // Accepted before the stop took effect: the owner decides (closes it when draining; serves
    // it when the socket lives on in a new process after a hot upgrade).
    self->on_accept_(res);
    if (self->stopping_) return;
    if (!c.pending && !self->stopping_) self->arm();
    return;
  }
  if (self->stopping_) return;
  Stats::inc(self->worker_.stats().io_accept_errors_total);
  LOG_WARN("accept failed: %s", strerror(-res));
  if (!c.pending) {
    // EMFILE/ENFILE/ENOMEM: pause instead of spinning on the same error.
    self->worker_.timers().arm(self->retry_timer_, self->worker_.now_ms() + 100);
  }
}

void Listener::on_retry(Timer& t) {
  auto* self = static_cast<Listener*>(t.ctx);
  if (!self->stopping_ && !self->accept_c_.pending) self->arm();
}

}  // namespace odp::core
