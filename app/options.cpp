#include "app/options.h"

#include <string_view>

namespace odp::app {

const char* usage_text() {
  return "usage: odp --config FILE        run in the foreground with this config\n"
         "       odp --check-config FILE  validate a config file, print FILE: OK or its errors, exit 0/1\n"
         "       odp --version            print the version\n"
         "       odp --help               print this help\n"
         "\n"
         "Signals: SIGTERM/SIGINT drain clients and exit 0 (a second one stops at once);\n"
         "SIGHUP reloads the config file. Configuration reference: etc/odp.toml, docs/OPERATIONS.md.\n";
}

bool parse_options(int argc, char** argv, Options& out, std::string& error) {
  bool have_mode = false;
  auto set_mode = [&](Mode mode) {
    if (have_mode && out.mode != mode) {
      error = "choose one of --config, --check-config, --version, --help";
      return false;
    }
    have_mode = true;
    out.mode = mode;
    return true;
  };
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    std::string_view value;
    bool inline_value = false;
    if (size_t eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string_view::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      inline_value = true;
    }
    if (arg == "--config" || arg == "-c" || arg == "--check-config") {
      if (!set_mode(arg == "--check-config" ? Mode::check_config : Mode::run)) return false;
      if (!inline_value) {
        if (i + 1 >= argc) {
          error = std::string(arg) + " needs a FILE";
          return false;
        }
        value = argv[++i];
      }
      if (value.empty()) {
        error = std::string(arg) + " needs a FILE";
        return false;
      }
      out.config_path = std::string(value);
    } else if ((arg == "--version" || arg == "-V") && !inline_value) {
      if (!set_mode(Mode::version)) return false;
    } else if ((arg == "--help" || arg == "-h") && !inline_value) {
      if (!set_mode(Mode::help)) return false;
    } else {
      error = "unknown argument '" + std::string(argv[i]) + "' (see odp --help)";
      return false;
    }
  }
  if (!have_mode) {
    error = "no config file: run odp --config FILE (see odp --help)";
    return false;
  }
  return true;
}

}  // namespace odp::app
