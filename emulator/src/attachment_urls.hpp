// Signed, expiring attachment URLs. Airtable's attachment URLs stop working about two hours
// after the API answer that carried them; the emulator builds its own at answer time
// (`http://<Host>/_attachments/<id>/<expires_ms>/<sig>/<filename>`, thumbnails
// `…/<sig>/thumbnails/<small|large|full>`) and its download route checks them.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "json.hpp"

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX

namespace emu {

inline constexpr std::string_view kAttachmentPathPrefix = "/_attachments/";
inline constexpr std::string_view kFileVariant = "file";  // the file itself, not a thumbnail
inline constexpr int64_t kDefaultAttachmentUrlTtlMs = 7'200'000;

// HMAC-SHA256 under a per-process key derived from the seed (SHA-256 of
// "airtable-emulator attachment URLs/<seed>"): a URL whose id, expiry or variant was changed no
// longer verifies. The keyed hash states are computed once: a list page signs hundreds of URLs.
class AttachmentSigner {
 public:
  explicit AttachmentSigner(uint64_t seed);
  // 32 lowercase hex characters: the first 16 bytes of HMAC(key, "<id>\n<expires>\n<variant>").
  [[nodiscard]] std::string sign(std::string_view id, int64_t expires_ms,
                                 std::string_view variant) const;
  [[nodiscard]] bool verify(std::string_view id, int64_t expires_ms, std::string_view variant,
                            std::string_view signature) const;

 private:
  std::shared_ptr<const evp_md_ctx_st> inner_;  // SHA-256 after key ^ ipad
  std::shared_ptr<const evp_md_ctx_st> outer_;  // SHA-256 after key ^ opad
};

// The URLs of one API answer: one origin (the request's Host) and one expiry.
struct AttachmentUrlContext {
  const AttachmentSigner* signer = nullptr;
  std::string origin;  // "http://127.0.0.1:8080"
  int64_t expires_ms = 0;

  [[nodiscard]] std::string file_url(std::string_view id, std::string_view filename) const;
  [[nodiscard]] std::string thumbnail_url(std::string_view id, std::string_view variant) const;
};

// A download request's path, decoded.
struct AttachmentPath {
  std::string id;
  int64_t expires_ms = 0;
  std::string signature;
  std::string variant;   // kFileVariant or a thumbnail size
  std::string filename;  // file URLs only; not signed (any name serves the file)
};

// nullopt when the path is not `/_attachments/<id>/<digits>/<sig>/<name>` or
// `…/thumbnails/<variant>`.
std::optional<AttachmentPath> parse_attachment_path(std::string_view raw_path);

// Percent-encodes everything except RFC 3986's unreserved characters.
std::string percent_encode(std::string_view text);

// An id the URLs can carry as is: letters, digits, '_' and '-'.
bool is_safe_attachment_id(std::string_view id);
// An attachment as cells hold it: an object with a string "id" and a string "filename".
bool is_attachment_object(const Json& value);

// Record JSON is cached per record, so it cannot hold a host or a time: it holds markers
// (bytes that serialised JSON never contains raw) that each answer replaces once.
void append_url_marker(std::string& out, std::string_view id, std::string_view variant,
                       std::string_view filename);
bool has_url_markers(std::string_view body);
std::string expand_url_markers(std::string_view body, const AttachmentUrlContext& context);

// Gives every attachment object in `value`, at any depth, signed URLs (webhook payloads).
void sign_attachment_urls(Json& value, const AttachmentUrlContext& context);

}  // namespace emu
