#include "emulator.hpp"

#include <mutex>

#include "api_error.hpp"
#include "datasets.hpp"
#include "routes.hpp"

namespace emu {

namespace {

// Airtable measures its 16,000-character limit on the whole URL.
constexpr size_t kMaxUrlLength = 16000;
constexpr size_t kOriginLength = std::char_traits<char>::length("https://api.airtable.com");

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> out;
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) {
      end = path.size();
    }
    out.push_back(url_decode(std::string_view(path).substr(start, end - start), false));
    start = end + 1;
  }
  if (!out.empty() && out.back().empty()) {
    out.pop_back();  // trailing slash
  }
  return out;
}

RouteClass classify(const std::vector<std::string>& seg, const std::string& method) {
  if (seg.empty()) {
    return RouteClass::kOther;
  }
  if (seg[0] == "meta") {
    return RouteClass::kMeta;
  }
  if (seg[0] == "bases") {
    return RouteClass::kWebhooks;
  }
  if (seg.size() == 2 && method == "GET") {
    return RouteClass::kList;
  }
  if (seg.size() == 3 && seg[2] == "listRecords" && method == "POST") {
    return RouteClass::kList;
  }
  if (seg.size() == 3 && method == "GET") {
    return RouteClass::kGet;
  }
  return RouteClass::kWrite;
}

// The base a route addresses, for rate limiting and access checks ("" for none).
std::string base_of(const std::vector<std::string>& seg) {
  if (seg.size() >= 3 && seg[0] == "meta" && seg[1] == "bases") {
    return seg[2];
  }
  if (seg.size() >= 2 && seg[0] == "bases") {
    return seg[1];
  }
  if (!seg.empty() && seg[0] != "meta" && seg[0] != "bases") {
    return seg[0];
  }
  return "";
}

HttpResponse error_response(const ApiError& error) {
  HttpResponse response;
  response.status = error.status();
  response.body = error.body().dump();
  if (error.retry_after_s()) {
    response.headers.emplace_back("Retry-After", std::to_string(*error.retry_after_s()));
  }
  return response;
}

std::string error_type_of(const HttpResponse& response) {
  if (response.status < 400) {
    return "";
  }
  try {
    const Json body = Json::parse(response.body);
    const Json& error = body.at("error");
    return error.is_string() ? error.get<std::string>() : error.value("type", "");
  } catch (const std::exception&) {
    return "";
  }
}

Workspace initial_workspace(const Options& options, IdGenerator& ids, int64_t now_ms) {
  if (!options.data_dir.empty()) {
    return load_data_dir(options.data_dir, ids, now_ms);
  }
  if (!options.generate.empty()) {
    const GenerateSpec spec = parse_generate_option(options.generate);
    return generate_workspace(ids, spec.bases, spec.tables, spec.records, now_ms);
  }
  return make_demo_workspace(ids, now_ms);
}

}  // namespace

Emulator::Emulator(const Options& options)
    : options_(options),
      ids_(options.seed),
      store_(ids_),
      iterators_(static_cast<int64_t>(options.iterator_ttl_seconds * 1000)),
      webhooks_(ids_),
      faults_(options.seed ^ 0x9e3779b97f4a7c15ULL),
      signer_(options.seed) {
  configure_from_options();
  initial_ = initial_workspace(options, ids_, clock_.now_ms());
  store_.replace(initial_);
  attachments_.index(initial_, false);
  store_.set_attachments(&attachments_);
  store_.set_listener(
      [this](const Base& base, const ChangeEvent& event) { webhooks_.on_change(base, event); });
  webhooks_.set_split(options.webhook_split);
  install_default_token();
}

void Emulator::configure_from_options() {
  RateLimitConfig limits;
  limits.enabled = options_.rate_limit;
  limits.penalty_ms = static_cast<int64_t>(options_.penalty_seconds * 1000);
  limits.monthly_quota = options_.monthly_quota;
  rate_limiter_.configure(limits);
  faults_.configure(
      options_.faults.empty() ? std::vector<FaultRule>{} : parse_fault_spec(options_.faults),
      options_.latency.empty() ? LatencyModel{} : parse_latency(options_.latency));
  faults_.set_download_latency(options_.download_latency.empty()
                                   ? LatencyModel{}
                                   : parse_latency(options_.download_latency));
  attachment_url_ttl_ms_ = static_cast<int64_t>(options_.attachment_url_ttl_seconds * 1000);
}

void Emulator::install_default_token() {
  TokenGrant grant;
  grant.token = options_.token;
  grant.scopes = all_scopes();
  grant.user_id = initial_.users.empty() ? "usrEmulatorUser01" : initial_.users.front().id;
  tokens_.put(grant);
}

void Emulator::load(Workspace workspace) {
  const std::unique_lock lock(store_.mutex());
  store_.replace(std::move(workspace));
  // URLs of the earlier data stop working; uploads stay until a reset.
  attachments_.index(store_.workspace(), true);
  iterators_.expire_all();
  webhooks_.reset();
}

void Emulator::reset() {
  {
    const std::unique_lock lock(store_.mutex());
    store_.replace(initial_);
    attachments_.index(initial_, false);
  }
  iterators_.expire_all();
  webhooks_.reset();
  webhooks_.set_split(options_.webhook_split);
  rate_limiter_.reset();
  log_.clear();
  tokens_.clear();
  install_default_token();
  clock_.advance_ms(-clock_.offset_ms());
  configure_from_options();
  iterators_.set_ttl_ms(static_cast<int64_t>(options_.iterator_ttl_seconds * 1000));
}

