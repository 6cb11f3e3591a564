#include "attachment_urls.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>
#include <vector>

#include "http_types.hpp"

namespace emu {

namespace {

constexpr char kMarkerEdge = '\x01';
constexpr char kMarkerSeparator = '\x02';
constexpr size_t kSignatureBytes = 16;
constexpr std::string_view kThumbnailsSegment = "thumbnails";

std::string to_hex(const unsigned char* data, size_t length) {
  static constexpr std::string_view kDigits = "0123456789abcdef";
  std::string out;
  out.reserve(length * 2);
  for (size_t i = 0; i < length; ++i) {
    out.push_back(kDigits[data[i] >> 4U]);
    out.push_back(kDigits[data[i] & 0x0FU]);
  }
  return out;
}

bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

std::vector<std::string_view> split_segments(std::string_view text) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    const size_t slash = text.find('/', start);
    out.push_back(text.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start));
    if (slash == std::string_view::npos) {
      return out;
    }
    start = slash + 1;
  }
}

std::string url_prefix(const AttachmentUrlContext& context, std::string_view id,
                       std::string_view variant) {
  std::string out = context.origin;
  out += kAttachmentPathPrefix;
  out += id;
  out.push_back('/');
  out += std::to_string(context.expires_ms);
  out.push_back('/');
  out += context.signer->sign(id, context.expires_ms, variant);
  out.push_back('/');
  return out;
}

}  // namespace

AttachmentSigner::AttachmentSigner(uint64_t seed) {
  constexpr size_t kBlock = 64;  // SHA-256's block size
  const std::string material = "airtable-emulator attachment URLs/" + std::to_string(seed);
  std::array<unsigned char, kBlock> key{};  // the 32-byte key, zero-padded to a block
  unsigned int length = 0;
  EVP_Digest(material.data(), material.size(), key.data(), &length, EVP_sha256(), nullptr);
  // HMAC (RFC 2104): H((K ^ opad) || H((K ^ ipad) || message)).
  auto keyed = [&](unsigned char pad) {
    std::array<unsigned char, kBlock> block{};
    for (size_t i = 0; i < kBlock; ++i) {
      block[i] = key[i] ^ pad;
    }
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
    EVP_DigestUpdate(ctx, block.data(), block.size());
    return std::shared_ptr<const EVP_MD_CTX>(
        ctx, [](const EVP_MD_CTX* c) { EVP_MD_CTX_free(const_cast<EVP_MD_CTX*>(c)); });
  };
  inner_ = keyed(0x36);
  outer_ = keyed(0x5c);
}

std::string AttachmentSigner::sign(std::string_view id, int64_t expires_ms,
                                   std::string_view variant) const {
  std::string message(id);
  message.push_back('\n');
  message += std::to_string(expires_ms);
  message.push_back('\n');
  message += variant;
  thread_local std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> scratch(EVP_MD_CTX_new(),
                                                                          EVP_MD_CTX_free);
  std::array<unsigned char, EVP_MAX_MD_SIZE> inner{};
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int inner_length = 0;
  unsigned int length = 0;
  EVP_MD_CTX_copy_ex(scratch.get(), inner_.get());
  EVP_DigestUpdate(scratch.get(), message.data(), message.size());
  EVP_DigestFinal_ex(scratch.get(), inner.data(), &inner_length);
  EVP_MD_CTX_copy_ex(scratch.get(), outer_.get());
  EVP_DigestUpdate(scratch.get(), inner.data(), inner_length);
  EVP_DigestFinal_ex(scratch.get(), digest.data(), &length);
  return to_hex(digest.data(), kSignatureBytes);
}

bool AttachmentSigner::verify(std::string_view id, int64_t expires_ms, std::string_view variant,
                              std::string_view signature) const {
  const std::string expected = sign(id, expires_ms, variant);
  return signature.size() == expected.size() &&
         CRYPTO_memcmp(signature.data(), expected.data(), expected.size()) == 0;
}

std::string AttachmentUrlContext::file_url(std::string_view id, std::string_view filename) const {
  return url_prefix(*this, id, kFileVariant) + percent_encode(filename);
}

std::string AttachmentUrlContext::thumbnail_url(std::string_view id,
                                                std::string_view variant) const {
  std::string out = url_prefix(*this, id, variant);
  out += kThumbnailsSegment;
  out.push_back('/');
  out += percent_encode(variant);
  return out;
}

