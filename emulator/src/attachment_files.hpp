// The files behind attachments: every attachment the emulator has seen (in its data, written
// through the API, or uploaded through the control API) by id, and the bytes it serves for
// each. An attachment stays known when it leaves its cell, so a URL handed out earlier keeps
// working until it expires.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "json.hpp"
#include "model.hpp"

namespace emu {

struct AttachmentFile {
  std::string filename;
  std::string type;  // MIME type, served as Content-Type
  int64_t size = 0;
  std::optional<int64_t> width;
  std::optional<int64_t> height;
  std::shared_ptr<const std::string> content;  // uploaded bytes; null = the byte rule
  bool uploaded = false;                       // through the control API (kept by `load`)
};

// The byte rule, which tests in any language can recompute: `<id>\n` repeated, cut at `size`
// bytes.
std::string attachment_bytes(std::string_view id, int64_t size);
// Thumbnails: `<id>:<variant>\n` repeated, cut at thumbnail_size(variant) bytes.
std::string thumbnail_bytes(std::string_view id, std::string_view variant);
// small 512, large 2,048, full 8,192; any other variant 512.
int64_t thumbnail_size(std::string_view variant);
// Thumbnails are images: the attachment's own type when it is one, else image/png.
std::string thumbnail_type(const AttachmentFile& file);
// A MIME type from a file name's extension (application/octet-stream when unknown).
std::string guess_mime(std::string_view filename);
// The object a cell stores for an attachment known only by id: {id, width?, height?, filename,
// size, type} (its `url` is made per answer).
Json attachment_cell_object(const std::string& id, const AttachmentFile& file);

class AttachmentRegistry {
 public:
  // Forgets the attachments of earlier data (uploads too unless `keep_uploads`), then learns
  // every attachment in the attachment fields (and stored lookups) of `workspace`.
  void index(const Workspace& workspace, bool keep_uploads);
  // Learns one attachment object ({id, filename, size, type, …}); an uploaded one with the same
  // id keeps its bytes.
  void learn(const Json& attachment);
  void add(const std::string& id, AttachmentFile file);
  [[nodiscard]] std::optional<AttachmentFile> find(const std::string& id) const;
  [[nodiscard]] size_t size() const;

 private:
  void learn_locked(const Json& attachment);

  mutable std::mutex mutex_;
  std::unordered_map<std::string, AttachmentFile> files_;
};

}  // namespace emu
