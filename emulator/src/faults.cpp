#include "faults.hpp"

#include <algorithm>
#include <array>
#include <sstream>
#include <stdexcept>

namespace emu {

namespace {

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::stringstream stream(text);
  std::string part;
  while (std::getline(stream, part, sep)) {
    if (!part.empty()) {
      out.push_back(part);
    }
  }
  return out;
}

int64_t to_int(const std::string& key, const std::string& value) {
  try {
    size_t used = 0;
    const int64_t out = std::stoll(value, &used);
    if (used == value.size() && out >= 0) {
      return out;
    }
  } catch (const std::exception&) {
  }
  throw std::invalid_argument("fault key '" + key + "' needs a non-negative integer, got '" +
                              value + "'");
}

}  // namespace

std::string route_class_name(RouteClass route) {
  switch (route) {
    case RouteClass::kList: return "list";
    case RouteClass::kGet: return "get";
    case RouteClass::kWrite: return "write";
    case RouteClass::kMeta: return "meta";
    case RouteClass::kWebhooks: return "webhooks";
    case RouteClass::kDownload: return "download";
    case RouteClass::kOther: return "other";
  }
  return "other";
}

std::vector<FaultRule> parse_fault_spec(const std::string& spec) {
  constexpr std::array<const char*, 10> kKinds = {
      "500", "502", "503", "reset", "truncate", "malformed", "delay", "iterator_expiry",
      "404", "410"};
  constexpr std::array<const char*, 8> kRoutes = {"any",  "list",     "get",      "write",
                                                  "meta", "webhooks", "download", "*"};
  std::vector<FaultRule> rules;
  for (const std::string& text : split(spec, ';')) {
    FaultRule rule;
    for (const std::string& pair : split(text, ',')) {
      const size_t eq = pair.find('=');
      if (eq == std::string::npos) {
        std::string message = "fault rule '";
        message.append(text).append("': '").append(pair).append("' is not key=value");
        throw std::invalid_argument(message);
      }
      const std::string key = pair.substr(0, eq);
      const std::string value = pair.substr(eq + 1);
      if (key == "kind") {
        rule.kind = value;
      } else if (key == "route") {
        rule.route = value == "*" ? "any" : value;
        if (std::find(kRoutes.begin(), kRoutes.end(), value) == kRoutes.end()) {
          throw std::invalid_argument(
              "fault route '" + value +
              "' is not one of any, list, get, write, meta, webhooks, download");
        }
      } else if (key == "p") {
        try {
          rule.probability = std::stod(value);
        } catch (const std::exception&) {
          rule.probability = -1;
        }
        if (rule.probability < 0 || rule.probability > 1) {
          throw std::invalid_argument("fault p='" + value + "' must be between 0 and 1");
        }
      } else if (key == "every") {
        rule.every = to_int(key, value);
      } else if (key == "at") {
        for (const std::string& n : split(value, '|')) {
          rule.at.push_back(to_int(key, n));
        }
      } else if (key == "times") {
        rule.times = to_int(key, value);
      } else if (key == "ms") {
        rule.delay_ms = to_int(key, value);
      } else if (key == "retry_after") {
        rule.retry_after_s = static_cast<int>(to_int(key, value));
      } else if (key == "attachment") {
        if (value.empty()) {
          throw std::invalid_argument("fault key 'attachment' needs an attachment id");
        }
        rule.attachment = value;
      } else {
        throw std::invalid_argument(
            "unknown fault key '" + key +
            "' (known: kind, route, p, every, at, times, ms, retry_after, attachment)");
      }
    }
    if (std::find_if(kKinds.begin(), kKinds.end(), [&](const char* k) { return rule.kind == k; }) ==
        kKinds.end()) {
      throw std::invalid_argument(
          "fault rule '" + text +
          "' needs kind=500|502|503|reset|truncate|malformed|delay|iterator_expiry|404|410");
    }
    const bool download = rule.route == "download";
    if (!download && (rule.kind == "404" || rule.kind == "410")) {
      throw std::invalid_argument("fault rule '" + text + "': kind=" + rule.kind +
                                  " applies to downloads only (route=download)");
    }
    if (download && (rule.kind == "malformed" || rule.kind == "iterator_expiry")) {
      throw std::invalid_argument("fault rule '" + text + "': kind=" + rule.kind +
                                  " does not apply to downloads");
    }
    if (!download && !rule.attachment.empty()) {
      throw std::invalid_argument("fault rule '" + text + "': attachment= needs route=download");
    }
    if (rule.probability == 0 && rule.every == 0 && rule.at.empty()) {
      rule.probability = 1;  // no schedule given: every matching request
    }
    rules.push_back(rule);
  }
  return rules;
}

