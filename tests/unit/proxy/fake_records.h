#pragma once
// What the fake servers answered, filed by the client command it answered (its Tag): the bytes as
// sent, the bytes a client without CLIENT_SESSION_TRACK must see instead (odp strips the
// session-state records it asked the server for), where the PREPARE_OK statement ids are (odp
// puts its own there), and what the answer said, for the client's own checks. A command may be
// answered more than once (odp sent it again after a stale route, or prepared it again on another
// connection); the client must have received exactly one of its answers, or one odp made itself.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "protocol/constants.h"
#include "tests/unit/proxy/fake_sql.h"

namespace odp::fakeio {

struct ResultInfo {
  bool error = false;
  uint16_t code = 0;
  std::string message;
  uint64_t affected = 0;
  uint16_t status = 0;
  // Result sets (the last one of a multi-result): column types and rows.
  std::vector<protocol::ColumnType> types;
  std::vector<std::vector<std::optional<std::string>>> rows;
  std::optional<Tag> prepared_as;  // COM_STMT_EXECUTE: the tag of the text that ran
  uint16_t num_params = 0;         // COM_STMT_PREPARE
};

struct ResponseRecord {
  std::vector<uint8_t> bytes;  // as the server sent them
  std::vector<size_t> ids;     // offsets of PREPARE_OK statement ids in them
  bool complete = false;
  bool infile = false;     // the last packet is a LOCAL INFILE request: the client's file comes next
  bool has_state = false;  // an OK carries session-state records: `stripped` differs
  ResultInfo info;
  size_t server = 0;
  uint32_t thread_id = 0;

  // What a client with or without CLIENT_SESSION_TRACK must see: odp strips the records it asked
  // the server for from clients that did not, and keeps for those that did only the records their
  // own (default) trackers ask for.
  const std::vector<uint8_t>& view(bool tracks) const { return !has_state ? bytes : tracks ? tracked : stripped; }
  const std::vector<size_t>& view_ids(bool tracks) const {
    return !has_state ? ids : tracks ? tracked_ids : stripped_ids;
  }

  void append(const std::vector<uint8_t>& framed) {
    bytes.insert(bytes.end(), framed.begin(), framed.end());
    if (has_state) {
      stripped.insert(stripped.end(), framed.begin(), framed.end());
      tracked.insert(tracked.end(), framed.begin(), framed.end());
    }
  }
  // An OK packet with session-state records, the same OK without them, and with the records a
  // client's default trackers report.
  void append_ok(const std::vector<uint8_t>& framed, const std::vector<uint8_t>& plain,
                 const std::vector<uint8_t>& client_tracked) {
    if (!has_state) {
      stripped = bytes;  // identical so far (kept only once they differ: answers may be 16 MiB)
      stripped_ids = ids;
      tracked = bytes;
      tracked_ids = ids;
      has_state = true;
    }
    bytes.insert(bytes.end(), framed.begin(), framed.end());
    stripped.insert(stripped.end(), plain.begin(), plain.end());
    tracked.insert(tracked.end(), client_tracked.begin(), client_tracked.end());
  }
  // The next packet is a PREPARE_OK: its statement id is odp's towards the client.
  void mark_statement_id(size_t header_bytes) {
    ids.push_back(bytes.size() + header_bytes + 1);
    if (has_state) {
      stripped_ids.push_back(stripped.size() + header_bytes + 1);
      tracked_ids.push_back(tracked.size() + header_bytes + 1);
    }
  }

 private:
  std::vector<uint8_t> stripped;
  std::vector<size_t> stripped_ids;
  std::vector<uint8_t> tracked;
  std::vector<size_t> tracked_ids;
};

class ResponseRecords {
 public:
  // A new answer to `t`; returns its index among the tag's answers.
  size_t open(Tag t, size_t server, uint32_t thread_id) {
    auto& v = by_tag_[t];
    v.emplace_back();
    v.back().server = server;
    v.back().thread_id = thread_id;
    return v.size() - 1;
  }
  ResponseRecord& at(Tag t, size_t index) { return by_tag_[t][index]; }
  const std::vector<ResponseRecord>* find(Tag t) const {
    auto it = by_tag_.find(t);
    return it == by_tag_.end() ? nullptr : &it->second;
  }
  size_t answers() const {
    size_t n = 0;
    for (const auto& [t, v] : by_tag_) n += v.size();
    return n;
  }

 private:
  std::map<Tag, std::vector<ResponseRecord>> by_tag_;
};

}  // namespace odp::fakeio
