#pragma once
// A blocking connection to a cluster with its meta account (libmariadb), for the control-plane
// readers of cluster metadata: credentials and location tables. It tries the rootservice_list
// entries in turn and keeps the first that answers. Never use it on a worker thread.
#include <memory>
#include <string>

#include "admin/config.h"
#include "base/result.h"
#include "routing/meta_rows.h"

struct st_mysql;

namespace odp::admin {

class MetaConnection {
 public:
  MetaConnection(unsigned connect_timeout_s = 3, unsigned read_timeout_s = 3);
  ~MetaConnection();
  MetaConnection(const MetaConnection&) = delete;
  MetaConnection& operator=(const MetaConnection&) = delete;

  // Connects (if not connected) to the first rootservice_list entry that accepts the meta account.
  Status<std::string> connect(const ClusterConfig& cluster);
  // Runs one statement and returns its rows as text. A failure closes the connection (the next
  // call reconnects).
  Result<routing::MetaRows, std::string> query(const std::string& sql);
  // `text` escaped for a '...' literal on this connection (call after connect()).
  std::string escape(const std::string& text);
  bool connected() const { return conn_ != nullptr; }
  const std::string& endpoint() const { return endpoint_; }
  void close();

 private:
  unsigned connect_timeout_s_;
  unsigned read_timeout_s_;
  st_mysql* conn_ = nullptr;
  std::string endpoint_;
  std::string cluster_;
};

}  // namespace odp::admin
