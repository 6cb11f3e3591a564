#include "attachment_files.hpp"

#include <algorithm>
#include <cstring>

#include "attachment_urls.hpp"

namespace emu {

namespace {

// `unit` repeated and cut at `size` bytes, built by doubling.
std::string repeat_to(const std::string& unit, int64_t size) {
  if (size <= 0 || unit.empty()) {
    return {};
  }
  const auto length = static_cast<size_t>(size);
  std::string out(length, '\0');
  size_t filled = std::min(unit.size(), length);
  std::memcpy(out.data(), unit.data(), filled);
  while (filled < length) {
    const size_t n = std::min(filled, length - filled);
    std::memcpy(out.data() + filled, out.data(), n);  // [0, n) and [filled, filled + n) are apart
    filled += n;
  }
  return out;
}

std::optional<int64_t> int_at(const Json& object, const char* key) {
  const auto it = object.find(key);
  if (it == object.end() || !it->is_number_integer()) {
    return std::nullopt;
  }
  return it->get<int64_t>();
}

bool holds_attachments(const Field& field) {
  return field.type == "multipleAttachments" || field.type == "multipleLookupValues" ||
         field.type == "lookup";
}

}  // namespace

std::string attachment_bytes(std::string_view id, int64_t size) {
  std::string unit(id);
  unit.push_back('\n');
  return repeat_to(unit, size);
}

int64_t thumbnail_size(std::string_view variant) {
  if (variant == "large") {
    return 2048;
  }
  if (variant == "full") {
    return 8192;
  }
  return 512;
}

std::string thumbnail_bytes(std::string_view id, std::string_view variant) {
  std::string unit(id);
  unit.push_back(':');
  unit += variant;
  unit.push_back('\n');
  return repeat_to(unit, thumbnail_size(variant));
}

std::string thumbnail_type(const AttachmentFile& file) {
  return file.type.rfind("image/", 0) == 0 ? file.type : "image/png";
}

std::string guess_mime(std::string_view filename) {
  const size_t dot = filename.rfind('.');
  std::string ext(dot == std::string_view::npos ? "" : filename.substr(dot + 1));
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (ext == "png") return "image/png";
  if (ext == "jpg" || ext == "jpeg") return "image/jpeg";
  if (ext == "gif") return "image/gif";
  if (ext == "pdf") return "application/pdf";
  if (ext == "csv") return "text/csv";
  if (ext == "txt") return "text/plain";
  if (ext == "json") return "application/json";
  return "application/octet-stream";
}

Json attachment_cell_object(const std::string& id, const AttachmentFile& file) {
  Json out{{"id", id}};
  if (file.width && file.height) {
    out["width"] = *file.width;
    out["height"] = *file.height;
  }
  out["filename"] = file.filename;
  out["size"] = file.size;
  out["type"] = file.type;
  return out;
}

void AttachmentRegistry::index(const Workspace& workspace, bool keep_uploads) {
  const std::lock_guard lock(mutex_);
  for (auto it = files_.begin(); it != files_.end();) {
    it = keep_uploads && it->second.uploaded ? std::next(it) : files_.erase(it);
  }
  for (const Base& base : workspace.bases) {
    for (const Table& table : base.tables) {
      for (const Field& field : table.fields) {
        if (!holds_attachments(field)) {
          continue;
        }
        for (const auto& [seq, record] : table.records) {
          if (field.slot >= record.cells.size() || !record.cells[field.slot].is_array()) {
            continue;
          }
          for (const Json& item : record.cells[field.slot]) {
            learn_locked(item);
          }
        }
      }
    }
  }
}

void AttachmentRegistry::learn(const Json& attachment) {
  const std::lock_guard lock(mutex_);
  learn_locked(attachment);
}

void AttachmentRegistry::learn_locked(const Json& attachment) {
  if (!is_attachment_object(attachment)) {
    return;
  }
  std::string id = attachment["id"].get<std::string>();
  const auto known = files_.find(id);
  if (known != files_.end() && known->second.uploaded) {
    return;
  }
  AttachmentFile file;
  file.filename = attachment["filename"].get<std::string>();
  file.type = attachment.contains("type") && attachment["type"].is_string()
                  ? attachment["type"].get<std::string>()
                  : guess_mime(file.filename);
  file.size = std::max<int64_t>(0, int_at(attachment, "size").value_or(0));
  file.width = int_at(attachment, "width");
  file.height = int_at(attachment, "height");
  files_.insert_or_assign(std::move(id), std::move(file));
}

void AttachmentRegistry::add(const std::string& id, AttachmentFile file) {
  const std::lock_guard lock(mutex_);
  files_.insert_or_assign(id, std::move(file));
}

std::optional<AttachmentFile> AttachmentRegistry::find(const std::string& id) const {
  const std::lock_guard lock(mutex_);
  const auto it = files_.find(id);
  if (it == files_.end()) {
    return std::nullopt;
  }
  return it->second;
}

size_t AttachmentRegistry::size() const {
  const std::lock_guard lock(mutex_);
  return files_.size();
}

}  // namespace emu
