// Tokens of internal commands, and MySQL LIKE matching (declared in admin/internal_commands.h).
#include "admin/command_lexer.h"

#include <vector>

#include "admin/internal_commands.h"
#include "base/ascii.h"

namespace odp::admin {
namespace detail {
namespace {

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool is_punct_char(char c) {
  return c == ';' || c == '=' || c == '(' || c == ')' || c == ',';
}

bool is_quote(char c) {
  return c == '\'' || c == '"' || c == '`';
}

// Length of the UTF-8 character starting at text[i]; 1 for a byte that does not start a valid one.
size_t utf8_length(std::string_view text, size_t i) {
  auto lead = static_cast<unsigned char>(text[i]);
  size_t n = 1;
  if (lead >= 0xC2 && lead <= 0xDF) {
    n = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    n = 3;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    n = 4;
  }
  if (i + n > text.size()) return 1;
  for (size_t k = 1; k < n; ++k) {
    auto c = static_cast<unsigned char>(text[i + k]);
    if (c < 0x80 || c > 0xBF) return 1;
  }
  return n;
}

}  // namespace

bool Token::is_word(std::string_view keyword) const {
  return kind == TokenKind::word && base::iequals(text, keyword);
}

std::string excerpt(std::string_view text, size_t max_bytes) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    size_t n = utf8_length(text, i);
    if (out.size() + n > max_bytes) {
      out += "...";
      break;
    }
    if (n == 1) {
      auto c = static_cast<unsigned char>(text[i]);
      out += (c < 0x20 || c == 0x7F || c >= 0x80) ? ' ' : static_cast<char>(c);
    } else {
      out.append(text.substr(i, n));
    }
    i += n;
  }
  return out;
}

bool CommandLexer::comment_starts_at(size_t pos) const {
  if (pos >= sql_.size()) return false;
  char c = sql_[pos];
  if (c == '#') return true;
  if (pos + 1 >= sql_.size()) return false;
  if (c == '/' && sql_[pos + 1] == '*') return true;
  // MySQL: "--" starts a comment only when a blank or control character (or the end) follows.
  if (c == '-' && sql_[pos + 1] == '-') {
    return pos + 2 >= sql_.size() || static_cast<unsigned char>(sql_[pos + 2]) <= 0x20;
  }
  return false;
}

const char* CommandLexer::skip_blanks() {
  while (pos_ < sql_.size()) {
    char c = sql_[pos_];
    if (is_blank(c)) {
      ++pos_;
    } else if (comment_starts_at(pos_) && c == '/') {
      // MySQL runs the text of /*! ... */ as part of the statement; we do not, so say so rather
      // than silently skip what the client meant to run.
      if (pos_ + 2 < sql_.size() && sql_[pos_ + 2] == '!') return "executable comments (/*! ... */) are not supported";
      size_t close = sql_.find("*/", pos_ + 2);
      if (close == std::string_view::npos) {
        pos_ = sql_.size();
        return "unterminated /* comment";
      }
      pos_ = close + 2;
    } else if (comment_starts_at(pos_)) {  // '#' or "-- ": to the end of the line
      size_t eol = sql_.find('\n', pos_);
      pos_ = eol == std::string_view::npos ? sql_.size() : eol + 1;
    } else {
      break;
    }
  }
  return nullptr;
}

Token CommandLexer::quoted(char quote) {
  Token t;
  t.offset = pos_;
  t.kind = quote == '`' ? TokenKind::word : TokenKind::string;
  ++pos_;
  while (pos_ < sql_.size()) {
    char c = sql_[pos_];
    if (c == quote) {
      if (pos_ + 1 < sql_.size() && sql_[pos_ + 1] == quote) {  // a doubled quote stands for itself
        t.text += quote;
        pos_ += 2;
        continue;
      }
      ++pos_;
      return t;
    }
    if (c == '\\' && quote != '`' && pos_ + 1 < sql_.size()) {
      char e = sql_[pos_ + 1];
      pos_ += 2;
      switch (e) {
        case '0':
          t.text += '\0';
          break;
        case 'b':
          t.text += '\b';
          break;
        case 'n':
          t.text += '\n';
          break;
        case 'r':
          t.text += '\r';
          break;
        case 't':
          t.text += '\t';
          break;
        case 'Z':
          t.text += '\x1a';
          break;
        case '%':  // kept escaped, as MySQL does, so LIKE sees a literal % or _
        case '_':
          t.text += '\\';
          t.text += e;
          break;
        default:
          t.text += e;
          break;
      }
      continue;
    }
    t.text += c;
    ++pos_;
  }
  t.kind = TokenKind::error;
  t.text = quote == '`' ? "unterminated quoted name" : "unterminated string";
  return t;
}

