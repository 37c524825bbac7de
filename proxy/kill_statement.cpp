#include "proxy/kill_statement.h"

#include <cctype>

namespace odp::proxy {
namespace {

// Skips white space and /* */, --, # comments. Executable comments (/*! ... */) are not
// skipped: they may hide a different statement, which then simply is not a KILL to us.
void skip_space(std::string_view s, size_t& i) {
  for (;;) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    if (i + 1 < s.size() && s[i] == '/' && s[i + 1] == '*' && (i + 2 >= s.size() || s[i + 2] != '!')) {
      size_t end = s.find("*/", i + 2);
      i = end == std::string_view::npos ? s.size() : end + 2;
      continue;
    }
    if ((i + 1 < s.size() && s[i] == '-' && s[i + 1] == '-') || (i < s.size() && s[i] == '#')) {
      size_t end = s.find('\n', i);
      i = end == std::string_view::npos ? s.size() : end + 1;
      continue;
    }
    return;
  }
}

bool take_word(std::string_view s, size_t& i, std::string_view word) {
  skip_space(s, i);
  if (s.size() - i < word.size()) return false;
  for (size_t k = 0; k < word.size(); ++k) {
    if (std::toupper(static_cast<unsigned char>(s[i + k])) != word[k]) return false;
  }
  size_t end = i + word.size();
  if (end < s.size() && (std::isalnum(static_cast<unsigned char>(s[end])) || s[end] == '_')) return false;
  i = end;
  return true;
}

}  // namespace

std::optional<KillStatement> parse_kill_statement(std::string_view sql) {
  size_t i = 0;
  if (!take_word(sql, i, "KILL")) return std::nullopt;
  KillStatement k;
  if (take_word(sql, i, "HARD"))
    k.modifier = "HARD";
  else if (take_word(sql, i, "SOFT"))
    k.modifier = "SOFT";
  if (take_word(sql, i, "QUERY"))
    k.query_only = true;
  else
    take_word(sql, i, "CONNECTION");
  skip_space(sql, i);
  size_t digits = 0;
  uint64_t id = 0;
  while (i < sql.size() && std::isdigit(static_cast<unsigned char>(sql[i]))) {
    if (id > (UINT64_MAX - 9) / 10) return std::nullopt;
    id = id * 10 + static_cast<uint64_t>(sql[i] - '0');
    ++i;
    ++digits;
  }
  if (digits == 0) return std::nullopt;  // KILL USER x, KILL QUERY ID x, ...: not ours to map
  skip_space(sql, i);
  if (i < sql.size() && sql[i] == ';') {
    ++i;
    skip_space(sql, i);
  }
  if (i != sql.size()) return std::nullopt;
  k.id = id;
  return k;
}

std::string format_kill_statement(const KillStatement& kill, uint64_t server_thread_id) {
  std::string s = "KILL ";
  if (!kill.modifier.empty()) s += kill.modifier + " ";
  s += kill.query_only ? "QUERY " : "CONNECTION ";
  s += std::to_string(server_thread_id);
  return s;
}

}  // namespace odp::proxy
