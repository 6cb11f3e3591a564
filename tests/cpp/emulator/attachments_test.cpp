#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <string>

#include "attachment_files.hpp"
#include "attachment_urls.hpp"
#include "emulator.hpp"

namespace emu {
namespace {

constexpr std::string_view kOrigin = "http://emu.test:8080";

std::string path_of(const std::string& url) { return url.substr(kOrigin.size()); }

TEST(AttachmentSigner, SignsIdExpiryAndVariant) {
  const AttachmentSigner signer(42);
  const std::string sig = signer.sign("attAAAAAAAAAAAAAA", 1000, "file");
  EXPECT_EQ(sig.size(), 32U);
  EXPECT_EQ(sig.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(sig, AttachmentSigner(42).sign("attAAAAAAAAAAAAAA", 1000, "file"));  // seeded
  EXPECT_NE(sig, AttachmentSigner(43).sign("attAAAAAAAAAAAAAA", 1000, "file"));
  EXPECT_TRUE(signer.verify("attAAAAAAAAAAAAAA", 1000, "file", sig));
  EXPECT_FALSE(signer.verify("attAAAAAAAAAAAAAB", 1000, "file", sig));
  EXPECT_FALSE(signer.verify("attAAAAAAAAAAAAAA", 1001, "file", sig));
  EXPECT_FALSE(signer.verify("attAAAAAAAAAAAAAA", 1000, "small", sig));
  EXPECT_FALSE(signer.verify("attAAAAAAAAAAAAAA", 1000, "file", sig.substr(0, 31)));
  std::string flipped = sig;
  flipped[0] = flipped[0] == '0' ? '1' : '0';
  EXPECT_FALSE(signer.verify("attAAAAAAAAAAAAAA", 1000, "file", flipped));
}

TEST(AttachmentSigner, IsHmacSha256UnderTheSeedsKey) {
  const std::string material = "airtable-emulator attachment URLs/42";
  std::array<unsigned char, EVP_MAX_MD_SIZE> key{};
  unsigned int key_length = 0;
  EVP_Digest(material.data(), material.size(), key.data(), &key_length, EVP_sha256(), nullptr);
  const std::string message = "attAAAAAAAAAAAAAA\n1000\nfile";
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int mac_length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key_length),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac.data(),
       &mac_length);
  std::string hex;
  for (size_t i = 0; i < 16; ++i) {
    static constexpr std::string_view kDigits = "0123456789abcdef";
    hex.push_back(kDigits[mac[i] >> 4U]);
    hex.push_back(kDigits[mac[i] & 0x0FU]);
  }
  EXPECT_EQ(AttachmentSigner(42).sign("attAAAAAAAAAAAAAA", 1000, "file"), hex);
}

TEST(AttachmentUrls, FileAndThumbnailUrlsParseBack) {
  const AttachmentSigner signer(7);
  const AttachmentUrlContext urls{&signer, std::string(kOrigin), 1'700'000'000'000};
  const std::string file = urls.file_url("attAAAAAAAAAAAAAA", "dieline v2 ✓.png");
  EXPECT_EQ(file.rfind("http://emu.test:8080/_attachments/attAAAAAAAAAAAAAA/1700000000000/", 0),
            0U);
  EXPECT_NE(file.find("/dieline%20v2%20%E2%9C%93.png"), std::string::npos);
  const auto parsed = parse_attachment_path(path_of(file));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->id, "attAAAAAAAAAAAAAA");
  EXPECT_EQ(parsed->expires_ms, 1'700'000'000'000);
  EXPECT_EQ(parsed->variant, "file");
  EXPECT_EQ(parsed->filename, "dieline v2 ✓.png");
  EXPECT_TRUE(signer.verify(parsed->id, parsed->expires_ms, parsed->variant, parsed->signature));

  const std::string thumb = urls.thumbnail_url("attAAAAAAAAAAAAAA", "large");
  EXPECT_NE(thumb.find("/thumbnails/large"), std::string::npos);
  const auto thumb_parsed = parse_attachment_path(path_of(thumb));
  ASSERT_TRUE(thumb_parsed);
  EXPECT_EQ(thumb_parsed->variant, "large");
  EXPECT_TRUE(signer.verify(thumb_parsed->id, thumb_parsed->expires_ms, thumb_parsed->variant,
                            thumb_parsed->signature));
  // A thumbnail's signature does not open the file, nor the file's a thumbnail.
  EXPECT_FALSE(signer.verify(parsed->id, parsed->expires_ms, "large", parsed->signature));
}

