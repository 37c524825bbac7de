#include "proxy/autocommit_set.h"

#include "base/ascii.h"
#include "routing/sql_lexer.h"

namespace odp::proxy {

using routing::sql::Lexer;
using routing::sql::Tok;
using routing::sql::Token;

namespace {
// The variable named by `t` (after SET and an optional SESSION / LOCAL) is the session's
// autocommit.
bool names_session_autocommit(const Token& t, bool scoped) {
  if (t.kind == Tok::word) return t.is("AUTOCOMMIT");
  if (t.kind != Tok::sys_var || scoped) return false;  // `SET SESSION @@x` is not MySQL
  std::string_view name = t.text;
  if (size_t dot = name.find('.'); dot != std::string_view::npos) {
    std::string_view scope = name.substr(0, dot);
    if (!base::iequals(scope, "session") && !base::iequals(scope, "local")) return false;
    name = name.substr(dot + 1);
  }
  return base::iequals(name, "autocommit");
}

std::optional<bool> literal_value(const Token& v) {
  if (v.kind == Tok::integer) {
    if (v.text == "0") return false;
    if (v.text == "1") return true;
    return std::nullopt;
  }
  if (v.kind == Tok::word) {
    if (v.is("ON") || v.is("TRUE")) return true;
    if (v.is("OFF") || v.is("FALSE")) return false;
    return std::nullopt;
  }
  if (v.kind == Tok::string && !v.has_escapes) {
    if (base::iequals(v.text, "ON")) return true;
    if (base::iequals(v.text, "OFF")) return false;
  }
  return std::nullopt;
}
}  // namespace

std::optional<AutocommitSet> parse_autocommit_set(std::string_view sql) {
  Lexer lex(sql);
  if (!lex.next().is("SET")) return std::nullopt;
  Token t = lex.next();
  bool scoped = false;
  if (t.is("SESSION") || t.is("LOCAL")) {
    scoped = true;
    t = lex.next();
  }
  if (!names_session_autocommit(t, scoped)) return std::nullopt;
  const bool bare = t.kind == Tok::sys_var && t.text.find('.') == std::string_view::npos;
  Token op = lex.next();
  if (op.ch() != '=' && op.kind != Tok::assign) return std::nullopt;
  std::optional<bool> value = literal_value(lex.next());
  if (!value) return std::nullopt;
  Token end = lex.next();
  if (end.ch() == ';') end = lex.next();
  if (end.kind != Tok::end) return std::nullopt;
  return AutocommitSet{*value, bare};
}

}  // namespace odp::proxy
