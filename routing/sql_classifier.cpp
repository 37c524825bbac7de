// The SQL classifier (sql_classifier.h): two passes over the tokens of one statement. The first
// notes session-affecting facts wherever they appear (functions, variables, placeholders, hints,
// a second statement); the second follows the statement's shape to find its type, tables and
// the literal values given to columns.
#include "routing/sql_classifier.h"

#include <array>
#include <charconv>

#include "routing/sql_lexer.h"

namespace odp::routing {

using sql::Lexer;
using sql::Tok;
using sql::Token;

const char* stmt_type_name(StmtType t) {
  switch (t) {
    case StmtType::other:
      return "OTHER";
    case StmtType::select:
      return "SELECT";
    case StmtType::insert:
      return "INSERT";
    case StmtType::replace:
      return "REPLACE";
    case StmtType::update:
      return "UPDATE";
    case StmtType::delete_:
      return "DELETE";
    case StmtType::set:
      return "SET";
    case StmtType::begin:
      return "BEGIN";
    case StmtType::commit:
      return "COMMIT";
    case StmtType::rollback:
      return "ROLLBACK";
    case StmtType::savepoint:
      return "SAVEPOINT";
    case StmtType::use:
      return "USE";
    case StmtType::show:
      return "SHOW";
    case StmtType::explain:
      return "EXPLAIN";
    case StmtType::call:
      return "CALL";
    case StmtType::ddl:
      return "DDL";
    case StmtType::lock_tables:
      return "LOCK TABLES";
    case StmtType::unlock_tables:
      return "UNLOCK TABLES";
    case StmtType::prepare:
      return "PREPARE";
    case StmtType::execute:
      return "EXECUTE";
    case StmtType::deallocate:
      return "DEALLOCATE";
    case StmtType::do_:
      return "DO";
    case StmtType::load_data:
      return "LOAD DATA";
    case StmtType::handler:
      return "HANDLER";
    case StmtType::xa:
      return "XA";
    case StmtType::kill:
      return "KILL";
  }
  return "OTHER";
}

namespace {

constexpr size_t kMaxInsertColumns = 64;

bool is_any(const Token& t, std::initializer_list<std::string_view> kws) {
  for (auto kw : kws)
    if (t.is(kw)) return true;
  return false;
}

// Words that end a table reference list or a table reference.
bool ends_table_ref(const Token& t) {
  return is_any(t, {"WHERE",     "GROUP",   "ORDER",         "LIMIT",     "HAVING", "UNION",     "FOR",
                    "LOCK",      "ON",      "USING",         "JOIN",      "INNER",  "LEFT",      "RIGHT",
                    "CROSS",     "NATURAL", "STRAIGHT_JOIN", "OUTER",     "SET",    "VALUES",    "VALUE",
                    "SELECT",    "WINDOW",  "INTO",          "PROCEDURE", "EXCEPT", "INTERSECT", "RETURNING",
                    "PARTITION", "USE",     "IGNORE",        "FORCE",     "AS",     "FROM",      "TO"});
}

bool ends_where(const Token& t) {
  return t.kind == Tok::end || t.ch() == ';' || t.ch() == ')' ||
         is_any(t, {"GROUP", "ORDER", "LIMIT", "HAVING", "FOR", "LOCK", "UNION", "INTO", "WINDOW", "EXCEPT",
                    "INTERSECT", "RETURNING"});
}

bool is_name(const Token& t) {
  return t.kind == Tok::word || t.kind == Tok::quoted_ident;
}

class Parser {
 public:
  Parser(std::string_view sql, ClassifiedSql& out) : lx_(sql), out_(out) {}

  Token next() {
    if (pushed_count_ > 0) return pushed_[--pushed_count_];
    Token t = lx_.next();
    if (t.kind == Tok::placeholder) ++placeholders_;
    return t;
  }
  Token peek() {
    if (pushed_count_ == 0) push(next());
    return pushed_[pushed_count_ - 1];
  }
  // Puts a token back (a small stack: the last pushed comes out first).
  void push(const Token& t) {
    if (pushed_count_ < pushed_.size()) pushed_[pushed_count_++] = t;
  }

  // Skips a balanced group whose '(' was just consumed.
  void skip_group() {
    int depth = 1;
    while (depth > 0) {
      Token t = next();
      if (t.kind == Tok::end) return;
      if (t.ch() == '(') ++depth;
      if (t.ch() == ')') --depth;
    }
  }

  void add_table(std::string_view db, std::string_view table) {
    if (out_.table_count < ClassifiedSql::kMaxTables) {
      out_.tables[out_.table_count++] = TableName{db, table};
    } else {
      out_.tables_truncated = true;
    }
  }

  // name [. name]: a table (or database.table); `first` is already consumed.
  void table_name(const Token& first, std::string_view* db, std::string_view* table) {
    *db = {};
    *table = first.text;
    if (peek().ch() == '.') {
      next();
      Token second = next();
      if (is_name(second)) {
        *db = first.text;
        *table = second.text;
      } else {
        push(second);
      }
    }
  }