std::optional<AttachmentPath> parse_attachment_path(std::string_view raw_path) {
  if (raw_path.substr(0, kAttachmentPathPrefix.size()) != kAttachmentPathPrefix) {
    return std::nullopt;
  }
  const auto seg = split_segments(raw_path.substr(kAttachmentPathPrefix.size()));
  if (seg.size() != 4 && seg.size() != 5) {
    return std::nullopt;
  }
  AttachmentPath out;
  out.id = url_decode(seg[0], false);
  if (!is_safe_attachment_id(out.id)) {
    return std::nullopt;
  }
  const std::string_view expires = seg[1];
  if (expires.empty() || expires.size() > 18 ||
      expires.find_first_not_of("0123456789") != std::string_view::npos) {
    return std::nullopt;
  }
  out.expires_ms = std::stoll(std::string(expires));
  out.signature = std::string(seg[2]);
  if (out.signature.size() != kSignatureBytes * 2 ||
      out.signature.find_first_not_of("0123456789abcdef") != std::string::npos) {
    return std::nullopt;
  }
  if (seg.size() == 4) {
    out.variant = std::string(kFileVariant);
    out.filename = url_decode(seg[3], false);
    return out;
  }
  if (seg[3] != kThumbnailsSegment || seg[4].empty()) {
    return std::nullopt;
  }
  out.variant = url_decode(seg[4], false);
  if (out.variant == kFileVariant) {
    return std::nullopt;  // "file" names the file itself, never a thumbnail
  }
  return out;
}

std::string percent_encode(std::string_view text) {
  static constexpr std::string_view kDigits = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (is_unreserved(c)) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kDigits[c >> 4U]);
      out.push_back(kDigits[c & 0x0FU]);
    }
  }
  return out;
}

bool is_safe_attachment_id(std::string_view id) {
  if (id.empty()) {
    return false;
  }
  for (const char ch : id) {
    const auto c = static_cast<unsigned char>(ch);
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '-')) {
      return false;
    }
  }
  return true;
}

bool is_attachment_object(const Json& value) {
  if (!value.is_object()) {
    return false;
  }
  const auto id = value.find("id");
  const auto filename = value.find("filename");
  return id != value.end() && id->is_string() && filename != value.end() && filename->is_string();
}

void append_url_marker(std::string& out, std::string_view id, std::string_view variant,
                       std::string_view filename) {
  out.push_back(kMarkerEdge);
  out += id;
  out.push_back(kMarkerSeparator);
  out += percent_encode(variant);
  out.push_back(kMarkerSeparator);
  out += percent_encode(filename);
  out.push_back(kMarkerEdge);
}

bool has_url_markers(std::string_view body) {
  return body.find(kMarkerEdge) != std::string_view::npos;
}

std::string expand_url_markers(std::string_view body, const AttachmentUrlContext& context) {
  std::string out;
  out.reserve(body.size() + body.size() / 4);
  size_t at = 0;
  while (true) {
    const size_t open = body.find(kMarkerEdge, at);
    const size_t close = open == std::string_view::npos ? open : body.find(kMarkerEdge, open + 1);
    if (close == std::string_view::npos) {
      out += body.substr(at);
      return out;
    }
    out += body.substr(at, open - at);
    const std::string_view marker = body.substr(open + 1, close - open - 1);
    const size_t first = marker.find(kMarkerSeparator);
    const size_t second = marker.find(kMarkerSeparator, first + 1);
    const std::string_view id = marker.substr(0, first);
    const std::string_view encoded_variant = marker.substr(first + 1, second - first - 1);
    const std::string_view encoded_filename = marker.substr(second + 1);
    if (encoded_variant == kFileVariant) {
      out += url_prefix(context, id, kFileVariant);
      out += encoded_filename;
    } else {
      out += url_prefix(context, id, url_decode(encoded_variant, false));
      out += kThumbnailsSegment;
      out.push_back('/');
      out += encoded_variant;
    }
    at = close + 1;
  }
}

void sign_attachment_urls(Json& value, const AttachmentUrlContext& context) {
  if (is_attachment_object(value)) {
    const std::string id = value["id"].get<std::string>();
    if (!is_safe_attachment_id(id)) {
      return;
    }
    value["url"] = context.file_url(id, value["filename"].get<std::string>());
    if (value.contains("thumbnails") && value["thumbnails"].is_object()) {
      for (auto& [variant, thumbnail] : value["thumbnails"].items()) {
        if (thumbnail.is_object()) {
          thumbnail["url"] = context.thumbnail_url(id, variant);
        }
      }
    }
    return;
  }
  if (value.is_object() || value.is_array()) {
    for (Json& child : value) {
      sign_attachment_urls(child, context);
    }
  }
}

}  // namespace emu
