// Live changes (`alter proxyconfig set`), listing (`show proxyconfig`) and reload diffs.
#include <algorithm>
#include <set>

#include "admin/config.h"
#include "admin/config_keys.h"

namespace odp::admin {
namespace {

using detail::FieldRef;

constexpr const char* kMask = "******";

// One key resolved against a config: where it lives and how to check it.
struct Resolved {
  FieldRef field;
  uint64_t min = 0;
  uint64_t max = 0;
  detail::Check check = detail::Check::none;
  bool live = false;
};

template <typename Root>
const detail::KeyDef<Root>* find_def(const std::vector<detail::KeyDef<Root>>& defs, std::string_view section,
                                     std::string_view name) {
  for (const auto& d : defs) {
    if (section == d.section && name == d.name) return &d;
  }
  return nullptr;
}

std::vector<std::string> all_key_names() {
  std::vector<std::string> names;
  for (const auto& d : detail::global_keys()) names.push_back(std::string(d.section) + "." + d.name);
  for (const auto& d : detail::cluster_keys()) names.push_back(std::string("cluster.NAME.") + d.name);
  return names;
}

std::string unknown_key(const std::string& dotted) {
  std::string hint = detail::closest_name(dotted, all_key_names());
  return "unknown config key '" + dotted + "'" + (hint.empty() ? "" : " (did you mean '" + hint + "'?)");
}

// Every key and value; with `mask` secrets are hidden and users are listed by name only, without it
// each user's hash is its own key (to detect changes).
std::vector<std::pair<std::string, std::string>> items(const Config& config, bool mask) {
  // The accessors take a mutable root so one table serves both reading and writing; nothing is written here.
  auto& root = const_cast<Config&>(config);  // NOLINT(cppcoreguidelines-pro-type-const-cast)
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& d : detail::global_keys()) {
    std::string value = detail::field_text(d.field(root));
    if (mask && d.secret && !value.empty()) value = kMask;
    out.emplace_back(std::string(d.section) + "." + d.name, std::move(value));
  }
  for (ClusterConfig& cluster : root.clusters) {
    std::string prefix = "cluster." + cluster.name + ".";
    for (const auto& d : detail::cluster_keys()) {
      std::string value = detail::field_text(d.field(cluster));
      if (mask && d.secret && !value.empty()) value = kMask;
      out.emplace_back(prefix + d.name, std::move(value));
    }
    if (mask) {
      std::string names;
      for (const auto& [user, hash] : cluster.users) names += (names.empty() ? "" : ",") + user;
      out.emplace_back(prefix + "users", names);
    } else {
      for (const auto& [user, hash] : cluster.users) out.emplace_back(prefix + "users." + user, hash);
    }
  }
  return out;
}

}  // namespace

Result<Ok, std::string> set_config_value(Config& config, const std::string& dotted_key, const std::string& value) {
  Config copy = config;
  Resolved key;
  size_t dot = dotted_key.find('.');
  if (dot == std::string::npos) return Err{unknown_key(dotted_key)};
  std::string section = dotted_key.substr(0, dot);
  std::string rest = dotted_key.substr(dot + 1);
  if (section == "cluster") {
    size_t dot2 = rest.find('.');
    if (dot2 == std::string::npos) return Err{unknown_key(dotted_key)};
    std::string name = rest.substr(0, dot2);
    std::string field = rest.substr(dot2 + 1);
    auto it = std::find_if(copy.clusters.begin(), copy.clusters.end(),
                           [&](const ClusterConfig& c) { return c.name == name; });
    if (it == copy.clusters.end()) return Err{"no cluster named '" + name + "' (clusters are added in the file)"};
    if (field.rfind("users.", 0) == 0) {
      // A user's stored hash can be set live, so a changed password needs no restart.
      std::string user = field.substr(6);
      if (user.empty() || user.find_first_of("@#") != std::string::npos) return Err{unknown_key(dotted_key)};
      if (!detail::is_stage2_text(value)) {
        return Err{dotted_key + " must be \"*\" and 40 hex digits, or \"\" for an empty password"};
      }
      std::string hash = value;
      for (char& c : hash) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      it->users[user] = hash;
      config = std::move(copy);
      return Ok{};
    }
    const auto* def = find_def(detail::cluster_keys(), "cluster", field);
    if (def == nullptr) return Err{unknown_key(dotted_key)};
    key = {def->field(*it), def->min, def->max, def->check, def->live};
  } else {
    const auto* def = find_def(detail::global_keys(), section, rest);
    if (def == nullptr) return Err{unknown_key(dotted_key)};
    key = {def->field(copy), def->min, def->max, def->check, def->live};
  }
  if (!key.live) return Err{dotted_key + " cannot change while odp runs: edit the config file and restart"};
  detail::Input in;
  std::string message;
  if (!detail::input_from_text(key.field, value, in, message) ||
      !detail::store_value(key.field, key.min, key.max, key.check, in, message)) {
    return Err{dotted_key + " " + message};
  }
  auto problems = detail::cross_check(copy);
  if (!problems.empty()) return Err{problems.front().second};
  config = std::move(copy);
  return Ok{};
}

