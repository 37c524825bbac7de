#pragma once
// Pipes for splice: bulk payload bytes go socket -> pipe -> socket inside the kernel. Each
// worker keeps a few idle pipes so a splice costs no pipe2() call; a pipe that still holds bytes
// nobody will read (its reader went away) is closed rather than reused.
#include <cstdint>
#include <memory>
#include <vector>

namespace odp::core {

class TcpStream;

struct Pipe {
  int read_fd = -1;
  int write_fd = -1;
  uint32_t capacity = 0;  // bytes the kernel accepts before the pipe is full
  uint32_t buffered = 0;  // bytes written in and not yet read out
  uint32_t refs = 0;      // the splicing source and each queued output segment
  // A source waiting for room: the reader wakes it after taking bytes out.
  TcpStream* waiter = nullptr;
  uint32_t space() const { return buffered < capacity ? capacity - buffered : 0; }
};

class PipePool {
 public:
  static constexpr uint32_t kWantCapacity = 1u << 20;
  static constexpr size_t kMaxIdle = 16;
  static constexpr size_t kMaxPipes = 1024;

  PipePool() = default;
  PipePool(const PipePool&) = delete;
  PipePool& operator=(const PipePool&) = delete;
  ~PipePool();

  // An empty pipe with one reference, or nullptr (descriptor limit, kMaxPipes): callers then
  // forward without splice.
  Pipe* acquire();
  void add_ref(Pipe* p) { ++p->refs; }
  // Drops a reference; the last one returns the pipe (or closes it if it still holds bytes).
  void release(Pipe* p);
  size_t open_pipes() const { return pipes_.size(); }

 private:
  void destroy(Pipe* p);
  std::vector<std::unique_ptr<Pipe>> pipes_;
  std::vector<Pipe*> idle_;
  bool warned_ = false;
};

}  // namespace odp::core
