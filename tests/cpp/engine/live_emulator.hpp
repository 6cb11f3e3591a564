// A real emulator served in-process on a free loopback port, for engine tests.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <thread>

#include "airtable_lakeflow/http/curl_transport.hpp"
#include "emulator.hpp"
#include "http_server.hpp"

namespace airtable_lakeflow::testing {

using http::BeforeSend;
using http::CurlTransport;
using http::Request;
using http::Response;

class LiveEmulator : public ::testing::Test {
 protected:
  virtual emu::Options options() {
    emu::Options options;
    options.rate_limit = false;
    options.token = emu::kDefaultToken;
    return options;
  }

  void SetUp() override {
    emulator_ = std::make_unique<emu::Emulator>(options());
    server_ = std::make_unique<emu::HttpServer>(
        "127.0.0.1", 0, [this](emu::HttpRequest& r) { return emulator_->handle(r); });
    thread_ = std::thread([this] { server_->run(); });
    url_ = "http://127.0.0.1:" + std::to_string(server_->port());
    base_ = emulator_->startup_info(url_, server_->port())["bases"][0]["id"].get<std::string>();
  }
  void TearDown() override {
    server_->stop();
    thread_.join();
  }
  void faults(const std::string& spec) {
    emulator_->faults().set_rules(emu::parse_fault_spec(spec));
  }
  Response get(CurlTransport& transport, const std::string& path,
               const BeforeSend& before_send = {}) {
    Request request;
    request.url = url_ + path;
    request.headers = {{"Authorization", std::string("Bearer ") + emu::kDefaultToken}};
    return transport.send(request, before_send);
  }

  std::unique_ptr<emu::Emulator> emulator_;
  std::unique_ptr<emu::HttpServer> server_;
  std::thread thread_;
  std::string url_;
  std::string base_;
};

}  // namespace airtable_lakeflow::testing