  // A comma/JOIN list of table references; returns the token that ended it (pushed back).
  void table_refs() {
    while (true) {
      Token t = next();
      if (t.kind == Tok::end) return;
      if (t.ch() == '(') {
        if (peek().is("SELECT") || peek().is("WITH")) out_.has_subquery = true;
        skip_group();
      } else if (is_name(t) && !(t.kind == Tok::word && ends_table_ref(t))) {
        std::string_view db, table;
        table_name(t, &db, &table);
        add_table(db, table);
      } else {
        push(t);
        return;
      }
      // After a reference: PARTITION (...), [AS] alias, index hints.
      while (true) {
        Token u = next();
        if (u.is("PARTITION") && peek().ch() == '(') {
          next();
          skip_group();
        } else if (u.is("AS")) {
          next();  // the alias
        } else if (is_any(u, {"USE", "FORCE", "IGNORE"}) && (peek().is("INDEX") || peek().is("KEY"))) {
          next();
          Token v = next();
          if (v.is("FOR")) {  // FOR JOIN / ORDER BY / GROUP BY
            Token w = next();
            if (w.is("ORDER") || w.is("GROUP")) next();
            v = next();
          }
          if (v.ch() == '(') skip_group();
        } else if (is_name(u) && !(u.kind == Tok::word && ends_table_ref(u))) {
          // an alias without AS
        } else {
          push(u);
          break;
        }
      }
      Token sep = next();
      if (sep.ch() == ',') continue;
      if (is_any(sep, {"JOIN", "INNER", "LEFT", "RIGHT", "CROSS", "NATURAL", "STRAIGHT_JOIN", "OUTER", "FULL"})) {
        while (!sep.is("JOIN") && !sep.is("STRAIGHT_JOIN") && sep.kind != Tok::end) sep = next();
        continue;
      }
      if (sep.is("ON") || sep.is("USING")) {
        // Skip the join condition up to the next join or the end of the list.
        int depth = 0;
        while (true) {
          Token c = next();
          if (c.kind == Tok::end) return;
          if (c.ch() == '(') {
            ++depth;
            continue;
          }
          if (c.ch() == ')') {
            if (depth == 0) {
              push(c);
              return;
            }
            --depth;
            continue;
          }
          if (depth == 0 &&
              (c.ch() == ',' || is_any(c, {"JOIN", "INNER", "LEFT", "RIGHT", "CROSS", "NATURAL", "STRAIGHT_JOIN"}))) {
            push(c);
            break;
          }
          if (depth == 0 && (ends_where(c) || c.is("WHERE") || c.is("SET"))) {
            push(c);
            return;
          }
        }
        Token again = next();
        if (again.ch() == ',') continue;
        while (!again.is("JOIN") && !again.is("STRAIGHT_JOIN") && again.kind != Tok::end) again = next();
        continue;
      }
      push(sep);
      return;
    }
  }

  // One literal value (with a sign, a charset introducer, NULL, TRUE/FALSE, `?`).
  bool value(Token t, SqlValue& v) {
    v = SqlValue{};
    bool negative = false;
    if (t.ch() == '-' || t.ch() == '+') {
      Token n = peek();
      if (n.kind != Tok::integer && n.kind != Tok::decimal) return false;
      negative = t.ch() == '-';
      t = next();
    }
    bool introducer = false;
    if (t.kind == Tok::word && !t.text.empty() && t.text[0] == '_' && peek().kind == Tok::string) {
      t = next();
      introducer = true;
    }
    switch (t.kind) {
      case Tok::integer: {
        int64_t x = 0;
        auto [ptr, ec] = std::from_chars(t.text.data(), t.text.data() + t.text.size(), x);
        if (ec == std::errc() && ptr == t.text.data() + t.text.size()) {
          v.kind = SqlValue::Kind::integer;
          v.integer = negative ? -x : x;
        } else {
          v.kind = SqlValue::Kind::decimal;
        }
        v.text = t.text;
        return true;
      }
      case Tok::decimal:
        v.kind = SqlValue::Kind::decimal;
        v.text = t.text;
        return true;
      case Tok::string:
        v.kind = SqlValue::Kind::string;
        v.text = t.text;
        v.has_escapes = t.has_escapes;
        v.introducer = introducer;
        return true;
      case Tok::placeholder:
        v.kind = SqlValue::Kind::placeholder;
        v.placeholder = static_cast<uint16_t>(placeholders_ - 1);
        return true;
      case Tok::word:
        if (t.is("NULL")) {
          v.kind = SqlValue::Kind::null;
          return true;
        }
        if (t.is("TRUE") || t.is("FALSE")) {
          v.kind = SqlValue::Kind::integer;
          v.integer = t.is("TRUE") ? 1 : 0;
          v.text = t.text;
          return true;
        }
        return false;
      default:
        return false;
    }
  }

  // After a value: does the expression end here?
  bool expression_ends(const Token& t) {
    return t.kind == Tok::end || t.ch() == ',' || t.ch() == ')' || t.ch() == ';' || t.is("AND") || t.is("OR") ||
           t.is("XOR") || (t.kind == Tok::other && (t.text == "&&" || t.text == "||")) || ends_where(t) || t.is("ON");
  }

