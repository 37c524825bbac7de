#pragma once
// A backend user's stored credential as odp needs it to check a mysql_native_password login.
#include <array>
#include <cstdint>
#include <string>

namespace odp::admin {

inline constexpr const char* kNativePasswordPlugin = "mysql_native_password";
// Credential::plugin of an account whose authentication_string is no usable hash (e.g. MariaDB's
// "invalid" for accounts that log in by unix socket only): it exists but cannot log in through odp.
inline constexpr const char* kInvalidHashPlugin = "invalid_authentication_string";

struct Credential {
  bool exists = false;               // false: no such user (log-in refused as a wrong password would be)
  bool empty_password = false;       // the account has no password (stage2 is all zero)
  std::array<uint8_t, 20> stage2{};  // SHA1(SHA1(password))
  // kNativePasswordPlugin when stage2 is usable; any other value: the account exists but odp
  // cannot verify its password (another auth plugin), so the log-in must be refused with a reason.
  std::string plugin;
  // The server refuses the account a new login even with the right password: ACCOUNT LOCK
  // (MariaDB ERROR 4151) or an expired password (its sandbox mode, or ERROR 1862). Read with the
  // credential, so either takes effect within refresh_interval_ms, like a changed password.
  bool locked = false;
  bool password_expired = false;
};

}  // namespace odp::admin
