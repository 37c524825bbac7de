#pragma once
// A small MySQL tokenizer for the classifier: no allocation, never reads past the text, never
// fails (garbage becomes `other` tokens; unterminated quotes and comments end the text).
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace odp::routing::sql {

enum class Tok : uint8_t {
  end,
  word,          // identifier or keyword (unquoted)
  quoted_ident,  // `name` (text without the backquotes)
  string,        // 'x' or "x" (text without the quotes)
  integer,       // 123
  decimal,       // 1.5, 1e3, .5
  hex,           // 0x1F, x'1F', b'01'
  placeholder,   // ?
  user_var,      // @name, @`name`, @'name' (text = the name)
  sys_var,       // @@name, @@session.name (text = everything after @@)
  punct,         // one character: ( ) , ; . = < > ! + - * / % etc.
  assign,        // :=
  other,         // any other operator of two characters (<=, >=, <>, !=, <=>, ||, &&)
};

struct Token {
  Tok kind = Tok::end;
  std::string_view text;
  bool has_escapes = false;  // string / identifier with backslashes or doubled quotes
  size_t offset = 0;         // where the token starts in the statement
  char ch() const { return kind == Tok::punct && !text.empty() ? text[0] : '\0'; }
  // A keyword compare: case-insensitive, for unquoted words only. `kw` must be upper case.
  bool is(std::string_view kw) const;
};

class Lexer {
 public:
  explicit Lexer(std::string_view sql) : s_(sql) {}
  Token next();
  Token peek() {
    size_t save = pos_;
    bool save_v = in_version_comment_;
    Token t = next();
    pos_ = save;
    in_version_comment_ = save_v;
    return t;
  }
  size_t position() const { return pos_; }
  // Optimizer hint comments (/*+ ... */) seen so far, most recent first; consumed by the caller.
  std::string_view take_hint() {
    std::string_view h = hint_;
    hint_ = {};
    return h;
  }

 private:
  void skip_blanks();
  Token quoted(char q, Tok kind, size_t start);

  std::string_view s_;
  size_t pos_ = 0;
  bool in_version_comment_ = false;
  std::string_view hint_;
};

}  // namespace odp::routing::sql