  // A column reference: name [. name [. name]]; returns the last part.
  bool column(const Token& first, std::string_view& col) {
    if (!is_name(first) || (first.kind == Tok::word && (first.is("NOT") || first.is("EXISTS") || first.is("NULL") ||
                                                        first.is("TRUE") || first.is("FALSE")))) {
      return false;
    }
    col = first.text;
    while (peek().ch() == '.') {
      next();
      Token part = next();
      if (!is_name(part)) return false;
      col = part.text;
    }
    return peek().ch() != '(';  // a function call is not a column
  }

  bool add_values(std::string_view col, int32_t index, const SqlValue* vals, size_t n) {
    if (out_.condition_count >= ClassifiedSql::kMaxConditions || out_.value_count + n > ClassifiedSql::kMaxValues) {
      out_.values_truncated = true;
      return false;
    }
    KeyCondition& k = out_.conditions[out_.condition_count++];
    k.column = col;
    k.column_index = index;
    k.first_value = out_.value_count;
    k.value_count = static_cast<uint16_t>(n);
    for (size_t i = 0; i < n; ++i) out_.values[out_.value_count++] = vals[i];
    return true;
  }

  // Skips the rest of a group whose '(' was consumed, `t` being the last token read inside it.
  void finish_group(Token t) {
    int depth = 1;
    while (t.kind != Tok::end) {
      if (t.ch() == '(') ++depth;
      if (t.ch() == ')' && --depth == 0) return;
      t = next();
    }
  }

  // A row comparison `(c1, c2...) = (v1, v2...)` after its '(' (a multi-column key written as one
  // predicate): each column gets its value, as `c1 = v1 AND c2 = v2` would. Consumes the groups it
  // reads whatever their shape; false when they are something else.
  bool row_equality(bool keys) {
    constexpr size_t kMaxRow = ClassifiedSql::kMaxConditions;
    std::string_view cols[kMaxRow];
    size_t n = 0;
    while (true) {
      Token t = next();
      std::string_view col;
      if (!column(t, col) || n == kMaxRow) {
        finish_group(t);
        return false;
      }
      cols[n++] = col;
      Token sep = next();
      if (sep.ch() == ')') break;
      if (sep.ch() != ',') {
        finish_group(sep);
        return false;
      }
    }
    if (peek().ch() != '=') return false;
    next();
    if (peek().ch() != '(') return false;
    next();
    SqlValue vals[kMaxRow];
    size_t m = 0;
    while (true) {
      Token e = next();
      SqlValue v;
      if (m == n || !value(e, v) || (peek().ch() != ',' && peek().ch() != ')')) {
        finish_group(e);
        return false;
      }
      vals[m++] = v;
      if (next().ch() == ')') break;
    }
    if (m != n || !expression_ends(peek())) return false;
    if (keys)
      for (size_t i = 0; i < n; ++i) add_values(cols[i], -1, &vals[i], 1);
    return true;
  }

  // Skips the rest of a predicate up to a top-level AND / OR / end of the condition.
  Token skip_predicate() {
    int depth = 0;
    bool between = false;
    while (true) {
      Token t = next();
      if (t.kind == Tok::end) return t;
      if (t.ch() == '(') {
        ++depth;
        continue;
      }
      if (t.ch() == ')') {
        if (depth == 0) return t;
        --depth;
        continue;
      }
      if (depth > 0) continue;
      if (t.is("BETWEEN")) {
        between = true;
        continue;
      }
      if (t.is("AND") && between) {
        between = false;
        continue;
      }
      if (t.is("AND") || t.is("OR") || t.is("XOR") || (t.kind == Tok::other && (t.text == "&&" || t.text == "||")) ||
          ends_where(t)) {
        return t;
      }
    }
  }

