#include "protocol/ob_session_info.h"

#include "protocol/ob20.h"

namespace odp::protocol {

Status<DecodeError> collect_session_info(std::span<const Ob20ExtraInfoItem> items, std::vector<ObSessionRecord>& out) {
  for (const Ob20ExtraInfoItem& item : items) {
    if (item.type != ob20extra::SESS_INFO) continue;
    // Its value holds records of the same layout as the extra info's own.
    auto records = decode_ob20_extra_info(item.value);
    if (!records) return Err{DecodeError{"ob20: malformed SESS_INFO"}};
    for (const Ob20ExtraInfoItem& rec : *records) {
      if (rec.type >= obsess::TXN_STATIC && rec.type <= obsess::TXN_EXTRA) continue;
      out.push_back(ObSessionRecord{rec.type, std::string(rec.value.begin(), rec.value.end())});
    }
  }
  return Ok{};
}

void encode_session_info(std::span<const ObSessionRecord> records, std::vector<uint8_t>& out) {
  std::vector<uint8_t> value;
  for (const ObSessionRecord& rec : records)
    encode_ob20_extra_info_item(rec.type, {reinterpret_cast<const uint8_t*>(rec.bytes.data()), rec.bytes.size()},
                                value);
  encode_ob20_extra_info_item(ob20extra::SESS_INFO, value, out);
}

}  // namespace odp::protocol
