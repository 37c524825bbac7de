// CONNECTION_ID() rewriting: one pass of the SQL lexer over the text, copying it into the output
// as edits come (a call replaced, an alias inserted after a select item), in text order.
//
// How a select item's alias is told apart (MariaDB's grammar, reduced to the item's last two tokens
// at its own parenthesis level): an item has an alias when it holds AS at its level, or ends in a
// name or a string that follows something ending an expression (`)`, a literal, a name): `x id`,
// `f() 'id'`. A name after an operator (`= id`, `DIV n`, `COLLATE utf8mb4_bin`), a string after a
// string or an introducer (`'a' 'b'`, `_utf8mb4'x'`, `DATE '2020-01-01'`), NULL/TRUE/FALSE/UNKNOWN
// and the END of a CASE are operands, not aliases. When unsure, the item is taken to have an alias:
// a missing alias only shows the rewritten text as the column name, an alias added after an
// existing one would be a syntax error.
//
// Known limits, each a rare form; the value is always odp's id unless said otherwise:
//  - `SELECT CONNECTION_ID() FOR UPDATE` without FROM: MariaDB 10.11 names the column
//    `CONNECTION_ID() FOR` (its parser reads one token ahead there); it is named `CONNECTION_ID()`.
//  - A table value constructor (`VALUES (CONNECTION_ID())`) names its columns after their text and
//    takes no alias: the column is named after the rewritten expression.
//  - An item ending in a word after a value that is no alias (`CONNECTION_ID() + INTERVAL 1 DAY`)
//    is taken to have one: the column is named after the rewritten text.
//  - The lexer reads MariaDB's `/*M!...*/` as a comment and `"CONNECTION_ID"()` (a call under
//    ANSI_QUOTES) as a string; text run by EXECUTE IMMEDIATE or PREPARE is a string: none of these
//    is rewritten, and the server answers its own thread id.
//  - Select lists nested deeper than kMaxDepth parentheses are not aliased (calls are rewritten);
//    an item with a NUL byte gets no alias (a name cannot hold one); executable-comment markers
//    past the first kMaxMarkers of a statement stay in names.
//  - Error messages quoting the expression show the rewritten text (`BIGINT UNSIGNED value is out
//    of range in 'if(1,cast(117 as unsigned),connection_id()) - 1000'`, same error number).
//  - The types were compared on MariaDB 10.11; on another server the union with the server's own
//    CONNECTION_ID() keeps the function's type as long as CAST(n AS UNSIGNED) is not wider.
#include "proxy/connection_id_rewrite.h"

#include <array>
#include <charconv>
#include <initializer_list>

#include "base/ascii.h"
#include "base/assert.h"
#include "routing/sql_lexer.h"

