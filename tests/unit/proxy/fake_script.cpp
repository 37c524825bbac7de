#include "tests/unit/proxy/fake_script.h"

namespace odp::fakeio {

const char* step_name(StepKind k) {
  switch (k) {
    case StepKind::select:
      return "select";
    case StepKind::big_select:
      return "big_select";
    case StepKind::ok:
      return "ok";
    case StepKind::err:
      return "err";
    case StepKind::multi:
      return "multi";
    case StepKind::infile:
      return "infile";
    case StepKind::big_insert:
      return "big_insert";
    case StepKind::ping:
      return "ping";
    case StepKind::init_db:
      return "init_db";
    case StepKind::prepare:
      return "prepare";
    case StepKind::execute:
      return "execute";
    case StepKind::stmt_close:
      return "stmt_close";
    case StepKind::sleep:
      return "sleep";
    case StepKind::change_user:
      return "change_user";
    case StepKind::set_sysvar:
      return "set_sysvar";
    case StepKind::set_uservar:
      return "set_uservar";
    case StepKind::read_sysvar:
      return "read_sysvar";
    case StepKind::read_uservar:
      return "read_uservar";
    case StepKind::read_database:
      return "read_database";
    case StepKind::use_db:
      return "use_db";
    case StepKind::reset_connection:
      return "reset_connection";
    case StepKind::set_consistency:
      return "set_consistency";
    case StepKind::insert_row:
      return "insert_row";
    case StepKind::update_row:
      return "update_row";
    case StepKind::read_row:
      return "read_row";
    case StepKind::begin:
      return "begin";
    case StepKind::commit:
      return "commit";
    case StepKind::rollback:
      return "rollback";
    case StepKind::create_temp:
      return "create_temp";
    case StepKind::drop_temp:
      return "drop_temp";
    case StepKind::read_temp:
      return "read_temp";
    case StepKind::call_make_temp:
      return "call_make_temp";
    case StepKind::prepare_read:
      return "prepare_read";
    case StepKind::prepare_write:
      return "prepare_write";
    case StepKind::execute_read:
      return "execute_read";
    case StepKind::execute_write:
      return "execute_write";
    case StepKind::sleep_short:
      return "sleep_short";
    case StepKind::kill_query:
      return "kill_query";
    case StepKind::kill_connection:
      return "kill_connection";
    case StepKind::process_kill:
      return "process_kill";
  }
  return "?";
}

bool pipelinable(StepKind k) {
  switch (k) {
    case StepKind::select:
    case StepKind::ok:
    case StepKind::err:
    case StepKind::multi:
    case StepKind::set_sysvar:
    case StepKind::set_uservar:
    case StepKind::read_sysvar:
    case StepKind::read_uservar:
    case StepKind::read_database:
    case StepKind::use_db:
    case StepKind::insert_row:
    case StepKind::update_row:
    case StepKind::read_row:
    case StepKind::begin:
    case StepKind::commit:
    case StepKind::rollback:
    case StepKind::create_temp:
    case StepKind::drop_temp:
    case StepKind::read_temp:
    case StepKind::set_consistency:
      return true;
    default:
      return false;
  }
}

bool solo(StepKind k) {
  switch (k) {
    case StepKind::ping:
    case StepKind::init_db:
    case StepKind::reset_connection:
    case StepKind::kill_query:
    case StepKind::kill_connection:
    case StepKind::process_kill:
      return true;
    default:
      return false;
  }
}

namespace {

StepKind legacy_step(Rng& r, bool big, bool sleep_forever) {
  static constexpr StepKind kSteps[] = {StepKind::select,  StepKind::select,     StepKind::ok,
                                        StepKind::err,     StepKind::multi,      StepKind::infile,
                                        StepKind::ping,    StepKind::init_db,    StepKind::prepare,
                                        StepKind::execute, StepKind::stmt_close, StepKind::change_user};
  if (big && r.chance(300)) return r.chance(500) ? StepKind::big_select : StepKind::big_insert;
  if (sleep_forever && r.chance(100)) return StepKind::sleep;
  return kSteps[r.below(sizeof kSteps / sizeof kSteps[0])];
}

// A transaction: BEGIN, a few statements on one partition's rows, COMMIT or ROLLBACK.
void transaction(Rng& r, std::vector<Step>& out) {
  out.emplace_back(StepKind::begin, static_cast<uint32_t>(r.below(kPartitions)));
  size_t n = 1 + r.below(4);
  for (size_t i = 0; i < n; ++i) {
    switch (r.below(6)) {
      case 0:
      case 1:
        out.emplace_back(StepKind::insert_row);
        break;
      case 2:
        out.emplace_back(StepKind::update_row);
        break;
      case 3:
        out.emplace_back(StepKind::read_row);
        break;
      case 4:
        out.emplace_back(StepKind::set_uservar, static_cast<uint32_t>(r.below(3)));
        break;
      default:
        out.emplace_back(StepKind::read_sysvar, static_cast<uint32_t>(r.below(kClientVariableCount)));
        break;
    }
  }
  out.emplace_back(r.chance(750) ? StepKind::commit : StepKind::rollback);
}

}  // namespace

std::vector<Step> random_script(Rng& r, const ScriptOptions& o) {
  std::vector<Step> out;
  auto var = [&](uint32_t n) { return static_cast<uint32_t>(r.below(n)); };
  while (out.size() < o.steps) {
    uint64_t pick = r.below(100);
    if (o.legacy && pick < 12) {
      StepKind k = legacy_step(r, o.big, o.sleep_forever);
      uint32_t rows = static_cast<uint32_t>(r.chance(50) ? r.range(100, 2000) : r.below(30));
      out.emplace_back(k, k == StepKind::init_db ? var(3) : k == StepKind::change_user ? var(3) : rows);
    } else if (pick < 24) {
      out.emplace_back(StepKind::set_sysvar, var(kClientVariableCount), r.chance(100) ? 4 : var(4));
    } else if (pick < 32) {
      out.emplace_back(StepKind::set_uservar, var(3), r.chance(150) ? 1 : 0);
    } else if (pick < 42) {
      out.emplace_back(StepKind::read_sysvar, var(kClientVariableCount));
    } else if (pick < 50) {
      out.emplace_back(StepKind::read_uservar, var(3));
    } else if (pick < 53) {
      out.emplace_back(StepKind::use_db, r.chance(100) ? 3 : var(3));
    } else if (pick < 55) {
      out.emplace_back(StepKind::read_database);
    } else if (pick < 56) {
      out.emplace_back(StepKind::init_db, var(3));
    } else if (pick < 63) {
      out.emplace_back(StepKind::insert_row);
    } else if (pick < 66) {
      out.emplace_back(StepKind::update_row);
    } else if (pick < 70) {
      out.emplace_back(StepKind::read_row);
    } else if (pick < 76) {
      transaction(r, out);
    } else if (pick < 79) {
      static constexpr StepKind kTemp[] = {StepKind::create_temp, StepKind::drop_temp, StepKind::read_temp,
                                           StepKind::call_make_temp};
      out.emplace_back(kTemp[r.below(4)]);
    } else if (pick < 81) {
      out.emplace_back(r.chance(500) ? StepKind::prepare_read : StepKind::prepare_write);
    } else if (pick < 87) {
      out.emplace_back(r.chance(500) ? StepKind::execute_read : StepKind::execute_write);
    } else if (pick < 88) {
      out.emplace_back(StepKind::reset_connection);
    } else if (pick < 89) {
      out.emplace_back(StepKind::change_user, var(3));
    } else if (pick < 90) {
      out.emplace_back(StepKind::ping);
    } else if (pick < 91) {
      // Weak reads go to followers (the table is shared: they read what the leader has).
      out.emplace_back(StepKind::set_consistency, r.chance(700) ? 1 : 0);
    } else if (pick < 94) {
      out.emplace_back(StepKind::sleep_short);
    } else if (o.kills && o.clients > 1) {
      uint32_t target = 1 + static_cast<uint32_t>(r.below(o.clients - 1));
      if (target >= o.client) ++target;
      static constexpr StepKind kKills[] = {StepKind::kill_query, StepKind::kill_query, StepKind::kill_connection,
                                            StepKind::process_kill};
      out.emplace_back(kKills[r.below(4)], target);
    } else {
      out.emplace_back(StepKind::read_row);
    }
  }
  return out;
}

}  // namespace odp::fakeio