  // WHERE (or INSERT ... SET) equalities. `separator` ',' for SET lists, else AND.
  void conditions(bool set_list) {
    bool keys = true;
    while (true) {
      Token t = next();
      Token after;
      std::string_view col;
      bool taken = false;
      if (t.kind == Tok::end) return;
      if (column(t, col)) {
        Token op = next();
        if (op.ch() == '=' || (set_list && op.kind == Tok::assign)) {
          SqlValue v;
          Token vt = next();
          if (value(vt, v) && expression_ends(peek())) {
            if (keys) add_values(col, -1, &v, 1);
            taken = true;
          } else {
            push(vt);
          }
        } else if (op.is("IN") && !set_list && peek().ch() == '(') {
          next();
          SqlValue vals[ClassifiedSql::kMaxValues];
          size_t n = 0;
          bool simple = true;
          while (true) {
            Token e = next();
            if (e.kind == Tok::end) break;
            SqlValue v;
            if (value(e, v) && (peek().ch() == ',' || peek().ch() == ')')) {
              if (n < ClassifiedSql::kMaxValues) {
                vals[n++] = v;
              } else {
                out_.values_truncated = true;
              }
            } else {
              simple = false;
              if (e.ch() == '(') skip_group();
            }
            Token sep = next();
            if (sep.ch() == ')') break;
            if (sep.ch() != ',') {
              simple = false;
              if (sep.kind == Tok::end) break;
              // Skip to the end of this list.
              if (sep.ch() == '(') skip_group();
              int depth = 0;
              while (true) {
                Token s = next();
                if (s.kind == Tok::end) break;
                if (s.ch() == '(') ++depth;
                if (s.ch() == ')') {
                  if (depth == 0) break;
                  --depth;
                }
              }
              break;
            }
          }
          if (simple && n > 0 && expression_ends(peek())) {
            if (keys) add_values(col, -1, vals, n);
            taken = true;
          }
        } else {
          push(op);
        }
      } else {
        SqlValue v;
        if (!set_list && value(t, v) && peek().ch() == '=') {
          next();
          Token ct = next();
          if (column(ct, col) && expression_ends(peek())) {
            if (keys) add_values(col, -1, &v, 1);
            taken = true;
          } else {
            push(ct);
          }
        } else if (t.ch() == '(' && !set_list) {
          if (peek().is("SELECT")) {
            out_.has_subquery = true;
            skip_group();
          } else {
            // `(a, b) = (1, 2)` gives each column its value; any other group is opaque (it may
            // hide an OR) and is skipped.
            taken = row_equality(keys);
          }
        } else {
          push(t);
        }
      }
      after = taken ? next() : skip_predicate();
      if (set_list) {
        if (after.ch() == ',') continue;
        push(after);
        return;
      }
      if (after.is("AND") || (after.kind == Tok::other && after.text == "&&")) continue;
      if (after.is("OR") || after.is("XOR") || (after.kind == Tok::other && after.text == "||")) {
        // An OR makes every equality optional: none of them pins a partition.
        keys = false;
        out_.condition_count = 0;
        out_.value_count = 0;
        continue;
      }
      push(after);
      return;
    }
  }

  // The rest of a statement after its WHERE, for FOR UPDATE / LOCK IN SHARE MODE.
  void tail() {
    int depth = 0;
    while (true) {
      Token t = next();
      if (t.kind == Tok::end || (depth == 0 && t.ch() == ';')) return;
      if (t.ch() == '(') ++depth;
      if (t.ch() == ')') --depth;
      if (depth != 0) continue;
      if (t.is("FOR") && (peek().is("UPDATE") || peek().is("SHARE"))) out_.for_update = true;
      if (t.is("LOCK") && peek().is("IN")) out_.for_update = true;
    }
  }

  void select_body() {
    // Up to FROM (the select list); then the table references and WHERE.
    int depth = 0;
    while (true) {
      Token t = next();
      if (t.kind == Tok::end) return;
      if (t.ch() == '(') {
        if (peek().is("SELECT")) out_.has_subquery = true;
        ++depth;
        continue;
      }
      if (t.ch() == ')') {
        if (depth == 0) return;
        --depth;
        continue;
      }
      if (depth > 0) continue;
      if (t.ch() == ';') return;
      if (t.is("FROM")) break;
      if (ends_where(t) && !t.is("INTO")) {
        push(t);
        tail();
        return;
      }
    }
    table_refs();
    Token t = next();
    if (t.is("WHERE")) {
      conditions(false);
    } else {
      push(t);
    }
    tail();
  }

  void insert_body() {
    Token t = next();
    while (is_any(t, {"LOW_PRIORITY", "DELAYED", "HIGH_PRIORITY", "IGNORE"})) t = next();
    if (t.is("INTO")) t = next();
    if (!is_name(t)) return;
    std::string_view db, table;
    table_name(t, &db, &table);
    add_table(db, table);
    t = next();
    if (t.is("PARTITION") && peek().ch() == '(') {
      next();
      skip_group();
      t = next();
    }
    std::string_view cols[kMaxInsertColumns];
    size_t ncols = 0;
    bool have_list = false;
    if (t.ch() == '(') {
      if (peek().is("SELECT") || peek().is("WITH")) return;  // INSERT INTO t (SELECT ...)
      have_list = true;
      while (true) {
        Token c = next();
        if (c.kind == Tok::end || c.ch() == ')') break;
        if (c.ch() == ',') continue;
        if (is_name(c)) {
          std::string_view col = c.text;
          while (peek().ch() == '.') {
            next();
            Token part = next();
            if (is_name(part)) col = part.text;
          }
          if (ncols < kMaxInsertColumns) cols[ncols++] = col;
        }
      }
      t = next();
    }
    if (t.is("SET")) {
      conditions(true);
      return;
    }
    if (!t.is("VALUES") && !t.is("VALUE")) return;  // INSERT ... SELECT: the target table only
    // Rows, row-major, then given to the columns.
    SqlValue cells[ClassifiedSql::kMaxValues];
    size_t rows = 0, width = 0, stored = 0;
    bool fits = true;
    while (true) {
      Token open = next();
      if (open.ch() != '(') {
        push(open);
        break;
      }
      size_t col = 0;
      while (true) {
        Token e = next();
        if (e.kind == Tok::end) break;
        if (e.ch() == ')') break;  // an empty row: INSERT INTO t VALUES ()
        SqlValue v;
        if (!(value(e, v) && (peek().ch() == ',' || peek().ch() == ')'))) {
          v = SqlValue{};
          v.kind = SqlValue::Kind::other;
          // Skip the expression to the next ',' or ')' of this row.
          if (e.ch() == '(') skip_group();
          int depth = 0;
          while (true) {
            Token s = peek();
            if (s.kind == Tok::end) break;
            if (depth == 0 && (s.ch() == ',' || s.ch() == ')')) break;
            next();
            if (s.ch() == '(') ++depth;
            if (s.ch() == ')') --depth;
          }
        }
        if (col < ClassifiedSql::kMaxConditions) {
          if (stored < ClassifiedSql::kMaxValues) {
            cells[stored++] = v;
          } else {
            fits = false;
          }
        }
        ++col;
        Token sep = next();
        if (sep.ch() == ')') break;
        if (sep.ch() != ',') {
          if (sep.kind == Tok::end) break;
        }
      }
      if (rows == 0) width = col;
      if (col != width) fits = false;  // rows of different widths: nothing to trust
      ++rows;
      Token sep = next();
      if (sep.ch() != ',') {
        push(sep);
        break;
      }
    }
    out_.insert_rows = static_cast<uint16_t>(rows > 65535 ? 65535 : rows);
    size_t kept_cols = width < ClassifiedSql::kMaxConditions ? width : ClassifiedSql::kMaxConditions;
    if (!fits || rows == 0 || stored != rows * kept_cols || rows * kept_cols > ClassifiedSql::kMaxValues) {
      if (rows > 0 && width > 0) out_.values_truncated = true;
      return;
    }
    for (size_t c = 0; c < kept_cols; ++c) {
      SqlValue column_values[ClassifiedSql::kMaxValues];
      for (size_t r = 0; r < rows; ++r) column_values[r] = cells[r * kept_cols + c];
      std::string_view name = have_list && c < ncols ? cols[c] : std::string_view();
      int32_t index = have_list ? -1 : static_cast<int32_t>(c);
      if (!add_values(name, index, column_values, rows)) return;
    }
  }

