#include "proxy/prepared_statements.h"

#include <algorithm>

#include "protocol/wire.h"

namespace odp::proxy {

using namespace protocol;

std::string ServerStmtCache::key(std::string_view database, std::string_view sql) {
  std::string k;
  k.reserve(database.size() + 1 + sql.size());
  k.append(database);
  k.push_back('\0');
  k.append(sql);
  return k;
}

ServerStmt* ServerStmtCache::find(const std::string& key) {
  auto it = by_key_.find(key);
  if (it == by_key_.end()) return nullptr;
  it->second.last_use = ++clock_;
  return &it->second;
}

std::vector<uint32_t> ServerStmtCache::insert(const std::string& key, ServerStmt stmt) {
  std::vector<uint32_t> evicted;
  while (by_key_.size() >= kMaxStatements) {
    auto oldest = std::min_element(by_key_.begin(), by_key_.end(),
                                   [](const auto& a, const auto& b) { return a.second.last_use < b.second.last_use; });
    evicted.push_back(oldest->second.id);
    by_key_.erase(oldest);
  }
  stmt.last_use = ++clock_;
  by_key_[key] = std::move(stmt);
  return evicted;
}

namespace {
Result<ComStmtExecute, std::string> decode(std::span<const uint8_t> payload, ClientStmt& stmt) {
  ExecuteContext ctx;
  ctx.num_params = stmt.num_params;
  ctx.previous_types = stmt.types;
  auto e = decode_com_stmt_execute(payload, ctx);
  if (!e) return Err(std::string("malformed COM_STMT_EXECUTE: ") + e.error().what);
  if (e->new_params_bound) stmt.types = e->types;
  return std::move(e.value());
}

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
}  // namespace

Result<std::vector<routing::SqlValue>, std::string> execute_params(std::span<const uint8_t> payload, ClientStmt& stmt) {
  auto e = decode(payload, stmt);
  if (!e) return Err(e.error());
  std::vector<routing::SqlValue> params;
  params.reserve(e->values.size());
  for (const auto& v : e->values) params.push_back(to_sql_value(v));
  return params;
}

Result<RewrittenExecute, std::string> rewrite_execute(std::span<const uint8_t> payload, ClientStmt& stmt,
                                                      uint32_t server_id, bool bind_types) {
  auto e = decode(payload, stmt);
  if (!e) return Err(e.error());
  RewrittenExecute out;
  out.flags = e->flags;
  for (const auto& v : e->values) out.params.push_back(to_sql_value(v));
  if (!bind_types || e->new_params_bound || stmt.num_params == 0 || stmt.types.size() != stmt.num_params) {
    // Same bytes, another statement id.
    out.payload.assign(payload.begin(), payload.end());
    patch_statement_id(out.payload, server_id);
    return out;
  }
  e->statement_id = server_id;
  e->new_params_bound = true;
  e->types = stmt.types;
  encode_com_stmt_execute(e.value(), 0, out.payload);
  return out;
}

}  // namespace odp::proxy