std::vector<std::pair<std::string, std::string>> config_items(const Config& config) {
  return items(config, true);
}

bool config_key_is_live(const std::string& dotted_key) {
  size_t dot = dotted_key.find('.');
  if (dot == std::string::npos) return false;
  std::string section = dotted_key.substr(0, dot);
  std::string rest = dotted_key.substr(dot + 1);
  if (section != "cluster") {
    const auto* def = find_def(detail::global_keys(), section, rest);
    return def != nullptr && def->live;
  }
  size_t dot2 = rest.find('.');
  if (dot2 == std::string::npos) return false;  // a whole cluster added or removed
  std::string field = rest.substr(dot2 + 1);
  if (field == "users" || field.rfind("users.", 0) == 0) return true;
  const auto* def = find_def(detail::cluster_keys(), "cluster", field);
  return def != nullptr && def->live;
}

std::vector<std::string> changed_config_keys(const Config& before, const Config& after) {
  auto a = items(before, false);
  auto b = items(after, false);
  std::set<std::string> clusters_before;
  std::set<std::string> clusters_after;
  for (const auto& c : before.clusters) clusters_before.insert(c.name);
  for (const auto& c : after.clusters) clusters_after.insert(c.name);
  auto cluster_of = [](const std::string& key) -> std::string {
    if (key.rfind("cluster.", 0) != 0) return "";
    return key.substr(8, key.find('.', 8) - 8);
  };
  std::vector<std::string> changed;
  auto add = [&](const std::string& key) {
    if (std::find(changed.begin(), changed.end(), key) == changed.end()) changed.push_back(key);
  };
  // Keys of a cluster that exists on one side only collapse into "cluster.NAME".
  auto report = [&](const std::string& key) {
    std::string cluster = cluster_of(key);
    if (!cluster.empty() && (clusters_before.count(cluster) == 0 || clusters_after.count(cluster) == 0)) {
      add("cluster." + cluster);
    } else {
      add(key);
    }
  };
  // Structured bindings are not captured by lambdas before clang 16, hence `item`.
  for (const auto& item : b) {
    auto it = std::find_if(a.begin(), a.end(), [&](const auto& kv) { return kv.first == item.first; });
    if (it == a.end() || it->second != item.second) report(item.first);
  }
  for (const auto& item : a) {
    auto it = std::find_if(b.begin(), b.end(), [&](const auto& kv) { return kv.first == item.first; });
    if (it == b.end()) report(item.first);
  }
  return changed;
}

std::vector<std::string> restart_required_keys(const Config& before, const Config& after) {
  std::vector<std::string> out;
  for (const std::string& key : changed_config_keys(before, after)) {
    if (!config_key_is_live(key)) out.push_back(key);
  }
  return out;
}

}  // namespace odp::admin