TEST(AttachmentUrls, MalformedPathsAreRefused) {
  const std::string sig(32, 'a');
  for (const std::string& path :
       {std::string("/_attachments/"), "/_attachments/attA/123/" + sig,
        "/_attachments/attA/12x/" + sig + "/f.png", "/_attachments/attA/123/" + sig + "Z/f.png",
        "/_attachments/attA/123/" + sig.substr(1) + "/f.png",
        "/_attachments/att%2FA/123/" + sig + "/f.png",
        "/_attachments/attA/123/" + sig + "/previews/small",
        "/_attachments/attA/123/" + sig + "/thumbnails/",
        "/_attachments/attA/123/" + sig + "/thumbnails/file",
        "/_attachments/attA/123/" + sig + "/thumbnails/small/x", "/v0/attA/123/" + sig + "/f"}) {
    EXPECT_FALSE(parse_attachment_path(path)) << path;
  }
  EXPECT_TRUE(parse_attachment_path("/_attachments/attA/123/" + sig + "/f.png"));
  EXPECT_TRUE(parse_attachment_path("/_attachments/attA/123/" + sig + "/thumbnails/small"));
}

TEST(AttachmentUrls, MarkersExpandToSignedUrls) {
  const AttachmentSigner signer(1);
  const AttachmentUrlContext urls{&signer, std::string(kOrigin), 5000};
  std::string body = R"({"url":")";
  append_url_marker(body, "attAAAAAAAAAAAAAA", kFileVariant, "a b.pdf");
  body += R"(","thumb":")";
  append_url_marker(body, "attAAAAAAAAAAAAAA", "small", "a b.pdf");
  body += R"("})";
  EXPECT_TRUE(has_url_markers(body));
  const Json expanded = Json::parse(expand_url_markers(body, urls));
  EXPECT_EQ(expanded["url"], urls.file_url("attAAAAAAAAAAAAAA", "a b.pdf"));
  EXPECT_EQ(expanded["thumb"], urls.thumbnail_url("attAAAAAAAAAAAAAA", "small"));
  EXPECT_FALSE(has_url_markers(Json("text with \x01 escaped").dump()));
}

TEST(AttachmentUrls, SignsAttachmentsAnywhereInAPayload) {
  const AttachmentSigner signer(1);
  const AttachmentUrlContext urls{&signer, std::string(kOrigin), 5000};
  Json payload = Json::parse(R"({"cellValuesByFieldId": {"fld1": [
      {"id": "attAAAAAAAAAAAAAA", "url": "https://example.com/x.pdf", "filename": "x.pdf",
       "size": 3, "type": "application/pdf",
       "thumbnails": {"small": {"url": "https://example.com/s", "width": 1, "height": 1}}}],
      "fld2": {"valuesByLinkedRecordId": {"rec1": [
      {"id": "attBBBBBBBBBBBBBB", "url": "https://example.com/y", "filename": "y"}]}},
      "fld3": {"id": "usr1", "name": "not an attachment"}}})");
  sign_attachment_urls(payload, urls);
  const Json& cells = payload["cellValuesByFieldId"];
  EXPECT_EQ(cells["fld1"][0]["url"], urls.file_url("attAAAAAAAAAAAAAA", "x.pdf"));
  EXPECT_EQ(cells["fld1"][0]["thumbnails"]["small"]["url"],
            urls.thumbnail_url("attAAAAAAAAAAAAAA", "small"));
  EXPECT_EQ(cells["fld2"]["valuesByLinkedRecordId"]["rec1"][0]["url"],
            urls.file_url("attBBBBBBBBBBBBBB", "y"));
  EXPECT_FALSE(cells["fld3"].contains("url"));
}