Token CommandLexer::next() {
  if (const char* problem = skip_blanks()) return Token{TokenKind::error, problem, pos_};
  if (pos_ >= sql_.size()) return Token{TokenKind::end, "", sql_.size()};
  char c = sql_[pos_];
  if (is_quote(c)) return quoted(c);
  if (is_punct_char(c)) return Token{TokenKind::punct, std::string(1, sql_[pos_++]), pos_ - 1};
  Token t{TokenKind::word, "", pos_};
  while (pos_ < sql_.size()) {
    char w = sql_[pos_];
    if (is_blank(w) || is_quote(w) || is_punct_char(w) || comment_starts_at(pos_)) break;
    t.text += w;
    ++pos_;
  }
  return t;
}

Token CommandLexer::peek() {
  size_t saved = pos_;
  Token t = next();
  pos_ = saved;
  return t;
}

Token CommandLexer::bare_value() {
  if (const char* problem = skip_blanks()) return Token{TokenKind::error, problem, pos_};
  Token t{TokenKind::word, "", pos_};
  while (pos_ < sql_.size()) {
    char c = sql_[pos_];
    if (is_blank(c) || c == ';' || is_quote(c) || comment_starts_at(pos_)) break;
    t.text += c;
    ++pos_;
  }
  if (t.text.empty()) t.kind = TokenKind::end;
  return t;
}

}  // namespace detail

namespace {

// A LIKE pattern compiled into elements; literals are single (UTF-8) characters.
struct LikeElem {
  enum class Kind { literal, one, many } kind;
  std::string_view unit;
};

}  // namespace

bool like_match(std::string_view text, std::string_view pattern) {
  std::vector<LikeElem> pat;
  for (size_t i = 0; i < pattern.size();) {
    char c = pattern[i];
    if (c == '%') {
      if (pat.empty() || pat.back().kind != LikeElem::Kind::many) pat.push_back({LikeElem::Kind::many, {}});
      ++i;
    } else if (c == '_') {
      pat.push_back({LikeElem::Kind::one, {}});
      ++i;
    } else {
      if (c == '\\' && i + 1 < pattern.size()) ++i;  // the escaped character is literal
      size_t n = detail::utf8_length(pattern, i);
      pat.push_back({LikeElem::Kind::literal, pattern.substr(i, n)});
      i += n;
    }
  }
  std::vector<std::string_view> units;
  for (size_t i = 0; i < text.size();) {
    size_t n = detail::utf8_length(text, i);
    units.push_back(text.substr(i, n));
    i += n;
  }
  // Greedy matching that backtracks only to the last '%': at most units x elements steps.
  constexpr size_t kNone = static_cast<size_t>(-1);
  size_t t = 0;
  size_t p = 0;
  size_t star_p = kNone;
  size_t star_t = 0;
  while (t < units.size()) {
    if (p < pat.size() && pat[p].kind == LikeElem::Kind::many) {
      star_p = p++;
      star_t = t;
    } else if (p < pat.size() && (pat[p].kind == LikeElem::Kind::one || base::iequals(pat[p].unit, units[t]))) {
      ++p;
      ++t;
    } else if (star_p != kNone) {
      p = star_p + 1;
      t = ++star_t;
    } else {
      return false;
    }
  }
  while (p < pat.size() && pat[p].kind == LikeElem::Kind::many) ++p;
  return p == pat.size();
}

}  // namespace odp::admin
