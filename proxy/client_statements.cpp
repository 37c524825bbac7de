#include "proxy/client_statements.h"

#include <algorithm>

namespace odp::proxy {

ShapePtr make_statement_shape(std::string_view sql) {
  auto shape = std::make_shared<StatementShape>();
  shape->sql.assign(sql);
  routing::classify_sql(shape->sql, shape->classified);
  facts_for_sql(shape->classified, shape->sql, shape->facts);
  return shape;
}

ShapePtr StatementShapes::get(std::string_view sql) {
  auto it = by_text_.find(sql);
  if (it != by_text_.end()) return it->second;
  ShapePtr shape = make_statement_shape(sql);
  // Bounded: many distinct texts (statements with literals prepared once each) are not kept.
  constexpr size_t kMaxShapes = 4096;
  if (by_text_.size() >= kMaxShapes) sweep();
  if (by_text_.size() < kMaxShapes) by_text_.emplace(shape->sql, shape);
  return shape;
}

void StatementShapes::sweep() {
  // Server statements keep their shape alive too; a shape only the catalogue holds goes.
  std::erase_if(by_text_, [](const auto& kv) { return kv.second.use_count() == 1; });
}

bool ClientStmt::has_long_data() const {
  return std::any_of(long_data.begin(), long_data.end(), [](uint8_t b) { return b != 0; });
}

uint32_t ClientStatements::add(ClientStmt stmt) {
  uint32_t id = next_id_;
  while (id == 0 || by_id_.count(id) != 0) ++id;
  next_id_ = id + 1;
  if (next_id_ == 0) next_id_ = 1;
  put(id, std::move(stmt));
  return id;
}

void ClientStatements::put(uint32_t id, ClientStmt stmt) {
  erase(id);
  if (stmt.shape) ++stmt.shape->clients;
  by_id_[id] = std::move(stmt);
  if (id >= next_id_) set_next_id(id + 1);
}

void ClientStatements::erase(uint32_t id) {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return;
  if (it->second.shape && it->second.shape->clients > 0) --it->second.shape->clients;
  by_id_.erase(it);
  if (last_ == id) last_ = 0;
}

void ClientStatements::clear() {
  for (auto& [id, stmt] : by_id_)
    if (stmt.shape && stmt.shape->clients > 0) --stmt.shape->clients;
  by_id_.clear();
  last_ = 0;
}

ClientStmt* ClientStatements::find(uint32_t id) {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &it->second;
}

}  // namespace odp::proxy
