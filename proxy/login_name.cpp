#include "proxy/login_name.h"

#include <algorithm>

namespace odp::proxy {
namespace {

bool parse_triple(std::string_view name, LoginName& out) {
  if (name.find('@') != std::string_view::npos || name.find('#') != std::string_view::npos) return false;
  for (char sep : {':', '-', '.'}) {
    if (std::count(name.begin(), name.end(), sep) != 2) continue;
    size_t a = name.find(sep);
    size_t b = name.find(sep, a + 1);
    std::string_view cluster = name.substr(0, a);
    std::string_view tenant = name.substr(a + 1, b - a - 1);
    std::string_view user = name.substr(b + 1);
    if (cluster.empty() || tenant.empty() || user.empty()) continue;
    out.cluster = cluster;
    out.tenant = tenant;
    out.user = user;
    out.cluster_given = out.tenant_given = true;
    return true;
  }
  return false;
}

}  // namespace

LoginName parse_login_name(std::string_view name, std::string_view default_tenant, std::string_view default_cluster) {
  LoginName out;
  if (!parse_triple(name, out)) {
    size_t at = name.find('@');
    size_t hash = name.find('#', at == std::string_view::npos ? 0 : at);
    size_t user_end = std::min(at, hash);
    out.user = name.substr(0, user_end);
    if (at != std::string_view::npos) {
      size_t tenant_end = hash == std::string_view::npos ? name.size() : hash;
      out.tenant = name.substr(at + 1, tenant_end - at - 1);
      out.tenant_given = !out.tenant.empty();
    }
    if (hash != std::string_view::npos) {
      std::string_view rest = name.substr(hash + 1);
      size_t colon = rest.find(':');
      out.cluster = rest.substr(0, colon);
      if (colon != std::string_view::npos) out.cluster_id = rest.substr(colon + 1);
      out.cluster_given = !out.cluster.empty();
    }
  }
  if (!out.tenant_given) out.tenant = default_tenant;
  if (!out.cluster_given) out.cluster = default_cluster;
  return out;
}

}  // namespace odp::proxy
