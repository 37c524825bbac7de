#pragma once
// Client command payloads (the payload of the first packet of a command, command byte included).
//
// Decoders return views (std::string_view / std::span) into the payload: the payload must outlive
// the decoded struct. The data path thus decodes COM_QUERY and friends without allocating.
// Every decoder checks the command byte.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"
#include "protocol/binary_value.h"
#include "protocol/column_def.h"
#include "protocol/constants.h"
#include "protocol/prepare_ok.h"
#include "protocol/wire.h"

namespace odp::protocol {

// The command byte of a payload, if any.
std::optional<Command> command_of(std::span<const uint8_t> payload);

// A named, typed query attribute or prepared-statement parameter (cap::QUERY_ATTRIBUTES).
struct QueryAttribute {
  std::string_view name;
  BinaryValue value;
};

struct ComQuery {
  std::string_view sql;
  std::vector<QueryAttribute> attributes;  // only with cap::QUERY_ATTRIBUTES
};
// With cap::QUERY_ATTRIBUTES the SQL is preceded by parameter count, parameter-set count and the
// attributes; without it the rest of the payload is the SQL.
Result<ComQuery, DecodeError> decode_com_query(std::span<const uint8_t> payload, uint32_t caps = 0);
void encode_com_query(std::string_view sql, std::vector<uint8_t>& payload);

struct ComInitDb {
  std::string_view schema;
};
Result<ComInitDb, DecodeError> decode_com_init_db(std::span<const uint8_t> payload);
void encode_com_init_db(std::string_view schema, std::vector<uint8_t>& payload);

struct ComFieldList {
  std::string_view table;
  std::string_view wildcard;
};
Result<ComFieldList, DecodeError> decode_com_field_list(std::span<const uint8_t> payload);
void encode_com_field_list(const ComFieldList& c, std::vector<uint8_t>& payload);

struct ComProcessKill {
  uint32_t connection_id = 0;
};
Result<ComProcessKill, DecodeError> decode_com_process_kill(std::span<const uint8_t> payload);
void encode_com_process_kill(uint32_t connection_id, std::vector<uint8_t>& payload);

struct ComSetOption {
  uint16_t option = 0;  // SetOption
};
Result<ComSetOption, DecodeError> decode_com_set_option(std::span<const uint8_t> payload);
void encode_com_set_option(uint16_t option, std::vector<uint8_t>& payload);

// COM_CHANGE_USER: owned strings (it is rare and its fields outlive the packet).
struct ComChangeUser {
  std::string username;
  std::string auth_response;
  std::string database;
  uint16_t charset = 0;  // 0 when the client did not send one
  std::string auth_plugin_name;
  std::vector<std::pair<std::string, std::string>> attributes;
};
// caps: the capabilities agreed at login (SECURE_CONNECTION, PLUGIN_AUTH, CONNECT_ATTRS).
Result<ComChangeUser, DecodeError> decode_com_change_user(std::span<const uint8_t> payload, uint32_t caps);
void encode_com_change_user(const ComChangeUser& c, uint32_t caps, std::vector<uint8_t>& payload);

struct ComStmtPrepare {
  std::string_view sql;
};
Result<ComStmtPrepare, DecodeError> decode_com_stmt_prepare(std::span<const uint8_t> payload);
void encode_com_stmt_prepare(std::string_view sql, std::vector<uint8_t>& payload);

// COM_STMT_EXECUTE flags (cursor type) and the parameter-count flag of MySQL 8.0.26+.
namespace cursor {
constexpr uint8_t NO_CURSOR = 0x00;
constexpr uint8_t READ_ONLY = 0x01;
constexpr uint8_t FOR_UPDATE = 0x02;
constexpr uint8_t SCROLLABLE = 0x04;
constexpr uint8_t PARAMETER_COUNT_AVAILABLE = 0x08;
}  // namespace cursor

struct ComStmtExecute {
  uint32_t statement_id = 0;
  uint8_t flags = 0;
  uint32_t iteration_count = 1;
  bool new_params_bound = false;
  std::vector<ParamType> types;         // one per parameter: sent now or taken from previous_types
  std::vector<std::string_view> names;  // with cap::QUERY_ATTRIBUTES only
  std::vector<BinaryValue> values;      // one per parameter; is_null from the bitmap; a parameter
                                        // sent by COM_STMT_SEND_LONG_DATA has no value here (raw empty)
};

struct ExecuteContext {
  uint16_t num_params = 0;                    // from the statement's PREPARE_OK
  std::span<const ParamType> previous_types;  // types bound by an earlier execute (when not resent)
  std::span<const uint8_t> long_data_sent;    // non-zero per parameter sent by SEND_LONG_DATA
  uint32_t caps = 0;                          // cap::QUERY_ATTRIBUTES changes the layout
};
Result<ComStmtExecute, DecodeError> decode_com_stmt_execute(std::span<const uint8_t> payload,
                                                            const ExecuteContext& ctx);
// Writes types when e.new_params_bound; values for non-NULL parameters (raw bytes per BinaryValue).
void encode_com_stmt_execute(const ComStmtExecute& e, uint32_t caps, std::vector<uint8_t>& payload);
// Only the fixed head (statement id, flags, iteration count): what a proxy needs to route it.
struct StmtExecuteHead {
  uint32_t statement_id = 0;
  uint8_t flags = 0;
  uint32_t iteration_count = 0;
};
Result<StmtExecuteHead, DecodeError> decode_com_stmt_execute_head(std::span<const uint8_t> payload);

struct ComStmtFetch {
  uint32_t statement_id = 0;
  uint32_t num_rows = 0;
};
Result<ComStmtFetch, DecodeError> decode_com_stmt_fetch(std::span<const uint8_t> payload);
void encode_com_stmt_fetch(const ComStmtFetch& f, std::vector<uint8_t>& payload);

// COM_STMT_CLOSE and COM_STMT_RESET carry only a statement id.
struct ComStmtId {
  uint32_t statement_id = 0;
};
Result<ComStmtId, DecodeError> decode_com_stmt_close(std::span<const uint8_t> payload);
Result<ComStmtId, DecodeError> decode_com_stmt_reset(std::span<const uint8_t> payload);
void encode_com_stmt_close(uint32_t statement_id, std::vector<uint8_t>& payload);
void encode_com_stmt_reset(uint32_t statement_id, std::vector<uint8_t>& payload);

struct ComStmtSendLongData {
  uint32_t statement_id = 0;
  uint16_t param_id = 0;
  std::span<const uint8_t> data;
};
Result<ComStmtSendLongData, DecodeError> decode_com_stmt_send_long_data(std::span<const uint8_t> payload);
void encode_com_stmt_send_long_data(const ComStmtSendLongData& d, std::vector<uint8_t>& payload);

// For a proxy that maps client statement ids to server ones: overwrites the statement id of a
// COM_STMT_EXECUTE / FETCH / CLOSE / RESET / SEND_LONG_DATA payload in place. False if the payload
// is not one of those or too short.
bool patch_statement_id(std::span<uint8_t> payload, uint32_t statement_id);
// Reads it without decoding the rest.
std::optional<uint32_t> statement_id_of(std::span<const uint8_t> payload);

}  // namespace odp::protocol
