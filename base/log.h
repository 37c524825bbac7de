#pragma once
// Leveled logging, obproxy-style key=value lines: `2026-11-23 21:40:00.123 WARN [w0] msg key=value`.
// One write(2) per line so lines from different threads never interleave.
#include <cstdarg>
#include <string_view>

namespace odp::log {

enum class Level { debug = 0, info = 1, warn = 2, error = 3, off = 4 };

// Parses "debug" | "info" | "warn" | "error" | "off"; returns false on an unknown name.
bool parse_level(std::string_view name, Level& out);
void set_level(Level level);
Level level();
// Directs output to a file (appending); an empty path means stderr. Returns false if it cannot open.
bool set_file(const char* path);
// A short name for this thread in log lines, e.g. "w0", "ctl".
void set_thread_name(const char* name);

void write(Level level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

}  // namespace odp::log

#define ODP_LOG(lvl, ...)                                                                                    \
  do {                                                                                                       \
    if (static_cast<int>(lvl) >= static_cast<int>(::odp::log::level())) ::odp::log::write(lvl, __VA_ARGS__); \
  } while (0)
#define LOG_DEBUG(...) ODP_LOG(::odp::log::Level::debug, __VA_ARGS__)
#define LOG_INFO(...) ODP_LOG(::odp::log::Level::info, __VA_ARGS__)
#define LOG_WARN(...) ODP_LOG(::odp::log::Level::warn, __VA_ARGS__)
#define LOG_ERROR(...) ODP_LOG(::odp::log::Level::error, __VA_ARGS__)