AttachmentUrlContext Emulator::attachment_urls(const HttpRequest& request) const {
  // The Host the client used, so URLs work wherever the client reached the emulator; one
  // that could not be a host name falls back to the listening address.
  std::string host = request.header("host");
  const bool plausible = !host.empty() && host.size() <= 255 &&
                         host.find_first_not_of(
                             "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                             "0123456789.-:[]_") == std::string::npos;
  if (!plausible) {
    host = request.local_host.empty() ? "127.0.0.1" : request.local_host;
  }
  return AttachmentUrlContext{&signer_, "http://" + host,
                              clock_.now_ms() + attachment_url_ttl_ms_.load()};
}

Json Emulator::startup_info(const std::string& url, uint16_t port) {
  Json bases = Json::array();
  const std::shared_lock lock(store_.mutex());
  for (const Base& base : store_.workspace().bases) {
    bases.push_back(Json{{"id", base.id}, {"name", base.name}});
  }
  return Json{{"url", url}, {"port", port}, {"token", options_.token}, {"bases", bases}};
}

HttpResponse Emulator::handle(HttpRequest& request) {
  if (request.path.rfind("/_emulator/", 0) == 0) {
    try {
      return route_control(*this, request);
    } catch (const ApiError& error) {
      return error_response(error);
    }
  }
  LoggedRequest entry;
  entry.time_ms = clock_.now_ms();
  entry.method = request.method;
  // Raw bytes that are not UTF-8 would make the log unreadable as JSON.
  entry.path = valid_utf8(request.path);
  entry.target = valid_utf8(request.target);
  if (request.path.rfind(kAttachmentPathPrefix, 0) == 0) {
    // Airtable's file host, not its API: no auth, no rate limit, no quota, its own latency.
    entry.route = route_class_name(RouteClass::kDownload);
    HttpResponse response = route_download(*this, request, entry);
    response.delay_ms += faults_.download_latency_ms();
    entry.status = response.status;
    log_.append(std::move(entry));
    return response;
  }
  HttpResponse response = handle_api(request, entry);
  response.delay_ms += faults_.latency_ms();
  entry.status = response.status;
  entry.error_type = error_type_of(response);
  log_.append(std::move(entry));
  return response;
}

HttpResponse Emulator::handle_api(HttpRequest& request, LoggedRequest& entry) {
  try {
    if (kOriginLength + request.target.size() > kMaxUrlLength) {
      throw errors::uri_too_long();
    }
    std::vector<std::string> seg = split_path(request.path);
    if (seg.empty() || seg[0] != "v0" || seg.size() < 2) {
      throw errors::not_found();
    }
    seg.erase(seg.begin());
    const RouteClass route = classify(seg, request.method);
    entry.route = route_class_name(route);
    entry.base_id = base_of(seg);
    if (route == RouteClass::kList || route == RouteClass::kGet || route == RouteClass::kWrite) {
      entry.table = seg.size() >= 2 ? seg[1] : "";
    }
    const auto grant = tokens_.authenticate(request.header("authorization"));
    if (!grant) {
      throw errors::authentication_required();
    }
    const bool data_route =
        route == RouteClass::kList || route == RouteClass::kGet || route == RouteClass::kWrite;
    switch (rate_limiter_.admit(grant->token, entry.base_id, data_route, entry.time_ms)) {
      case RateLimiter::Verdict::kRateLimited: throw errors::rate_limit_reached();
      case RateLimiter::Verdict::kQuotaExceeded: throw errors::billing_limit_exceeded();
      case RateLimiter::Verdict::kAllowed: break;
    }
    const bool has_offset =
        request.has_param("offset") ||
        (request.method == "POST" && request.body.find("\"offset\"") != std::string::npos);
    const auto fault = faults_.decide(route, has_offset);
    if (fault) {
      entry.fault = fault->kind;
      if (fault->kind == "500" || fault->kind == "502" || fault->kind == "503") {
        throw errors::server_error(std::stoi(fault->kind), fault->retry_after_s);
      }
      if (fault->kind == "iterator_expiry") {
        throw errors::iterator_not_available();
      }
      if (fault->kind == "reset") {
        HttpResponse reset;
        reset.fault = TransportFault::kReset;
        return reset;
      }
    }
    RouteMatch match{seg, *grant, entry.base_id};
    HttpResponse response;
    if (seg[0] == "meta") {
      response = route_meta(*this, match, request);
    } else if (seg[0] == "bases") {
      response = route_webhooks(*this, match, request);
    } else {
      response = route_records(*this, match, request);
    }
    if (has_url_markers(response.body)) {
      response.body = expand_url_markers(response.body, attachment_urls(request));
    }
    if (fault && fault->kind == "delay") {
      response.delay_ms += fault->delay_ms;
    } else if (fault && fault->kind == "truncate") {
      response.fault = TransportFault::kTruncate;
    } else if (fault && fault->kind == "malformed") {
      response.body = response.body.substr(0, response.body.size() / 2) + "\x01<not json";
    }
    return response;
  } catch (const ApiError& error) {
    return error_response(error);
  }
}

}  // namespace emu
