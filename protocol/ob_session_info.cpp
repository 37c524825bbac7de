#include "protocol/ob_session_info.h"

#include "protocol/ob20.h"

namespace odp::protocol {

Status<DecodeError> collect_session_info(std::span<const uint8_t> extra_info, std::vector<ObSessionRecord>& out) {
  auto items = decode_ob20_extra_info(extra_info);
  if (!items) return Err{items.error()};
  for (const Ob20ExtraInfoItem& item : *items) {
    if (item.type != ob20extra::SESS_INFO) continue;
    Reader r(item.value);
    while (!r.empty()) {
      uint16_t type = 0;
      uint32_t len = 0;
      std::span<const uint8_t> bytes;
      if (!r.u16(type) || !r.u32(len) || !r.bytes(len, bytes)) return Err{DecodeError{"ob20: malformed SESS_INFO"}};
      if (type >= obsess::TXN_STATIC && type <= obsess::TXN_EXTRA) continue;
      out.push_back(ObSessionRecord{type, std::string(bytes.begin(), bytes.end())});
    }
  }
  return Ok{};
}

void encode_session_info(std::span<const ObSessionRecord> records, std::vector<uint8_t>& out) {
  std::vector<uint8_t> value;
  for (const ObSessionRecord& rec : records) {
    put_u16(value, rec.type);
    put_u32(value, static_cast<uint32_t>(rec.bytes.size()));
    value.insert(value.end(), rec.bytes.begin(), rec.bytes.end());
  }
  encode_ob20_extra_info_item(ob20extra::SESS_INFO, value, out);
}

}  // namespace odp::protocol
