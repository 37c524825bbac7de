// SessionModel::serialize / deserialize: the model as bytes, for a hot upgrade to hand a live
// session to the next process. Versioned; every read is bounds-checked (the bytes cross a
// process boundary).
#include "protocol/wire.h"
#include "proxy/session_model.h"

namespace odp::proxy {

using namespace protocol;

namespace {
constexpr uint32_t kMagic = 0x4D53444F;  // "ODSM"
constexpr uint16_t kVersion = 1;
// Optional sections after the statements, each once, in this order.
constexpr uint8_t kObInfoSection = 1;    // OceanBase session records
constexpr uint8_t kTrackingSection = 2;  // the client's session tracking, when not the default
constexpr uint64_t kMaxItems = 1u << 20;

bool str(Reader& r, std::string& out) {
  std::string_view v;
  if (!r.lenenc_str(v)) return false;
  out.assign(v);
  return true;
}
bool count(Reader& r, uint64_t& n) {
  return r.lenenc_int(n) && n <= kMaxItems && n <= r.remaining();
}
}  // namespace

void SessionModel::serialize(std::vector<uint8_t>& out) const {
  put_u32(out, kMagic);
  put_u16(out, kVersion);
  const SessionIdentity& id = identity_;
  put_lenenc_str(out, id.login.user);
  put_lenenc_str(out, id.login.tenant);
  put_lenenc_str(out, id.login.cluster);
  put_lenenc_str(out, id.login.cluster_id);
  put_u8(out, static_cast<uint8_t>((id.login.tenant_given ? 1 : 0) | (id.login.cluster_given ? 2 : 0) |
                                   (id.admin ? 4 : 0) | (id.stage1 ? 8 : 0) | (id.forwarded ? 16 : 0)));
  put_lenenc_str(out, id.peer);
  put_u32(out, id.connection_id);
  put_u32(out, id.client_caps);
  put_u8(out, id.charset);
  put_u32(out, id.max_packet_size);
  put_lenenc_str(out, id.login_database);
  put_lenenc_int(out, id.attributes.size());
  for (const auto& [k, v] : id.attributes) {
    put_lenenc_str(out, k);
    put_lenenc_str(out, v);
  }
  if (id.stage1) put_bytes(out, std::span<const uint8_t>(*id.stage1));
  if (id.forwarded) {
    put_lenenc_str(out, id.forwarded->token);
    put_bytes(out, std::span<const uint8_t>(id.forwarded->scramble));
  }

  const SessionVars& v = *vars_.current();
  put_lenenc_str(out, v.database);
  put_lenenc_int(out, v.sysvars.size());
  for (const auto& [name, var] : v.sysvars) {
    put_lenenc_str(out, name);
    put_lenenc_str(out, var.sql);
  }
  put_lenenc_int(out, v.uservars.size());
  for (const auto& [name, var] : v.uservars) {
    put_lenenc_str(out, name);
    put_lenenc_str(out, var.sql);
  }
  put_u32(out, ties_.bits());
  put_u8(out, autocommit_ ? 1 : 0);
  put_lenenc_str(out, held_begin_);
  put_u64(out, last_insert_id_);
  put_u8(out, static_cast<uint8_t>(consistency_));

  put_u32(out, statements_.next_id());
  put_lenenc_int(out, statements_.size());
  for (const auto& [sid, stmt] : statements_.all()) {
    put_u32(out, sid);
    put_lenenc_str(out, stmt.sql());
    put_lenenc_str(out, stmt.database);
    put_u16(out, stmt.num_params);
    put_u16(out, stmt.num_columns);
    put_lenenc_int(out, stmt.types.size());
    for (const auto& t : stmt.types) {
      put_u8(out, static_cast<uint8_t>(t.type));
      put_u8(out, t.is_unsigned ? 1 : 0);
    }
  }
  // OceanBase session records, only when there are some: a process without them reads the rest.
  if (!v.ob_info.empty()) {
    put_u8(out, kObInfoSection);
    put_lenenc_int(out, v.ob_info.size());
    for (const auto& [type, rec] : v.ob_info) {
      put_u16(out, type);
      put_lenenc_str(out, rec.sql);
    }
  }
  if (!tracking_.is_default()) {
    put_u8(out, kTrackingSection);
    put_lenenc_str(out, tracking_.system_variables);
    put_u8(out, static_cast<uint8_t>((tracking_.schema ? 1 : 0) | (tracking_.state_change ? 2 : 0)));
  }
}

Result<SessionModel, std::string> SessionModel::deserialize(std::span<const uint8_t> in) {
  Reader r(in.data(), in.size());
  auto bad = [](const char* what) { return Err(std::string("session model: ") + what); };
  uint32_t magic = 0;
  uint16_t version = 0;
  if (!r.u32(magic) || magic != kMagic) return bad("not a serialised session");
  if (!r.u16(version) || version != kVersion) return bad("unknown version");
  SessionModel m;
  SessionIdentity id;
  uint8_t flags = 0;
  uint64_t n = 0;
  if (!str(r, id.login.user) || !str(r, id.login.tenant) || !str(r, id.login.cluster) || !str(r, id.login.cluster_id) ||
      !r.u8(flags) || !str(r, id.peer) || !r.u32(id.connection_id) || !r.u32(id.client_caps) || !r.u8(id.charset) ||
      !r.u32(id.max_packet_size) || !str(r, id.login_database) || !count(r, n))
    return bad("truncated identity");
  id.login.tenant_given = flags & 1;
  id.login.cluster_given = flags & 2;
  id.admin = flags & 4;
  for (uint64_t i = 0; i < n; ++i) {
    std::string k, v;
    if (!str(r, k) || !str(r, v)) return bad("truncated attributes");
    id.attributes.emplace_back(std::move(k), std::move(v));
  }
  if (flags & 8) {
    std::span<const uint8_t> s1;
    if (!r.bytes(20, s1)) return bad("truncated login");
    std::array<uint8_t, 20> a{};
    std::copy(s1.begin(), s1.end(), a.begin());
    id.stage1 = a;
  }
  if (flags & 16) {
    protocol::ForwardedToken f;
    std::span<const uint8_t> scr;
    if (!str(r, f.token) || !r.bytes(20, scr)) return bad("truncated forwarded login");
    std::copy(scr.begin(), scr.end(), f.scramble.begin());
    id.forwarded = std::move(f);
  }
  m.start(std::move(id));

  std::string database;
  if (!str(r, database)) return bad("truncated database");
  m.vars_.reset(std::move(database));
  for (int kind = 0; kind < 2; ++kind) {
    if (!count(r, n)) return bad("truncated variables");
    for (uint64_t i = 0; i < n; ++i) {
      std::string name, literal;
      if (!str(r, name) || !str(r, literal)) return bad("truncated variable");
      if (kind == 0) {
        m.vars_.set_system_variable_literal(name, std::move(literal));
      } else {
        m.vars_.set_user_variable(name, std::move(literal));
      }
    }
  }
  uint32_t ties = 0;
  uint8_t autocommit = 0, consistency = 0;
  if (!r.u32(ties) || !r.u8(autocommit) || !str(r, m.held_begin_) || !r.u64(m.last_insert_id_) || !r.u8(consistency) ||
      consistency > static_cast<uint8_t>(routing::Consistency::weak))
    return bad("truncated session flags");
  m.ties_ = TieSet::from_bits(ties);
  m.autocommit_ = autocommit != 0;
  m.consistency_ = static_cast<routing::Consistency>(consistency);

  uint32_t next_id = 0;
  if (!r.u32(next_id) || !count(r, n)) return bad("truncated statements");
  for (uint64_t i = 0; i < n; ++i) {
    uint32_t sid = 0;
    std::string sql;
    ClientStmt stmt;
    uint64_t types = 0;
    if (!r.u32(sid) || sid == 0 || !str(r, sql) || !str(r, stmt.database) || !r.u16(stmt.num_params) ||
        !r.u16(stmt.num_columns) || !count(r, types))
      return bad("truncated statement");
    for (uint64_t t = 0; t < types; ++t) {
      uint8_t type = 0, is_unsigned = 0;
      if (!r.u8(type) || !r.u8(is_unsigned)) return bad("truncated parameter types");
      stmt.types.push_back(ParamType{static_cast<ColumnType>(type), is_unsigned != 0});
    }
    stmt.shape = make_statement_shape(sql);
    stmt.long_data.assign(stmt.num_params, 0);
    m.statements_.put(sid, std::move(stmt));
  }
  m.statements_.set_next_id(next_id);
  uint8_t last_section = 0;
  while (!r.empty()) {
    uint8_t section = 0;
    if (!r.u8(section) || section <= last_section) return bad("trailing bytes");
    last_section = section;
    if (section == kObInfoSection) {
      if (!count(r, n)) return bad("truncated OceanBase session records");
      for (uint64_t i = 0; i < n; ++i) {
        uint16_t type = 0;
        std::string bytes;
        if (!r.u16(type) || !str(r, bytes)) return bad("truncated OceanBase session records");
        m.vars_.set_ob_session_info(type, std::move(bytes));
      }
    } else if (section == kTrackingSection) {
      uint8_t bits = 0;
      if (!str(r, m.tracking_.system_variables) || !r.u8(bits) || bits > 3) return bad("truncated session tracking");
      m.tracking_.schema = bits & 1;
      m.tracking_.state_change = bits & 2;
    } else {
      return bad("trailing bytes");
    }
  }
  return m;
}

}  // namespace odp::proxy
