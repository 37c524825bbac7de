#pragma once
// Internal to admin/: the table of config keys shared by the TOML loader (config.cpp) and the
// live setter / listing (config_items.cpp). Every key is declared once here, with its type,
// range, check and whether it can change while odp runs.
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "admin/config.h"

namespace odp::admin::detail {

// Where a key's value lives. The index tells the expected value type.
using FieldRef =
    std::variant<std::string*, uint32_t*, uint64_t*, bool*, std::vector<std::string>*, ServerMode*, ReadConsistency*>;

// Extra checks on string values, beyond their type.
enum class Check {
  none,
  listen_address,  // numeric IP + port 1..65535
  admin_address,   // "" or numeric IP + port 0..65535
  rootservice,     // each element numeric IP + port 1..65535
  non_empty,
  tenant,  // a tenant name: no '@', '#', ':'
  route_policy,
  log_level,
  tls_version,
  sha1_hex,    // "" or 40 hex digits
  short_text,  // at most 128 bytes
};

template <typename Root>
struct KeyDef {
  const char* section;  // "listen"; for cluster keys "cluster"
  const char* name;     // "address"
  FieldRef (*field)(Root&);
  uint64_t min;  // integers only
  uint64_t max;
  Check check;
  bool live;    // takes effect without a restart
  bool secret;  // masked in config_items
};

const std::vector<KeyDef<Config>>& global_keys();
const std::vector<KeyDef<ClusterConfig>>& cluster_keys();

// A value before it is checked and stored: from TOML or from the text of `alter proxyconfig`.
using Input = std::variant<std::string, int64_t, bool, std::vector<std::string>>;

// Converts `alter proxyconfig` text to the input type the field expects.
bool input_from_text(const FieldRef& field, std::string_view text, Input& out, std::string& error);

// Checks an input against the key's type, range and check, then stores it. On failure returns
// false and sets `error` to the message without the key name, e.g. "must be between 1 and 9 (got 12)".
bool store_value(const FieldRef& field, uint64_t min, uint64_t max, Check check, const Input& in, std::string& error);

// The field's current value as text.
std::string field_text(const FieldRef& field);

// "must be a string" etc.: the expected type for an error message.
const char* expected_type(const FieldRef& field);

// Whole-config rules that no single key can check (at least one cluster, default_cluster names one,
// TLS cert and key together). Each problem is (dotted key it concerns, full message).
std::vector<std::pair<std::string, std::string>> cross_check(Config& config);

// True for "" or "*" + 40 hex digits: mysql.user's authentication_string for mysql_native_password.
bool is_stage2_text(std::string_view text);

// The closest candidate within a small edit distance, or "" (for "did you mean" hints).
std::string closest_name(std::string_view name, const std::vector<std::string>& candidates);

}  // namespace odp::admin::detail