  void update_body() {
    Token t = next();
    while (is_any(t, {"LOW_PRIORITY", "IGNORE"})) t = next();
    push(t);
    table_refs();
    // SET assignments up to WHERE.
    int depth = 0;
    while (true) {
      Token u = next();
      if (u.kind == Tok::end) return;
      if (u.ch() == '(') ++depth;
      if (u.ch() == ')') --depth;
      if (depth == 0 && u.is("WHERE")) {
        conditions(false);
        tail();
        return;
      }
      if (depth == 0 && (u.ch() == ';' || u.is("ORDER") || u.is("LIMIT"))) return;
    }
  }

  void delete_body() {
    Token t = next();
    while (is_any(t, {"LOW_PRIORITY", "QUICK", "IGNORE"})) t = next();
    if (!t.is("FROM")) {
      // DELETE t1, t2 FROM ...: the targets, then the references.
      push(t);
      table_refs();
      t = next();
      if (!t.is("FROM")) return;
    }
    table_refs();
    t = next();
    if (t.is("USING")) {
      table_refs();
      t = next();
    }
    if (t.is("WHERE")) conditions(false);
  }

  // SET statement: which variables it assigns.
  void set_body() {
    if (peek().is("STATEMENT")) {
      // SET STATEMENT v = x [, ...] FOR <statement>: the settings last for that statement only;
      // the statement itself is what gets classified.
      out_.set_statement = true;
      int depth = 0;
      while (true) {
        Token s = next();
        if (s.kind == Tok::end || (depth <= 0 && s.ch() == ';')) return;
        if (s.ch() == '(') ++depth;
        if (s.ch() == ')') --depth;
        if (depth <= 0 && s.is("FOR")) break;
      }
      out_.type = StmtType::other;
      run();
      return;
    }
    if (peek().is("ROLE")) {
      next();
      Token role = next();
      out_.sets_role = true;
      if (is_name(role) || role.kind == Tok::string) out_.role = role.text;
      return;
    }
    bool global = false;
    while (true) {
      Token t = next();
      if (t.kind == Tok::end || t.ch() == ';') return;
      bool item_global = global;
      bool scoped = false;
      if (t.is("GLOBAL") || t.is("PERSIST") || t.is("PERSIST_ONLY")) {
        item_global = true;
        scoped = true;
        t = next();
      } else if (t.is("SESSION") || t.is("LOCAL")) {
        item_global = false;
        scoped = true;
        t = next();
      }
      std::string_view name;
      if (t.is("NAMES") || t.is("CHARSET") || (t.is("CHARACTER") && peek().is("SET"))) {
        out_.sets_session_variables = true;
      } else if (t.is("TRANSACTION")) {
        if (!item_global) out_.sets_session_variables = true;
        if (!scoped) out_.one_shot_transaction = true;
      } else if (t.kind == Tok::user_var) {
        out_.assigns_user_variables = true;
        out_.uses_user_variables = true;
      } else if (t.kind == Tok::sys_var) {
        std::string_view v = t.text;
        size_t dot = v.find('.');
        if (dot != std::string_view::npos) {
          std::string_view scope = v.substr(0, dot);
          item_global = scope.size() == 6 && (scope[0] == 'g' || scope[0] == 'G');
          v = v.substr(dot + 1);
        }
        name = v;
      } else if (is_name(t)) {
        name = t.text;
      }
      if (!name.empty()) {
        if (item_global) {
          out_.sets_global_variables = true;
        } else {
          out_.sets_session_variables = true;
          note_session_variable(name);
        }
      }
      // `= value` (or := value); look at autocommit's and timestamp's values.
      Token op = next();
      if (op.ch() == '=' || op.kind == Tok::assign) {
        Token vt = next();
        if (!item_global && Token{Tok::word, name}.is("TIMESTAMP") &&
            (vt.is("DEFAULT") || (vt.kind == Tok::integer && vt.text == "0")) &&
            (peek().kind == Tok::end || peek().ch() == ',' || peek().ch() == ';')) {
          out_.resets_timestamp = true;
        }
        if (!item_global && name.size() == 10 && Token{Tok::word, name}.is("AUTOCOMMIT")) {
          out_.sets_autocommit = true;
          SqlValue v;
          if (vt.is("ON") || vt.is("TRUE")) {
            out_.autocommit_value = true;
          } else if (vt.is("OFF") || vt.is("FALSE")) {
            out_.autocommit_value = false;
          } else if (value(vt, v) && v.kind == SqlValue::Kind::integer) {
            out_.autocommit_value = v.integer != 0;
          } else if (vt.kind == Tok::string) {
            out_.autocommit_value = !(Token{Tok::word, vt.text}.is("OFF") || vt.text == "0");
          }
        }
        push(vt);
      } else {
        push(op);
      }
      // To the next item.
      int depth = 0;
      while (true) {
        Token s = next();
        if (s.kind == Tok::end) return;
        if (s.ch() == '(') ++depth;
        if (s.ch() == ')') --depth;
        if (depth <= 0 && s.ch() == ',') break;
        if (depth <= 0 && s.ch() == ';') return;
      }
    }
  }

