#include "proxy/internal_query.h"

#include "protocol/commands.h"
#include "protocol/constants.h"
#include "protocol/rows.h"
#include "protocol/wire.h"

namespace odp::proxy {

using namespace protocol;

std::vector<uint8_t> InternalQuery::begin(std::span<const uint8_t> payload, uint32_t server_caps) {
  caps_ = server_caps;
  tracker_.begin(static_cast<Command>(payload.empty() ? 0 : payload[0]), server_caps);
  in_ = PacketAssembler(kMaxResponseBytes);
  total_ = 0;
  columns_expected_ = 0;
  in_rows_ = false;
  error_.reset();
  last_ok_.reset();
  oks_.clear();
  columns_.clear();
  rows_.clear();
  payloads_.clear();
  prepare_ = !payload.empty() && payload[0] == static_cast<uint8_t>(Command::stmt_prepare);
  failure_ = nullptr;
  std::vector<uint8_t> framed;
  encode_packet(0, payload, framed);
  return framed;
}

std::vector<uint8_t> InternalQuery::begin_query(std::string_view sql, uint32_t server_caps) {
  std::vector<uint8_t> payload;
  encode_com_query(sql, payload);
  return begin(payload, server_caps);
}

InternalQuery::Step InternalQuery::feed(std::span<const uint8_t> data, size_t* used) {
  size_t pos = 0;
  while (pos < data.size()) {
    auto fed = in_.feed(data.subspan(pos));
    if (!fed) {
      failure_ = "malformed or oversized response to an internal statement";
      *used = data.size();
      return Step::error;
    }
    pos += *fed;
    total_ += *fed;
    if (total_ > kMaxResponseBytes) {
      failure_ = "response to an internal statement is too large";
      *used = data.size();
      return Step::error;
    }
    if (!in_.has_packet()) break;
    std::vector<uint8_t> payload(in_.payload().begin(), in_.payload().end());
    in_.pop();
    Step s = take(payload);
    if (s != Step::more) {
      *used = pos;
      return s;
    }
  }
  *used = pos;
  return Step::more;
}

InternalQuery::Step InternalQuery::take(std::span<const uint8_t> payload) {
  if (prepare_) {
    // A prepare response is metadata only: keep it whole; the tracker says where it ends.
    payloads_.emplace_back(payload.begin(), payload.end());
    if (!payload.empty() && payload[0] == 0xFF) {
      auto err = decode_err(payload);
      if (err) error_ = std::move(err.value());
    }
    return track(payload);
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
    auto def = decode_column_definition41(payload);
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
  return track(payload);
}

InternalQuery::Step InternalQuery::track(std::span<const uint8_t> payload) {
  switch (tracker_.on_packet(payload, static_cast<uint32_t>(payload.size()))) {
    case ResponseTracker::Step::more:
      return Step::more;
    case ResponseTracker::Step::done:
      return Step::done;
    case ResponseTracker::Step::local_infile:
      failure_ = "server asked for a LOCAL INFILE in reply to an internal statement";
      return Step::error;
    case ResponseTracker::Step::error:
      failure_ = tracker_.error_reason() ? tracker_.error_reason() : "malformed response";
      return Step::error;
  }
  return Step::error;
}

}  // namespace odp::proxy
