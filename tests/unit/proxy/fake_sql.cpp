#include "tests/unit/proxy/fake_sql.h"

#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstdlib>

#include "tests/unit/proxy/fake_sql_lexer.h"

namespace odp::fakeio {

namespace {

using sql::lower;
using sql::Token;
using sql::tokenize;
using sql::upper;

std::optional<Tag> parse_pair(std::string_view v) {
  size_t dot = v.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  Tag t;
  auto a = std::from_chars(v.data(), v.data() + dot, t.client);
  auto b = std::from_chars(v.data() + dot + 1, v.data() + v.size(), t.seq);
  if (a.ec != std::errc() || a.ptr != v.data() + dot || b.ec != std::errc() || b.ptr != v.data() + v.size() ||
      t.client == 0)
    return std::nullopt;
  return t;
}

class Parser {
 public:
  Parser(std::string_view sql, std::vector<Token> toks) : sql_(sql), t_(std::move(toks)) {}

  const Token& peek(size_t ahead = 0) const { return t_[std::min(pos_ + ahead, t_.size() - 1)]; }
  const Token& next() { return t_[std::min(pos_++, t_.size() - 1)]; }
  bool take(std::string_view kw) {
    if (!peek().is(kw)) return false;
    ++pos_;
    return true;
  }
  bool take_sym(std::string_view s) {
    if (!peek().sym(s)) return false;
    ++pos_;
    return true;
  }
  bool at_end() const {
    const Token& t = peek();
    return t.k == Token::K::end || (t.sym(";") && t_[std::min(pos_ + 1, t_.size() - 1)].k == Token::K::end);
  }
  bool fail(const std::string& why) {
    if (error_.empty()) error_ = why;
    return false;
  }
  const std::string& error() const { return error_; }
  uint16_t placeholders() const { return placeholders_; }

  // An identifier (plain or `quoted`).
  bool name(std::string& out) {
    const Token& t = peek();
    if (t.k != Token::K::word && t.k != Token::K::quoted_ident) return fail("identifier expected");
    out = t.text;
    ++pos_;
    return true;
  }
  // [db.]table, lower-cased.
  bool table(std::string& out) {
    std::string a;
    if (!name(a)) return false;
    if (take_sym(".")) {
      std::string b;
      if (!name(b)) return false;
      out = lower(a) + "." + lower(b);
    } else {
      out = lower(a);
    }
    return true;
  }

  bool expr(Expr& e);
  bool variable_name(std::string& out) {
    std::string n;
    if (!name(n)) return false;
    out = lower(n);
    return true;
  }

 private:
  bool primary(Expr& e);
  bool call(Expr& e, std::string fname);

