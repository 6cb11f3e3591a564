#include "webhook_notifier.hpp"

#include <utility>  // before Boost.Asio, whose C++20 headers forget it

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <stdexcept>

namespace emu {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;

std::string hmac_sha256_hex(const std::string& key, const std::string& message) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest.data(),
       &length);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    out.push_back(kHex[digest[i] >> 4U]);
    out.push_back(kHex[digest[i] & 15U]);
  }
  return out;
}

std::string base64_encode(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                      reinterpret_cast<const unsigned char*>(bytes.data()),
                                      static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(written));
  return out;
}

int http_post(const std::string& url, const std::string& body,
              const std::vector<std::pair<std::string, std::string>>& headers) {
  const std::string prefix = "http://";
  if (url.rfind(prefix, 0) != 0) {
    throw std::runtime_error("only http:// notification URLs can be delivered by the emulator");
  }
  const std::string rest = url.substr(prefix.size());
  const size_t slash = rest.find('/');
  const std::string authority = rest.substr(0, slash);
  const std::string target = slash == std::string::npos ? "/" : rest.substr(slash);
  const size_t colon = authority.rfind(':');
  const std::string host = colon == std::string::npos ? authority : authority.substr(0, colon);
  const std::string port = colon == std::string::npos ? "80" : authority.substr(colon + 1);
  asio::io_context io;
  asio::ip::tcp::resolver resolver(io);
  beast::tcp_stream stream(io);
  stream.expires_after(std::chrono::seconds(5));
  stream.connect(resolver.resolve(host, port));
  http::request<http::string_body> req{http::verb::post, target, 11};
  req.set(http::field::host, authority);
  req.set(http::field::content_type, "application/json");
  for (const auto& [name, value] : headers) {
    req.set(name, value);
  }
  req.body() = body;
  req.prepare_payload();
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  beast::error_code ec;
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  return static_cast<int>(res.result_int());
}

WebhookNotifier::WebhookNotifier() : worker_([this] { run(); }) {}

WebhookNotifier::~WebhookNotifier() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  worker_.join();
}

void WebhookNotifier::enqueue(PingJob job) {
  {
    const std::lock_guard lock(mutex_);
    queue_.push_back(std::move(job));
  }
  wake_.notify_one();
}

void WebhookNotifier::run() {
  for (;;) {
    PingJob job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) {
        return;
      }
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    PingResult result;
    const auto started = std::chrono::steady_clock::now();
    try {
      const int status = http_post(
          job.url, job.body,
          {{"X-Airtable-Content-MAC", "hmac-sha256=" + hmac_sha256_hex(job.mac_key, job.body)}});
      result.success = status >= 200 && status < 300;
      if (!result.success) {
        result.error = "notification URL answered HTTP " + std::to_string(status);
      }
    } catch (const std::exception& e) {
      result.error = e.what();
    }
    result.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::steady_clock::now() - started)
                             .count();
    if (job.done) {
      job.done(result);
    }
  }
}

}  // namespace emu
