#include "admin/credential_cache.h"

#include <algorithm>

namespace odp::admin {

bool same_credential(const Credential& a, const Credential& b) {
  return a.exists == b.exists && a.empty_password == b.empty_password && a.stage2 == b.stage2 && a.plugin == b.plugin;
}

std::optional<CredentialCache::Hit> CredentialCache::probe(const std::string& key, const std::string& database,
                                                           Clock::time_point now, Ms lifetime) {
  auto it = entries_.find(key);
  if (it == entries_.end() || !it->second.has_answer) return std::nullopt;
  Entry& e = it->second;
  const auto age = now - e.fetched;
  if (e.failed) {
    if (age >= options_.error_ttl) return std::nullopt;
    Hit hit;
    hit.answer = Err{e.error};
    hit.fetched = e.fetched;
    return hit;
  }
  if (age >= lifetime) return std::nullopt;
  Hit hit;
  hit.answer = e.credential;
  hit.fetched = e.fetched;
  hit.database_known = knows_database(key, database, now, lifetime);
  if (age >= lifetime / 2 && !e.refreshing) {
    e.refreshing = true;
    hit.refresh = true;
  }
  return hit;
}

CredentialCache::Entry& CredentialCache::slot(const std::string& key, Clock::time_point now) {
  auto it = entries_.find(key);
  if (it != entries_.end()) return it->second;
  make_room(now);
  return entries_[key];
}

void CredentialCache::make_room(Clock::time_point now) {
  if (entries_.size() < options_.max_entries || options_.max_entries == 0) return;
  // Failed answers past their short life first, then the oldest fetch.
  for (auto it = entries_.begin(); it != entries_.end();) {
    it = it->second.failed && now - it->second.fetched >= options_.error_ttl ? entries_.erase(it) : std::next(it);
  }
  while (entries_.size() >= options_.max_entries) {
    auto oldest = std::min_element(entries_.begin(), entries_.end(),
                                   [](const auto& a, const auto& b) { return a.second.fetched < b.second.fetched; });
    entries_.erase(oldest);
  }
}

void CredentialCache::store(const std::string& key, Result<Credential, std::string> answer, Clock::time_point now,
                            Ms lifetime) {
  if (options_.max_entries == 0) return;
  Entry& e = slot(key, now);
  e.refreshing = false;
  e.last_attempt = now;
  if (!answer) {
    // A refresh that could not reach the cluster keeps a good answer until its lifetime ends.
    if (e.has_answer && !e.failed && now - e.fetched < lifetime) return;
    e.has_answer = true;
    e.failed = true;
    e.error = answer.error();
    e.fetched = now;
    e.databases.clear();
    return;
  }
  // A changed account (new password, dropped, re-created) starts without known databases: its
  // grants may have changed with it.
  if (!e.has_answer || e.failed || !same_credential(e.credential, *answer)) e.databases.clear();
  e.has_answer = true;
  e.failed = false;
  e.error.clear();
  e.credential = std::move(answer).value();
  e.fetched = now;
}

bool CredentialCache::claim_refetch(const std::string& key, Clock::time_point now) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return true;
  if (now - it->second.last_attempt < options_.min_refetch) return false;
  it->second.last_attempt = now;
  return true;
}

void CredentialCache::note_database(const std::string& key, const std::string& database, Clock::time_point now) {
  if (options_.max_entries == 0 || database.empty()) return;
  Entry& e = slot(key, now);
  for (auto& [name, when] : e.databases) {
    if (name == database) {
      when = now;
      return;
    }
  }
  if (e.databases.size() >= options_.max_databases) {
    auto oldest = std::min_element(e.databases.begin(), e.databases.end(),
                                   [](const auto& a, const auto& b) { return a.second < b.second; });
    e.databases.erase(oldest);
  }
  e.databases.emplace_back(database, now);
}

bool CredentialCache::knows_database(const std::string& key, const std::string& database, Clock::time_point now,
                                     Ms lifetime) const {
  auto it = entries_.find(key);
  if (it == entries_.end()) return false;
  for (const auto& [name, when] : it->second.databases)
    if (name == database) return now - when < lifetime;
  return false;
}

void CredentialCache::erase(const std::string& key) {
  entries_.erase(key);
}

}  // namespace odp::admin
