#include "tests/unit/proxy/fake_sql_lexer.h"

#include <cctype>

namespace odp::fakeio::sql {

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}
std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool tokenize(std::string_view s, std::vector<Token>& out) {
  size_t i = 0;
  const size_t n = s.size();
  auto ident = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$'; };
  while (i < n) {
    char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
      continue;
    }
    if (c == '/' && i + 1 < n && s[i + 1] == '*') {
      size_t e = s.find("*/", i + 2);
      if (e == std::string_view::npos) return false;
      i = e + 2;
      continue;
    }
    if (c == '#' || (c == '-' && i + 2 < n && s[i + 1] == '-' && s[i + 2] == ' ')) {
      while (i < n && s[i] != '\n') ++i;
      continue;
    }
    Token t;
    t.begin = i;
    if ((c == 'x' || c == 'X') && i + 1 < n && s[i + 1] == '\'') {
      size_t e = s.find('\'', i + 2);
      if (e == std::string_view::npos || (e - i - 2) % 2 != 0) return false;
      t.k = Token::K::hexstr;
      for (size_t k = i + 2; k < e; k += 2) {
        int hi = hex_digit(s[k]), lo = hex_digit(s[k + 1]);
        if (hi < 0 || lo < 0) return false;
        t.text.push_back(static_cast<char>(hi * 16 + lo));
      }
      i = e + 1;
    } else if (c == '\'' || c == '"') {
      t.k = Token::K::string;
      size_t k = i + 1;
      bool closed = false;
      while (k < n) {
        if (s[k] == '\\' && k + 1 < n) {
          char e = s[k + 1];
          t.text.push_back(e == '0' ? '\0' : e == 'n' ? '\n' : e == 't' ? '\t' : e == 'Z' ? '\x1a' : e);
          k += 2;
          continue;
        }
        if (s[k] == c) {
          if (k + 1 < n && s[k + 1] == c) {
            t.text.push_back(c);
            k += 2;
            continue;
          }
          closed = true;
          ++k;
          break;
        }
        t.text.push_back(s[k++]);
      }
      if (!closed) return false;
      i = k;
    } else if (c == '`') {
      t.k = Token::K::quoted_ident;
      size_t k = i + 1;
      bool closed = false;
      while (k < n) {
        if (s[k] == '`') {
          if (k + 1 < n && s[k + 1] == '`') {
            t.text.push_back('`');
            k += 2;
            continue;
          }
          closed = true;
          ++k;
          break;
        }
        t.text.push_back(s[k++]);
      }
      if (!closed) return false;
      i = k;
    } else if (std::isdigit(static_cast<unsigned char>(c)) ||
               (c == '.' && i + 1 < n && std::isdigit(static_cast<unsigned char>(s[i + 1])))) {
      t.k = Token::K::number;
      size_t k = i;
      while (k < n && (std::isdigit(static_cast<unsigned char>(s[k])) || s[k] == '.')) ++k;
      if (k < n && (s[k] == 'e' || s[k] == 'E')) {
        size_t m = k + 1;
        if (m < n && (s[m] == '+' || s[m] == '-')) ++m;
        if (m < n && std::isdigit(static_cast<unsigned char>(s[m]))) {
          k = m;
          while (k < n && std::isdigit(static_cast<unsigned char>(s[k]))) ++k;
        }
      }
      t.text.assign(s.substr(i, k - i));
      i = k;
    } else if (ident(c)) {
      t.k = Token::K::word;
      size_t k = i;
      while (k < n && ident(s[k])) ++k;
      t.text.assign(s.substr(i, k - i));
      i = k;
    } else {
      t.k = Token::K::sym;
      static constexpr std::string_view kTwo[] = {"@@", ":=", "<>", "!=", "<=", ">="};
      t.text.assign(1, c);
      for (auto two : kTwo) {
        if (s.substr(i, 2) == two) {
          t.text.assign(two);
          break;
        }
      }
      i += t.text.size();
    }
    t.end = i;
    out.push_back(std::move(t));
  }
  Token end;
  end.begin = end.end = n;
  out.push_back(end);
  return true;
}

}  // namespace odp::fakeio::sql
