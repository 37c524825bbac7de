// COM_STMT_EXECUTE and COM_QUERY with query attributes: both carry a null bitmap, optional types
// and binary values.
#include "protocol/commands.h"

namespace odp::protocol {
namespace {

DecodeError bad(const char* what) {
  return DecodeError{what};
}

constexpr size_t kMaxParams = 65535;

bool bit_set(std::span<const uint8_t> bitmap, size_t i) {
  return (bitmap[i / 8] >> (i % 8)) & 1;
}

bool read_type(Reader& r, ParamType& t) {
  uint8_t type = 0, flags = 0;
  if (!r.u8(type) || !r.u8(flags)) return false;
  t.type = static_cast<ColumnType>(type);
  t.is_unsigned = (flags & 0x80) != 0;
  return true;
}

void put_type(std::vector<uint8_t>& out, ParamType t) {
  put_u8(out, static_cast<uint8_t>(t.type));
  put_u8(out, t.is_unsigned ? 0x80 : 0x00);
}

}  // namespace

Result<ComQuery, DecodeError> decode_com_query(std::span<const uint8_t> payload, uint32_t caps) {
  Reader r(payload);
  uint8_t cmd = 0;
  if (!r.u8(cmd) || cmd != static_cast<uint8_t>(Command::query)) return Err{bad("command byte mismatch")};
  ComQuery q;
  if (caps & cap::QUERY_ATTRIBUTES) {
    uint64_t count = 0, sets = 0;
    if (!r.lenenc_int(count) || !r.lenenc_int(sets)) return Err{bad("COM_QUERY: truncated attribute counts")};
    if (count > 0) {
      if (count > kMaxParams || (count + 7) / 8 > r.remaining())
        return Err{bad("COM_QUERY: attribute count too large")};
      std::span<const uint8_t> bitmap;
      uint8_t bound = 0;
      if (!r.bytes((count + 7) / 8, bitmap) || !r.u8(bound)) return Err{bad("COM_QUERY: truncated attributes")};
      if (bound != 1) return Err{bad("COM_QUERY: attributes without types")};
      q.attributes.resize(count);
      for (auto& a : q.attributes) {
        if (!read_type(r, a.value.type) || !r.lenenc_str(a.name))
          return Err{bad("COM_QUERY: truncated attribute type")};
      }
      for (size_t i = 0; i < count; ++i) {
        auto& v = q.attributes[i].value;
        v.is_null = bit_set(bitmap, i);
        if (!v.is_null && !read_binary_value(r, v.type, v)) return Err{bad("COM_QUERY: malformed attribute value")};
      }
    }
  }
  q.sql = r.rest();
  return q;
}

void encode_com_query(std::string_view sql, std::vector<uint8_t>& payload) {
  put_u8(payload, static_cast<uint8_t>(Command::query));
  put_bytes(payload, sql);
}

Result<StmtExecuteHead, DecodeError> decode_com_stmt_execute_head(std::span<const uint8_t> payload) {
  Reader r(payload);
  uint8_t cmd = 0;
  if (!r.u8(cmd) || cmd != static_cast<uint8_t>(Command::stmt_execute)) return Err{bad("command byte mismatch")};
  StmtExecuteHead h;
  if (!r.u32(h.statement_id) || !r.u8(h.flags) || !r.u32(h.iteration_count)) {
    return Err{bad("COM_STMT_EXECUTE: truncated head")};
  }
  return h;
}

Result<ComStmtExecute, DecodeError> decode_com_stmt_execute(std::span<const uint8_t> payload,
                                                            const ExecuteContext& ctx) {
  auto head = decode_com_stmt_execute_head(payload);
  if (!head) return Err{head.error()};
  Reader r(payload.subspan(10));
  ComStmtExecute e;
  e.statement_id = head->statement_id;
  e.flags = head->flags;
  e.iteration_count = head->iteration_count;
  const bool attrs = (ctx.caps & cap::QUERY_ATTRIBUTES) != 0;
  uint64_t count = ctx.num_params;
  if (count == 0 && !(attrs && (e.flags & cursor::PARAMETER_COUNT_AVAILABLE))) return e;
  if (attrs && !r.lenenc_int(count)) return Err{bad("COM_STMT_EXECUTE: truncated parameter count")};
  if (count == 0) return e;
  if (count > kMaxParams || (count + 7) / 8 > r.remaining())
    return Err{bad("COM_STMT_EXECUTE: parameter count too large")};
  std::span<const uint8_t> bitmap;
  uint8_t bound = 0;
  if (!r.bytes((count + 7) / 8, bitmap) || !r.u8(bound)) return Err{bad("COM_STMT_EXECUTE: truncated null bitmap")};
  e.new_params_bound = bound != 0;
  if (e.new_params_bound) {
    e.types.resize(count);
    if (attrs) e.names.resize(count);
    for (size_t i = 0; i < count; ++i) {
      if (!read_type(r, e.types[i]) || (attrs && !r.lenenc_str(e.names[i]))) {
        return Err{bad("COM_STMT_EXECUTE: truncated parameter types")};
      }
    }
  } else if (ctx.previous_types.size() >= count) {
    e.types.assign(ctx.previous_types.begin(), ctx.previous_types.begin() + static_cast<std::ptrdiff_t>(count));
  }
  e.values.resize(count);
  for (size_t i = 0; i < count; ++i) {
    auto& v = e.values[i];
    v.is_null = bit_set(bitmap, i);
    if (i < e.types.size()) v.type = e.types[i];
    const bool long_data = i < ctx.long_data_sent.size() && ctx.long_data_sent[i] != 0;
    if (v.is_null || long_data) continue;
    if (e.types.empty()) return Err{bad("COM_STMT_EXECUTE: parameter types were never bound")};
    if (!read_binary_value(r, v.type, v)) return Err{bad("COM_STMT_EXECUTE: malformed parameter value")};
  }
  return e;
}

void encode_com_stmt_execute(const ComStmtExecute& e, uint32_t caps, std::vector<uint8_t>& payload) {
  put_u8(payload, static_cast<uint8_t>(Command::stmt_execute));
  put_u32(payload, e.statement_id);
  put_u8(payload, e.flags);
  put_u32(payload, e.iteration_count);
  const bool attrs = (caps & cap::QUERY_ATTRIBUTES) != 0;
  const size_t count = e.values.size();
  if (count == 0 && !(attrs && (e.flags & cursor::PARAMETER_COUNT_AVAILABLE))) return;
  if (attrs) put_lenenc_int(payload, count);
  if (count == 0) return;
  std::vector<uint8_t> bitmap((count + 7) / 8, 0);
  for (size_t i = 0; i < count; ++i) {
    if (e.values[i].is_null) bitmap[i / 8] = static_cast<uint8_t>(bitmap[i / 8] | (1u << (i % 8)));
  }
  put_bytes(payload, bitmap);
  put_u8(payload, e.new_params_bound ? 1 : 0);
  if (e.new_params_bound) {
    for (size_t i = 0; i < count; ++i) {
      put_type(payload, i < e.types.size() ? e.types[i] : e.values[i].type);
      if (attrs) put_lenenc_str(payload, i < e.names.size() ? e.names[i] : std::string_view());
    }
  }
  for (const auto& v : e.values) {
    if (!v.is_null) put_binary_value(payload, v.type, v.raw);
  }
}

}  // namespace odp::protocol
