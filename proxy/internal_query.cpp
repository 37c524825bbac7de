#include "proxy/internal_query.h"

#include "protocol/commands.h"
#include "protocol/constants.h"
#include "protocol/rows.h"
#include "protocol/wire.h"

namespace odp::proxy {

using namespace protocol;

struct InternalQueryConsumer {
  InternalQuery& q;
  InternalQuery::Step step = InternalQuery::Step::more;
  size_t capture_bytes(uint8_t first, uint32_t len, bool continuation) {
    if (continuation) {
      q.overflowed_ = true;  // a value of 16 MiB or more: followed, not kept
      return 0;
    }
    if (!q.overflowed_ && q.kept_ + len <= q.max_keep_) return len;
    q.overflowed_ = true;
    return q.tracker_.capture_bytes(first, len);
  }
  bool on_packet(const ScannedPacket& p) {
    if (p.continuation) return false;
    if (!q.overflowed_ && p.head.size() == p.payload_len) {
      q.kept_ += p.payload_len;
      q.take(p.head);
    } else if (!p.head.empty() && p.head[0] == 0xFF && !q.error_) {
      auto err = decode_err(p.head);
      if (err) q.error_ = std::move(err.value());
    }
    switch (q.tracker_.on_packet(p.head, p.payload_len)) {
      case ResponseTracker::Step::more:
        return false;
      case ResponseTracker::Step::done:
        step = InternalQuery::Step::done;
        return true;
      case ResponseTracker::Step::local_infile:
        q.failure_ = "server asked for a LOCAL INFILE in reply to an internal statement";
        step = InternalQuery::Step::error;
        return true;
      case ResponseTracker::Step::error:
        q.failure_ = q.tracker_.error_reason() ? q.tracker_.error_reason() : "malformed response";
        step = InternalQuery::Step::error;
        return true;
    }
    return true;
  }
};

std::vector<uint8_t> InternalQuery::begin(std::span<const uint8_t> payload, uint32_t server_caps) {
  expect(static_cast<Command>(payload.empty() ? 0 : payload[0]), server_caps);
  std::vector<uint8_t> framed;
  encode_packet(0, payload, framed);
  return framed;
}

std::vector<uint8_t> InternalQuery::begin_query(std::string_view sql, uint32_t server_caps) {
  std::vector<uint8_t> payload;
  encode_com_query(sql, payload);
  return begin(payload, server_caps);
}

void InternalQuery::expect(Command cmd, uint32_t server_caps) {
  caps_ = server_caps;
  tracker_.begin(cmd, server_caps);
  scanner_.reset();
  kept_ = 0;
  overflowed_ = false;
  columns_expected_ = 0;
  in_rows_ = false;
  error_.reset();
  last_ok_.reset();
  oks_.clear();
  columns_.clear();
  rows_.clear();
  payloads_.clear();
  prepare_ = cmd == Command::stmt_prepare;
  failure_ = nullptr;
}

InternalQuery::Step InternalQuery::feed(std::span<const uint8_t> data, size_t* used) {
  InternalQueryConsumer consumer{*this};
  *used = scanner_.scan(data, consumer);
  return consumer.step;
}

void InternalQuery::take(std::span<const uint8_t> payload) {
  if (prepare_) {
    // A prepare response is metadata only: keep it whole; the tracker says where it ends.
    payloads_.emplace_back(payload.begin(), payload.end());
    if (!payload.empty() && payload[0] == 0xFF) {
      auto err = decode_err(payload);
      if (err) error_ = std::move(err.value());
    }
    return;
  }
  // Decode for the caller, in step with the tracker that decides where the response ends.
  if (!payload.empty() && payload[0] == 0xFF && !(payload.size() >= 3 && payload[1] == 0xFF && payload[2] == 0xFF)) {
    auto err = decode_err(payload);
    if (err) error_ = std::move(err.value());
  } else if (!in_rows_ && columns_expected_ == 0 && !payload.empty() && payload[0] == 0x00) {
    auto ok = decode_ok(payload, caps_);
    if (ok) {
      oks_.push_back(ok.value());
      last_ok_ = std::move(ok.value());
    }
  } else if (!in_rows_ && columns_expected_ == 0 && columns_.empty() && rows_.empty()) {
    Reader r(payload.data(), payload.size());
    uint64_t n = 0;
    if (r.lenenc_int(n) && n > 0 && n < 4096) columns_expected_ = n;
  } else if (columns_expected_ > columns_.size()) {
    auto def = decode_column_definition41(payload, extended_type_info_);
    if (def) columns_.push_back(std::move(def.value()));
    if (columns_.size() == columns_expected_ && (caps_ & cap::DEPRECATE_EOF)) in_rows_ = true;
  } else if (!in_rows_ && columns_expected_ != 0 && columns_.size() == columns_expected_) {
    in_rows_ = true;  // the EOF after the column definitions
  } else if (in_rows_) {
    if (is_ok_terminator(payload) || is_eof_packet(payload, caps_)) {
      in_rows_ = false;
      if (payload[0] == 0xFE && (caps_ & cap::DEPRECATE_EOF)) {
        auto ok = decode_ok(payload, caps_);
        if (ok) last_ok_ = std::move(ok.value());
      }
    } else {
      auto row = decode_text_row(payload, columns_.size());
      if (row) {
        std::vector<std::optional<std::string>> values;
        for (const auto& v : row.value())
          values.push_back(v ? std::optional<std::string>(std::string(*v)) : std::nullopt);
        rows_.push_back(std::move(values));
      }
    }
  }
}

}  // namespace odp::proxy
