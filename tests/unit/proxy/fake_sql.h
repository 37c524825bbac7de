#pragma once
// The SQL the fake servers understand: exactly what the fake clients send and what odp sends on
// its own behalf (session-state replay, reading variables back, KILL, the held BEGIN), parsed by a
// small tokenizer into one Stmt. A client statement names the command it belongs to with a tag,
// a trailing comment `/*sim C.S*/` (client C's command number S) or, in prepared statements, a
// parameter value `sim:C.S`: the fake servers file their answers under it, so that a client can
// compare what it received with what a server generated for that very command.
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace odp::fakeio {

struct Tag {
  uint32_t client = 0;  // the client's number, which is also its odp connection id (1-based)
  uint32_t seq = 0;     // the client's command number
  bool valid() const { return client != 0; }
  auto operator<=>(const Tag&) const = default;
};
std::string tag_comment(Tag t);  // " /*sim 3.17*/"
std::string tag_value(Tag t);    // "sim:3.17"
std::string tag_text(Tag t);     // "3.17", for messages
std::optional<Tag> find_tag_comment(std::string_view sql);
std::optional<Tag> parse_tag_value(std::string_view v);

// What a variable or an expression holds on a fake server. A NULL keeps the type of the value it
// replaced (MariaDB's user variables do: CREATE TABLE ... AS SELECT @v shows it).
struct FakeValue {
  enum class Kind : uint8_t { null, integer, real, string };
  Kind kind = Kind::null;
  Kind type = Kind::string;  // the value's type; for a NULL the type it keeps
  std::string text;          // integers "42", reals as printed by "%.17g", strings their bytes
  uint8_t charset = 45;      // strings: 45 utf8mb4, 63 binary
  bool typed_null = false;   // a NULL that came with a type (CAST(NULL AS SIGNED)...)

  bool is_null() const { return kind == Kind::null; }
  static FakeValue null();
  static FakeValue null_of(Kind type);
  static FakeValue integer(int64_t v);
  static FakeValue real(double v);
  static FakeValue string(std::string s, uint8_t charset = 45);
  bool operator==(const FakeValue&) const = default;
};

struct Expr {
  enum class Kind : uint8_t { literal, sysvar, uservar, call, default_, word, placeholder, star };
  Kind kind = Kind::literal;
  FakeValue value;           // literal
  std::string name;          // sysvar / uservar (lower-cased), call (upper-cased), word (as written)
  bool global = false;       // @@GLOBAL.name
  std::vector<Expr> args;    // call arguments
  std::string type;          // CAST(x AS type) / CONVERT(x USING charset), upper-cased
  uint16_t placeholder = 0;  // index of a `?`
  std::string text;          // the expression as written (a result column's name)
};

struct Assignment {
  enum class Scope : uint8_t {
    user,      // @u = v
    session,   // @@SESSION.x = v, SESSION x = v, x = v
    unscoped,  // @@x = v (MariaDB's tracker does not report these)
    global,    // @@GLOBAL.x = v, GLOBAL x = v
  };
  Scope scope = Scope::session;
  std::string name;  // lower-cased
  Expr value;
};

struct Stmt {
  enum class Kind : uint8_t {
    invalid,
    set,
    select,  // SELECT items [FROM table [WHERE id = expr]]
    use,
    begin,
    commit,
    rollback,
    insert,  // INSERT INTO table [(cols)] VALUES (exprs)
    update,  // UPDATE table SET v = expr WHERE id = expr
    create_temp,
    drop_temp,
    call,  // CALL name(args)
    kill,
    do_,  // DO expr
    load_infile,
    legacy_rows,  // SELECT rows=N
    legacy_big,   // SELECT big=N
  };
  Kind kind = Kind::invalid;
  std::optional<Tag> tag;
  std::vector<Assignment> assignments;  // set
  std::vector<Expr> items;              // select items, call arguments, insert values, do expression
  std::string table;                    // lower-cased, with its database when qualified ("test.kv")
  std::vector<std::string> columns;     // insert column list
  std::optional<Expr> where_id;         // WHERE id = expr
  std::optional<Expr> set_value;        // UPDATE ... SET v = expr
  std::string name;                     // use: the database; call: the procedure (lower-cased)
  bool kill_query = false;
  uint64_t number = 0;  // kill: the thread id; legacy: N
  uint16_t placeholders = 0;
  std::string error;  // invalid: why
};

// Parses one statement. Never fails: an unknown statement comes back as Kind::invalid.
Stmt parse_statement(std::string_view sql);

// A value as a server prints it in a text result or a session-track record.
std::string value_text(const FakeValue& v);

}  // namespace odp::fakeio