namespace odp::proxy {
namespace {

using routing::sql::Lexer;
using routing::sql::Tok;
using routing::sql::Token;

constexpr size_t kMaxDepth = 32;    // parenthesis levels whose select lists are tracked
constexpr size_t kMaxMarkers = 16;  // executable-comment markers remembered per statement

bool is_word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '$' ||
         static_cast<unsigned char>(c) >= 0x80;
}

bool is_any(const Token& t, std::initializer_list<std::string_view> words) {
  for (std::string_view w : words)
    if (t.is(w)) return true;
  return false;
}

// Words that end a select list at its own level.
bool ends_select_list(const Token& t) {
  return is_any(t, {"FROM", "INTO", "WHERE", "GROUP", "HAVING", "ORDER", "LIMIT", "UNION", "EXCEPT", "INTERSECT",
                    "WINDOW", "FOR", "LOCK", "PROCEDURE", "ON", "RETURNING", "OFFSET", "FETCH"});
}

// SELECT options before the first item: they are not part of its name.
bool is_select_option(const Token& t) {
  return is_any(t, {"ALL", "DISTINCT", "DISTINCTROW", "HIGH_PRIORITY", "STRAIGHT_JOIN", "SQL_SMALL_RESULT",
                    "SQL_BIG_RESULT", "SQL_BUFFER_RESULT", "SQL_CACHE", "SQL_NO_CACHE", "SQL_CALC_FOUND_ROWS"});
}

// A quoted token that the text ends inside: whatever is appended joins it.
bool ends_inside_quotes(const Token& t, size_t end, std::string_view sql) {
  if (end != sql.size() || t.text.data() + t.text.size() != sql.data() + end) return false;
  switch (t.kind) {
    case Tok::string:
    case Tok::quoted_ident:
      return true;
    case Tok::hex:       // x'1F' (not 0x1F)
    case Tok::user_var:  // @'name' (not @name)
      return t.offset + 1 < sql.size() &&
             (sql[t.offset + 1] == '\'' || sql[t.offset + 1] == '"' || sql[t.offset + 1] == '`');
    default:
      return false;
  }
}

// Between two tokens lie only blanks, comments and executable-comment markers (`/*!50000`, and the
// `*/` closing one). MariaDB leaves the markers out of column names; f(offset, length) sees each.
template <class F>
void for_each_marker(std::string_view gap, F&& f) {
  if (gap.find_first_of("!*") == std::string_view::npos) return;
  size_t i = 0;
  while (i < gap.size()) {
    std::string_view rest = gap.substr(i);
    size_t marker = 0;
    if (rest.starts_with("/*!")) {
      marker = 3;
      while (marker < rest.size() && rest[marker] >= '0' && rest[marker] <= '9') ++marker;
    } else if (rest.starts_with("/*")) {
      size_t close = gap.find("*/", i + 2);
      i = close == std::string_view::npos ? gap.size() : close + 2;
      continue;
    } else if (rest.starts_with("*/")) {
      marker = 2;
    } else if (rest[0] == '#' || rest.starts_with("--")) {
      size_t nl = gap.find('\n', i);
      i = nl == std::string_view::npos ? gap.size() : nl;
      continue;
    }
    if (marker != 0) f(i, marker);
    i += marker != 0 ? marker : 1;
  }
}

bool has_marker(std::string_view gap) {
  bool found = false;
  for_each_marker(gap, [&](size_t, size_t) { found = true; });
  return found;
}

// What a token is to the alias rule (see the top of the file).
enum class Role : uint8_t { none, op, value, name, string, introducer };

Role word_role(const Token& t, bool closes_case) {
  if (closes_case || is_any(t, {"NULL", "TRUE", "FALSE", "UNKNOWN"})) return Role::value;
  if (is_any(t, {"AND",    "OR",      "XOR",      "NOT",     "DIV",    "MOD",      "LIKE", "REGEXP", "RLIKE", "IS",
                 "IN",     "BETWEEN", "ESCAPE",   "COLLATE", "BINARY", "INTERVAL", "CASE", "WHEN",   "THEN",  "ELSE",
                 "SOUNDS", "AS",      "DISTINCT", "ANY",     "SOME",   "EXISTS",   "ROW",  "MEMBER", "OF"}))
    return Role::op;
  if (is_any(t, {"N", "DATE", "TIME", "TIMESTAMP"}) || t.text.starts_with('_')) return Role::introducer;
  return Role::name;
}

Role role_of(const Token& t, bool closes_case) {
  switch (t.kind) {
    case Tok::punct:
      return t.ch() == ')' ? Role::value : Role::op;
    case Tok::other:
    case Tok::assign:
      return Role::op;
    case Tok::integer:
    case Tok::decimal:
    case Tok::hex:
    case Tok::placeholder:
    case Tok::user_var:
    case Tok::sys_var:
      return Role::value;
    case Tok::quoted_ident:
      return Role::name;
    case Tok::string:
      return Role::string;
    case Tok::word:
      return word_role(t, closes_case);
    case Tok::end:
      break;
  }
  return Role::none;
}

// One parenthesis level, and the select item open at it.
struct Frame {
  bool select_list = false;  // SELECT seen at this level, no terminator yet
  bool options = false;      // right after SELECT: DISTINCT & co. do not start the item
  bool any_call = false;     // a rewritten call somewhere inside this level
  bool item_open = false;
  bool item_call = false;  // a rewritten call inside the open item (at any depth)
  bool item_as = false;
  uint16_t case_depth = 0;
  Role last = Role::none;
  Role before_last = Role::none;
  size_t item_begin = 0;
  size_t item_end = 0;

