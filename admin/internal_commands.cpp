// root@proxysys's internal commands: identify the statement by its first words, parse the rest,
// answer from the caller's context. See admin/internal_commands.h.
#include "admin/internal_commands.h"

#include <charconv>

#include "admin/command_lexer.h"
#include "admin/route_commands.h"
#include "base/ascii.h"
#include "protocol/constants.h"

namespace odp::admin {
namespace {

using detail::CommandLexer;
using detail::Token;
using detail::TokenKind;
namespace errc = protocol::errc;

constexpr uint16_t kErUnknownError = 1105;
constexpr uint16_t kErWrongValueForVar = 1231;
constexpr size_t kExcerptBytes = 64;

enum class Command {
  empty,
  lex_error,
  unknown,
  not_yet,
  show_proxystat,
  show_proxyconfig,
  alter_proxyconfig,
  alter_proxy_upgrade,
  show_proxysession,
  show_proxyinfo,
  kill,
  ping_proxy,
  select_proxy_version,
  select_version_comment,
  show_proxyroute,
  show_proxycongestion,
  explain_route,
};

struct Head {
  Command command = Command::unknown;
  std::string name;  // "show proxystat": for messages
  Token token;       // the offending token for lex_error
};

// Reads the words that name the command; the lexer is left after them.
Head identify(CommandLexer& lex) {
  Head h;
  Token first = lex.next();
  if (first.kind == TokenKind::error) return {Command::lex_error, "", first};
  if (first.kind == TokenKind::end || first.is_punct(';')) {
    // Only blanks, comments and semicolons: an empty query, as MySQL calls it.
    Token t = first;
    while (t.is_punct(';')) t = lex.next();
    return {t.kind == TokenKind::end ? Command::empty : Command::unknown, "", t};
  }
  if (first.kind != TokenKind::word) return h;
  Token second = lex.next();
  if (second.kind == TokenKind::error) return h;  // every command has a plain word second
  if (first.is_word("show")) {
    struct Named {
      const char* word;
      Command command;
    };
    static constexpr Named kShow[] = {
        {"proxystat", Command::show_proxystat},
        {"proxyconfig", Command::show_proxyconfig},
        {"proxysession", Command::show_proxysession},
        {"proxyinfo", Command::show_proxyinfo},
        {"proxyroute", Command::show_proxyroute},
        {"proxycongestion", Command::show_proxycongestion},
        {"sqlaudit", Command::not_yet},
        {"proxynet", Command::not_yet},
    };
    for (const Named& n : kShow) {
      if (second.is_word(n.word)) return {n.command, std::string("show ") + n.word, {}};
    }
    return h;
  }
  if (first.is_word("alter") && second.is_word("proxyconfig")) {
    return {Command::alter_proxyconfig, "alter proxyconfig", {}};
  }
  if (first.is_word("alter") && second.is_word("proxy")) {
    if (lex.next().is_word("upgrade")) return {Command::alter_proxy_upgrade, "alter proxy upgrade", {}};
    return h;
  }
  if (first.is_word("kill")) return {Command::kill, "kill", second};  // the forms are told apart by kill()
  if (first.is_word("ping") && second.is_word("proxy")) return {Command::ping_proxy, "ping proxy", {}};
  if (first.is_word("select") && second.is_word("proxy_version")) {
    return {Command::select_proxy_version, "select proxy_version()", {}};
  }
  if (first.is_word("select") && second.is_word("@@version_comment")) {
    return {Command::select_version_comment, "select @@version_comment", {}};
  }
  if (first.is_word("explain") && second.is_word("route")) return {Command::explain_route, "explain route", second};
  return h;
}

InternalResult error(uint16_t code, const char* sql_state, std::string message) {
  InternalResult r;
  r.kind = InternalResult::Kind::error;
  r.error_code = code;
  r.sql_state = sql_state;
  r.message = std::move(message);
  return r;
}

InternalResult ok() {
  return InternalResult{};
}

std::string describe(const Token& t) {
  switch (t.kind) {
    case TokenKind::end:
      return "the end";
    case TokenKind::string:
      return "'" + detail::excerpt(t.text, kExcerptBytes) + "'";
    case TokenKind::error:
      return t.text;
    case TokenKind::word:
    case TokenKind::punct:
      break;
  }
  return "'" + detail::excerpt(t.text, kExcerptBytes) + "'";
}

InternalResult syntax_error(const Head& h, const std::string& expected, const Token& found) {
  if (found.kind == TokenKind::error) return error(errc::ER_PARSE_ERROR, "42000", "odp: " + h.name + ": " + found.text);
  return error(errc::ER_PARSE_ERROR, "42000",
               "odp: " + h.name + ": expected " + expected + ", found " + describe(found));
}

// Semicolons then the end. Otherwise false, with `found` set to what came instead.
bool at_end(CommandLexer& lex, Token& found) {
  found = lex.next();
  while (found.is_punct(';')) found = lex.next();
  return found.kind == TokenKind::end;
}

InternalResult rows(std::vector<std::string> columns) {
  InternalResult r;
  r.kind = InternalResult::Kind::rows;
  r.columns = std::move(columns);
  return r;
}

std::optional<std::string> text_or_null(const std::string& s) {
  if (s.empty()) return std::nullopt;
  return s;
}

// `[like 'pattern']` then the end. On success `pattern` is set when LIKE was given.
bool parse_like(CommandLexer& lex, std::optional<std::string>& pattern, InternalResult& err, const Head& h) {
  Token t = lex.next();
  if (t.is_word("like")) {
    Token p = lex.next();
    if (p.kind != TokenKind::string) {
      err = syntax_error(h, "a quoted pattern after LIKE", p);
      return false;
    }
    pattern = p.text;
    t = lex.next();
  }
  while (t.is_punct(';')) t = lex.next();
  if (t.kind != TokenKind::end) {
    err = syntax_error(h, pattern ? "the end" : "LIKE 'pattern' or the end", t);
    return false;
  }
  return true;
}

// A session id: decimal digits that fit in 32 bits.
bool parse_id(const Token& t, uint32_t& id) {
  if (t.kind != TokenKind::word || t.text.empty()) return false;
  const char* end = t.text.data() + t.text.size();
  auto [ptr, ec] = std::from_chars(t.text.data(), end, id);
  return ec == std::errc() && ptr == end && t.text[0] != '+' && t.text[0] != '-';
}

InternalResult show_proxystat(CommandLexer& lex, const InternalContext& ctx, const Head& h) {
  std::optional<std::string> pattern;
  InternalResult err;
  if (!parse_like(lex, pattern, err, h)) return err;
  InternalResult r = rows({"stat_name", "value"});
  for (const auto& [name, value] : ctx.stats) {
    if (pattern && !like_match(name, *pattern)) continue;
    r.rows.push_back({name, std::to_string(value)});
  }
  return r;
}

InternalResult show_proxyconfig(CommandLexer& lex, const InternalContext& ctx, const Head& h) {
  std::optional<std::string> pattern;
  InternalResult err;
  if (!parse_like(lex, pattern, err, h)) return err;
  if (ctx.config == nullptr) return error(kErUnknownError, "HY000", "odp: show proxyconfig: no configuration loaded");
  InternalResult r = rows({"name", "value", "need_reboot"});
  for (auto& [name, value] : config_items(*ctx.config)) {
    if (pattern && !like_match(name, *pattern)) continue;
    r.rows.push_back({name, std::move(value), config_key_is_live(name) ? "false" : "true"});
  }
  return r;
}

InternalResult alter_proxyconfig(CommandLexer& lex, const InternalContext& ctx, const Head& h) {
  const char* form = "SET dotted.key = value";
  Token t = lex.next();
  if (!t.is_word("set")) return syntax_error(h, form, t);
  Token key = lex.next();
  if (key.kind != TokenKind::word || key.text.empty()) return syntax_error(h, "a dotted config key after SET", key);
  t = lex.next();
  if (!t.is_punct('=')) return syntax_error(h, "'=' after the key", t);
  Token value = lex.peek();
  if (value.kind == TokenKind::string) {
    value = lex.next();
  } else {
    value = lex.bare_value();
    if (value.kind != TokenKind::word) return syntax_error(h, "a value after '='", value);
  }
  if (!at_end(lex, t)) return syntax_error(h, "the end after the value (quote values with blanks)", t);
  if (!ctx.alter_config) return error(kErUnknownError, "HY000", "odp: alter proxyconfig is not available here");
  auto r = ctx.alter_config(key.text, value.text);
  if (r.ok()) return ok();
  // The config layer words unknown keys as "unknown config key 'x'": MySQL's error for an unknown variable.
  bool unknown = r.error().rfind("unknown config key", 0) == 0;
  return error(unknown ? errc::ER_UNKNOWN_SYSTEM_VARIABLE : kErWrongValueForVar, unknown ? "HY000" : "42000",
               "odp: " + r.error());
}

std::vector<std::optional<std::string>> session_row(const SessionInfo& s) {
  return {std::to_string(s.id),
          s.user,
          s.client,
          text_or_null(s.server),
          s.server_thread_id == 0 ? std::nullopt : std::optional<std::string>(std::to_string(s.server_thread_id)),
          s.state};
}

InternalResult show_proxysession(CommandLexer& lex, const InternalContext& ctx, const Head& h) {
  Token t = lex.next();
  std::string aspect;
  for (const char* a : {"attribute", "stat", "variables"}) {
    if (t.is_word(a)) aspect = a;
  }
  if (!aspect.empty()) t = lex.next();
  std::optional<uint32_t> id;
  if (t.kind == TokenKind::word) {
    uint32_t v = 0;
    if (!parse_id(t, v)) return syntax_error(h, "a session id", t);
    id = v;
    t = lex.next();
  }
  while (t.is_punct(';')) t = lex.next();
  if (t.kind != TokenKind::end) return syntax_error(h, id ? "the end" : "a session id or the end", t);
  if (aspect == "stat" || aspect == "variables") {
    return error(errc::ER_NOT_SUPPORTED_YET, "42000", "odp: show proxysession " + aspect + " is not available yet");
  }
  if (aspect == "attribute") {
    if (!id) return syntax_error(h, "a session id after ATTRIBUTE", t);
    InternalResult r = rows({"attribute_name", "value"});
    for (const SessionInfo& s : ctx.sessions) {
      if (s.id != *id) continue;
      auto row = session_row(s);
      const char* names[] = {"id", "user", "client", "server", "server_thread_id", "state"};
      for (size_t i = 0; i < row.size(); ++i) r.rows.push_back({names[i], row[i]});
      r.rows.push_back({"database", text_or_null(s.database)});
      r.rows.push_back({"idle_ms", std::to_string(s.idle_ms)});
    }
    return r;
  }
  InternalResult r = rows({"id", "user", "client", "server", "server_thread_id", "state"});
  for (const SessionInfo& s : ctx.sessions) {
    if (!id || s.id == *id) r.rows.push_back(session_row(s));
  }
  return r;
}

// kill proxysession N | kill [hard|soft] [connection|query] N. h.token is the word after KILL.
InternalResult kill(CommandLexer& lex, const InternalContext& ctx, const Head& h) {
  Token t = h.token;
  bool query_only = false;
  if (t.is_word("hard") || t.is_word("soft")) t = lex.next();  // MariaDB's modifiers: the same here
  if (t.is_word("query")) {
    query_only = true;
    t = lex.next();
  } else if (t.is_word("connection") || t.is_word("proxysession")) {
    t = lex.next();
  }
  uint32_t id = 0;
  if (!parse_id(t, id)) return syntax_error(h, "a session id", t);
  if (!at_end(lex, t)) return syntax_error(h, "the end after the session id", t);
  if (!ctx.kill_session || !ctx.kill_session(id, query_only)) {
    return error(errc::ER_NO_SUCH_THREAD, "HY000", "Unknown thread id: " + std::to_string(id));
  }
  return ok();
}

std::string build_info() {
  std::string s;
#if defined(__clang__)
  s = "clang " + std::to_string(__clang_major__) + "." + std::to_string(__clang_minor__) + "." +
      std::to_string(__clang_patchlevel__);
#elif defined(__GNUC__)
  s = "gcc " + std::to_string(__GNUC__) + "." + std::to_string(__GNUC_MINOR__) + "." +
      std::to_string(__GNUC_PATCHLEVEL__);
#else
  s = "unknown compiler";
#endif
#if defined(__OPTIMIZE__)
  s += ", optimized";
#else
  s += ", not optimized";
#endif
  s += ", C++" + std::to_string(__cplusplus / 100 % 100);
  return s;
}

InternalResult show_proxyinfo(CommandLexer& lex, const InternalContext& ctx, const Head& h) {
  Token t = lex.peek();
  if (t.is_word("binary")) (void)lex.next();  // obproxy's `show proxyinfo binary`: the same rows here
  if (!at_end(lex, t)) return syntax_error(h, "the end", t);
  InternalResult r = rows({"name", "value"});
  r.rows.push_back({"version", ctx.version});
  r.rows.push_back({"build", build_info()});
  bool has_config_file = false;
  for (const auto& [name, value] : ctx.info) {
    r.rows.push_back({name, value});
    has_config_file = has_config_file || name == "config_file";
  }
  if (!has_config_file && ctx.config != nullptr) r.rows.push_back({"config_file", ctx.config->source});
  return r;
}

InternalResult select_proxy_version(CommandLexer& lex, const InternalContext& ctx, const Head& h) {
  Token t = lex.next();
  if (!t.is_punct('(')) return syntax_error(h, "'('", t);
  t = lex.next();
  if (!t.is_punct(')')) return syntax_error(h, "')'", t);
  if (!at_end(lex, t)) return syntax_error(h, "the end", t);
  InternalResult r = rows({"proxy_version()"});
  r.rows.push_back({ctx.version});
  return r;
}

// What the mysql command-line client asks right after logging in.
InternalResult select_version_comment(CommandLexer& lex, const InternalContext& ctx, const Head& h) {
  Token t = lex.next();
  if (t.is_word("limit")) {
    t = lex.next();
    uint32_t n = 0;
    if (!parse_id(t, n)) return syntax_error(h, "a row count after LIMIT", t);
    t = lex.next();
  }
  while (t.is_punct(';')) t = lex.next();
  if (t.kind != TokenKind::end) return syntax_error(h, "LIMIT n or the end", t);
  InternalResult r = rows({"@@version_comment"});
  r.rows.push_back({"odp " + ctx.version + " (internal commands of root@proxysys)"});
  return r;
}

}  // namespace

InternalNeeds internal_command_needs(std::string_view sql) {
  CommandLexer lex(sql);
  Head h = identify(lex);
  InternalNeeds needs;
  needs.stats = h.command == Command::show_proxystat;
  needs.sessions = h.command == Command::show_proxysession;
  return needs;
}

InternalResult execute_internal_command(std::string_view sql, const InternalContext& ctx) {
  CommandLexer lex(sql);
  Head h = identify(lex);
  switch (h.command) {
    case Command::empty:
      return error(errc::ER_EMPTY_QUERY, "42000", "Query was empty");
    case Command::lex_error:
      return error(errc::ER_PARSE_ERROR, "42000", "odp: syntax error: " + h.token.text);
    case Command::unknown:
      break;
    case Command::not_yet:
      return error(errc::ER_NOT_SUPPORTED_YET, "42000", "odp: " + h.name + " is not available yet");
    case Command::show_proxystat:
      return show_proxystat(lex, ctx, h);
    case Command::show_proxyconfig:
      return show_proxyconfig(lex, ctx, h);
    case Command::alter_proxyconfig:
      return alter_proxyconfig(lex, ctx, h);
    case Command::alter_proxy_upgrade: {
      Token t;
      if (!at_end(lex, t)) return syntax_error(h, "the end", t);
      if (!ctx.upgrade) return error(kErUnknownError, "HY000", "odp: alter proxy upgrade is not available here");
      if (auto r = ctx.upgrade(); !r) return error(kErUnknownError, "HY000", "odp: " + r.error());
      return ok();
    }
    case Command::show_proxysession:
      return show_proxysession(lex, ctx, h);
    case Command::show_proxyinfo:
      return show_proxyinfo(lex, ctx, h);
    case Command::kill:
      return kill(lex, ctx, h);
    case Command::ping_proxy: {
      Token t;
      if (!at_end(lex, t)) return syntax_error(h, "the end", t);
      return ok();
    }
    case Command::select_proxy_version:
      return select_proxy_version(lex, ctx, h);
    case Command::select_version_comment:
      return select_version_comment(lex, ctx, h);
    case Command::show_proxyroute: {
      std::optional<std::string> pattern;
      InternalResult err;
      if (!parse_like(lex, pattern, err, h)) return err;
      return admin::show_proxyroute(ctx.snapshot, pattern);
    }
    case Command::show_proxycongestion: {
      Token t;
      if (!at_end(lex, t)) return syntax_error(h, "the end", t);
      std::vector<CongestionInfo> servers;
      for (const auto& [server, v] : ctx.congestion) servers.push_back({server, v.first, v.second});
      return admin::show_proxycongestion(servers);
    }
    case Command::explain_route: {
      std::string_view rest = sql.substr(std::min(sql.size(), h.token.offset + h.token.text.size()));
      if (ctx.config == nullptr) return error(kErUnknownError, "HY000", "odp: no configuration");
      return admin::explain_route(rest, ctx.snapshot, *ctx.config);
    }
  }
  size_t start = 0;
  while (start < sql.size() && static_cast<unsigned char>(sql[start]) <= 0x20) ++start;
  return error(errc::ER_PARSE_ERROR, "42000",
               "odp: unknown internal command '" + detail::excerpt(sql.substr(start), kExcerptBytes) + "'");
}

}  // namespace odp::admin
