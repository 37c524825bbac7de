#include "protocol/ob20_old_extra_info.h"

#include "protocol/ob_serialization.h"

namespace odp::protocol {

namespace {

// The meta JDBC writes for a varchar (ObObj.java): CS_LEVEL_IMPLICIT, collation 0, scale -1.
constexpr uint8_t kVarcharMeta[4] = {obtype::kVarchar, 2, 0, 0xFF};

struct Key {
  uint16_t type;
  std::string_view name;
};
constexpr Key kKeys[] = {
    {ob20extra::TRACE_INFO, "ob_trace_info"},
    {ob20extra::SESS_INFO, "sess_inf"},
    {ob20extra::FULL_LINK_TRACE, "full_trc"},
    {ob20extra::SESS_INFO_VERI, "sess_ver"},
};

// One ObObj holding a string: its bytes (without the trailing NUL).
bool read_string_obj(Reader& r, std::span<const uint8_t>& s) {
  uint8_t meta[4];
  for (uint8_t& m : meta)
    if (!r.u8(m)) return false;
  if (meta[0] != obtype::kVarchar && meta[0] != obtype::kChar) return false;
  return read_ob_vstr(r, s);
}

void put_string_obj(std::vector<uint8_t>& out, std::span<const uint8_t> s) {
  out.insert(out.end(), std::begin(kVarcharMeta), std::end(kVarcharMeta));
  put_ob_vstr(out, s);
}

}  // namespace

std::string_view ob20_old_extra_info_key(uint16_t type) {
  for (const Key& k : kKeys)
    if (k.type == type) return k.name;
  return {};
}

Result<std::vector<Ob20ExtraInfoItem>, DecodeError> decode_ob20_old_extra_info(std::span<const uint8_t> extra_info) {
  std::vector<Ob20ExtraInfoItem> items;
  Reader r(extra_info);
  while (!r.empty()) {
    std::span<const uint8_t> key, value;
    if (!read_string_obj(r, key) || !read_string_obj(r, value))
      return Err{DecodeError{"ob20: malformed old-format extra info"}};
    const std::string_view name(reinterpret_cast<const char*>(key.data()), key.size());
    for (const Key& k : kKeys) {
      if (k.name == name) {
        items.push_back(Ob20ExtraInfoItem{k.type, value});
        break;
      }
    }
  }
  return items;
}

void encode_ob20_old_extra_info_item(uint16_t type, std::span<const uint8_t> value, std::vector<uint8_t>& out) {
  const std::string_view name = ob20_old_extra_info_key(type);
  if (name.empty()) return;
  put_string_obj(out, {reinterpret_cast<const uint8_t*>(name.data()), name.size()});
  put_string_obj(out, value);
}

Result<std::vector<Ob20ExtraInfoItem>, DecodeError> decode_ob20_extra_info_of(uint32_t frame_flags,
                                                                              std::span<const uint8_t> extra_info) {
  if (frame_flags & ob20flag::NEW_EXTRA_INFO) return decode_ob20_extra_info(extra_info);
  return decode_ob20_old_extra_info(extra_info);
}

Status<DecodeError> ob20_extra_info_to_old(std::span<const uint8_t> new_format, std::vector<uint8_t>& out) {
  auto items = decode_ob20_extra_info(new_format);
  if (!items) return Err{items.error()};
  for (const Ob20ExtraInfoItem& item : *items) encode_ob20_old_extra_info_item(item.type, item.value, out);
  return Ok{};
}

}  // namespace odp::protocol