  void reset_item() {
    item_open = item_call = item_as = false;
    case_depth = 0;
    last = before_last = Role::none;
  }
  bool has_alias() const {
    if (item_as) return true;
    if (last == Role::name || last == Role::introducer) {
      return before_last == Role::value || before_last == Role::name || before_last == Role::string ||
             before_last == Role::introducer;
    }
    if (last == Role::string) return before_last == Role::value || before_last == Role::name;
    return false;
  }
};

enum class Mode : uint8_t { normal, kill, skip_statement, skip_rest };

class Rewriter {
 public:
  Rewriter(std::string_view sql, uint32_t id) : sql_(sql), lex_(sql) {
    char* p = std::to_chars(id_, id_ + sizeof id_, id).ptr;
    id_len_ = static_cast<size_t>(p - id_);
  }
  std::optional<std::string> run();

 private:
  void classify(const Token& first);
  size_t call_end(const Token& t, size_t t_end);
  void on_call(size_t begin, size_t end);
  void on_token(const Token& t, size_t end);
  void on_paren(const Token& t, size_t end);
  void on_select_list_word(Frame& f, const Token& t, size_t end);
  void note(Frame& f, size_t begin, size_t end, Role role);
  void push();
  void pop();
  void close_item(Frame& f);
  bool needs_alias(const Frame& f) const;
  void end_statement();
  void scan_gap(size_t from, size_t to);
  void flush(size_t upto);
  void append_label(size_t begin, size_t end);
  bool is_protected() const { return protect_depth_ != 0 && depth_ >= protect_depth_; }

