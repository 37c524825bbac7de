#pragma once
// A listening socket per worker (SO_REUSEPORT: the kernel spreads connections over workers)
// with a multishot accept. Accept errors such as EMFILE are counted and retried after a pause
// rather than spinning.
#include <netinet/in.h>
#include <sys/socket.h>

#include <functional>
#include <string>

#include "base/result.h"
#include "core/ring.h"
#include "core/timer_wheel.h"

namespace odp::core {

class Worker;

// Creates, binds and listens; errors are one clear line ("listen 127.0.0.1:2883: Address already in use").
Result<int, std::string> open_listen_socket(const sockaddr* addr, socklen_t len, int backlog, const std::string& label);

class Listener {
 public:
  using AcceptFn = std::function<void(int fd)>;
  Listener(Worker& worker, int listen_fd, AcceptFn on_accept);
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;
  ~Listener();

  void start();
  // Stops accepting and closes the socket once the kernel is done with the accept.
  void stop();
  bool stopped() const { return stopping_ && !accept_c_.pending; }

 private:
  static void on_accept(Completion& c, int32_t res, uint32_t flags);
  static void on_retry(Timer& t);
  void arm();

  Worker& worker_;
  int fd_;
  AcceptFn on_accept_;
  Completion accept_c_;
  Timer retry_timer_;
  bool stopping_ = false;
};

}  // namespace odp::core
