#include "proxy/prepared_statements.h"

#include <algorithm>

#include "protocol/commands.h"
#include "protocol/packet.h"
#include "protocol/wire.h"

namespace odp::proxy {

using namespace protocol;

ServerStmt* ServerStatements::find(const StatementShape* shape, std::string_view context) {
  for (auto& s : stmts_) {
    if (s.shape.get() == shape && s.context == context) {
      s.last_use = ++clock_;
      return &s;
    }
  }
  return nullptr;
}

ServerStmt& ServerStatements::insert(ServerStmt stmt, std::vector<uint32_t>& to_close) {
  stmt.last_use = ++clock_;
  for (auto& s : stmts_) {
    if (s.shape == stmt.shape && s.context == stmt.context) {
      if (s.id != stmt.id) to_close.push_back(s.id);
      s = std::move(stmt);
      return s;
    }
  }
  if (stmts_.size() >= kMaxStatements) {
    auto oldest = std::min_element(stmts_.begin(), stmts_.end(),
                                   [](const ServerStmt& a, const ServerStmt& b) { return a.last_use < b.last_use; });
    to_close.push_back(oldest->id);
    *oldest = std::move(stmt);
    return *oldest;
  }
  stmts_.push_back(std::move(stmt));
  return stmts_.back();
}

void ServerStatements::sweep_unused(std::vector<uint32_t>& to_close) {
  std::erase_if(stmts_, [&](const ServerStmt& s) {
    if (s.shape->clients > 0) return false;
    to_close.push_back(s.id);
    return true;
  });
}

namespace {
routing::SqlValue to_sql_value(const BinaryValue& v) {
  routing::SqlValue out;
  if (v.is_null) {
    out.kind = routing::SqlValue::Kind::null;
    return out;
  }
  switch (v.type.type) {
    case ColumnType::tiny:
    case ColumnType::short_:
    case ColumnType::year:
    case ColumnType::long_:
    case ColumnType::int24:
    case ColumnType::longlong:
      if (v.type.is_unsigned) {
        auto u = v.as_uint64();
        if (u && *u <= static_cast<uint64_t>(INT64_MAX)) {
          out.kind = routing::SqlValue::Kind::integer;
          out.integer = static_cast<int64_t>(*u);
        }
      } else if (auto i = v.as_int64()) {
        out.kind = routing::SqlValue::Kind::integer;
        out.integer = *i;
      }
      return out;
    case ColumnType::varchar:
    case ColumnType::var_string:
    case ColumnType::string:
    case ColumnType::tiny_blob:
    case ColumnType::medium_blob:
    case ColumnType::long_blob:
    case ColumnType::blob:
      out.kind = routing::SqlValue::Kind::string;
      out.text = v.as_string();
      return out;
    case ColumnType::decimal:
    case ColumnType::newdecimal:
      out.kind = routing::SqlValue::Kind::decimal;
      out.text = v.as_string();
      return out;
    default:
      return out;
  }
}

constexpr size_t kExecuteHeadBytes = 10;  // command, statement id, flags, iteration count

bool bit_set(std::span<const uint8_t> bitmap, size_t i) {
  return (bitmap[i / 8] >> (i % 8)) & 1;
}
}  // namespace

Result<size_t, std::string> execute_params(std::span<const uint8_t> payload, ClientStmt& stmt,
                                           std::span<routing::SqlValue> out) {
  const size_t n = stmt.num_params;
  if (payload.size() < kExecuteHeadBytes) return Err(std::string("malformed COM_STMT_EXECUTE: truncated head"));
  if (n == 0) return size_t{0};
  Reader r(payload.data() + kExecuteHeadBytes, payload.size() - kExecuteHeadBytes);
  std::span<const uint8_t> bitmap;
  uint8_t bound = 0;
  if (!r.bytes((n + 7) / 8, bitmap) || !r.u8(bound))
    return Err(std::string("malformed COM_STMT_EXECUTE: truncated null bitmap"));
  if (bound != 0) {
    stmt.types.resize(n);
    for (size_t i = 0; i < n; ++i) {
      uint8_t type = 0, flags = 0;
      if (!r.u8(type) || !r.u8(flags)) return Err(std::string("malformed COM_STMT_EXECUTE: truncated parameter types"));
      stmt.types[i] = ParamType{static_cast<ColumnType>(type), (flags & 0x80) != 0};
    }
  }
  if (stmt.long_data.size() != n) stmt.long_data.resize(n, 0);
  const bool have_types = stmt.types.size() == n;
  size_t filled = 0;
  for (size_t i = 0; i < n; ++i) {
    BinaryValue v;
    v.is_null = bit_set(bitmap, i);
    // A parameter sent by COM_STMT_SEND_LONG_DATA has no bytes in the value section.
    bool skip = v.is_null || stmt.long_data[i] != 0;
    if (!skip) {
      if (!have_types) return Err(std::string("malformed COM_STMT_EXECUTE: parameter types were never bound"));
      v.type = stmt.types[i];
      if (!read_binary_value(r, v.type, v))
        return Err(std::string("malformed COM_STMT_EXECUTE: malformed parameter value"));
    }
    if (i < out.size()) {
      out[i] = stmt.long_data[i] != 0 ? routing::SqlValue{} : to_sql_value(v);
      filled = i + 1;
    }
  }
  return filled;
}

Result<bool, std::string> ready_execute(std::vector<uint8_t>& request, const ClientStmt& stmt, ServerStmt& server,
                                        std::vector<uint8_t>& scratch) {
  if (request.size() < kPacketHeaderBytes + kExecuteHeadBytes)
    return Err(std::string("malformed COM_STMT_EXECUTE: truncated head"));
  std::span<uint8_t> payload(request.data() + kPacketHeaderBytes, request.size() - kPacketHeaderBytes);
  patch_statement_id(payload, server.id);
  const size_t n = stmt.num_params;
  if (n == 0) return false;
  const size_t bitmap_bytes = (n + 7) / 8;
  const size_t bound_at = kExecuteHeadBytes + bitmap_bytes;
  if (payload.size() <= bound_at) return Err(std::string("malformed COM_STMT_EXECUTE: truncated null bitmap"));
  if (payload[bound_at] != 0) {
    server.types = stmt.types;  // the client sent types: the server knows these now
    return false;
  }
  if (server.types == stmt.types || stmt.types.size() != n) return false;
  // The server statement was last told other types (another client's, or none): insert ours.
  scratch.clear();
  scratch.insert(scratch.end(), payload.begin(), payload.begin() + static_cast<std::ptrdiff_t>(bound_at));
  scratch.push_back(1);
  for (const ParamType& t : stmt.types) {
    scratch.push_back(static_cast<uint8_t>(t.type));
    scratch.push_back(t.is_unsigned ? 0x80 : 0x00);
  }
  scratch.insert(scratch.end(), payload.begin() + static_cast<std::ptrdiff_t>(bound_at + 1), payload.end());
  if (scratch.size() >= kMaxPacketChunk) return Err(std::string("COM_STMT_EXECUTE too large to re-bind"));
  const auto len = static_cast<uint32_t>(scratch.size());
  request.resize(kPacketHeaderBytes);
  request.insert(request.end(), scratch.begin(), scratch.end());
  request[0] = static_cast<uint8_t>(len);
  request[1] = static_cast<uint8_t>(len >> 8);
  request[2] = static_cast<uint8_t>(len >> 16);
  server.types = stmt.types;
  return true;
}

}  // namespace odp::proxy
