#include "routing/sql_lexer.h"

namespace odp::routing::sql {

namespace {
bool ident_char(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '$' ||
         c >= 0x80;
}
bool digit(unsigned char c) {
  return c >= '0' && c <= '9';
}
char upper(char c) {
  return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c;
}
}  // namespace

bool Token::is(std::string_view kw) const {
  if (kind != Tok::word || text.size() != kw.size()) return false;
  for (size_t i = 0; i < kw.size(); ++i)
    if (upper(text[i]) != kw[i]) return false;
  return true;
}

void Lexer::skip_blanks() {
  const size_t n = s_.size();
  while (pos_ < n) {
    unsigned char c = static_cast<unsigned char>(s_[pos_]);
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' || c == 0) {
      ++pos_;
    } else if (c == '#' || (c == '-' && pos_ + 1 < n && s_[pos_ + 1] == '-' &&
                            (pos_ + 2 == n || static_cast<unsigned char>(s_[pos_ + 2]) <= ' '))) {
      while (pos_ < n && s_[pos_] != '\n') ++pos_;
    } else if (c == '/' && pos_ + 1 < n && s_[pos_ + 1] == '*') {
      if (pos_ + 2 < n && s_[pos_ + 2] == '!') {
        // /*!50100 code */: the code counts; its closing */ is skipped when met.
        pos_ += 3;
        while (pos_ < n && digit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
        in_version_comment_ = true;
        continue;
      }
      bool hint = pos_ + 2 < n && s_[pos_ + 2] == '+';
      size_t end = s_.find("*/", pos_ + 2);
      size_t stop = end == std::string_view::npos ? n : end;
      if (hint && hint_.empty()) hint_ = s_.substr(pos_ + 3, stop > pos_ + 3 ? stop - pos_ - 3 : 0);
      pos_ = end == std::string_view::npos ? n : end + 2;
    } else if (c == '*' && in_version_comment_ && pos_ + 1 < n && s_[pos_ + 1] == '/') {
      in_version_comment_ = false;
      pos_ += 2;
    } else {
      return;
    }
  }
}

Token Lexer::quoted(char q, Tok kind, size_t start) {
  Token t;
  t.kind = kind;
  t.offset = start;
  const size_t n = s_.size();
  size_t i = pos_ + 1;
  size_t body = i;
  while (i < n) {
    char c = s_[i];
    if (c == '\\' && q != '`') {
      t.has_escapes = true;
      i += 2;
      continue;
    }
    if (c == q) {
      if (i + 1 < n && s_[i + 1] == q) {
        t.has_escapes = true;
        i += 2;
        continue;
      }
      t.text = s_.substr(body, i - body);
      pos_ = i + 1;
      return t;
    }
    ++i;
  }
  // Unterminated: the rest of the text is the token.
  t.text = s_.substr(body, n > body ? n - body : 0);
  pos_ = n;
  return t;
}

Token Lexer::next() {
  skip_blanks();
  Token t;
  const size_t n = s_.size();
  if (pos_ >= n) {
    t.offset = n;
    return t;
  }
  size_t start = pos_;
  t.offset = start;
  unsigned char c = static_cast<unsigned char>(s_[pos_]);
  if (c == '\'' || c == '"') return quoted(static_cast<char>(c), Tok::string, start);
  if (c == '`') return quoted('`', Tok::quoted_ident, start);
  if ((c == 'x' || c == 'X' || c == 'b' || c == 'B') && pos_ + 1 < n && s_[pos_ + 1] == '\'') {
    ++pos_;
    Token q = quoted('\'', Tok::hex, start);
    return q;
  }
  if (c == '0' && pos_ + 1 < n &&
      (s_[pos_ + 1] == 'x' || s_[pos_ + 1] == 'X' || s_[pos_ + 1] == 'b' || s_[pos_ + 1] == 'B') && pos_ + 2 < n &&
      ident_char(static_cast<unsigned char>(s_[pos_ + 2]))) {
    pos_ += 2;
    while (pos_ < n && ident_char(static_cast<unsigned char>(s_[pos_]))) ++pos_;
    t.kind = Tok::hex;
    t.text = s_.substr(start, pos_ - start);
    return t;
  }
  if (digit(c) || (c == '.' && pos_ + 1 < n && digit(static_cast<unsigned char>(s_[pos_ + 1])))) {
    bool dec = false;
    while (pos_ < n && digit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
    if (pos_ < n && s_[pos_] == '.') {
      dec = true;
      ++pos_;
      while (pos_ < n && digit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
    }
    if (pos_ < n && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      size_t e = pos_ + 1;
      if (e < n && (s_[e] == '+' || s_[e] == '-')) ++e;
      if (e < n && digit(static_cast<unsigned char>(s_[e]))) {
        dec = true;
        pos_ = e;
        while (pos_ < n && digit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
      }
    }
    if (pos_ < n && ident_char(static_cast<unsigned char>(s_[pos_])) && !dec) {
      // 1abc is an identifier in MySQL.
      while (pos_ < n && ident_char(static_cast<unsigned char>(s_[pos_]))) ++pos_;
      t.kind = Tok::word;
    } else {
      t.kind = dec ? Tok::decimal : Tok::integer;
    }
    t.text = s_.substr(start, pos_ - start);
    return t;
  }
  if (ident_char(c)) {
    while (pos_ < n && ident_char(static_cast<unsigned char>(s_[pos_]))) ++pos_;
    t.kind = Tok::word;
    t.text = s_.substr(start, pos_ - start);
    return t;
  }
  if (c == '?') {
    ++pos_;
    t.kind = Tok::placeholder;
    t.text = s_.substr(start, 1);
    return t;
  }
  if (c == '@') {
    if (pos_ + 1 < n && s_[pos_ + 1] == '@') {
      pos_ += 2;
      size_t body = pos_;
      while (pos_ < n && (ident_char(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '.')) ++pos_;
      t.kind = Tok::sys_var;
      t.text = s_.substr(body, pos_ - body);
      return t;
    }
    ++pos_;
    if (pos_ < n && (s_[pos_] == '`' || s_[pos_] == '\'' || s_[pos_] == '"')) {
      Token q = quoted(s_[pos_], Tok::user_var, start);
      return q;
    }
    size_t body = pos_;
    while (pos_ < n && (ident_char(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '.')) ++pos_;
    t.kind = Tok::user_var;
    t.text = s_.substr(body, pos_ - body);
    return t;
  }
  if (c == ':' && pos_ + 1 < n && s_[pos_ + 1] == '=') {
    pos_ += 2;
    t.kind = Tok::assign;
    t.text = s_.substr(start, 2);
    return t;
  }
  if ((c == '<' || c == '>' || c == '!') && pos_ + 1 < n && (s_[pos_ + 1] == '=' || s_[pos_ + 1] == '>')) {
    pos_ += 2;
    if (pos_ < n && s_[pos_] == '>' && c == '<') ++pos_;  // <=>
    t.kind = Tok::other;
    t.text = s_.substr(start, pos_ - start);
    return t;
  }
  if ((c == '|' || c == '&') && pos_ + 1 < n && s_[pos_ + 1] == static_cast<char>(c)) {
    pos_ += 2;
    t.kind = Tok::other;
    t.text = s_.substr(start, 2);
    return t;
  }
  ++pos_;
  t.kind = Tok::punct;
  t.text = s_.substr(start, 1);
  return t;
}

}  // namespace odp::routing::sql