  std::string_view sql_;
  Lexer lex_;
  char id_[16]{};
  size_t id_len_ = 0;
  std::string out_;
  bool started_ = false;  // out_ holds the text up to copied_
  size_t copied_ = 0;
  size_t prev_end_ = 0;
  bool prev_dot_ = false;
  bool open_quote_ = false;  // the text ends inside a quoted token
  bool statement_start_ = true;
  Mode mode_ = Mode::normal;
  bool table_pending_ = false;  // CREATE TABLE before its column list or query
  size_t protect_depth_ = 0;    // the level of CREATE TABLE's column list, 0 when none
  std::array<Frame, kMaxDepth> frames_{};
  size_t depth_ = 0;
  size_t overflow_ = 0;                                           // open parentheses beyond kMaxDepth
  std::array<std::pair<size_t, size_t>, kMaxMarkers> markers_{};  // offset, length
  size_t marker_count_ = 0;
};

std::optional<std::string> Rewriter::run() {
  for (;;) {
    Token t = lex_.next();
    if (t.kind == Tok::end) break;
    size_t end = lex_.position();
    scan_gap(prev_end_, t.offset);
    open_quote_ = ends_inside_quotes(t, end, sql_);
    if (statement_start_) {
      statement_start_ = false;
      classify(t);
      if (mode_ == Mode::skip_rest) break;
    }
    if (t.ch() == ';') {
      end_statement();
    } else if (mode_ != Mode::skip_statement) {
      if (size_t call = call_end(t, end); call != 0) {
        on_call(t.offset, call);
        end = call;
      } else {
        on_token(t, end);
      }
    }
    prev_dot_ = t.ch() == '.';
    prev_end_ = end;
  }
  end_statement();
  if (!started_) return std::nullopt;
  out_.append(sql_.substr(copied_));
  return std::move(out_);
}

// The statement's kind, from its first word (and for CREATE/ALTER, the kind of object).
void Rewriter::classify(const Token& first) {
  mode_ = Mode::normal;
  if (first.is("KILL")) {
    mode_ = Mode::kill;
  } else if (first.is("PREPARE")) {
    mode_ = Mode::skip_statement;
  } else if (first.is("CREATE") || first.is("ALTER")) {
    Lexer probe = lex_;
    Token object;
    for (int i = 0; i < 32; ++i) {  // past OR REPLACE, ALGORITHM=, DEFINER=, SQL SECURITY, ...
      Token t = probe.next();
      if (t.kind == Tok::end || t.ch() == ';') break;
      if (is_any(t, {"TABLE", "VIEW", "PROCEDURE", "FUNCTION", "TRIGGER", "EVENT", "PACKAGE", "INDEX", "DATABASE",
                     "SCHEMA", "USER", "ROLE", "SERVER", "SEQUENCE", "TABLESPACE"})) {
        object = t;
        break;
      }
    }
    if (first.is("ALTER")) {
      mode_ = object.is("EVENT") ? Mode::skip_rest : Mode::skip_statement;
    } else if (object.is("TABLE")) {
      table_pending_ = true;
    } else if (object.is("VIEW")) {
      mode_ = Mode::skip_statement;
    } else if (is_any(object, {"PROCEDURE", "FUNCTION", "TRIGGER", "EVENT", "PACKAGE"})) {
      mode_ = Mode::skip_rest;
    }
  }
}

// Where `CONNECTION_ID ( )` starting at t ends (and the lexer moved past it), or 0.
size_t Rewriter::call_end(const Token& t, size_t t_end) {
  bool name = t.is("CONNECTION_ID") ||
              (t.kind == Tok::quoted_ident && !t.has_escapes && base::iequals(t.text, "CONNECTION_ID"));
  if (!name || prev_dot_) return 0;
  Lexer probe = lex_;
  Token open = probe.next();
  if (open.ch() != '(') return 0;
  size_t open_end = probe.position();
  Token close = probe.next();
  if (close.ch() != ')') return 0;
  // An executable comment opening or closing inside the call would lose its marker: left alone.
  if (has_marker(sql_.substr(t_end, open.offset - t_end)) || has_marker(sql_.substr(open_end, close.offset - open_end)))
    return 0;
  scan_gap(t_end, open.offset);
  scan_gap(open_end, close.offset);
  lex_ = probe;
  return lex_.position();
}

void Rewriter::on_call(size_t begin, size_t end) {
  Frame& f = frames_[depth_];
  if (!is_protected()) {
    flush(begin);
    // FROM`CONNECTION_ID`() and 1.CONNECTION_ID() are apart where FROMIF and 1.42 would not be.
    if (!out_.empty() && (is_word_char(out_.back()) || out_.back() == '.' || out_.back() == '@')) out_.push_back(' ');
    if (mode_ == Mode::kill) {
      out_.append(id_, id_len_);
      // `CONNECTION_ID()x` is two tokens, `42x` one: keep them apart.
      if (end < sql_.size() && (is_word_char(sql_[end]) || sql_[end] == '.')) out_.push_back(' ');
    } else {
      out_.append("IF(1, CAST(").append(id_, id_len_).append(" AS UNSIGNED), CONNECTION_ID())");
    }
    copied_ = end;
    f.any_call = true;
    f.item_call = true;
  }
  if (overflow_ == 0) note(f, begin, end, Role::value);
}

void Rewriter::on_token(const Token& t, size_t end) {
  if (t.ch() == '(' || t.ch() == ')') {
    on_paren(t, end);
    return;
  }
  if (overflow_ > 0) return;
  Frame& f = frames_[depth_];
  if (t.is("SELECT")) {
    close_item(f);
    f.select_list = true;
    f.options = true;
    if (depth_ == 0) table_pending_ = false;
    return;
  }
  if (table_pending_ && depth_ == 0 && is_any(t, {"WITH", "VALUES", "AS", "LIKE"})) table_pending_ = false;
  if (!f.select_list) return;
  if (t.ch() == ',') {
    close_item(f);
    return;
  }
  if (t.kind == Tok::word) {
    on_select_list_word(f, t, end);
    return;
  }
  note(f, t.offset, end, role_of(t, false));
}

void Rewriter::on_select_list_word(Frame& f, const Token& t, size_t end) {
  if (ends_select_list(t)) {
    close_item(f);
    f.select_list = false;
    return;
  }
  if (!f.item_open && f.options && is_select_option(t)) return;
  bool closes_case = false;
  if (t.is("AS")) {
    f.item_as = true;
  } else if (t.is("CASE")) {
    ++f.case_depth;
  } else if (t.is("END") && f.case_depth > 0) {
    --f.case_depth;
    closes_case = true;
  }
  note(f, t.offset, end, role_of(t, closes_case));
}

void Rewriter::on_paren(const Token& t, size_t end) {
  if (t.ch() == '(') {
    if (overflow_ > 0 || depth_ + 1 == kMaxDepth) {
      if (overflow_++ == 0) note(frames_[depth_], t.offset, end, Role::op);
      return;
    }
    bool column_list = false;
    if (table_pending_ && depth_ == 0) {
      // CREATE TABLE t (...): column definitions unless a query starts inside.
      table_pending_ = false;
      Lexer probe = lex_;
      Token first = probe.next();
      column_list = !(first.is("SELECT") || first.is("WITH") || first.is("VALUES") || first.ch() == '(');
    }
    note(frames_[depth_], t.offset, end, Role::op);
    push();
    if (column_list) protect_depth_ = depth_;
    return;
  }
  if (overflow_ > 0) {
    if (--overflow_ == 0) note(frames_[depth_], t.offset, end, Role::value);
    return;
  }
  if (depth_ > 0) pop();
  note(frames_[depth_], t.offset, end, Role::value);
}

void Rewriter::note(Frame& f, size_t begin, size_t end, Role role) {
  if (!f.item_open) {
    f.item_open = true;
    f.item_begin = begin;
  }
  f.options = false;
  f.item_end = end;
  f.before_last = f.last;
  f.last = role;
}

void Rewriter::push() {
  ++depth_;
  frames_[depth_] = Frame{};
}

void Rewriter::pop() {
  Frame& child = frames_[depth_];
  close_item(child);
  bool call = child.any_call;
  if (protect_depth_ == depth_) protect_depth_ = 0;
  --depth_;
  Frame& parent = frames_[depth_];
  parent.any_call |= call;
  parent.item_call |= call;
}

void Rewriter::close_item(Frame& f) {
  if (needs_alias(f)) {
    flush(f.item_end);
    out_.append(" AS `");
    append_label(f.item_begin, f.item_end);
    out_.push_back('`');
    if (f.item_end < sql_.size() && sql_[f.item_end] == '`') out_.push_back(' ');  // not a doubled backquote
  }
  f.reset_item();
}

bool Rewriter::needs_alias(const Frame& f) const {
  if (!f.select_list || !f.item_open || !f.item_call || mode_ == Mode::kill || f.has_alias()) return false;
  // Bad SQL is left as it is: an item ending in an operator or an unclosed parenthesis, or before
  // text already copied, or inside quotes the text never closes; and a name cannot hold a NUL byte.
  if (f.last == Role::op || f.item_end < copied_ || (open_quote_ && f.item_end == sql_.size())) return false;
  return sql_.substr(f.item_begin, f.item_end - f.item_begin).find('\0') == std::string_view::npos;
}

void Rewriter::end_statement() {
  while (depth_ > 0) pop();
  close_item(frames_[0]);
  frames_[0] = Frame{};
  overflow_ = 0;
  protect_depth_ = 0;
  table_pending_ = false;
  marker_count_ = 0;
  mode_ = Mode::normal;
  statement_start_ = true;
}

void Rewriter::scan_gap(size_t from, size_t to) {
  for_each_marker(sql_.substr(from, to - from), [&](size_t at, size_t length) {
    if (marker_count_ < kMaxMarkers) markers_[marker_count_++] = {from + at, length};
  });
}

void Rewriter::flush(size_t upto) {
  ODP_ASSERT(upto >= copied_ && upto <= sql_.size());
  if (!started_) {
    started_ = true;
    out_.reserve(sql_.size() + 96);
  }
  out_.append(sql_.substr(copied_, upto - copied_));
  copied_ = upto;
}

// The item's text as a backquoted name's body: markers left out, backquotes doubled.
void Rewriter::append_label(size_t begin, size_t end) {
  size_t i = begin;
  while (i < end) {
    bool skipped = false;
    for (size_t m = 0; m < marker_count_; ++m) {
      if (markers_[m].first == i) {
        i += markers_[m].second;
        skipped = true;
        break;
      }
    }
    if (skipped) continue;
    if (sql_[i] == '`') out_.push_back('`');
    out_.push_back(sql_[i]);
    ++i;
  }
}

}  // namespace

std::optional<std::string> rewrite_connection_id(std::string_view sql, uint32_t connection_id) {
  if (!base::icontains(sql, "connection_id")) return std::nullopt;  // the common case: no lexing
  Rewriter r(sql, connection_id);
  return r.run();
}

}  // namespace odp::proxy
