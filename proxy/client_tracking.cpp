#include "proxy/client_tracking.h"

#include <vector>

#include "base/ascii.h"
#include "protocol/session_track.h"
#include "protocol/wire.h"

namespace odp::proxy {

using protocol::SessionTrackType;

namespace {
bool truthy(std::string_view v) {
  return v == "1" || base::iequals(v, "ON") || base::iequals(v, "TRUE") || base::iequals(v, "YES");
}
std::string_view trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}
}  // namespace

bool is_client_tracking_variable(std::string_view n) {
  return n == "session_track_system_variables" || n == "session_track_schema" || n == "session_track_state_change";
}

bool ClientTracking::learn(std::string_view name, std::string_view value) {
  if (name == "session_track_system_variables") {
    system_variables.assign(value);
  } else if (name == "session_track_schema") {
    schema = truthy(value);
  } else if (name == "session_track_state_change") {
    state_change = truthy(value);
  } else {
    return false;
  }
  return true;
}

bool ClientTracking::tracks_variable(std::string_view name) const {
  std::string_view rest = system_variables;
  while (true) {
    size_t comma = rest.find(',');
    std::string_view item = trimmed(rest.substr(0, comma));
    if (item == "*" || (!item.empty() && base::iequals(item, name))) return true;
    if (comma == std::string_view::npos) return false;
    rest.remove_prefix(comma + 1);
  }
}

std::optional<std::string> filter_session_state(std::span<const protocol::SessionTrackRecord> records,
                                                const ClientTracking& tracking) {
  // A statement that sets the client's trackers is reported by the new ones (as a server does).
  std::optional<ClientTracking> changed;
  for (const auto& r : records) {
    if (r.type != SessionTrackType::system_variables ||
        (r.name.size() < 14 || !base::iequals(r.name.substr(0, 14), "session_track_")))
      continue;
    std::string name = base::ascii_lowered(r.name);
    if (!is_client_tracking_variable(name)) continue;
    if (!changed) changed = tracking;
    changed->learn(name, r.value);
  }
  const ClientTracking& t = changed ? *changed : tracking;
  auto wanted = [&](const protocol::SessionTrackRecord& r) {
    switch (r.type) {
      case SessionTrackType::system_variables:
        return t.tracks_variable(r.name);
      case SessionTrackType::schema:
        return t.schema;
      case SessionTrackType::state_change:
        return t.state_change;
      default:
        return true;  // GTIDs, transaction state: the client's own trackers (odp sets none)
    }
  };
  bool all = true;
  for (const auto& r : records) all = all && wanted(r);
  if (all) return std::nullopt;
  std::vector<uint8_t> kept;
  for (const auto& r : records) {
    if (!wanted(r)) continue;
    protocol::put_u8(kept, static_cast<uint8_t>(r.type));
    protocol::put_lenenc_int(kept, r.data.size());
    protocol::put_bytes(kept, r.data);
  }
  return std::string(kept.begin(), kept.end());
}

}  // namespace odp::proxy
