#include "http_server.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <stdexcept>
#include <thread>

namespace emu {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

// Large enough that over-long URLs reach the routes, which answer them as Airtable does (414).
constexpr size_t kHeaderLimit = 1U << 20U;
constexpr uint64_t kBodyLimit = 64ULL << 20U;

HttpRequest to_request(const http::request<http::string_body>& req, const tcp::socket& socket) {
  HttpRequest out;
  beast::error_code ec;
  const tcp::endpoint local = socket.local_endpoint(ec);
  if (!ec) {
    const std::string address = local.address().to_string();
    out.local_host = (local.address().is_v6() ? "[" + address + "]" : address) + ":" +
                     std::to_string(local.port());
  }
  out.method = std::string(req.method_string());
  out.target = std::string(req.target());
  const size_t q = out.target.find('?');
  out.path = out.target.substr(0, q);
  if (q != std::string::npos) {
    out.query = parse_query(std::string_view(out.target).substr(q + 1));
  }
  for (const auto& field : req) {
    std::string name(field.name_string());
    for (char& c : name) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    out.headers.emplace_back(std::move(name), std::string(field.value()));
  }
  out.body = req.body();
  return out;
}

http::response<http::string_body> to_beast(const HttpResponse& res, unsigned version,
                                           bool keep_alive) {
  http::response<http::string_body> out{static_cast<http::status>(res.status), version};
  out.set(http::field::server, "airtable-emulator/" AIRTABLE_EMULATOR_VERSION);
  out.set(http::field::content_type, res.content_type);
  for (const auto& [name, value] : res.headers) {
    out.set(name, value);
  }
  out.body() = res.body;
  out.keep_alive(keep_alive);
  out.prepare_payload();
  if (res.head_content_length) {
    out.content_length(*res.head_content_length);  // a HEAD answer: the length, no body
  }
  return out;
}

}  // namespace

struct HttpServer::Impl {
  asio::io_context io;
  tcp::acceptor acceptor{io};
  asio::signal_set signals{io, SIGINT, SIGTERM};
  Handler handler;
  std::mutex mutex;
  std::condition_variable idle;
  std::set<tcp::socket*> open_sockets;
  size_t active = 0;
  std::atomic<bool> stopping{false};

  void accept_next() {
    acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec || stopping) {
        return;
      }
      {
        const std::lock_guard lock(mutex);
        ++active;
      }
      auto owned = std::make_unique<tcp::socket>(std::move(socket));
      std::thread([this, s = std::move(owned)]() mutable { serve(std::move(s)); }).detach();
      accept_next();
    });
  }

  void serve(std::unique_ptr<tcp::socket> owned) {
    tcp::socket& socket = *owned;
    {
      const std::lock_guard lock(mutex);
      open_sockets.insert(&socket);
    }
    socket.set_option(tcp::no_delay(true));
    beast::flat_buffer buffer;
    beast::error_code ec;
    while (!stopping) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(kHeaderLimit);
      parser.body_limit(kBodyLimit);
      http::read(socket, buffer, parser, ec);
      if (ec) {
        if (ec != http::error::end_of_stream && ec != asio::error::eof &&
            ec != asio::error::connection_reset && !stopping) {
          // Not HTTP at all, or too large: answer once, then close.
          HttpResponse bad;
          bad.status = ec == http::error::body_limit ? 413 : 400;
          bad.body = R"({"error":{"type":"INVALID_REQUEST","message":"Malformed HTTP request"}})";
          beast::error_code ignored;
          auto res = to_beast(bad, 11, false);
          http::write(socket, res, ignored);
        }
        break;
      }
      const auto& req = parser.get();
      HttpRequest request = to_request(req, socket);
      HttpResponse response;
      try {
        response = handler(request);
      } catch (const std::exception& e) {
        response.status = 500;
        response.body = R"({"error":{"type":"SERVER_ERROR","message":"Unexpected server error"}})";
      }
      if (response.delay_ms > 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(response.delay_ms));
      }
      if (response.fault == TransportFault::kReset) {
        socket.set_option(asio::socket_base::linger(true, 0), ec);
        socket.close(ec);
        break;
      }
      const bool keep_alive = req.keep_alive() && response.fault == TransportFault::kNone;
      auto res = to_beast(response, req.version(), keep_alive);
      if (response.fault == TransportFault::kTruncate) {
        http::response_serializer<http::string_body> serializer{res};
        http::write_header(socket, serializer, ec);
        const std::string& body = res.body();
        asio::write(socket, asio::buffer(body.data(), body.size() / 2), ec);
        socket.shutdown(tcp::socket::shutdown_both, ec);
        socket.close(ec);
        break;
      }
      http::write(socket, res, ec);
      if (ec || !keep_alive) {
        break;
      }
    }
    socket.shutdown(tcp::socket::shutdown_send, ec);
    {
      const std::lock_guard lock(mutex);
      open_sockets.erase(&socket);
    }
    // The socket must be gone before the server may be destroyed (it uses the io_context).
    owned.reset();
    const std::lock_guard lock(mutex);
    --active;
    idle.notify_all();
  }
};

HttpServer::HttpServer(const std::string& host, uint16_t port, Handler handler)
    : impl_(std::make_unique<Impl>()) {
  impl_->handler = std::move(handler);
  beast::error_code ec;
  const tcp::endpoint endpoint{asio::ip::make_address(host, ec), port};
  if (ec) {
    throw std::runtime_error("invalid --host '" + host + "': " + ec.message());
  }
  impl_->acceptor.open(endpoint.protocol());
  impl_->acceptor.set_option(asio::socket_base::reuse_address(true));
  impl_->acceptor.bind(endpoint, ec);
  if (ec) {
    throw std::runtime_error("cannot listen on " + host + ":" + std::to_string(port) + ": " +
                             ec.message());
  }
  impl_->acceptor.listen(asio::socket_base::max_listen_connections);
  port_ = impl_->acceptor.local_endpoint().port();
}

HttpServer::~HttpServer() = default;

void HttpServer::run() {
  impl_->signals.async_wait([this](beast::error_code, int) { stop(); });
  impl_->accept_next();
  impl_->io.run();
  // Wake connection threads blocked in read and wait (briefly) for them to finish.
  std::unique_lock lock(impl_->mutex);
  for (tcp::socket* socket : impl_->open_sockets) {
    beast::error_code ec;
    socket->shutdown(tcp::socket::shutdown_both, ec);
  }
  impl_->idle.wait_for(lock, std::chrono::seconds(5), [this] { return impl_->active == 0; });
}

void HttpServer::stop() {
  impl_->stopping = true;
  asio::post(impl_->io, [this] {
    beast::error_code ec;
    impl_->acceptor.close(ec);
    impl_->signals.cancel(ec);
    impl_->io.stop();
  });
}

}  // namespace emu
