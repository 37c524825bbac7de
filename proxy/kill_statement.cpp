#include "proxy/kill_statement.h"

#include <cctype>

#include "proxy/sql_words.h"
#include "routing/sql_lexer.h"

namespace odp::proxy {

std::optional<KillStatement> parse_kill_statement(std::string_view sql) {
  size_t i = 0;
  if (!take_sql_word(sql, i, "KILL")) return std::nullopt;
  KillStatement k;
  if (take_sql_word(sql, i, "HARD"))
    k.modifier = "HARD";
  else if (take_sql_word(sql, i, "SOFT"))
    k.modifier = "SOFT";
  if (take_sql_word(sql, i, "QUERY"))
    k.query_only = true;
  else
    take_sql_word(sql, i, "CONNECTION");
  skip_sql_space(sql, i);
  size_t digits = 0;
  uint64_t id = 0;
  while (i < sql.size() && std::isdigit(static_cast<unsigned char>(sql[i]))) {
    if (id > (UINT64_MAX - 9) / 10) return std::nullopt;
    id = id * 10 + static_cast<uint64_t>(sql[i] - '0');
    ++i;
    ++digits;
  }
  if (digits == 0) return std::nullopt;  // KILL USER x, KILL QUERY ID x, ...: not ours to map
  if (!at_sql_end(sql, i)) return std::nullopt;
  k.id = id;
  return k;
}

KillsInText find_kills(std::string_view sql) {
  using routing::sql::Lexer;
  using routing::sql::Tok;
  KillsInText out;
  Lexer lx(sql);
  int depth = 0;
  size_t statement = 0;  // index of the statement the next token belongs to
  bool at_start = true;  // the next token starts a statement
  bool ended = false;    // a top-level `;` ended the statement before
  while (true) {
    auto t = lx.next();
    if (t.kind == Tok::end) break;
    if (t.ch() == ';' && depth == 0) {
      if (statement == 0 && !ended) out.first_end = t.offset;
      ended = true;
      at_start = true;
      continue;
    }
    if (ended) {
      ended = false;
      ++statement;
      out.multi = true;
    }
    if (at_start && t.kind == Tok::word && t.is("KILL")) {
      if (statement == 0)
        out.leading = true;
      else
        out.later = true;
    }
    at_start = false;
    if (t.ch() == '(') ++depth;
    if (t.ch() == ')' && depth > 0) --depth;
  }
  return out;
}

std::string format_kill_statement(const KillStatement& kill, uint64_t server_thread_id) {
  std::string s = "KILL ";
  if (!kill.modifier.empty()) s += kill.modifier + " ";
  s += kill.query_only ? "QUERY " : "CONNECTION ";
  s += std::to_string(server_thread_id);
  return s;
}

}  // namespace odp::proxy
