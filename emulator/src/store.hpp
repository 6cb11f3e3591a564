// The emulated workspace and every change to it. Readers take a shared lock; writers an
// exclusive one, and each write reports a ChangeEvent (webhooks turn them into payloads).
#pragma once

#include <functional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "attachment_files.hpp"
#include "change_event.hpp"
#include "ids.hpp"
#include "json.hpp"
#include "model.hpp"

namespace emu {

struct WriteOptions {
  bool typecast = false;
  std::string user_id;
  std::string source = "publicApi";
  int64_t now_ms = 0;
};

class Store {
 public:
  using Listener = std::function<void(const Base&, const ChangeEvent&)>;

  explicit Store(IdGenerator& ids) : ids_(ids) {}

  std::shared_mutex& mutex() { return mutex_; }
  // Callers hold mutex() (shared for reads, exclusive for the mutations below).
  Workspace& workspace() { return workspace_; }
  void set_listener(Listener listener) { listener_ = std::move(listener); }
  // Where attachments written through the API are registered and looked up by id.
  void set_attachments(AttachmentRegistry* attachments) { attachments_ = attachments; }
  // Replaces everything (load / reset); caller holds the exclusive lock.
  void replace(Workspace workspace) { workspace_ = std::move(workspace); }

  // Record writes. `items` are the request's record objects ({"fields": …} or
  // {"id": …, "fields": …}); all are validated before any is applied. Return record ids.
  std::vector<std::string> create_records(Base& base, Table& table, const Json& items,
                                          const WriteOptions& opts);
  std::vector<std::string> update_records(Base& base, Table& table, const Json& items,
                                          bool replace_all, const WriteOptions& opts);
  std::vector<std::string> delete_records(Base& base, Table& table,
                                          const std::vector<std::string>& record_ids,
                                          const WriteOptions& opts);

  // Schema writes. Fields are named by id; `spec` as Airtable's field JSON.
  const Field& create_field(Base& base, Table& table, const Json& spec, const WriteOptions& opts);
  const Field& update_field(Base& base, Table& table, const std::string& field_id,
                            const Json& changes, const WriteOptions& opts);
  // Not in Airtable's public API (the UI can): change a field's type, converting cells.
  const Field& convert_field(Base& base, Table& table, const std::string& field_id,
                             const std::string& type, const Json& options,
                             const WriteOptions& opts);
  void delete_field(Base& base, Table& table, const std::string& field_id,
                    const WriteOptions& opts);
  Table& create_table(Base& base, const Json& spec, const WriteOptions& opts);
  // Not in Airtable's public API (the UI can): delete a table and the links pointing at it.
  void delete_table(Base& base, const std::string& table_id, const WriteOptions& opts);
  void update_table(Base& base, Table& table, const Json& changes, const WriteOptions& opts);

  // Fills a field's defaults (options Airtable always returns) and validates its name.
  void prepare_field(const Table& table, Field& field, const Json& spec);

 private:
  void emit(const Base& base, const ChangeEvent& event) const;
  Json snapshot_cells(const Base& base, const Table& table, const Record& record,
                      int64_t now_ms) const;

  IdGenerator& ids_;
  std::shared_mutex mutex_;
  Workspace workspace_;
  Listener listener_;
  AttachmentRegistry* attachments_ = nullptr;
};

// Airtable's JSON for a field (id, name, type, description?, options?).
Json field_json(const Field& field);

}  // namespace emu
