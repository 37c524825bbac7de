#include "routing/topology.h"

#include <cctype>

#include "base/ascii.h"

namespace odp::routing {

namespace {
constexpr char kKeySeparator = '\x1f';

// Writes the lower-cased key into buf; returns its length, or SIZE_MAX when it does not fit.
size_t write_key(char* buf, size_t cap, std::string_view tenant, std::string_view database, std::string_view table) {
  size_t n = 0;
  auto put = [&](std::string_view part) {
    for (char c : part) {
      if (n == cap) return false;
      buf[n++] = base::ascii_lower(c);
    }
    return true;
  };
  auto sep = [&] {
    if (n == cap) return false;
    buf[n++] = kKeySeparator;
    return true;
  };
  if (!put(tenant) || !sep() || !put(database) || !sep() || !put(table)) return SIZE_MAX;
  return n;
}

using base::iequals;
}  // namespace

std::string table_key(std::string_view tenant, std::string_view database, std::string_view table) {
  std::string key(tenant.size() + database.size() + table.size() + 2, '\0');
  size_t n = write_key(key.data(), key.size(), tenant, database, table);
  key.resize(n);
  return key;
}

const TenantInfo* ClusterTopology::find_tenant(std::string_view tenant) const {
  for (const auto& t : tenants)
    if (iequals(t.name, tenant)) return &t;
  return nullptr;
}

const TableEntry* ClusterTopology::find_table(std::string_view tenant, std::string_view database,
                                              std::string_view table) const {
  if (tables.empty()) return nullptr;
  char buf[512];
  size_t n = write_key(buf, sizeof buf, tenant, database, table);
  if (n == SIZE_MAX) {
    auto it = tables.find(table_key(tenant, database, table));
    return it == tables.end() ? nullptr : it->second.get();
  }
  auto it = tables.find(std::string_view(buf, n));
  return it == tables.end() ? nullptr : it->second.get();
}

bool ClusterTopology::known_missing(std::string_view tenant, std::string_view database, std::string_view table) const {
  if (missing_tables.empty()) return false;
  char buf[512];
  size_t n = write_key(buf, sizeof buf, tenant, database, table);
  if (n == SIZE_MAX) return missing_tables.find(table_key(tenant, database, table)) != missing_tables.end();
  return missing_tables.find(std::string_view(buf, n)) != missing_tables.end();
}

std::optional<ServerIndex> ClusterTopology::find_server(std::string_view host_port) const {
  for (size_t i = 0; i < servers.size(); ++i)
    if (servers[i].host_port == host_port) return static_cast<ServerIndex>(i);
  return std::nullopt;
}

const Partition* TableEntry::tablet(int index, int sub_index) const {
  if (index < 0 || static_cast<size_t>(index) >= partitions.size()) return nullptr;
  const Partition& p = partitions[static_cast<size_t>(index)];
  if (!two_level()) return &p;
  if (sub_index < 0 || static_cast<size_t>(sub_index) >= p.subpartitions.size()) return nullptr;
  return &p.subpartitions[static_cast<size_t>(sub_index)];
}

std::string TableEntry::key_names() const {
  std::string out;
  uint8_t level = 1;
  for (const auto& k : key_columns) {
    if (!out.empty()) out += k.level != level ? ";" : ",";
    level = k.level;
    out += k.name;
  }
  return out;
}

const ClusterTopology* Snapshot::find_cluster(std::string_view name) const {
  for (const auto& c : clusters)
    if (iequals(c.name, name)) return &c;
  return nullptr;
}

}  // namespace odp::routing
