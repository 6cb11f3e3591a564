#include "options.hpp"

#include <stdexcept>
#include <string_view>
#include <vector>

#include "faults.hpp"

namespace emu {

std::string usage() {
  return R"(airtable-emulator — a local server that behaves like the Airtable Web API.

Usage: airtable-emulator [options]

Data (choose one; default --demo):
  --demo                     serve the demo base (Packaging Tasks, Campaigns, Creative Requests)
  --generate TxR             generate a base of T tables x R records covering every field type
  --generate BxTxR           generate B such bases (one token sees them all)
  --data DIR                 serve the bases in DIR (one JSON file per base, see docs/emulator.md)
  --seed S                   seed for generated data, ids and faults (default 42)

Server:
  --host ADDR                address to listen on (default 127.0.0.1)
  --port N                   port, 0 = any free port (default 0)
  --port-file F              write the chosen port to F once listening
  --token T                  the accepted bearer token (default )" +
         std::string(kDefaultToken) + R"()
  --quiet                    print only the startup line

Limits and faults:
  --no-rate-limit            turn off the 5 req/s per base and 50 req/s per token limits
  --penalty-seconds S        how long a base is refused after a 429 (default 30)
  --monthly-quota N          data calls per token before 429 PUBLIC_API_BILLING_LIMIT_EXCEEDED
  --iterator-ttl-seconds S   idle time after which list offsets expire (default 60)
  --latency-ms MS[:JITTER]   added latency per request: fixed + uniform jitter (default 0)
  --faults SPEC              injected faults, ';'-separated rules of key=value pairs:
                               kind=500|502|503|reset|truncate|malformed|delay|iterator_expiry
                                    |404|410 (downloads only)
                               route=any|list|get|write|meta|webhooks|download (any = API only)
                               p=PROB | every=N | at=N1|N2   times=N   ms=MS   retry_after=S
                               attachment=att… (route=download only)
                             e.g. "kind=503,route=list,p=0.1,retry_after=1;kind=reset,every=7"
  --webhook-split N          split a write's webhook payload into payloads of at most N
                             records sharing timestamp and baseTransactionNumber (default off)

Attachments (files served at /_attachments/…, no auth, no rate limit):
  --attachment-url-ttl-seconds S
                             attachment URLs stop working S seconds after the answer that
                             carried them (default 7200)
  --download-latency-ms MS[:JITTER]
                             added latency per attachment download (default 0); faults for
                             downloads: --faults "kind=410,route=download[,attachment=att…]"

  -h, --help                 show this help
  --version                  print the version

The first line on stdout is JSON: {"url", "port", "token", "bases": [{"id", "name"}]}.
Control API (no auth) under /_emulator/: see docs/emulator.md. SIGTERM stops the server.
)";
}

namespace {

double to_double(const std::string& flag, const std::string& value) {
  try {
    size_t used = 0;
    const double out = std::stod(value, &used);
    if (used == value.size() && out >= 0) {
      return out;
    }
  } catch (const std::exception&) {
  }
  throw std::invalid_argument(flag + " needs a non-negative number, got '" + value + "'");
}

}  // namespace

ParseResult parse_options(int argc, const char* const* argv) {
  Options options;
  std::vector<std::string> args(argv + 1, argv + argc);
  int data_sources = 0;
  try {
    for (size_t i = 0; i < args.size(); ++i) {
      const std::string& flag = args[i];
      auto value = [&]() -> std::string {
        if (i + 1 >= args.size()) {
          throw std::invalid_argument(flag + " needs a value");
        }
        return args[++i];
      };
      if (flag == "-h" || flag == "--help") {
        return {std::nullopt, 0, usage()};
      }
      if (flag == "--version") {
        return {std::nullopt, 0, "airtable-emulator " AIRTABLE_EMULATOR_VERSION "\n"};
      }
      if (flag == "--host") {
        options.host = value();
      } else if (flag == "--port") {
        const double port = to_double(flag, value());
        if (port > 65535 || port != static_cast<double>(static_cast<int>(port))) {
          throw std::invalid_argument("--port must be an integer between 0 and 65535");
        }
        options.port = static_cast<uint16_t>(port);
      } else if (flag == "--port-file") {
        options.port_file = value();
      } else if (flag == "--data") {
        options.data_dir = value();
        ++data_sources;
      } else if (flag == "--demo") {
        options.demo = true;
        ++data_sources;
      } else if (flag == "--generate") {
        options.generate = value();
        ++data_sources;
      } else if (flag == "--seed") {
        options.seed = static_cast<uint64_t>(to_double(flag, value()));
      } else if (flag == "--token") {
        options.token = value();
        if (options.token.empty()) {
          throw std::invalid_argument("--token must not be empty");
        }
      } else if (flag == "--no-rate-limit") {
        options.rate_limit = false;
      } else if (flag == "--penalty-seconds") {
        options.penalty_seconds = to_double(flag, value());
      } else if (flag == "--monthly-quota") {
        options.monthly_quota = static_cast<int64_t>(to_double(flag, value()));
      } else if (flag == "--iterator-ttl-seconds") {
        options.iterator_ttl_seconds = to_double(flag, value());
      } else if (flag == "--latency-ms") {
        options.latency = value();
        parse_latency(options.latency);
      } else if (flag == "--faults") {
        options.faults = value();
        parse_fault_spec(options.faults);
      } else if (flag == "--attachment-url-ttl-seconds") {
        options.attachment_url_ttl_seconds = to_double(flag, value());
      } else if (flag == "--download-latency-ms") {
        options.download_latency = value();
        parse_latency(options.download_latency);
      } else if (flag == "--webhook-split") {
        options.webhook_split = static_cast<size_t>(to_double(flag, value()));
      } else if (flag == "--quiet") {
        options.quiet = true;
      } else {
        throw std::invalid_argument("unknown option '" + flag + "'");
      }
    }
    if (data_sources > 1) {
      throw std::invalid_argument("choose one of --demo, --generate and --data");
    }
    if (data_sources == 0) {
      options.demo = true;
    }
  } catch (const std::invalid_argument& e) {
    return {std::nullopt, 2,
            std::string("airtable-emulator: ") + e.what() + "\nTry 'airtable-emulator --help'.\n"};
  }
  if (options.token.empty()) {
    options.token = kDefaultToken;
  }
  return {options, 0, ""};
}

}  // namespace emu
