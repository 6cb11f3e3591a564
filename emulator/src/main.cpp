// airtable-emulator: parses options, builds the emulator, serves until SIGTERM.
#include <cstdio>
#include <fstream>
#include <iostream>

#include "emulator.hpp"
#include "http_server.hpp"
#include "options.hpp"

int main(int argc, char** argv) {
  const emu::ParseResult parsed = emu::parse_options(argc, argv);
  if (!parsed.options) {
    (parsed.exit_code == 0 ? std::cout : std::cerr) << parsed.message;
    return parsed.exit_code;
  }
  const emu::Options& options = *parsed.options;
  try {
    emu::Emulator emulator(options);
    emu::HttpServer server(options.host, options.port, [&emulator](emu::HttpRequest& request) {
      return emulator.handle(request);
    });
    const std::string host =
        options.host.find(':') != std::string::npos ? "[" + options.host + "]" : options.host;
    const std::string url = "http://" + host + ":" + std::to_string(server.port());
    if (!options.port_file.empty()) {
      const std::string tmp = options.port_file + ".tmp";
      std::ofstream(tmp) << server.port() << "\n";
      std::rename(tmp.c_str(), options.port_file.c_str());
    }
    std::cout << emulator.startup_info(url, server.port()).dump() << std::endl;
    if (!options.quiet) {
      std::cerr << "airtable-emulator listening on " << url << " (SIGTERM to stop)\n";
    }
    server.run();
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "airtable-emulator: " << e.what() << "\n";
    return 1;
  }
}
