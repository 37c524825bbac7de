#pragma once
// Command-line flags of the odp binary.
#include <string>

namespace odp::app {

enum class Mode { run, check_config, version, help };

struct Options {
  Mode mode = Mode::help;
  std::string config_path;
};

// Parses argv. On a usage error returns false with `error` set to one line for stderr.
bool parse_options(int argc, char** argv, Options& out, std::string& error);

const char* usage_text();

}  // namespace odp::app
