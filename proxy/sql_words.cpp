#include "proxy/sql_words.h"

#include <cctype>

namespace odp::proxy {

void skip_sql_space(std::string_view s, size_t& i) {
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

bool take_sql_word(std::string_view s, size_t& i, std::string_view word) {
  skip_sql_space(s, i);
  if (s.size() - i < word.size()) return false;
  for (size_t k = 0; k < word.size(); ++k) {
    if (std::toupper(static_cast<unsigned char>(s[i + k])) != word[k]) return false;
  }
  size_t end = i + word.size();
  if (end < s.size() && (std::isalnum(static_cast<unsigned char>(s[end])) || s[end] == '_')) return false;
  i = end;
  return true;
}

bool at_sql_end(std::string_view s, size_t i) {
  skip_sql_space(s, i);
  if (i < s.size() && s[i] == ';') {
    ++i;
    skip_sql_space(s, i);
  }
  return i == s.size();
}

}  // namespace odp::proxy
