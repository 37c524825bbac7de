// Internal commands parse SQL text from root@proxysys sessions: any bytes must give a bounded,
// well-formed result (every row as wide as the columns), never a crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "admin/config.h"
#include "admin/internal_commands.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const odp::admin::Config config = [] {
    auto r = odp::admin::parse_config("[cluster.c]\nrootservice_list = [\"127.0.0.1:3401\"]\nserver_mode = \"mysql\"\n",
                                      "fuzz.toml");
    return r ? r.value() : odp::admin::Config{};
  }();
  odp::admin::InternalContext ctx;
  ctx.config = &config;
  ctx.stats = {{"client_connections", 3}, {"sql_request_total", 42}};
  ctx.sessions.push_back({7, "app", "127.0.0.1:5000", "127.0.0.1:3401", 99, "connected", "test", 10});
  ctx.version = "fuzz";
  ctx.alter_config = [](const std::string&, const std::string&) -> odp::Result<odp::Ok, std::string> {
    return odp::Ok{};
  };
  ctx.kill_session = [](uint32_t id, bool) { return id == 7; };
  std::string_view sql(reinterpret_cast<const char*>(data), size);
  (void)odp::admin::internal_command_needs(sql);
  odp::admin::InternalResult r = odp::admin::execute_internal_command(sql, ctx);
  if (r.kind == odp::admin::InternalResult::Kind::rows) {
    for (const auto& row : r.rows) {
      if (row.size() != r.columns.size()) __builtin_trap();
    }
  }
  return 0;
}