TEST(AttachmentBytes, RepeatIdAndNewlineCutAtSize) {
  EXPECT_EQ(attachment_bytes("attX", 0), "");
  EXPECT_EQ(attachment_bytes("attX", 3), "att");
  EXPECT_EQ(attachment_bytes("attX", 5), "attX\n");
  EXPECT_EQ(attachment_bytes("attX", 12), "attX\nattX\nat");
  const std::string big = attachment_bytes("attAAAAAAAAAAAAAA", 100'000);
  ASSERT_EQ(big.size(), 100'000U);
  for (size_t i = 0; i < big.size(); i += 997) {
    EXPECT_EQ(big[i], std::string("attAAAAAAAAAAAAAA\n")[i % 18]) << i;
  }
  EXPECT_EQ(thumbnail_bytes("attX", "small").size(), 512U);
  EXPECT_EQ(thumbnail_bytes("attX", "large").size(), 2048U);
  EXPECT_EQ(thumbnail_bytes("attX", "full").size(), 8192U);
  EXPECT_EQ(thumbnail_bytes("attX", "small").substr(0, 22), "attX:small\nattX:small\n");
}

TEST(AttachmentRegistry, IndexesCellsAndKeepsUploadsAcrossLoads) {
  Workspace ws;
  Base base;
  Table table;
  Field files;
  files.id = "fldFiles";
  files.type = "multipleAttachments";
  files.slot = 0;
  table.fields.push_back(files);
  Record record;
  record.cells = {Json::parse(
      R"([{"id": "attAAAAAAAAAAAAAA", "url": "u", "filename": "a.pdf", "size": 10,
           "type": "application/pdf", "width": 2, "height": 3}])")};
  table.records.emplace(1, record);
  base.tables.push_back(table);
  ws.bases.push_back(base);

  AttachmentRegistry registry;
  AttachmentFile upload;
  upload.filename = "up.txt";
  upload.type = "text/plain";
  upload.size = 2;
  upload.uploaded = true;
  upload.content = std::make_shared<const std::string>("hi");
  registry.add("attUPLOADUPLOAD00", upload);
  registry.index(ws, true);
  const auto found = registry.find("attAAAAAAAAAAAAAA");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->filename, "a.pdf");
  EXPECT_EQ(found->size, 10);
  EXPECT_EQ(found->type, "application/pdf");
  EXPECT_EQ(found->width, 2);
  EXPECT_TRUE(registry.find("attUPLOADUPLOAD00"));
  EXPECT_FALSE(registry.find("attNOPENOPENOPE00"));
  EXPECT_EQ(attachment_cell_object("attUPLOADUPLOAD00", upload),
            Json::parse(R"({"id": "attUPLOADUPLOAD00", "filename": "up.txt", "size": 2,
                            "type": "text/plain"})"));
  registry.index(Workspace{}, false);  // a reset forgets uploads too
  EXPECT_FALSE(registry.find("attUPLOADUPLOAD00"));
  EXPECT_FALSE(registry.find("attAAAAAAAAAAAAAA"));
}

// The whole path without a socket: an answer's URL, then its download as the clock moves.
class AttachmentDownloads : public ::testing::Test {
 protected:
  static Options options() {
    Options options;
    options.demo = true;
    options.rate_limit = false;
    options.token = kDefaultToken;
    options.seed = 5;
    return options;
  }

  HttpResponse send(const std::string& method, const std::string& target) {
    HttpRequest request;
    request.method = method;
    request.target = target;
    const size_t q = target.find('?');
    request.path = target.substr(0, q);
    if (q != std::string::npos) {
      request.query = parse_query(std::string_view(target).substr(q + 1));
    }
    request.headers = {{"authorization", std::string("Bearer ") + kDefaultToken},
                       {"host", "emu.test:8080"}};
    return emulator_.handle(request);
  }

  // The first attachment of Packaging Tasks, as a list answer carries it.
  Json first_attachment() {
    const std::string base = emulator_.startup_info("", 0)["bases"][0]["id"];
    const HttpResponse list = send("GET", "/v0/" + base + "/Packaging%20Tasks?pageSize=1");
    EXPECT_EQ(list.status, 200) << list.body;
    return Json::parse(list.body)["records"][0]["fields"]["Attachments"][0];
  }

  void SetUp() override { emulator_.clock().freeze_at_ms(1'800'000'000'000); }

