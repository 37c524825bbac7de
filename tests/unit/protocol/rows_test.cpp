#include "protocol/rows.h"

#include <algorithm>
#include <cstdint>

#include <doctest/doctest.h>

#include "protocol/column_def.h"
#include "protocol/session_track.h"
#include "test_bytes.h"

using namespace odp::protocol;
using odp::protocol::test::hex;

TEST_CASE("text row") {
  auto p = hex("03 666f6f fb 00");
  auto row = decode_text_row(p, 3);
  REQUIRE(row.ok());
  CHECK((*row)[0] == "foo");
  CHECK_FALSE((*row)[1]);
  CHECK((*row)[2] == "");
  std::vector<uint8_t> out;
  encode_text_row(*row, out);
  CHECK(out == p);
  for (size_t n = 0; n < p.size(); ++n) CHECK_FALSE(decode_text_row(test::prefix(p, n), 3).ok());
  CHECK_FALSE(decode_text_row(p, 2).ok());  // trailing bytes
  CHECK_FALSE(decode_text_row(p, 4).ok());
  CHECK_FALSE(decode_text_row(hex("ff"), 1).ok());
  TextRow reuse;
  CHECK(decode_text_row_into(p, 3, reuse).ok());
  CHECK(reuse.size() == 3);
}

TEST_CASE("binary row: golden vector from the protocol docs") {
  // One VARCHAR column holding "foobar".
  auto p = hex("00 00 06 66 6f 6f 62 61 72");
  const ParamType types[] = {{ColumnType::var_string, false}};
  auto row = decode_binary_row(p, types);
  REQUIRE(row.ok());
  REQUIRE(row->size() == 1);
  CHECK((*row)[0].as_string() == "foobar");
  std::vector<uint8_t> out;
  encode_binary_row(*row, out);
  CHECK(out == p);
  for (size_t n = 0; n < p.size(); ++n) CHECK_FALSE(decode_binary_row(test::prefix(p, n), types).ok());
}

TEST_CASE("binary row: NULL bitmap offset and every fixed type") {
  const ParamType types[] = {
      {ColumnType::tiny, false},  {ColumnType::short_, true},    {ColumnType::null, false},
      {ColumnType::long_, false}, {ColumnType::longlong, false}, {ColumnType::float_, false},
      {ColumnType::date, false},  {ColumnType::time, false},     {ColumnType::newdecimal, false}};
  auto p =
      hex("00"
          "1000"              // bitmap: column 2 (bit 4) NULL; 9 columns + 2 -> 2 bytes
          "ff"                // tiny -1
          "ffff"              // unsigned short 65535
          "2a000000"          // long 42
          "0100000000000080"  // longlong INT64_MIN + 1
          "0000c03f"          // float 1.5
          "04 e9070b17"       // date
          "00"                // time 00:00:00 (length 0)
          "04 312e3530");     // decimal "1.50"
  auto row = decode_binary_row(p, types);
  REQUIRE(row.ok());
  CHECK((*row)[0].as_int64() == -1);
  CHECK((*row)[1].as_int64() == 65535);
  CHECK((*row)[2].is_null);
  CHECK((*row)[3].as_int64() == 42);
  CHECK((*row)[4].as_int64() == INT64_MIN + 1);
  CHECK((*row)[5].as_double() == 1.5);
  CHECK((*row)[6].raw.size() == 4);
  CHECK((*row)[7].raw.empty());
  CHECK((*row)[8].as_string() == "1.50");
  std::vector<uint8_t> out;
  encode_binary_row(*row, out);
  CHECK(out == p);
  for (size_t n = 0; n < p.size(); ++n) CHECK_FALSE(decode_binary_row(test::prefix(p, n), types).ok());
  const ParamType unknown[] = {{static_cast<ColumnType>(0x30), false}};
  CHECK_FALSE(decode_binary_row(hex("00 00 01"), unknown).ok());
  CHECK_FALSE(decode_binary_row(hex("00 00 0d 00000000000000000000000000"),
                                std::vector<ParamType>{{ColumnType::datetime, false}})
                  .ok());  // temporal length 13 > 12
}

