// Loads odp's TOML config. toml++ is used header-only from this one translation unit (nothing to
// link) and may throw toml::parse_error, which is caught here: the API returns values.
#include "admin/config.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <toml++/toml.h>

#include "admin/config_keys.h"

namespace odp::admin {

using detail::FieldRef;
using detail::Input;

const ClusterConfig* Config::find_cluster(const std::string& name) const {
  for (const ClusterConfig& c : clusters) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

namespace {

const char* const kSections[] = {"listen", "limits",   "proxy", "cluster", "routing",
                                 "pool",   "protocol", "tls",   "admin",   "log"};

const char* node_type_name(toml::node_type type) {
  switch (type) {
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a floating-point number";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
    case toml::node_type::time:
    case toml::node_type::date_time:
      return "a date/time";
    default:
      return "nothing";
  }
}

// Converts a TOML value to the input type the field expects; false when the TOML type is wrong.
bool input_from_toml(const FieldRef& field, const toml::node& node, Input& out) {
  switch (field.index()) {
    case 1:
    case 2:
      if (const auto* i = node.as_integer()) {
        out = i->get();
        return true;
      }
      return false;
    case 3:
      if (const auto* b = node.as_boolean()) {
        out = b->get();
        return true;
      }
      return false;
    case 4: {
      const auto* arr = node.as_array();
      if (arr == nullptr) return false;
      std::vector<std::string> items;
      for (const toml::node& elem : *arr) {
        const auto* s = elem.as_string();
        if (s == nullptr) return false;
        items.push_back(s->get());
      }
      out = std::move(items);
      return true;
    }
    default:
      if (const auto* s = node.as_string()) {
        out = s->get();
        return true;
      }
      return false;
  }
}

bool valid_cluster_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool valid_user_name(std::string_view name) {
  return !name.empty() && name.size() <= 128 && name.find_first_of("@#") == std::string_view::npos;
}

std::string upper_stage2(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

class Parser {
 public:
  Parser(std::string source, bool check_files) : source_(std::move(source)), check_files_(check_files) {}

  Result<Config, std::vector<ConfigError>> run(const std::string& text) {
    Config config;
    config.source = source_;
    toml::table root;
    try {
      root = toml::parse(text, source_);
    } catch (const toml::parse_error& e) {
      error(e.source().begin.line, std::string(e.description()));
      return Err{std::move(errors_)};
    }
    for (auto&& [key, node] : root) {
      std::string name(key.str());
      uint32_t line = line_of(key, node);
      if (name == "cluster") {
        parse_clusters(node, line, config);
        continue;
      }
      bool known = false;
      for (const char* s : kSections) known = known || name == s;
      if (!known) {
        std::vector<std::string> sections(std::begin(kSections), std::end(kSections));
        std::string hint = detail::closest_name(name, sections);
        error(line, node.is_table() ? "unknown section [" + name + "]" + did_you_mean(hint)
                                    : "unknown key '" + name + "' outside any section" + did_you_mean(hint));
        continue;
      }
      const toml::table* table = node.as_table();
      if (table == nullptr) {
        error(line, "'" + name + "' must be a section ([" + name + "]), not " + node_type_name(node.type()));
        continue;
      }
      parse_global_section(name, *table, config);
    }
    // toml++ keeps a table's keys sorted by name; clusters and errors follow the file instead.
    std::stable_sort(config.clusters.begin(), config.clusters.end(),
                     [this](const ClusterConfig& a, const ClusterConfig& b) {
                       return lines_["cluster." + a.name] < lines_["cluster." + b.name];
                     });
    std::stable_sort(errors_.begin(), errors_.end(),
                     [](const ConfigError& a, const ConfigError& b) { return a.line < b.line; });
    for (auto& [dotted, message] : detail::cross_check(config)) error(line_for(dotted), message);
    if (check_files_) check_files(config);
    if (!errors_.empty()) return Err{std::move(errors_)};
    return config;
  }

 private:
  static uint32_t line_of(const toml::key& key, const toml::node& node) {
    uint32_t line = key.source().begin.line;
    return line != 0 ? line : node.source().begin.line;
  }

  static std::string did_you_mean(const std::string& hint) {
    return hint.empty() ? std::string() : " (did you mean '" + hint + "'?)";
  }

  void error(uint32_t line, const std::string& message) {
    std::string where = line != 0 ? source_ + ":" + std::to_string(line) + ": " : source_ + ": ";
    errors_.push_back(ConfigError{where + message, line});
  }

  // The line of a key seen while parsing, or of its section, for whole-config errors.
  uint32_t line_for(const std::string& dotted) const {
    for (std::string k = dotted;;) {
      auto it = lines_.find(k);
      if (it != lines_.end()) return it->second;
      size_t dot = k.rfind('.');
      if (dot == std::string::npos) return 0;
      k.resize(dot);
    }
  }

  template <typename Root>
  void parse_keys(const std::string& prefix, const std::string& section, const toml::table& table,
                  const std::vector<detail::KeyDef<Root>>& defs, Root& root, std::string_view skip = {}) {
    lines_[prefix] = table.source().begin.line;
    for (auto&& [key, node] : table) {
      std::string name(key.str());
      if (!skip.empty() && name == skip) continue;
      std::string dotted = prefix + "." + name;
      uint32_t line = line_of(key, node);
      lines_[dotted] = line;
      const detail::KeyDef<Root>* def = nullptr;
      std::vector<std::string> names;
      for (const auto& d : defs) {
        if (section == d.section) {
          names.emplace_back(d.name);
          if (name == d.name) def = &d;
        }
      }
      if (def == nullptr) {
        std::string hint = detail::closest_name(name, names);
        error(line, "unknown key '" + dotted + "'" + did_you_mean(hint.empty() ? hint : prefix + "." + hint));
        continue;
      }
      FieldRef field = def->field(root);
      Input in;
      if (!input_from_toml(field, node, in)) {
        error(line, dotted + " " + detail::expected_type(field) + ", not " + node_type_name(node.type()));
        continue;
      }
      std::string message;
      if (!detail::store_value(field, def->min, def->max, def->check, in, message)) {
        error(line, dotted + " " + message);
      }
    }
  }

  void parse_global_section(const std::string& section, const toml::table& table, Config& config) {
    if (section == "proxy") lines_["proxy.default_cluster"] = table.source().begin.line;
    parse_keys(section, section, table, detail::global_keys(), config);
  }

  void parse_clusters(const toml::node& node, uint32_t line, Config& config) {
    const toml::table* clusters = node.as_table();
    if (clusters == nullptr) {
      error(line, "'cluster' must hold sections named [cluster.NAME]");
      return;
    }
    lines_["cluster"] = line;
    for (auto&& [key, value] : *clusters) {
      std::string name(key.str());
      uint32_t cline = line_of(key, value);
      if (!valid_cluster_name(name)) {
        error(cline, "cluster name '" + name + "' must be 1..64 letters, digits, '_' or '-'");
        continue;
      }
      const toml::table* table = value.as_table();
      if (table == nullptr) {
        error(cline, "cluster." + name + " must be a section [cluster." + name + "]");
        continue;
      }
      ClusterConfig cluster;
      cluster.name = name;
      std::string prefix = "cluster." + name;
      for (auto&& [ukey, unode] : *table) {
        if (ukey.str() == "users") parse_users(prefix, unode, line_of(ukey, unode), cluster);
      }
      parse_keys(prefix, "cluster", *table, detail::cluster_keys(), cluster, "users");
      lines_[prefix] = table->source().begin.line != 0 ? table->source().begin.line : cline;
      if (table->get("rootservice_list") == nullptr) {
        error(lines_[prefix], prefix + ".rootservice_list is required (\"host:port\" of at least one server)");
      }
      config.clusters.push_back(std::move(cluster));
    }
  }

  void parse_users(const std::string& prefix, const toml::node& node, uint32_t line, ClusterConfig& cluster) {
    const toml::table* users = node.as_table();
    if (users == nullptr) {
      error(line, prefix + ".users must be a table of user = \"*<40 hex digits>\"");
      return;
    }
    for (auto&& [key, value] : *users) {
      std::string user(key.str());
      uint32_t uline = line_of(key, value);
      std::string dotted = prefix + ".users." + user;
      if (!valid_user_name(user)) {
        error(uline, dotted + ": user name must be 1..128 bytes without '@' or '#'");
        continue;
      }
      const auto* hash = value.as_string();
      if (hash == nullptr || !detail::is_stage2_text(hash->get())) {
        error(uline, dotted +
                         " must be \"*\" and 40 hex digits (mysql.user authentication_string, SHA1(SHA1(password))), "
                         "or \"\" for an empty password");
        continue;
      }
      cluster.users[user] = upper_stage2(hash->get());
    }
  }

  void check_files(const Config& config) {
    const std::pair<const char*, const std::string*> files[] = {{"tls.client_cert", &config.tls.client_cert},
                                                                {"tls.client_key", &config.tls.client_key},
                                                                {"tls.client_ca", &config.tls.client_ca}};
    for (const auto& [key, path] : files) {
      if (!path->empty() && access(path->c_str(), R_OK) != 0) {
        error(line_for(key), std::string(key) + ": cannot read '" + *path + "': " + std::strerror(errno));
      }
    }
  }

  std::string source_;
  bool check_files_;
  std::vector<ConfigError> errors_;
  std::map<std::string, uint32_t> lines_;
};

}  // namespace

Result<Config, std::vector<ConfigError>> parse_config(const std::string& text, const std::string& source_name) {
  return Parser(source_name, false).run(text);
}

Result<Config, std::vector<ConfigError>> load_config(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return Err{std::vector<ConfigError>{{path + ": cannot read: Is a directory", 0}}};
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Err{std::vector<ConfigError>{{path + ": cannot read: " + std::strerror(errno), 0}}};
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Err{std::vector<ConfigError>{{path + ": read error: " + std::strerror(errno), 0}}};
  return Parser(path, true).run(text.str());
}

}  // namespace odp::admin