  void note_session_variable(std::string_view name) {
    for (uint8_t i = 0; i < out_.session_variable_count; ++i)
      if (out_.session_variables[i] == name) return;
    if (out_.session_variable_count == ClassifiedSql::kMaxSessionVariables) {
      out_.session_variables_truncated = true;
      return;
    }
    out_.session_variables[out_.session_variable_count++] = name;
  }

  // FLUSH ...: only the global read lock (WITH READ LOCK, FOR EXPORT) matters to the session.
  void flush_body() {
    Token prev;
    while (true) {
      Token t = next();
      if (t.kind == Tok::end || t.ch() == ';') return;
      if ((prev.is("READ") && t.is("LOCK")) || (prev.is("FOR") && t.is("EXPORT"))) out_.global_read_lock = true;
      prev = t;
    }
  }

  // BACKUP STAGE x | BACKUP LOCK t | BACKUP UNLOCK (MariaDB).
  void backup_body() {
    Token t = next();
    if (t.is("STAGE")) {
      Token stage = next();
      if (stage.is("END")) {
        out_.backup_unlock = true;
      } else {
        out_.backup_lock = true;
      }
    } else if (t.is("LOCK")) {
      out_.backup_lock = true;
    } else if (t.is("UNLOCK")) {
      out_.backup_unlock = true;
    }
  }

  void ddl_body(const Token& verb) {
    out_.type = StmtType::ddl;
    Token t = next();
    if (verb.is("TRUNCATE")) {
      if (t.is("TABLE")) t = next();
      if (is_name(t)) {
        std::string_view db, table;
        table_name(t, &db, &table);
        add_table(db, table);
      }
      return;
    }
    if (verb.is("RENAME")) {
      if (!t.is("TABLE")) return;
      t = next();
      if (is_name(t)) {
        std::string_view db, table;
        table_name(t, &db, &table);
        add_table(db, table);
      }
      return;
    }
    while (is_any(t, {"OR", "REPLACE", "ONLINE", "IGNORE", "TEMPORARY"}) || t.is("DEFINER")) {
      if (t.is("TEMPORARY")) {
        if (verb.is("CREATE")) out_.creates_temporary_table = true;
        if (verb.is("DROP")) out_.drops_temporary_table = true;
      }
      t = next();
    }
    if (!t.is("TABLE") && !t.is("TABLES")) return;
    t = next();
    if (t.is("IF")) {
      t = next();
      if (t.is("NOT")) t = next();
      if (t.is("EXISTS")) t = next();
    }
    while (is_name(t)) {
      std::string_view db, table;
      table_name(t, &db, &table);
      add_table(db, table);
      if (!verb.is("DROP") || peek().ch() != ',') break;
      next();
      t = next();
    }
  }

