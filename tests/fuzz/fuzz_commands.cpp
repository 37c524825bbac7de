// Every client command decoder over arbitrary bytes (the first byte picks context flags).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz_util.h"
#include "protocol/commands.h"

using namespace odp::protocol;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint8_t sel = data[0];
  std::span<const uint8_t> p(data + 1, size - 1);
  uint32_t caps = cap::PROTOCOL_41;
  if (sel & 1) caps |= cap::QUERY_ATTRIBUTES;
  if (sel & 2) caps |= cap::SECURE_CONNECTION;
  if (sel & 4) caps |= cap::PLUGIN_AUTH;
  if (sel & 8) caps |= cap::CONNECT_ATTRS;

  (void)command_of(p);
  (void)decode_com_query(p, caps);
  (void)decode_com_init_db(p);
  (void)decode_com_field_list(p);
  (void)decode_com_process_kill(p);
  (void)decode_com_set_option(p);
  (void)decode_com_change_user(p, caps);
  (void)decode_com_stmt_prepare(p);
  (void)decode_com_stmt_fetch(p);
  (void)decode_com_stmt_close(p);
  (void)decode_com_stmt_reset(p);
  (void)decode_com_stmt_send_long_data(p);
  (void)decode_com_stmt_execute_head(p);
  (void)statement_id_of(p);

  // COM_STMT_EXECUTE with a parameter count, previous types and long-data flags from the input.
  const uint16_t num_params = static_cast<uint16_t>(sel >> 4);
  std::vector<ParamType> prev(num_params, ParamType{ColumnType::var_string, false});
  std::vector<uint8_t> long_data(num_params, 0);
  if (num_params > 0) long_data[0] = sel & 2;
  ExecuteContext ctx{num_params, (sel & 4) ? std::span<const ParamType>(prev) : std::span<const ParamType>(), long_data,
                     caps};
  if (auto e = decode_com_stmt_execute(p, ctx)) {
    FUZZ_CHECK(e->values.size() <= 65535);
    for (const auto& v : e->values) {
      (void)v.as_int64();
      (void)v.as_double();
      (void)v.as_string();
    }
    // Without long data or attributes, re-encoding gives back the same bytes' meaning.
    if (!(sel & 2) && !(caps & cap::QUERY_ATTRIBUTES) && e->new_params_bound) {
      std::vector<uint8_t> out;
      encode_com_stmt_execute(*e, caps, out);
      auto back = decode_com_stmt_execute(out, ExecuteContext{num_params, {}, {}, caps});
      FUZZ_CHECK(back.ok());
      FUZZ_CHECK(back->types == e->types);
    }
  }
  return 0;
}