  Emulator emulator_{options()};
};

TEST_F(AttachmentDownloads, ServeUntilTheClockPassesTheExpiry) {
  const Json attachment = first_attachment();
  const std::string url = attachment["url"];
  ASSERT_EQ(url.rfind(kOrigin, 0), 0U) << url;
  const auto parsed = parse_attachment_path(path_of(url));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->expires_ms, emulator_.clock().now_ms() + kDefaultAttachmentUrlTtlMs);

  const HttpResponse ok = send("GET", path_of(url));
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.content_type, "image/png");
  EXPECT_EQ(ok.body, attachment_bytes(attachment["id"].get<std::string>(),
                                      attachment["size"].get<int64_t>()));
  const HttpResponse head = send("HEAD", path_of(url));
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
  EXPECT_EQ(head.head_content_length, ok.body.size());
  const std::string thumb = attachment["thumbnails"]["small"]["url"];
  EXPECT_EQ(send("GET", path_of(thumb)).body,
            thumbnail_bytes(attachment["id"].get<std::string>(), "small"));

  emulator_.clock().advance_ms(kDefaultAttachmentUrlTtlMs);
  EXPECT_EQ(send("GET", path_of(url)).status, 200);  // up to the expiry itself
  emulator_.clock().advance_ms(1);
  EXPECT_EQ(send("GET", path_of(url)).status, 410);
  // A fresh answer carries a URL that works again.
  EXPECT_EQ(send("GET", path_of(first_attachment()["url"].get<std::string>())).status, 200);
}

TEST_F(AttachmentDownloads, TamperedAndUnknownUrls) {
  const std::string url = first_attachment()["url"];
  const auto parsed = parse_attachment_path(path_of(url));
  ASSERT_TRUE(parsed);
  const std::string later = std::to_string(parsed->expires_ms + 3'600'000);
  std::string extended = path_of(url);
  extended.replace(extended.find(std::to_string(parsed->expires_ms)),
                   std::to_string(parsed->expires_ms).size(), later);
  EXPECT_EQ(send("GET", extended).status, 403);
  EXPECT_EQ(send("GET", "/_attachments/nothing").status, 403);
  const std::string unknown = "attUNKNOWNUNKNOWN";
  const std::string sig = emulator_.attachment_signer().sign(unknown, parsed->expires_ms, "file");
  EXPECT_EQ(send("GET", "/_attachments/" + unknown + "/" + std::to_string(parsed->expires_ms) +
                            "/" + sig + "/x.bin")
                .status,
            404);
  EXPECT_EQ(send("POST", path_of(url)).status, 405);
  // Downloads are logged as such, never as API traffic.
  const Json log = emulator_.log().to_json(0, 100);
  EXPECT_EQ(log.back()["route"], "download");
  EXPECT_EQ(log.front()["route"], "list");
}

TEST_F(AttachmentDownloads, DownloadsHaveTheirOwnLatency) {
  const std::string url = first_attachment()["url"];
  emulator_.faults().set_latency(parse_latency("1000"));
  emulator_.faults().set_download_latency(parse_latency("7"));
  const std::string base = emulator_.startup_info("", 0)["bases"][0]["id"];
  EXPECT_EQ(send("GET", "/v0/" + base + "/Campaigns?pageSize=1").delay_ms, 1000);
  EXPECT_EQ(send("GET", path_of(url)).delay_ms, 7);
  EXPECT_EQ(send("GET", "/_attachments/garbage").delay_ms, 7);
}

TEST_F(AttachmentDownloads, NoStoredUrlIsEverServed) {
  const std::string base = emulator_.startup_info("", 0)["bases"][0]["id"];
  for (const char* format : {"", "&cellFormat=string&timeZone=UTC&userLocale=en-us"}) {
    const HttpResponse list =
        send("GET", "/v0/" + base + "/Packaging%20Tasks?pageSize=100" + std::string(format));
    ASSERT_EQ(list.status, 200);
    EXPECT_EQ(list.body.find("airtableusercontent"), std::string::npos) << format;
    EXPECT_NE(list.body.find("http://emu.test:8080/_attachments/att"), std::string::npos);
  }
}

}  // namespace
}  // namespace emu