  std::string_view sql_;
  std::vector<Token> t_;
  size_t pos_ = 0;
  uint16_t placeholders_ = 0;
  std::string error_;
};

bool Parser::expr(Expr& e) {
  size_t start = peek().begin;
  if (!primary(e)) return false;
  size_t end = pos_ > 0 ? t_[pos_ - 1].end : start;
  e.text.assign(sql_.substr(start, end > start ? end - start : 0));
  return true;
}

bool Parser::primary(Expr& e) {
  const Token& t = peek();
  switch (t.k) {
    case Token::K::number: {
      ++pos_;
      e.kind = Expr::Kind::literal;
      if (t.text.find_first_of(".eE") != std::string::npos) {
        e.value = FakeValue::real(std::strtod(t.text.c_str(), nullptr));
      } else {
        int64_t v = 0;
        auto r = std::from_chars(t.text.data(), t.text.data() + t.text.size(), v);
        if (r.ec != std::errc()) return fail("number out of range");
        e.value = FakeValue::integer(v);
      }
      return true;
    }
    case Token::K::string:
      ++pos_;
      e.kind = Expr::Kind::literal;
      e.value = FakeValue::string(t.text);
      return true;
    case Token::K::hexstr:
      ++pos_;
      e.kind = Expr::Kind::literal;
      e.value = FakeValue::string(t.text, 63);
      return true;
    case Token::K::quoted_ident:
      ++pos_;
      e.kind = Expr::Kind::word;
      e.name = t.text;
      return true;
    case Token::K::sym:
      if (t.sym("?")) {
        ++pos_;
        e.kind = Expr::Kind::placeholder;
        e.placeholder = placeholders_++;
        return true;
      }
      if (t.sym("*")) {
        ++pos_;
        e.kind = Expr::Kind::star;
        return true;
      }
      if (t.sym("-")) {
        ++pos_;
        if (!primary(e)) return false;
        if (e.kind != Expr::Kind::literal || e.value.is_null() || e.value.kind == FakeValue::Kind::string)
          return fail("unary minus on a non-number");
        if (e.value.kind == FakeValue::Kind::integer)
          e.value = FakeValue::integer(-std::strtoll(e.value.text.c_str(), nullptr, 10));
        else
          e.value = FakeValue::real(-std::strtod(e.value.text.c_str(), nullptr));
        return true;
      }
      if (t.sym("(")) {
        ++pos_;
        if (!expr(e)) return false;
        return take_sym(")") || fail("')' expected");
      }
      if (t.sym("@@")) {
        ++pos_;
        e.kind = Expr::Kind::sysvar;
        if ((peek().is("GLOBAL") || peek().is("SESSION") || peek().is("LOCAL")) && peek(1).sym(".")) {
          e.global = peek().is("GLOBAL");
          pos_ += 2;
        }
        return variable_name(e.name);
      }
      if (t.sym("@")) {
        ++pos_;
        e.kind = Expr::Kind::uservar;
        if (peek().k == Token::K::string) {
          e.name = lower(next().text);
          return true;
        }
        return variable_name(e.name);
      }
      return fail("unexpected '" + t.text + "'");
    case Token::K::word: {
      ++pos_;
      std::string w = upper(t.text);
      if (w == "NULL") {
        e.kind = Expr::Kind::literal;
        e.value = FakeValue::null();
        return true;
      }
      if (w == "DEFAULT") {
        e.kind = Expr::Kind::default_;
        return true;
      }
      if (peek().sym("(")) return call(e, w);
      e.kind = Expr::Kind::word;
      e.name = t.text;
      return true;
    }
    case Token::K::end:
      return fail("unexpected end of statement");
  }
  return fail("bad expression");
}

bool Parser::call(Expr& e, std::string fname) {
  ++pos_;  // (
  e.kind = Expr::Kind::call;
  e.name = std::move(fname);
  if (take_sym(")")) return true;
  for (;;) {
    Expr a;
    if (!expr(a)) return false;
    e.args.push_back(std::move(a));
    if (e.name == "CONVERT" && take("USING")) {
      std::string cs;
      if (!name(cs)) return false;
      e.type = upper(cs);
    } else if (e.name == "CAST" && take("AS")) {
      std::string ty;
      if (!name(ty)) return false;
      e.type = upper(ty);
      if (take_sym("(")) {
        while (!peek().sym(")") && peek().k != Token::K::end) ++pos_;
        if (!take_sym(")")) return fail("')' expected");
      }
      if (peek().k == Token::K::word && !peek().sym(")")) {
        std::string more;
        name(more);
        e.type += " " + upper(more);
      }
    }
    if (take_sym(")")) return true;
    if (!take_sym(",")) return fail("',' or ')' expected in " + e.name + "()");
  }
}

bool parse_set(Parser& p, Stmt& s) {
  for (;;) {
    Assignment a;
    if (p.take_sym("@@")) {
      a.scope = Assignment::Scope::unscoped;
      if ((p.peek().is("GLOBAL") || p.peek().is("SESSION") || p.peek().is("LOCAL")) && p.peek(1).sym(".")) {
        a.scope = p.peek().is("GLOBAL") ? Assignment::Scope::global : Assignment::Scope::session;
        p.next();
        p.next();
      }
      if (!p.variable_name(a.name)) return false;
    } else if (p.take_sym("@")) {
      a.scope = Assignment::Scope::user;
      if (p.peek().k == Token::K::string) {
        a.name = lower(p.next().text);
      } else if (!p.variable_name(a.name)) {
        return false;
      }
    } else {
      if (p.take("GLOBAL")) {
        a.scope = Assignment::Scope::global;
      } else if (!p.take("SESSION")) {
        p.take("LOCAL");
      }
      if (p.peek().is("TRANSACTION") || p.peek().is("NAMES") || p.peek().is("ROLE"))
        return p.fail("unsupported SET form");
      if (!p.variable_name(a.name)) return false;
    }
    if (!p.take_sym("=") && !p.take_sym(":=")) return p.fail("'=' expected");
    if (!p.expr(a.value)) return false;
    s.assignments.push_back(std::move(a));
    if (p.at_end()) return true;
    if (!p.take_sym(",")) return p.fail("',' expected between assignments");
  }
}

bool parse_where_id(Parser& p, Stmt& s) {
  if (!p.take("WHERE")) return true;
  std::string col;
  if (!p.name(col) || lower(col) != "id" || !p.take_sym("=")) return p.fail("only WHERE id = value is known");
  Expr e;
  if (!p.expr(e)) return false;
  s.where_id = std::move(e);
  return true;
}

bool parse_select(Parser& p, Stmt& s) {
  for (;;) {
    Expr e;
    if (!p.expr(e)) return false;
    if (p.take("AS")) {
      std::string alias;
      if (!p.name(alias)) return false;
      e.text = alias;
    }
    s.items.push_back(std::move(e));
    if (!p.take_sym(",")) break;
  }
  if (p.take("FROM")) {
    if (!p.table(s.table)) return false;
    if (!parse_where_id(p, s)) return false;
  }
  return true;
}

bool parse_insert(Parser& p, Stmt& s) {
  if (!p.take("INTO")) return p.fail("INTO expected");
  if (!p.table(s.table)) return false;
  if (p.take_sym("(")) {
    for (;;) {
      std::string c;
      if (!p.name(c)) return false;
      s.columns.push_back(lower(c));
      if (p.take_sym(")")) break;
      if (!p.take_sym(",")) return p.fail("',' expected in the column list");
    }
  }
  if (!p.take("VALUES") || !p.take_sym("(")) return p.fail("VALUES ( expected");
  for (;;) {
    Expr e;
    if (!p.expr(e)) return false;
    s.items.push_back(std::move(e));
    if (p.take_sym(")")) break;
    if (!p.take_sym(",")) return p.fail("',' expected in VALUES");
  }
  return true;
}

bool parse_update(Parser& p, Stmt& s) {
  if (!p.table(s.table)) return false;
  std::string col;
  if (!p.take("SET") || !p.name(col) || lower(col) != "v" || !p.take_sym("=")) return p.fail("SET v = expected");
  Expr e;
  if (!p.expr(e)) return false;
  s.set_value = std::move(e);
  return parse_where_id(p, s);
}

bool parse_kill(Parser& p, Stmt& s) {
  if (!p.take("HARD")) p.take("SOFT");
  if (p.take("QUERY")) {
    s.kill_query = true;
  } else {
    p.take("CONNECTION");
  }
  const Token& t = p.next();
  if (t.k != Token::K::number) return p.fail("thread id expected");
  s.number = std::strtoull(t.text.c_str(), nullptr, 10);
  return true;
}

bool parse_body(Parser& p, Stmt& s) {
  if (p.take("SET")) {
    s.kind = Stmt::Kind::set;
    return parse_set(p, s);
  }
  if (p.take("SELECT")) {
    s.kind = Stmt::Kind::select;
    return parse_select(p, s);
  }
  if (p.take("USE")) {
    s.kind = Stmt::Kind::use;
    return p.name(s.name);
  }
  if (p.take("BEGIN")) {
    s.kind = Stmt::Kind::begin;
    p.take("WORK");
    return true;
  }
  if (p.take("START")) {
    s.kind = Stmt::Kind::begin;
    if (!p.take("TRANSACTION")) return p.fail("TRANSACTION expected");
    while (!p.at_end()) p.next();
    return true;
  }
  if (p.take("COMMIT")) {
    s.kind = Stmt::Kind::commit;
    p.take("WORK");
    return true;
  }
  if (p.take("INSERT")) {
    s.kind = Stmt::Kind::insert;
    return parse_insert(p, s);
  }
  if (p.take("UPDATE")) {
    s.kind = Stmt::Kind::update;
    return parse_update(p, s);
  }
  if (p.take("CREATE")) {
    if (!p.take("TEMPORARY") || !p.take("TABLE")) return p.fail("only CREATE TEMPORARY TABLE is known");
    s.kind = Stmt::Kind::create_temp;
    if (!p.table(s.table)) return false;
    while (!p.at_end()) p.next();  // the column list is not looked at
    return true;
  }
  if (p.take("DROP")) {
    if (!p.take("TEMPORARY") || !p.take("TABLE")) return p.fail("only DROP TEMPORARY TABLE is known");
    s.kind = Stmt::Kind::drop_temp;
    if (p.take("IF") && !p.take("EXISTS")) return p.fail("EXISTS expected");
    return p.table(s.table);
  }
  if (p.take("CALL")) {
    s.kind = Stmt::Kind::call;
    std::string proc;
    if (!p.name(proc)) return false;
    s.name = lower(proc);
    if (!p.take_sym("(")) return p.fail("'(' expected");
    while (!p.take_sym(")")) {
      Expr e;
      if (!p.expr(e)) return false;
      s.items.push_back(std::move(e));
      p.take_sym(",");
    }
    return true;
  }
  if (p.take("KILL")) {
    s.kind = Stmt::Kind::kill;
    return parse_kill(p, s);
  }
  if (p.take("DO")) {
    s.kind = Stmt::Kind::do_;
    Expr e;
    if (!p.expr(e)) return false;
    s.items.push_back(std::move(e));
    return true;
  }
  return p.fail("unknown statement");
}

}  // namespace

std::string tag_comment(Tag t) {
  return " /*sim " + tag_text(t) + "*/";
}
std::string tag_value(Tag t) {
  return "sim:" + tag_text(t);
}
std::string tag_text(Tag t) {
  return std::to_string(t.client) + "." + std::to_string(t.seq);
}

std::optional<Tag> find_tag_comment(std::string_view sql) {
  // The tag is the statement's last comment: look from the end (16 MiB statements stay cheap).
  size_t at = sql.rfind("/*sim ");
  if (at == std::string_view::npos) return std::nullopt;
  size_t end = sql.find("*/", at);
  if (end == std::string_view::npos) return std::nullopt;
  return parse_pair(sql.substr(at + 6, end - at - 6));
}

std::optional<Tag> parse_tag_value(std::string_view v) {
  if (v.substr(0, 4) != "sim:") return std::nullopt;
  return parse_pair(v.substr(4));
}

FakeValue FakeValue::null() {
  return FakeValue{};
}
FakeValue FakeValue::null_of(Kind type) {
  FakeValue v;
  v.type = type;
  v.typed_null = true;
  return v;
}
FakeValue FakeValue::integer(int64_t i) {
  FakeValue v;
  v.kind = v.type = Kind::integer;
  v.text = std::to_string(i);
  return v;
}
FakeValue FakeValue::real(double d) {
  FakeValue v;
  v.kind = v.type = Kind::real;
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", d);
  v.text = buf;
  return v;
}
FakeValue FakeValue::string(std::string s, uint8_t charset) {
  FakeValue v;
  v.kind = v.type = Kind::string;
  v.text = std::move(s);
  v.charset = charset;
  return v;
}

std::string value_text(const FakeValue& v) {
  return v.is_null() ? "NULL" : v.text;
}

Stmt parse_statement(std::string_view sql) {
  Stmt s;
  s.tag = find_tag_comment(sql);
  // The legacy result-shape statements of the first fake-IO suite are not SQL.
  auto number_after = [&](std::string_view prefix) {
    return std::strtoull(std::string(sql.substr(prefix.size(), 24)).c_str(), nullptr, 10);
  };
  if (sql.rfind("SELECT rows=", 0) == 0) {
    s.kind = Stmt::Kind::legacy_rows;
    s.number = number_after("SELECT rows=");
    return s;
  }
  if (sql.rfind("SELECT big=", 0) == 0) {
    s.kind = Stmt::Kind::legacy_big;
    s.number = number_after("SELECT big=");
    return s;
  }
  if (sql.rfind("LOAD DATA LOCAL INFILE", 0) == 0) {
    s.kind = Stmt::Kind::load_infile;
    return s;
  }
  std::vector<Token> toks;
  if (!tokenize(sql, toks)) {
    s.error = "unterminated literal or comment";
    return s;
  }
  Parser p(sql, std::move(toks));
  // COMMIT and ROLLBACK are told apart by their first word.
  if (p.peek().is("ROLLBACK")) {
    p.next();
    p.take("WORK");
    s.kind = Stmt::Kind::rollback;
  } else if (!parse_body(p, s)) {
    s.kind = Stmt::Kind::invalid;
    s.error = p.error();
    return s;
  }
  if (!p.at_end()) {
    s.kind = Stmt::Kind::invalid;
    s.error = "unexpected '" + p.peek().text + "'";
    return s;
  }
  s.placeholders = p.placeholders();
  return s;
}

}  // namespace odp::fakeio
