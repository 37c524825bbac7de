#include "proxy/login_name.h"

#include <doctest/doctest.h>

using odp::proxy::parse_login_name;

TEST_CASE("login names: user@tenant#cluster:id with every part optional") {
  auto n = parse_login_name("app@t1#c1:42", "sys", "dflt");
  CHECK(n.user == "app");
  CHECK(n.tenant == "t1");
  CHECK(n.cluster == "c1");
  CHECK(n.cluster_id == "42");
  CHECK(n.tenant_given);
  CHECK(n.cluster_given);

  n = parse_login_name("app@t1#c1", "sys", "dflt");
  CHECK(n.user == "app");
  CHECK(n.tenant == "t1");
  CHECK(n.cluster == "c1");
  CHECK(n.cluster_id.empty());

  n = parse_login_name("app@t1", "sys", "dflt");
  CHECK(n.tenant == "t1");
  CHECK(n.cluster == "dflt");
  CHECK(n.tenant_given);
  CHECK_FALSE(n.cluster_given);

  n = parse_login_name("app#c2", "sys", "dflt");
  CHECK(n.user == "app");
  CHECK(n.tenant == "sys");
  CHECK(n.cluster == "c2");
  CHECK_FALSE(n.tenant_given);
  CHECK(n.cluster_given);
}

TEST_CASE("login names: a bare user takes the default tenant and cluster") {
  auto n = parse_login_name("root", "sys", "c0");
  CHECK(n.user == "root");
  CHECK(n.tenant == "sys");
  CHECK(n.cluster == "c0");
  CHECK_FALSE(n.tenant_given);
  CHECK_FALSE(n.cluster_given);
  CHECK(n.cluster_id.empty());
}

TEST_CASE("login names: empty parts fall back to the defaults") {
  auto n = parse_login_name("app@#", "sys", "c0");
  CHECK(n.user == "app");
  CHECK(n.tenant == "sys");
  CHECK(n.cluster == "c0");
  CHECK_FALSE(n.tenant_given);
  CHECK_FALSE(n.cluster_given);

  n = parse_login_name("", "sys", "c0");
  CHECK(n.user.empty());
  CHECK(n.tenant == "sys");
  CHECK(n.cluster == "c0");
}

TEST_CASE("login names: cluster:tenant:user with ':', '-' or '.' separators") {
  for (const char* name : {"c1:t1:app", "c1-t1-app", "c1.t1.app"}) {
    CAPTURE(name);
    auto n = parse_login_name(name, "sys", "dflt");
    CHECK(n.cluster == "c1");
    CHECK(n.tenant == "t1");
    CHECK(n.user == "app");
    CHECK(n.tenant_given);
    CHECK(n.cluster_given);
  }
}

TEST_CASE("login names: triples only with exactly two separators, non-empty parts and no '@'") {
  // One separator: a plain user name (e.g. "first.last").
  auto n = parse_login_name("first.last", "sys", "c0");
  CHECK(n.user == "first.last");
  CHECK(n.tenant == "sys");
  CHECK(n.cluster == "c0");
  // Three separators: not a triple either.
  n = parse_login_name("a.b.c.d", "sys", "c0");
  CHECK(n.user == "a.b.c.d");
  // An empty part: not a triple.
  n = parse_login_name("c1::app", "sys", "c0");
  CHECK(n.user == "c1::app");
  CHECK_FALSE(n.cluster_given);
  // With '@' the user@tenant form wins, even with two separators in it.
  n = parse_login_name("a.b.c@t1", "sys", "c0");
  CHECK(n.user == "a.b.c");
  CHECK(n.tenant == "t1");
  CHECK(n.cluster == "c0");
  // Mixed separators: the first one that occurs exactly twice decides.
  n = parse_login_name("c1-t1-first.last", "sys", "c0");
  CHECK(n.cluster == "c1");
  CHECK(n.tenant == "t1");
  CHECK(n.user == "first.last");
}

TEST_CASE("login names: '#' before '@' belongs to the cluster part") {
  auto n = parse_login_name("app#c1", "sys", "c0");
  CHECK(n.user == "app");
  CHECK(n.cluster == "c1");
  n = parse_login_name("app@t1#c1:", "sys", "c0");
  CHECK(n.cluster == "c1");
  CHECK(n.cluster_id.empty());
}
