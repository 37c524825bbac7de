#include "proxy/kill_authority.h"

#include <doctest/doctest.h>

#include "protocol/constants.h"

using namespace odp::proxy;

static LoginName login(std::string user, std::string tenant = "t1", std::string cluster = "c1") {
  LoginName n;
  n.user = std::move(user);
  n.tenant = std::move(tenant);
  n.cluster = std::move(cluster);
  return n;
}

TEST_CASE("kill authority: a user closes its own idle sessions, nobody else's without proof") {
  KillAuthority app = kill_authority_of(login("app"));
  CHECK(may_kill_idle(app, login("app")));
  CHECK_FALSE(may_kill_idle(app, login("other")));
  CHECK_FALSE(may_kill_idle(app, login("App")));              // servers compare names with strcmp
  CHECK_FALSE(may_kill_idle(app, login("app", "t2")));        // another tenant's app: another account
  CHECK_FALSE(may_kill_idle(app, login("app", "t1", "c2")));  // another cluster's
  CHECK_FALSE(may_kill_idle(kill_authority_of(login("")), login("")));

  // root is no exception by name: only the server's word (proven) lets it close another's session.
  KillAuthority root = kill_authority_of(login("root"));
  CHECK_FALSE(may_kill_idle(root, login("app")));
  root.proven = true;
  CHECK(may_kill_idle(root, login("app")));
}

TEST_CASE("kill authority: the refusal is the server's ER_KILL_DENIED_ERROR with odp's id") {
  auto err = kill_denied(42);
  CHECK(err.code == odp::protocol::errc::ER_KILL_DENIED_ERROR);
  CHECK(err.sql_state == "HY000");
  CHECK(err.message == "You are not owner of thread 42");
}
