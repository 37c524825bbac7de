#pragma once
// What a fake client does: its login options and a script of steps, chosen from the seed. The
// first suite's steps exercise response shapes and protocol paths (big rows, multi-results, LOCAL
// INFILE, compression); the others exercise the session through the pool and the router: session
// and user variables set and read back, databases, the partitioned table (writes with unique row
// ids, reads of them, transactions kept on one partition), temporary tables, prepared
// statements, long statements and KILLs of other clients.
#include <cstdint>
#include <string>
#include <vector>

#include "tests/unit/proxy/fake_io.h"
#include "tests/unit/proxy/fake_mysql.h"

namespace odp::fakeio {

enum class StepKind : uint8_t {
  // --- the first suite's ---
  select,       // SELECT rows=N (a: N)
  big_select,   // 16 MiB rows
  ok,           // DO ok
  err,          // DO err: the server's ERR
  multi,        // CALL multi(n): several result sets
  infile,       // LOAD DATA LOCAL INFILE
  big_insert,   // a 16 MiB statement (streamed)
  ping,         // COM_PING
  init_db,      // COM_INIT_DB (a: database index)
  prepare,      // COM_STMT_PREPARE "SELECT ?"
  execute,      // COM_STMT_EXECUTE of it
  stmt_close,   // COM_STMT_CLOSE (a statement of the client's)
  sleep,        // SELECT SLEEP(1000000): never answers
  change_user,  // COM_CHANGE_USER (a: database index, 0 = none)
  // --- session state ---
  set_sysvar,        // a: variable, b: syntax (0 SESSION x, 1 @@SESSION.x, 2 x, 3 @@x; 4: SESSION x = DEFAULT)
  set_uservar,       // a: variable (0 string, 1 integer, 2 real), b: 1 = NULL
  read_sysvar,       // a: variable
  read_uservar,      // a: variable
  read_database,     // SELECT DATABASE()
  use_db,            // USE db (a: database index; kDatabases.size() = one that does not exist)
  reset_connection,  // COM_RESET_CONNECTION
  set_consistency,   // SET ob_read_consistency = 'WEAK' / 'STRONG' (a: 1 = weak): odp answers itself
  // --- the partitioned table ---
  insert_row,  // a new row of the client's
  update_row,  // appends to one of its rows
  read_row,    // reads one of its rows
  begin,
  commit,
  rollback,
  // --- temporary tables ---
  create_temp,
  drop_temp,
  read_temp,
  call_make_temp,  // a procedure that creates t_tmp (state odp cannot explain)
  // --- prepared statements on the table ---
  prepare_read,
  prepare_write,
  execute_read,
  execute_write,
  // --- long statements and KILL (a: the target client) ---
  sleep_short,      // SELECT SLEEP(2)
  kill_query,       // KILL QUERY <id>
  kill_connection,  // KILL CONNECTION <id>
  process_kill,     // COM_PROCESS_KILL <id>
};
const char* step_name(StepKind k);

struct Step {
  StepKind kind = StepKind::ping;
  uint32_t a = 0;
  uint32_t b = 0;
  Step() = default;
  Step(StepKind k, uint32_t a_ = 0, uint32_t b_ = 0) : kind(k), a(a_), b(b_) {}  // NOLINT: implicit on purpose
};

// Sent without waiting for earlier answers when the client pipelines.
bool pipelinable(StepKind k);
// Sent without a tag: the server attributes it to the client waiting on the connection, so it
// goes out alone.
bool solo(StepKind k);

struct ClientPlan {
  std::string user = kUser;
  std::string password = kPassword;
  bool other_plugin = false;  // starts with caching_sha2_password: the proxy switches it
  bool compress = false;
  bool deprecate_eof = false;
  bool session_track = false;  // asks for CLIENT_SESSION_TRACK (else odp strips the records)
  std::string database;
  bool stall_login = false;  // never answers the greeting
  bool quit_at_end = true;
  uint64_t vanish_after_bytes = UINT64_MAX;  // aborts after this many response bytes
  std::vector<Step> script;
  bool pipeline = false;  // sends pipelinable commands without waiting for the previous answer
  // Compressed: numbers inner packets as Connector/J does (a command's first chunk 1, its further
  // chunks counting by 2, file contents from 7); servers must still see 0, 1, 2, ...
  bool loose_inner_seq = false;
};

struct ScriptOptions {
  uint32_t client = 1;   // this client's number (1-based)
  uint32_t clients = 1;  // how many there are (KILL targets)
  size_t steps = 10;
  bool legacy = true;  // the first suite's steps too
  bool big = false;    // 16 MiB rows and statements
  bool sleep_forever = false;
  bool kills = false;
};
std::vector<Step> random_script(Rng& r, const ScriptOptions& o);

}  // namespace odp::fakeio
