// A small HTTP/1.1 server (Boost.Beast) on a loopback address: accepts connections, parses
// requests, hands them to one handler and writes the answer — or misbehaves on purpose when
// the handler asks for a transport fault (reset, truncated body).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "http_types.hpp"

namespace emu {

class HttpServer {
 public:
  using Handler = std::function<HttpResponse(HttpRequest&)>;

  // Binds at once (port 0 = any free port); throws std::runtime_error when it cannot.
  HttpServer(const std::string& host, uint16_t port, Handler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  [[nodiscard]] uint16_t port() const { return port_; }
  // Serves until stop() or SIGTERM / SIGINT; returns after open connections are closed.
  void run();
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  uint16_t port_ = 0;
};

}  // namespace emu
