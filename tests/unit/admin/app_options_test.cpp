// app/ is an executable, not a library, so its flag parser is compiled into this test directly.
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "app/options.cpp"  // NOLINT(bugprone-suspicious-include)
#include "app/options.h"

namespace {

struct Parsed {
  bool ok = false;
  odp::app::Options options;
  std::string error;
};

Parsed parse(std::vector<std::string> args) {
  args.insert(args.begin(), "odp");
  std::vector<char*> argv;
  argv.reserve(args.size());
  for (auto& a : args) argv.push_back(a.data());
  Parsed p;
  p.ok = odp::app::parse_options(static_cast<int>(argv.size()), argv.data(), p.options, p.error);
  return p;
}

}  // namespace

TEST_CASE("app options: modes and config paths") {
  auto run = parse({"--config", "/etc/odp/odp.toml"});
  CHECK(run.ok);
  CHECK(run.options.mode == odp::app::Mode::run);
  CHECK(run.options.config_path == "/etc/odp/odp.toml");
  CHECK(parse({"-c", "x.toml"}).options.config_path == "x.toml");
  CHECK(parse({"--config=y.toml"}).options.config_path == "y.toml");
  auto check = parse({"--check-config", "z.toml"});
  CHECK(check.ok);
  CHECK(check.options.mode == odp::app::Mode::check_config);
  CHECK(parse({"--check-config=z.toml"}).options.config_path == "z.toml");
  CHECK(parse({"--version"}).options.mode == odp::app::Mode::version);
  CHECK(parse({"-V"}).options.mode == odp::app::Mode::version);
  CHECK(parse({"--help"}).options.mode == odp::app::Mode::help);
  CHECK(parse({"-h"}).options.mode == odp::app::Mode::help);
}

TEST_CASE("app options: usage errors are one line") {
  CHECK(parse({}).error == "no config file: run odp --config FILE (see odp --help)");
  CHECK(parse({"--config"}).error == "--config needs a FILE");
  CHECK(parse({"--config="}).error == "--config needs a FILE");
  CHECK(parse({"--check-config"}).error == "--check-config needs a FILE");
  CHECK(parse({"--frobnicate"}).error == "unknown argument '--frobnicate' (see odp --help)");
  CHECK(parse({"stray"}).error == "unknown argument 'stray' (see odp --help)");
  CHECK(parse({"--version=2"}).error == "unknown argument '--version=2' (see odp --help)");
  CHECK_FALSE(parse({"--config", "a", "--check-config", "b"}).ok);
  CHECK_FALSE(parse({"--version", "--help"}).ok);
}
