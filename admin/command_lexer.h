#pragma once
// Internal to admin/: splits an internal command (admin/internal_commands.h) into tokens the way
// MySQL's lexer would for the few forms we accept: words, quoted strings with MySQL escapes, and
// single punctuation characters; whitespace and comments between them are skipped.
#include <cstddef>
#include <string>
#include <string_view>

namespace odp::admin::detail {

enum class TokenKind {
  end,     // nothing left but blanks and comments
  word,    // a run of characters that are not blanks, quotes, comment starts or punctuation; or `quoted`
  string,  // '...' or "...": text holds the value after escapes
  punct,   // one of ; = ( ) ,
  error,   // unterminated string, quoted word or comment, or a /*! comment: text says which
};

struct Token {
  TokenKind kind = TokenKind::end;
  std::string text;
  size_t offset = 0;  // where the token starts in the statement

  bool is_punct(char c) const { return kind == TokenKind::punct && text.size() == 1 && text[0] == c; }
  // A word equal to `keyword` (lower case) in any letter case.
  bool is_word(std::string_view keyword) const;
};

class CommandLexer {
 public:
  explicit CommandLexer(std::string_view sql) : sql_(sql) {}

  Token next();
  Token peek();
  // A bare (unquoted) value, as in `alter proxyconfig set k = 1.2.3.4:80,5.6.7.8:80`: every
  // character up to a blank, a ';', a quote or a comment. A word token when non-empty, else end.
  Token bare_value();

 private:
  // Skips whitespace and comments. Returns what is wrong (an unterminated or executable
  // comment), else nullptr.
  const char* skip_blanks();
  bool comment_starts_at(size_t pos) const;
  Token quoted(char quote);

  std::string_view sql_;
  size_t pos_ = 0;
};

// A short, printable rendering of statement text for error messages: control characters become
// spaces, at most `max_bytes` bytes (cut on a UTF-8 boundary) followed by "..." when cut.
std::string excerpt(std::string_view text, size_t max_bytes);

}  // namespace odp::admin::detail