TEST_CASE("column definition round trip and COM_FIELD_LIST default") {
  ColumnDefinition41 c;
  c.schema = "test";
  c.table = "t";
  c.org_table = "t_real";
  c.name = "id";
  c.org_name = "id";
  c.charset = charset::binary;
  c.column_length = 11;
  c.type = ColumnType::long_;
  c.flags = colflag::NOT_NULL | colflag::PRI_KEY;
  std::vector<uint8_t> p;
  encode_column_definition41(c, p);
  auto back = decode_column_definition41(p);
  REQUIRE(back.ok());
  CHECK(back->schema == "test");
  CHECK(back->org_table == "t_real");
  CHECK(back->type == ColumnType::long_);
  CHECK(back->flags == (colflag::NOT_NULL | colflag::PRI_KEY));
  CHECK_FALSE(back->has_default);
  for (size_t n = 0; n < p.size(); ++n) CHECK_FALSE(decode_column_definition41(test::prefix(p, n)).ok());
  c.has_default = true;
  c.default_value = "0";
  p.clear();
  encode_column_definition41(c, p);
  back = decode_column_definition41(p);
  REQUIRE(back.ok());
  CHECK(back->has_default);
  CHECK(back->default_value == "0");
}

TEST_CASE("session track records") {
  std::vector<uint8_t> s;
  encode_session_track_record(SessionTrackType::system_variables, "autocommit", "OFF", s);
  encode_session_track_record(SessionTrackType::schema, "", "test", s);
  encode_session_track_record(SessionTrackType::state_change, "", "1", s);
  encode_session_track_record(SessionTrackType::gtids, "", "3E11FA47-71CA-11E1-9E33-C80AA9429562:23", s);
  encode_session_track_record(SessionTrackType::transaction_state, "", "T_______", s);
  encode_session_track_record(SessionTrackType::transaction_characteristics, "", "START TRANSACTION;", s);
  // Golden: the schema record is 01 05 04 "test".
  const auto schema_rec = hex("01 05 04 74657374");
  CHECK(std::search(s.begin(), s.end(), schema_rec.begin(), schema_rec.end()) != s.end());
  auto recs = decode_session_track(s);
  REQUIRE(recs.ok());
  REQUIRE(recs->size() == 6);
  CHECK((*recs)[0].type == SessionTrackType::system_variables);
  CHECK((*recs)[0].name == "autocommit");
  CHECK((*recs)[0].value == "OFF");
  CHECK((*recs)[1].value == "test");
  CHECK((*recs)[2].value == "1");
  CHECK((*recs)[3].value == "3E11FA47-71CA-11E1-9E33-C80AA9429562:23");
  CHECK((*recs)[4].value == "T_______");
  CHECK((*recs)[5].value == "START TRANSACTION;");
  for (size_t n = 1; n < s.size(); ++n) {
    auto t = decode_session_track(test::prefix(s, n));
    if (t.ok()) CHECK(t->size() < 6);  // only at record boundaries
  }
  // Unknown types keep raw data; malformed known types fail.
  const auto unk_bytes = hex("09 02 abcd");
  auto unk = decode_session_track(unk_bytes);
  REQUIRE(unk.ok());
  CHECK((*unk)[0].data.size() == 2);
  CHECK_FALSE(decode_session_track(hex("00 02 05 61")).ok());
  CHECK_FALSE(decode_session_track(hex("01 05 04 74")).ok());
  CHECK(decode_session_track(std::string_view()).ok());
}

TEST_CASE("binary value accessors never read past 8 bytes (fuzz regression)") {
  const std::vector<uint8_t> long_raw(40, 0xAB);
  BinaryValue v;
  v.type = {ColumnType::var_string, false};
  v.raw = long_raw;
  CHECK_FALSE(v.as_int64());
  CHECK_FALSE(v.as_uint64());
  CHECK_FALSE(v.as_double());
  CHECK(v.as_string().size() == 40);
  v.type = {ColumnType::longlong, true};
  CHECK(v.as_uint64() == 0xABABABABABABABABull);
  v.is_null = true;
  CHECK_FALSE(v.as_int64());
}
