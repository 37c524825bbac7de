// What a fake client expects of its rows in the shared table, and what it was told of each write
// (see fake_expect.h).
#include <algorithm>

#include "tests/unit/proxy/fake_expect.h"

namespace odp::fakeio {

namespace {
std::string show(const std::optional<std::string>& v) {
  return v ? "'" + *v + "'" : std::string("NULL");
}
}  // namespace

void ClientModel::ended() {
  for (WriteNote& w : writes_) {
    if (w.state == WriteState::tx_acked || w.state == WriteState::tx_unknown) w.state = WriteState::uncommitted;
  }
}

WriteNote* ClientModel::find_write(Tag t) {
  for (auto it = writes_.rbegin(); it != writes_.rend(); ++it)
    if (it->tag == t) return &*it;
  return nullptr;
}

void ClientModel::write_answer(const Sent& s, const Outcome& o) {
  WriteNote* w = find_write(s.tag);
  if (w == nullptr) return;
  w->applied_by = s.tag;
  if (o.kind != Outcome::Kind::server) {
    w->state = s.tx != 0 ? WriteState::tx_unknown : WriteState::unknown;
    w->local_error = o.kind == Outcome::Kind::local_err;
    return;
  }
  const ResultInfo& info = *o.info;
  if (s.step.kind == StepKind::execute_write) {
    if (auto it = stmts_.find(s.stmt); it != stmts_.end() && info.prepared_as != it->second.prepared) {
      fail(s, "the server ran a statement prepared as " +
                  (info.prepared_as ? tag_text(*info.prepared_as) : std::string("?")) + ", not the client's " +
                  tag_text(it->second.prepared));
    }
  }
  if (info.error) {
    if (info.code == 1062) fail(s, "row " + std::to_string(s.row) + " existed already: " + info.message);
    if (strict_ && info.code != protocol::errc::OB_NOT_MASTER) fail(s, "failed: " + info.message);
    w->state = WriteState::failed;
    return;
  }
  if (!w->insert) {
    // Whether the row is there is known when its insert's fate is.
    const WriteNote& ins = writes_[rows_[s.row].front()];
    bool there = ins.state == WriteState::acked || ins.state == WriteState::tx_acked;
    bool gone = ins.state == WriteState::failed || ins.state == WriteState::uncommitted;
    if ((there && info.affected != 1) || (gone && info.affected != 0)) {
      fail(s, "UPDATE of row " + std::to_string(s.row) + " changed " + std::to_string(info.affected) +
                  " rows, but its INSERT " + tag_text(ins.tag) + " is " + write_state_name(ins.state));
    }
    if (info.affected == 0) {
      w->state = WriteState::failed;  // nothing to change: nothing applied
      return;
    }
  } else if (info.affected != 1) {
    fail(s, "INSERT changed " + std::to_string(info.affected) + " rows");
  }
  w->state = s.tx != 0 ? WriteState::tx_acked : WriteState::acked;
}

void ClientModel::check_row(const Sent& s, int64_t row, const std::optional<std::string>& got) {
  auto it = rows_.find(row);
  std::vector<size_t> mine = it == rows_.end() ? std::vector<size_t>{} : it->second;
  std::vector<Tag> seen;
  if (got) {
    size_t start = 0;
    while (start <= got->size()) {
      size_t bar = got->find('|', start);
      std::string part = got->substr(start, bar == std::string::npos ? std::string::npos : bar - start);
      auto t = parse_tag_value(part);
      if (!t || t->client != client_) {
        fail(s, "row " + std::to_string(row) + " holds '" + part + "', not a write of this client");
        return;
      }
      if (!seen.empty() && !(seen.back() < *t)) {
        fail(s, "row " + std::to_string(row) + " = '" + *got + "': a write applied twice or out of order");
        return;
      }
      seen.push_back(*t);
      if (bar == std::string::npos) break;
      start = bar + 1;
    }
  }
  for (size_t k = 0; k < mine.size(); ++k) {
    const WriteNote& w = writes_[mine[k]];
    bool required = w.state == WriteState::acked || w.state == WriteState::tx_acked;
    bool forbidden = w.state == WriteState::failed || w.state == WriteState::uncommitted;
    bool present = std::find(seen.begin(), seen.end(), w.tag) != seen.end();
    if (w.insert && k == 0 && got && seen.front() != w.tag) {
      fail(s, "row " + std::to_string(row) + " does not start with its INSERT " + tag_text(w.tag));
      return;
    }
    if (required && !present) {
      fail(s, "row " + std::to_string(row) + " = " + show(got) + " lacks write " + tag_text(w.tag) + ", which is " +
                  write_state_name(w.state));
      return;
    }
    if (forbidden && present) {
      fail(s, "row " + std::to_string(row) + " = " + show(got) + " has write " + tag_text(w.tag) + ", which is " +
                  write_state_name(w.state));
      return;
    }
  }
  for (const Tag& t : seen) {
    bool known = std::any_of(mine.begin(), mine.end(), [&](size_t k) { return writes_[k].tag == t; });
    if (!known) fail(s, "row " + std::to_string(row) + " holds write " + tag_text(t) + " the client never sent");
  }
}

}  // namespace odp::fakeio