  void run() {
    Token t = next();
    while (t.ch() == '(') t = next();
    if (t.is("WITH")) {
      // Common table expressions: find the statement after them.
      int depth = 0;
      while (true) {
        t = next();
        if (t.kind == Tok::end) return;
        if (t.ch() == '(') {
          if (peek().is("SELECT")) out_.has_subquery = true;
          ++depth;
        } else if (t.ch() == ')') {
          --depth;
        } else if (depth == 0 && is_any(t, {"SELECT", "INSERT", "UPDATE", "DELETE", "REPLACE"})) {
          break;
        }
      }
    }
    if (t.is("SELECT")) {
      out_.type = StmtType::select;
      select_body();
    } else if (t.is("INSERT")) {
      out_.type = StmtType::insert;
      insert_body();
    } else if (t.is("REPLACE")) {
      out_.type = StmtType::replace;
      insert_body();
    } else if (t.is("UPDATE")) {
      out_.type = StmtType::update;
      update_body();
    } else if (t.is("DELETE")) {
      out_.type = StmtType::delete_;
      delete_body();
    } else if (t.is("SET")) {
      out_.type = StmtType::set;
      set_body();
    } else if (t.is("BEGIN")) {
      out_.type = StmtType::begin;
      out_.begins_transaction = true;
    } else if (t.is("START")) {
      if (next().is("TRANSACTION")) {
        out_.type = StmtType::begin;
        out_.begins_transaction = true;
        while (true) {
          Token m = next();
          if (m.kind == Tok::end || m.ch() == ';') break;
          if (m.is("ONLY")) out_.read_only_transaction = true;
          if (m.is("SNAPSHOT")) out_.with_consistent_snapshot = true;
        }
      }
    } else if (t.is("COMMIT")) {
      out_.type = StmtType::commit;
    } else if (t.is("ROLLBACK")) {
      Token n = next();
      if (n.is("WORK")) n = next();
      out_.type = n.is("TO") ? StmtType::savepoint : StmtType::rollback;
    } else if (t.is("SAVEPOINT") || (t.is("RELEASE") && peek().is("SAVEPOINT"))) {
      out_.type = StmtType::savepoint;
    } else if (t.is("USE")) {
      out_.type = StmtType::use;
      Token db = next();
      if (is_name(db)) out_.use_database = db.text;
    } else if (t.is("SHOW")) {
      out_.type = StmtType::show;
      Token n = next();
      if (n.is("WARNINGS") || n.is("ERRORS")) out_.show_warnings = true;
      if (n.is("COUNT")) {
        while (n.kind != Tok::end && n.ch() != ';') {
          if (n.is("WARNINGS") || n.is("ERRORS")) out_.show_warnings = true;
          n = next();
        }
      }
    } else if (t.is("EXPLAIN") || t.is("DESCRIBE") || t.is("DESC")) {
      out_.type = StmtType::explain;
    } else if (t.is("CALL")) {
      out_.type = StmtType::call;
    } else if (is_any(t, {"CREATE", "ALTER", "TRUNCATE", "RENAME"})) {
      ddl_body(t);
    } else if (t.is("DROP")) {
      if (peek().is("PREPARE")) {
        out_.type = StmtType::deallocate;
      } else {
        ddl_body(t);
      }
    } else if (t.is("LOCK")) {
      if (peek().is("TABLE") || peek().is("TABLES")) {
        out_.type = StmtType::lock_tables;
        next();
        table_refs_for_lock();
      } else if (peek().is("INSTANCE")) {
        out_.backup_lock = true;  // LOCK INSTANCE FOR BACKUP (MySQL)
      }
    } else if (t.is("UNLOCK")) {
      if (peek().is("INSTANCE")) {
        out_.backup_unlock = true;
      } else {
        out_.type = StmtType::unlock_tables;
      }
    } else if (t.is("FLUSH")) {
      flush_body();
    } else if (t.is("BACKUP")) {
      backup_body();
    } else if (t.is("PREPARE")) {
      out_.type = StmtType::prepare;
    } else if (t.is("EXECUTE")) {
      out_.type = StmtType::execute;
    } else if (t.is("DEALLOCATE")) {
      out_.type = StmtType::deallocate;
    } else if (t.is("DO")) {
      out_.type = StmtType::do_;
    } else if (t.is("LOAD")) {
      if (peek().is("DATA") || peek().is("XML")) {
        out_.type = StmtType::load_data;
        while (true) {
          Token n = next();
          if (n.kind == Tok::end) break;
          if (n.is("INTO") && peek().is("TABLE")) {
            next();
            Token name = next();
            if (is_name(name)) {
              std::string_view db, table;
              table_name(name, &db, &table);
              add_table(db, table);
            }
            break;
          }
        }
      }
    } else if (t.is("HANDLER")) {
      out_.type = StmtType::handler;
    } else if (t.is("XA")) {
      out_.type = StmtType::xa;
      if (peek().is("START") || peek().is("BEGIN")) out_.begins_transaction = true;
    } else if (t.is("KILL")) {
      out_.type = StmtType::kill;
    }
  }

  void table_refs_for_lock() {
    while (true) {
      Token t = next();
      if (!is_name(t)) return;
      std::string_view db, table;
      table_name(t, &db, &table);
      add_table(db, table);
      // alias / READ [LOCAL] / [LOW_PRIORITY] WRITE, up to ','
      while (true) {
        Token u = next();
        if (u.kind == Tok::end || u.ch() == ';') return;
        if (u.ch() == ',') break;
      }
    }
  }

