#pragma once
// The few words of SQL odp answers itself (KILL, SHOW PROCESSLIST) read from a statement's text.
#include <cstddef>
#include <string_view>

namespace odp::proxy {

// Skips white space and /* */, --, # comments. Executable comments (/*! ... */) are not skipped:
// they may hide a different statement, which then simply is not one of ours.
void skip_sql_space(std::string_view s, size_t& i);

// After space and comments at `i`, the keyword `word` (upper case; matched case-insensitively)
// as a whole word: true and `i` past it, else false.
bool take_sql_word(std::string_view s, size_t& i, std::string_view word);

// Whether only space, comments and one optional `;` follow `i`: the statement is whole, not the
// first of several.
bool at_sql_end(std::string_view s, size_t i);

}  // namespace odp::proxy
