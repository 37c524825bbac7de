#pragma once
// Login names as OceanBase users write them: `user@tenant#cluster:cluster_id` (every part after
// the user optional) or `cluster:tenant:user` (separator ':', '-' or '.', recognised when it
// occurs exactly twice and no '@' is present). Missing parts come from the configured defaults.
#include <string>
#include <string_view>

namespace odp::proxy {

struct LoginName {
  std::string user;
  std::string tenant;
  std::string cluster;
  std::string cluster_id;
  bool tenant_given = false;
  bool cluster_given = false;
};

LoginName parse_login_name(std::string_view name, std::string_view default_tenant, std::string_view default_cluster);

}  // namespace odp::proxy
