#include "core/pipe_pool.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/log.h"

namespace odp::core {

PipePool::~PipePool() {
  for (auto& p : pipes_) {
    ::close(p->read_fd);
    ::close(p->write_fd);
  }
}

Pipe* PipePool::acquire() {
  Pipe* p = nullptr;
  if (!idle_.empty()) {
    p = idle_.back();
    idle_.pop_back();
  } else {
    if (pipes_.size() >= kMaxPipes) return nullptr;
    int fds[2];
    if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) {
      if (!warned_) LOG_WARN("splice disabled for now: pipe2 failed: %s", strerror(errno));
      warned_ = true;
      return nullptr;
    }
    // A larger pipe means fewer splices per megabyte; the kernel may refuse (pipe-max-size,
    // the user's pipe quota) and then the default size serves.
    (void)::fcntl(fds[1], F_SETPIPE_SZ, static_cast<int>(kWantCapacity));
    int size = ::fcntl(fds[1], F_GETPIPE_SZ);
    auto owned = std::make_unique<Pipe>();
    owned->read_fd = fds[0];
    owned->write_fd = fds[1];
    owned->capacity = size > 0 ? static_cast<uint32_t>(size) : 65536u;
    p = owned.get();
    pipes_.push_back(std::move(owned));
  }
  p->refs = 1;
  p->buffered = 0;
  p->waiter = nullptr;
  return p;
}

void PipePool::release(Pipe* p) {
  if (--p->refs > 0) return;
  p->waiter = nullptr;
  if (p->buffered == 0 && idle_.size() < kMaxIdle) {
    idle_.push_back(p);
    return;
  }
  destroy(p);
}

void PipePool::destroy(Pipe* p) {
  ::close(p->read_fd);
  ::close(p->write_fd);
  auto it = std::find_if(pipes_.begin(), pipes_.end(), [p](const auto& owned) { return owned.get() == p; });
  if (it != pipes_.end()) {
    std::swap(*it, pipes_.back());
    pipes_.pop_back();
  }
}

}  // namespace odp::core