LatencyModel parse_latency(const std::string& spec) {
  LatencyModel model;
  const size_t colon = spec.find(':');
  model.fixed_ms = to_int("latency", spec.substr(0, colon));
  if (colon != std::string::npos) {
    model.jitter_ms = to_int("latency jitter", spec.substr(colon + 1));
  }
  return model;
}

void FaultInjector::configure(std::vector<FaultRule> rules, LatencyModel latency) {
  const std::lock_guard lock(mutex_);
  rules_ = std::move(rules);
  latency_ = latency;
}

void FaultInjector::set_rules(std::vector<FaultRule> rules) {
  const std::lock_guard lock(mutex_);
  rules_ = std::move(rules);
}

void FaultInjector::set_latency(LatencyModel latency) {
  const std::lock_guard lock(mutex_);
  latency_ = latency;
}

void FaultInjector::set_download_latency(LatencyModel latency) {
  const std::lock_guard lock(mutex_);
  download_latency_ = latency;
}

std::optional<Fault> FaultInjector::decide(RouteClass route, bool has_offset,
                                           const std::string& attachment_id) {
  const std::lock_guard lock(mutex_);
  const bool download = route == RouteClass::kDownload;
  for (FaultRule& rule : rules_) {
    // `any` is every API route; downloads match route=download only.
    if (download ? rule.route != "download"
                 : rule.route != "any" && rule.route != route_class_name(route)) {
      continue;
    }
    if (!rule.attachment.empty() && rule.attachment != attachment_id) {
      continue;
    }
    if (rule.kind == "iterator_expiry" && !has_offset) {
      continue;  // only a continuation page can lose its iterator
    }
    ++rule.seen;
    if (rule.times >= 0 && rule.fired >= rule.times) {
      continue;
    }
    bool fire = false;
    if (rule.every > 0) {
      fire = rule.seen % rule.every == 0;
    } else if (!rule.at.empty()) {
      fire = std::find(rule.at.begin(), rule.at.end(), rule.seen) != rule.at.end();
    } else {
      fire = std::uniform_real_distribution<double>(0, 1)(rng_) < rule.probability;
    }
    if (fire) {
      ++rule.fired;
      return Fault{rule.kind, rule.delay_ms, rule.retry_after_s};
    }
  }
  return std::nullopt;
}

int64_t FaultInjector::latency_ms() {
  const std::lock_guard lock(mutex_);
  if (latency_.jitter_ms <= 0) {
    return latency_.fixed_ms;
  }
  return latency_.fixed_ms + std::uniform_int_distribution<int64_t>(0, latency_.jitter_ms)(rng_);
}

int64_t FaultInjector::download_latency_ms() {
  const std::lock_guard lock(mutex_);
  if (download_latency_.jitter_ms <= 0) {
    return download_latency_.fixed_ms;
  }
  return download_latency_.fixed_ms +
         std::uniform_int_distribution<int64_t>(0, download_latency_.jitter_ms)(rng_);
}

Json FaultInjector::describe() const {
  const std::lock_guard lock(mutex_);
  Json rules = Json::array();
  for (const FaultRule& r : rules_) {
    Json rule{{"kind", r.kind},   {"route", r.route}, {"p", r.probability},
              {"every", r.every}, {"at", r.at},       {"times", r.times},
              {"ms", r.delay_ms}, {"seen", r.seen},   {"fired", r.fired}};
    if (r.retry_after_s) {
      rule["retry_after"] = *r.retry_after_s;
    }
    if (!r.attachment.empty()) {
      rule["attachment"] = r.attachment;
    }
    rules.push_back(rule);
  }
  return Json{{"rules", rules},
              {"latency", Json{{"fixed_ms", latency_.fixed_ms}, {"jitter_ms", latency_.jitter_ms}}},
              {"download_latency", Json{{"fixed_ms", download_latency_.fixed_ms},
                                        {"jitter_ms", download_latency_.jitter_ms}}}};
}

}  // namespace emu
