#include "admin/log_settings.h"

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "base/log.h"

namespace odp::admin {

std::string apply_log_settings(const LogConfig& log) {
  log::Level level{};
  if (log::parse_level(log.level, level)) log::set_level(level);
  if (log.dir.empty()) {
    log::set_file("");
    return "";
  }
  std::error_code ec;
  std::filesystem::create_directories(log.dir, ec);
  if (ec) return "log.dir " + log.dir + ": " + ec.message();
  std::string path = log.dir + "/odp.log";
  if (!log::set_file(path.c_str())) return "log file " + path + ": " + std::strerror(errno);
  return "";
}

}  // namespace odp::admin