 private:
  Lexer lx_;
  ClassifiedSql& out_;
  std::array<Token, 4> pushed_{};
  size_t pushed_count_ = 0;
  uint16_t placeholders_ = 0;
};

void reset(ClassifiedSql& o) {
  o.type = StmtType::other;
  o.table_count = 0;
  o.tables_truncated = false;
  o.condition_count = 0;
  o.value_count = 0;
  o.values_truncated = false;
  o.insert_rows = 0;
  o.read_consistency = Consistency::unset;
  o.query_timeout_us = -1;
  o.target_server = {};
  o.for_update = false;
  o.has_subquery = false;
  o.multi_statement = false;
  o.uses_found_rows = false;
  o.uses_last_insert_id = false;
  o.uses_connection_id = false;
  o.uses_lock_function = false;
  o.uses_user_variables = false;
  o.assigns_user_variables = false;
  o.sets_session_variables = false;
  o.sets_autocommit = false;
  o.autocommit_value = true;
  o.creates_temporary_table = false;
  o.drops_temporary_table = false;
  o.show_warnings = false;
  o.begins_transaction = false;
  o.read_only_transaction = false;
  o.with_consistent_snapshot = false;
  o.session_variable_count = 0;
  o.session_variables_truncated = false;
  o.sets_global_variables = false;
  o.resets_timestamp = false;
  o.one_shot_transaction = false;
  o.sets_role = false;
  o.role = {};
  o.set_statement = false;
  o.global_read_lock = false;
  o.backup_lock = false;
  o.backup_unlock = false;
  o.use_database = {};
  o.placeholder_count = 0;
}

// /*+ READ_CONSISTENCY(WEAK) QUERY_TIMEOUT(100) ODP_ROUTE_TO('ip:port') */
void parse_hints(std::string_view hint, ClassifiedSql& o) {
  Lexer lx(hint);
  while (true) {
    Token t = lx.next();
    if (t.kind == Tok::end) return;
    if (t.kind != Tok::word || lx.peek().ch() != '(') continue;
    lx.next();
    Token arg = lx.next();
    if (t.is("READ_CONSISTENCY")) {
      if (arg.is("WEAK") || arg.is("FROZEN")) o.read_consistency = Consistency::weak;
      if (arg.is("STRONG")) o.read_consistency = Consistency::strong;
    } else if (t.is("QUERY_TIMEOUT") && arg.kind == Tok::integer) {
      int64_t v = 0;
      auto [ptr, ec] = std::from_chars(arg.text.data(), arg.text.data() + arg.text.size(), v);
      if (ec == std::errc() && ptr == arg.text.data() + arg.text.size()) o.query_timeout_us = v;
    } else if (t.is("ODP_ROUTE_TO") && arg.kind == Tok::string) {
      o.target_server = arg.text;
    }
  }
}

// Pass 1: facts from anywhere in the text. One token of look-behind (no look-ahead: every token is
// lexed once).
void scan_facts(std::string_view text, ClassifiedSql& o) {
  Lexer lx(text);
  int depth = 0;
  bool ended = false;  // a top-level ';' was seen
  bool into = false;   // inside SELECT ... INTO @a, @b
  Token prev;
  while (true) {
    Token t = lx.next();
    if (t.kind == Tok::end) break;
    if (ended) {
      if (t.ch() != ';') {
        o.multi_statement = true;
        break;
      }
      continue;
    }
    switch (t.kind) {
      case Tok::placeholder:
        ++o.placeholder_count;
        into = false;
        break;
      case Tok::user_var:
        o.uses_user_variables = true;
        if (into || prev.is("INTO")) {
          o.assigns_user_variables = true;
          into = true;
        }
        break;
      case Tok::assign:
        if (prev.kind == Tok::user_var) o.assigns_user_variables = true;
        into = false;
        break;
      case Tok::punct:
        if (t.ch() == '(') {
          ++depth;
          if (prev.kind == Tok::word) {  // a function call: prev is its name
            if (prev.is("FOUND_ROWS") || prev.is("ROW_COUNT")) o.uses_found_rows = true;
            if (prev.is("LAST_INSERT_ID")) o.uses_last_insert_id = true;
            if (prev.is("CONNECTION_ID")) o.uses_connection_id = true;
            if (is_any(prev, {"GET_LOCK", "RELEASE_LOCK", "RELEASE_ALL_LOCKS", "IS_USED_LOCK", "IS_FREE_LOCK"}))
              o.uses_lock_function = true;
          }
        }
        if (t.ch() == ')') --depth;
        if (t.ch() == ';' && depth <= 0) ended = true;
        if (t.ch() != ',') into = false;
        break;
      case Tok::word:
        into = false;
        if (t.is("SQL_CALC_FOUND_ROWS")) o.uses_found_rows = true;
        break;
      default:
        into = false;
        break;
    }
    prev = t;
  }
  std::string_view h = lx.take_hint();
  if (!h.empty()) parse_hints(h, o);
}

}  // namespace

void classify_sql(std::string_view text, ClassifiedSql& out, size_t max_scan) {
  reset(out);
  if (text.size() > max_scan) text = text.substr(0, max_scan);
  scan_facts(text, out);
  Parser p(text, out);
  p.run();
  if (out.type != StmtType::select) out.for_update = false;
}

}  // namespace odp::routing
