#include "admin/log_settings.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <doctest/doctest.h>

#include "base/log.h"

TEST_CASE("log settings: level, directory creation, file, back to stderr") {
  std::string dir = "/tmp/odp_log_settings_" + std::to_string(::getpid()) + "/a/b";
  odp::admin::LogConfig log;
  log.level = "warn";
  log.dir = dir;
  CHECK(odp::admin::apply_log_settings(log).empty());
  CHECK(odp::log::level() == odp::log::Level::warn);
  LOG_WARN("log settings test line");
  {
    std::ifstream in(dir + "/odp.log");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(text.find("log settings test line") != std::string::npos);
  }
  // A directory that cannot be created: one line, and logging stays where it was.
  log.dir = dir + "/odp.log/sub";
  std::string error = odp::admin::apply_log_settings(log);
  CHECK(error.rfind("log.dir " + log.dir + ": ", 0) == 0);

  log.dir = "";
  log.level = "info";
  CHECK(odp::admin::apply_log_settings(log).empty());
  CHECK(odp::log::level() == odp::log::Level::info);
  std::filesystem::remove_all("/tmp/odp_log_settings_" + std::to_string(::getpid()));
}
