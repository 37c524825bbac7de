#pragma once
// MySQL client/server protocol constants: capability flags, server status flags, command bytes,
// column types and the error codes a proxy sends itself.
#include <cstddef>
#include <cstdint>

namespace odp::protocol {

constexpr uint32_t kMaxPacketChunk = 0xFFFFFF;  // largest payload of one physical packet
constexpr size_t kPacketHeaderBytes = 4;        // 3-byte length + 1-byte sequence id

namespace cap {
constexpr uint32_t LONG_PASSWORD = 1u << 0;
constexpr uint32_t FOUND_ROWS = 1u << 1;
constexpr uint32_t LONG_FLAG = 1u << 2;
constexpr uint32_t CONNECT_WITH_DB = 1u << 3;
constexpr uint32_t NO_SCHEMA = 1u << 4;
constexpr uint32_t COMPRESS = 1u << 5;
constexpr uint32_t ODBC = 1u << 6;
constexpr uint32_t LOCAL_FILES = 1u << 7;
constexpr uint32_t IGNORE_SPACE = 1u << 8;
constexpr uint32_t PROTOCOL_41 = 1u << 9;
constexpr uint32_t INTERACTIVE = 1u << 10;
constexpr uint32_t SSL = 1u << 11;
constexpr uint32_t IGNORE_SIGPIPE = 1u << 12;
constexpr uint32_t TRANSACTIONS = 1u << 13;
constexpr uint32_t RESERVED = 1u << 14;
constexpr uint32_t SECURE_CONNECTION = 1u << 15;  // a.k.a. RESERVED2
constexpr uint32_t MULTI_STATEMENTS = 1u << 16;
constexpr uint32_t MULTI_RESULTS = 1u << 17;
constexpr uint32_t PS_MULTI_RESULTS = 1u << 18;
constexpr uint32_t PLUGIN_AUTH = 1u << 19;
constexpr uint32_t CONNECT_ATTRS = 1u << 20;
constexpr uint32_t PLUGIN_AUTH_LENENC_DATA = 1u << 21;
constexpr uint32_t CAN_HANDLE_EXPIRED_PASSWORDS = 1u << 22;
constexpr uint32_t SESSION_TRACK = 1u << 23;
constexpr uint32_t DEPRECATE_EOF = 1u << 24;
constexpr uint32_t OPTIONAL_RESULTSET_METADATA = 1u << 25;
constexpr uint32_t ZSTD_COMPRESSION_ALGORITHM = 1u << 26;
constexpr uint32_t QUERY_ATTRIBUTES = 1u << 27;
constexpr uint32_t MULTI_FACTOR_AUTHENTICATION = 1u << 28;
constexpr uint32_t CAPABILITY_EXTENSION = 1u << 29;
constexpr uint32_t SSL_VERIFY_SERVER_CERT = 1u << 30;
constexpr uint32_t REMEMBER_OPTIONS = 1u << 31;
// MariaDB servers set bit 0 (LONG_PASSWORD) clear to announce MariaDB extended capabilities in the
// handshake's reserved bytes; MariaDB calls bit 0 CLIENT_MYSQL.
constexpr uint32_t MARIADB_CLIENT_MYSQL = 1u << 0;
}  // namespace cap

// MariaDB's extended capabilities (the handshake's 4 extra bytes; bit n is 1 << (32 + n) in
// MariaDB's 64-bit flags).
namespace mariadb_cap {
constexpr uint32_t PROGRESS = 1u << 0;              // progress reports (ERR packets with code 0xFFFF)
constexpr uint32_t COM_MULTI = 1u << 1;             // several commands in one packet (not offered)
constexpr uint32_t STMT_BULK_OPERATIONS = 1u << 2;  // COM_STMT_BULK_EXECUTE
constexpr uint32_t EXTENDED_TYPE_INFO = 1u << 3;    // column definitions carry type name / format
constexpr uint32_t CACHE_METADATA = 1u << 4;        // result sets may omit metadata (not offered)
// What odp can forward (it follows responses by their packets' heads only).
constexpr uint32_t kForwardable = PROGRESS | STMT_BULK_OPERATIONS | EXTENDED_TYPE_INFO;
}  // namespace mariadb_cap

namespace status {
constexpr uint16_t SERVER_STATUS_IN_TRANS = 0x0001;
constexpr uint16_t SERVER_STATUS_AUTOCOMMIT = 0x0002;
constexpr uint16_t SERVER_MORE_RESULTS_EXISTS = 0x0008;
constexpr uint16_t SERVER_QUERY_NO_GOOD_INDEX_USED = 0x0010;
constexpr uint16_t SERVER_QUERY_NO_INDEX_USED = 0x0020;
constexpr uint16_t SERVER_STATUS_CURSOR_EXISTS = 0x0040;
constexpr uint16_t SERVER_STATUS_LAST_ROW_SENT = 0x0080;
constexpr uint16_t SERVER_STATUS_DB_DROPPED = 0x0100;
constexpr uint16_t SERVER_STATUS_NO_BACKSLASH_ESCAPES = 0x0200;
constexpr uint16_t SERVER_STATUS_METADATA_CHANGED = 0x0400;
constexpr uint16_t SERVER_QUERY_WAS_SLOW = 0x0800;
constexpr uint16_t SERVER_PS_OUT_PARAMS = 0x1000;
constexpr uint16_t SERVER_STATUS_IN_TRANS_READONLY = 0x2000;
constexpr uint16_t SERVER_SESSION_STATE_CHANGED = 0x4000;
// Short aliases.
constexpr uint16_t IN_TRANS = SERVER_STATUS_IN_TRANS;
constexpr uint16_t AUTOCOMMIT = SERVER_STATUS_AUTOCOMMIT;
constexpr uint16_t MORE_RESULTS_EXISTS = SERVER_MORE_RESULTS_EXISTS;
constexpr uint16_t NO_GOOD_INDEX_USED = SERVER_QUERY_NO_GOOD_INDEX_USED;
constexpr uint16_t NO_INDEX_USED = SERVER_QUERY_NO_INDEX_USED;
constexpr uint16_t CURSOR_EXISTS = SERVER_STATUS_CURSOR_EXISTS;
constexpr uint16_t LAST_ROW_SENT = SERVER_STATUS_LAST_ROW_SENT;
constexpr uint16_t DB_DROPPED = SERVER_STATUS_DB_DROPPED;
constexpr uint16_t NO_BACKSLASH_ESCAPES = SERVER_STATUS_NO_BACKSLASH_ESCAPES;
constexpr uint16_t METADATA_CHANGED = SERVER_STATUS_METADATA_CHANGED;
constexpr uint16_t QUERY_WAS_SLOW = SERVER_QUERY_WAS_SLOW;
constexpr uint16_t PS_OUT_PARAMS = SERVER_PS_OUT_PARAMS;
constexpr uint16_t IN_TRANS_READONLY = SERVER_STATUS_IN_TRANS_READONLY;
constexpr uint16_t SESSION_STATE_CHANGED = SERVER_SESSION_STATE_CHANGED;
}  // namespace status

enum class Command : uint8_t {
  sleep = 0x00,
  quit = 0x01,
  init_db = 0x02,
  query = 0x03,
  field_list = 0x04,
  create_db = 0x05,
  drop_db = 0x06,
  refresh = 0x07,
  shutdown = 0x08,
  statistics = 0x09,
  process_info = 0x0a,
  connect = 0x0b,
  process_kill = 0x0c,
  debug = 0x0d,
  ping = 0x0e,
  time = 0x0f,
  delayed_insert = 0x10,
  change_user = 0x11,
  binlog_dump = 0x12,
  table_dump = 0x13,
  connect_out = 0x14,
  register_slave = 0x15,
  stmt_prepare = 0x16,
  stmt_execute = 0x17,
  stmt_send_long_data = 0x18,
  stmt_close = 0x19,
  stmt_reset = 0x1a,
  set_option = 0x1b,
  stmt_fetch = 0x1c,
  daemon = 0x1d,
  binlog_dump_gtid = 0x1e,
  reset_connection = 0x1f,
  stmt_bulk_execute = 0xfa,  // MariaDB: one prepared statement, many rows of parameters
};

// "COM_QUERY" etc.; "COM_UNKNOWN" for bytes outside the enum.
const char* command_name(Command cmd);

// COM_SET_OPTION values.
enum class SetOption : uint16_t { multi_statements_on = 0, multi_statements_off = 1 };

// Column types (Protocol::ColumnType).
enum class ColumnType : uint8_t {
  decimal = 0x00,
  tiny = 0x01,
  short_ = 0x02,
  long_ = 0x03,
  float_ = 0x04,
  double_ = 0x05,
  null = 0x06,
  timestamp = 0x07,
  longlong = 0x08,
  int24 = 0x09,
  date = 0x0a,
  time = 0x0b,
  datetime = 0x0c,
  year = 0x0d,
  newdate = 0x0e,
  varchar = 0x0f,
  bit = 0x10,
  timestamp2 = 0x11,
  datetime2 = 0x12,
  time2 = 0x13,
  typed_array = 0x14,
  vector = 0xf2,
  json = 0xf5,
  newdecimal = 0xf6,
  enum_ = 0xf7,
  set = 0xf8,
  tiny_blob = 0xf9,
  medium_blob = 0xfa,
  long_blob = 0xfb,
  blob = 0xfc,
  var_string = 0xfd,
  string = 0xfe,
  geometry = 0xff,
};

// Column definition flags.
namespace colflag {
constexpr uint16_t NOT_NULL = 1;
constexpr uint16_t PRI_KEY = 2;
constexpr uint16_t UNIQUE_KEY = 4;
constexpr uint16_t MULTIPLE_KEY = 8;
constexpr uint16_t BLOB = 16;
constexpr uint16_t UNSIGNED = 32;
constexpr uint16_t ZEROFILL = 64;
constexpr uint16_t BINARY = 128;
}  // namespace colflag

// Character set (collation) ids used by the proxy.
namespace charset {
constexpr uint8_t utf8mb4_general_ci = 45;
constexpr uint8_t utf8mb3_general_ci = 33;
constexpr uint8_t binary = 63;
constexpr uint8_t utf8mb4_0900_ai_ci = 255;
}  // namespace charset

// Error codes a proxy sends. Only server codes: libmariadb (the mariadb CLI, mysqlclient, ...)
// reports an ERR packet carrying a client-library code (2000-2999, CR_*) as 2027 "malformed
// packet", so a lost or unreachable server is told with the nearest server code instead.
namespace errc {
constexpr uint16_t ER_CON_COUNT_ERROR = 1040;
constexpr uint16_t ER_OUT_OF_RESOURCES = 1041;
constexpr uint16_t ER_BAD_HOST_ERROR = 1042;
constexpr uint16_t ER_HANDSHAKE_ERROR = 1043;
constexpr uint16_t ER_DBACCESS_DENIED_ERROR = 1044;
constexpr uint16_t ER_ACCESS_DENIED_ERROR = 1045;
constexpr uint16_t ER_NO_DB_ERROR = 1046;
constexpr uint16_t ER_UNKNOWN_COM_ERROR = 1047;
constexpr uint16_t ER_BAD_DB_ERROR = 1049;
constexpr uint16_t ER_SERVER_SHUTDOWN = 1053;
constexpr uint16_t ER_PARSE_ERROR = 1064;
constexpr uint16_t ER_EMPTY_QUERY = 1065;
constexpr uint16_t ER_NO_SUCH_THREAD = 1094;
constexpr uint16_t ER_KILL_DENIED_ERROR = 1095;
constexpr uint16_t ER_UNKNOWN_SYSTEM_VARIABLE = 1193;
constexpr uint16_t ER_NET_PACKET_TOO_LARGE = 1153;
constexpr uint16_t ER_NET_READ_ERROR_FROM_PIPE = 1154;
constexpr uint16_t ER_NET_FCNTL_ERROR = 1155;
constexpr uint16_t ER_NET_PACKETS_OUT_OF_ORDER = 1156;
constexpr uint16_t ER_NET_UNCOMPRESS_ERROR = 1157;
constexpr uint16_t ER_NET_READ_ERROR = 1158;
constexpr uint16_t ER_NET_READ_INTERRUPTED = 1159;
constexpr uint16_t ER_NET_ERROR_ON_WRITE = 1160;
constexpr uint16_t ER_NET_WRITE_INTERRUPTED = 1161;
constexpr uint16_t ER_NOT_SUPPORTED_YET = 1235;
constexpr uint16_t ER_NOT_SUPPORTED_AUTH_MODE = 1251;
constexpr uint16_t ER_UNKNOWN_STMT_HANDLER = 1243;
constexpr uint16_t ER_WRONG_ARGUMENTS = 1210;
constexpr uint16_t ER_SPECIFIC_ACCESS_DENIED_ERROR = 1227;
constexpr uint16_t ER_QUERY_INTERRUPTED = 1317;
constexpr uint16_t ER_LOCK_WAIT_TIMEOUT = 1205;
constexpr uint16_t ER_OPTION_PREVENTS_STATEMENT = 1290;
constexpr uint16_t ER_MUST_CHANGE_PASSWORD = 1820;
constexpr uint16_t ER_MUST_CHANGE_PASSWORD_LOGIN = 1862;
constexpr uint16_t ER_ACCOUNT_HAS_BEEN_LOCKED = 4151;  // MariaDB 10.4+ (MySQL says 3118)
constexpr uint16_t ER_CONNECTION_KILLED = 1927;        // MariaDB
// A server could not be reached or refused the login ("Unable to connect to foreign data source").
constexpr uint16_t ER_CONNECT_TO_FOREIGN_DATA_SOURCE = 1429;
constexpr uint16_t ER_WRONG_VALUE_FOR_VAR = 1231;
// OceanBase: the server does not lead the partition (-4038 on the wire as 4038).
constexpr uint16_t OB_NOT_MASTER = 4038;
// OceanBase refuses a statement before running it when the server is starting (SERVER_IS_INIT) or
// stopping (SERVER_IS_STOPPING), or does not serve the tenant (TENANT_NOT_IN_SERVER).
constexpr uint16_t OB_SERVER_IS_INIT = 8001;
constexpr uint16_t OB_SERVER_IS_STOPPING = 8002;
constexpr uint16_t OB_TENANT_NOT_IN_SERVER = 5150;
// OceanBase asks the proxy to send the statement to another server (OB_ERR_REROUTE, -5727): it did
// not run there. odp refreshes the route and sends it again, as after 4038.
constexpr uint16_t OB_ERR_REROUTE = 5727;
}  // namespace errc

// An ERR that says the statement did not run on that server: it may run elsewhere.
inline bool refused_before_running(uint16_t code) {
  return code == errc::OB_NOT_MASTER || code == errc::OB_SERVER_IS_INIT || code == errc::OB_SERVER_IS_STOPPING ||
         code == errc::OB_TENANT_NOT_IN_SERVER || code == errc::OB_ERR_REROUTE;
}

}  // namespace odp::protocol
