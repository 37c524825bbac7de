#pragma once
// What one fake client expects of its session, whatever server or connection answers: the
// session variables, user variables, database and temporary table it last set (never another
// client's), its rows in the shared table (present exactly when their writes were applied), its
// prepared statements. Each answer is checked against that model and updates it; an answer whose
// effect the client cannot know (odp's own error, a lost connection) widens the model to every
// possibility instead. The writes and what the client was told of each are kept for the oracle.
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "tests/unit/proxy/fake_records.h"
#include "tests/unit/proxy/fake_script.h"
#include "tests/unit/proxy/fake_sql.h"

namespace odp::fakeio {

// One command the client sent, with what it carried.
struct Sent {
  Step step;
  Tag tag;
  bool solo = false;
  std::string var;    // variable name
  std::string value;  // value set (text), or the row's value / appended text
  FakeValue::Kind type = FakeValue::Kind::string;
  bool null = false;
  int64_t row = 0;
  std::string db;
  uint32_t stmt = 0;    // the odp statement id used
  uint32_t target = 0;  // KILL: the target client
  uint32_t tx = 0;      // the transaction it belongs to (0: none)
  bool infile_sent = false;
  // How far the bytes received were found equal to each of the servers' answers (UINT64_MAX: not
  // that one), by answer and variant (FakeClient::match).
  std::vector<uint64_t> verified;
};

// What came back for it.
struct Outcome {
  enum class Kind : uint8_t { server, local_ok, local_err, lost };
  Kind kind = Kind::lost;
  const ResultInfo* info = nullptr;  // server
  uint16_t code = 0;                 // local_err
  std::string message;
  uint32_t odp_stmt_id = 0;  // a PREPARE_OK's statement id as the client got it
};

enum class WriteState : uint8_t {
  sent,         // no answer yet
  acked,        // the server's OK reached the client (and the transaction's COMMIT too): applied once
  failed,       // the server's ERR, or the transaction rolled back: never applied
  unknown,      // odp's own error or no answer: at most once
  tx_acked,     // OK inside a transaction still open
  tx_unknown,   // no sure answer inside a transaction still open
  uncommitted,  // its transaction never committed: never applied
};
const char* write_state_name(WriteState s);

struct WriteNote {
  Tag tag;
  int64_t row = 0;
  bool insert = true;
  uint32_t tx = 0;
  WriteState state = WriteState::sent;
  bool local_error = false;  // the client got odp's own ERR for it (or for its COMMIT)
  Tag applied_by;            // the statement whose answer says it was applied (itself, or its COMMIT)
};

class ClientModel {
 public:
  ClientModel(uint32_t client, std::string login_db, bool strict);

  // Before a command goes out (writes are noted when sent).
  void sending(Sent& s);
  void answered(const Sent& s, const Outcome& o);
  // The connection ended: transactions left open never committed.
  void ended();

  // For building commands.
  int64_t new_row(int partition);
  std::optional<int64_t> some_row(Rng& r, bool in_partition, int partition) const;
  std::optional<uint32_t> some_statement(Rng& r, int kind) const;  // 0 legacy, 1 read, 2 write
  int tx_partition() const { return tx_partition_; }
  bool in_tx_sending() const { return sending_tx_ != 0; }
  uint32_t client() const { return client_; }

  const std::string& failure() const { return failure_; }
  // odp answered one of the client's commands with its own error `code`.
  bool saw_local_error(uint16_t code) const { return local_codes_.count(code) != 0; }
  const std::vector<WriteNote>& writes() const { return writes_; }
  // What came back for the command with this tag (nullopt: never answered or never sent).
  std::optional<Outcome::Kind> outcome(Tag t) const {
    auto it = outcomes_.find(t);
    if (it == outcomes_.end()) return std::nullopt;
    return it->second;
  }
  bool strict() const { return strict_; }
  void set_strict(bool strict) { strict_ = strict; }
  // KILLs fly in this run (odp's own errors may then cut any command short).
  void set_kills(bool kills) { kills_ = kills; }

 private:
  struct UserValue {
    std::optional<std::string> text;
    std::optional<FakeValue::Kind> type;  // nullopt: any type
    bool operator==(const UserValue&) const = default;
  };
  struct StmtNote {
    int kind = 0;
    Tag prepared;
  };
  enum class Tri : uint8_t { no, yes, maybe };

  void fail(const Sent& s, const std::string& what);
  bool local_allowed(const Sent& s, const Outcome& o) const;
  void reset_state(bool certain, std::optional<std::string> db);
  void end_tx(WriteState to_acked, WriteState to_unknown, bool local);
  void write_answer(const Sent& s, const Outcome& o);
  WriteNote* find_write(Tag t);
  void check_row(const Sent& s, int64_t row, const std::optional<std::string>& got);
  void check_owner(const Sent& s, const std::string& what, const std::optional<std::string>& text);
  void temp_answer(const Sent& s, const Outcome& o);
  void state_answer(const Sent& s, const Outcome& o);

  uint32_t client_;
  bool strict_;
  bool kills_ = false;
  std::map<std::string, std::vector<std::optional<std::string>>> sysvars_;
  std::map<std::string, std::vector<UserValue>> uservars_;
  std::vector<std::string> dbs_;
  Tri temp_ = Tri::no;
  bool in_tx_ = false;       // as the answers say
  uint32_t sending_tx_ = 0;  // as the commands sent say (a pipelined write follows its BEGIN)
  uint32_t next_tx_ = 1;
  int tx_partition_ = 0;
  uint32_t next_row_ = 0;
  std::vector<WriteNote> writes_;
  std::map<int64_t, std::vector<size_t>> rows_;  // row -> its writes, in order
  std::map<uint32_t, StmtNote> stmts_;
  std::map<Tag, Outcome::Kind> outcomes_;
  std::set<uint16_t> local_codes_;
  std::string failure_;
};

}  // namespace odp::fakeio
