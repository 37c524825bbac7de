#include "proxy/processlist.h"

#include <algorithm>

#include "proxy/sql_words.h"

namespace odp::proxy {

std::optional<bool> parse_show_processlist(std::string_view sql) {
  size_t i = 0;
  if (!take_sql_word(sql, i, "SHOW")) return std::nullopt;
  const bool full = take_sql_word(sql, i, "FULL");
  if (!take_sql_word(sql, i, "PROCESSLIST") || !at_sql_end(sql, i)) return std::nullopt;
  return full;
}

const std::vector<std::string>& processlist_columns() {
  static const std::vector<std::string> columns{"Id", "User", "Host", "db", "Command", "Time", "State", "Info"};
  return columns;
}

bool processlist_column_is_integer(size_t column) {
  return column == 0 || column == 5;
}

std::vector<std::vector<std::optional<std::string>>> processlist_rows(std::span<const SessionActivity> sessions,
                                                                      const ProcesslistViewer& viewer, bool full,
                                                                      uint64_t now_ms) {
  std::vector<const SessionActivity*> seen;
  for (const SessionActivity& s : sessions)
    if (viewer.everyone || (s.user == viewer.user && s.tenant == viewer.tenant)) seen.push_back(&s);
  std::sort(seen.begin(), seen.end(), [](const SessionActivity* a, const SessionActivity* b) { return a->id < b->id; });
  std::vector<std::vector<std::optional<std::string>>> rows;
  rows.reserve(seen.size());
  for (const SessionActivity* s : seen) {
    std::optional<std::string> info;
    if (s->running && !s->statement.empty()) info = full ? s->statement : s->statement.substr(0, kProcesslistShortInfo);
    const uint64_t secs = now_ms > s->since_ms ? (now_ms - s->since_ms) / 1000 : 0;
    rows.push_back({std::to_string(s->id), s->user, s->host,
                    s->database.empty() ? std::nullopt : std::optional<std::string>(s->database),
                    std::string(s->running ? "Query" : "Sleep"), std::to_string(secs),
                    std::string(s->running ? "executing" : ""), std::move(info)});
  }
  return rows;
}

}  // namespace odp::proxy
