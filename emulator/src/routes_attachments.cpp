// Attachment downloads: what Airtable's file host (not its API) answers for an attachment URL.
#include <algorithm>

#include "attachment_files.hpp"
#include "attachment_urls.hpp"
#include "emulator.hpp"
#include "routes.hpp"

namespace emu {

namespace {

HttpResponse text_response(int status, std::string body) {
  HttpResponse response;
  response.status = status;
  response.content_type = "text/plain; charset=utf-8";
  response.body = std::move(body);
  return response;
}

// A fault that answers instead of the file, if `kind` is one.
std::optional<HttpResponse> fault_answer(const Fault& fault) {
  if (fault.kind == "500") {
    return text_response(500, "Internal Server Error\n");
  }
  if (fault.kind == "502") {
    return text_response(502, "Bad Gateway\n");
  }
  if (fault.kind == "503") {
    HttpResponse response = text_response(503, "Service Unavailable\n");
    if (fault.retry_after_s) {
      response.headers.emplace_back("Retry-After", std::to_string(*fault.retry_after_s));
    }
    return response;
  }
  if (fault.kind == "404") {
    return text_response(404, "Not Found\n");
  }
  if (fault.kind == "410") {
    return text_response(410, "This attachment URL has expired\n");
  }
  if (fault.kind == "reset") {
    HttpResponse reset;
    reset.fault = TransportFault::kReset;
    return reset;
  }
  return std::nullopt;  // delay and truncate act on the real answer
}

// A type from data or an upload, as a header value can carry it.
std::string content_type(const std::string& type) {
  const bool printable = std::all_of(type.begin(), type.end(), [](char c) {
    return static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7F;
  });
  return type.empty() || !printable ? "application/octet-stream" : type;
}

HttpResponse file_answer(Emulator& emulator, const AttachmentPath& path) {
  if (emulator.clock().now_ms() > path.expires_ms) {
    return text_response(410, "This attachment URL has expired\n");
  }
  const auto file = emulator.attachments().find(path.id);
  if (!file) {
    return text_response(404, "Not Found\n");
  }
  HttpResponse response;
  if (path.variant == kFileVariant) {
    response.content_type = content_type(file->type);
    response.body = file->content ? *file->content : attachment_bytes(path.id, file->size);
  } else {
    response.content_type = content_type(thumbnail_type(*file));
    response.body = thumbnail_bytes(path.id, path.variant);
  }
  return response;
}

}  // namespace

HttpResponse route_download(Emulator& emulator, const HttpRequest& request, LoggedRequest& entry) {
  const bool head = request.method == "HEAD";
  if (request.method != "GET" && !head) {
    HttpResponse response = text_response(405, "Method Not Allowed\n");
    response.headers.emplace_back("Allow", "GET, HEAD");
    return response;
  }
  HttpResponse response;
  const auto path = parse_attachment_path(request.path);
  if (path) {
    entry.attachment_id = path->id;
  }
  if (!path || !emulator.attachment_signer().verify(path->id, path->expires_ms, path->variant,
                                                    path->signature)) {
    response = text_response(403, "Forbidden: not a valid attachment URL\n");
  } else {
    const auto fault = emulator.faults().decide(RouteClass::kDownload, false, path->id);
    if (fault) {
      entry.fault = fault->kind;
    }
    auto answer = fault ? fault_answer(*fault) : std::nullopt;
    response = answer ? std::move(*answer) : file_answer(emulator, *path);
    if (fault && fault->kind == "delay") {
      response.delay_ms += fault->delay_ms;
    } else if (fault && fault->kind == "truncate") {
      response.fault = TransportFault::kTruncate;
    }
  }
  if (head) {
    response.head_content_length = response.body.size();
    response.body.clear();
  }
  return response;
}

}  // namespace emu
