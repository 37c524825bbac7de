#pragma once
// The fake servers' SQL tokenizer (fake_sql.cpp parses the tokens): words, numbers, '' and ""
// strings with backslash escapes, X'..' hex strings, `quoted` identifiers, symbols; comments are
// dropped.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace odp::fakeio::sql {

std::string upper(std::string_view s);
std::string lower(std::string_view s);

struct Token {
  enum class K : uint8_t { word, number, string, hexstr, quoted_ident, sym, end };
  K k = K::end;
  std::string text;  // word/number/symbol as written; strings and hex strings decoded
  size_t begin = 0, end = 0;
  bool is(std::string_view kw) const { return k == K::word && upper(text) == kw; }
  bool sym(std::string_view s) const { return k == K::sym && text == s; }
};

// Splits a whole statement into tokens, ending with one of kind `end`; false on an unterminated
// literal or comment.
bool tokenize(std::string_view s, std::vector<Token>& out);

}  // namespace odp::fakeio::sql
