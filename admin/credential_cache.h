#pragma once
// What odp remembers of each user's stored credential, and when it must ask the cluster again.
// Pure bookkeeping over an injected time: no IO, no lock (CredentialStore holds the lock and does
// the fetching), so every rule below is unit-tested without sockets.
//
// The rules, for an entry fetched at time F with the cluster's lifetime L (refresh_interval_ms):
//   - age < L/2: the entry answers;
//   - L/2 <= age < L: the entry answers and one caller is told to refresh it in the background,
//     so a busy user's entry is renewed before it runs out and no login waits for the cluster;
//   - age >= L: the entry is not used (never a yes older than the lifetime: a changed password or
//     a dropped account takes effect within L);
//   - a password that does not match the entry may be re-fetched at once, at most once per
//     `min_refetch` per user (a new password works without waiting for L, and wrong passwords do
//     not turn into a query storm against the cluster);
//   - an unreachable cluster is remembered for `error_ttl`.
// Databases a server accepted for the user (a login with it, COM_INIT_DB) are remembered for L
// too, so a login naming one needs no server round trip; they are forgotten when the user's
// credential changes.
#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "admin/credential.h"
#include "base/result.h"

namespace odp::admin {

class CredentialCache {
 public:
  using Clock = std::chrono::steady_clock;
  using Ms = std::chrono::milliseconds;

  struct Options {
    Ms error_ttl{1000};          // an unreachable cluster is not asked again for this long
    Ms min_refetch{250};         // a mismatching password re-fetches at most this often per user
    size_t max_entries = 10000;  // past it, expired then oldest entries are dropped
    size_t max_databases = 32;   // accepted databases remembered per user
  };

  struct Hit {
    Result<Credential, std::string> answer{Credential{}};
    bool refresh = false;         // this caller should refresh the entry in the background
    bool database_known = false;  // a server accepted the asked database for this user recently
    Clock::time_point fetched{};
  };

  explicit CredentialCache(Options options) : options_(options) {}

  // The entry for `key` if it may still answer at `now` (see the rules above).
  std::optional<Hit> probe(const std::string& key, const std::string& database, Clock::time_point now, Ms lifetime);

  // Stores what the cluster said. A failed refresh keeps a usable entry (it runs out at L anyway).
  void store(const std::string& key, Result<Credential, std::string> answer, Clock::time_point now, Ms lifetime);

  // After a password mismatch: true (and the attempt is recorded) when the entry may be fetched
  // again now; false while the last fetch or re-fetch attempt is younger than min_refetch.
  bool claim_refetch(const std::string& key, Clock::time_point now);

  // A server accepted `database` for the user behind `key`.
  void note_database(const std::string& key, const std::string& database, Clock::time_point now);
  // Whether a server accepted `database` for the user within `lifetime` (users from the config,
  // whose credential is never cached, keep their databases here too).
  bool knows_database(const std::string& key, const std::string& database, Clock::time_point now, Ms lifetime) const;

  void erase(const std::string& key);
  void clear() { entries_.clear(); }
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    bool has_answer = false;  // false: only databases are known (users from the config)
    bool failed = false;
    Credential credential;
    std::string error;
    Clock::time_point fetched{};
    Clock::time_point last_attempt{};  // fetch or re-fetch claim
    bool refreshing = false;
    std::vector<std::pair<std::string, Clock::time_point>> databases;
  };
  Entry& slot(const std::string& key, Clock::time_point now);
  void make_room(Clock::time_point now);

  Options options_;
  std::map<std::string, Entry> entries_;
};

// Two credentials say the same thing about the account.
bool same_credential(const Credential& a, const Credential& b);

}  // namespace odp::admin
