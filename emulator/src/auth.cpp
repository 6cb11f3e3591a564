#include "auth.hpp"

#include <array>
#include <stdexcept>
#include <string_view>

namespace emu {

namespace {
int role_rank(std::string_view level) {
  constexpr std::array<std::string_view, 5> kLevels = {"none", "read", "comment", "edit", "create"};
  for (size_t i = 0; i < kLevels.size(); ++i) {
    if (kLevels[i] == level) {
      return static_cast<int>(i);
    }
  }
  return 0;
}
}  // namespace

bool TokenGrant::role_at_least(const std::string& level) const {
  return role_rank(permission_level) >= role_rank(level);
}

std::set<std::string> all_scopes() {
  return {"data.records:read", "data.records:write",       "data.recordComments:read",
          "schema.bases:read", "schema.bases:write",       "webhook:manage",
          "user.email:read",   "data.recordComments:write"};
}

void TokenRegistry::put(TokenGrant grant) {
  const std::lock_guard lock(mutex_);
  grants_[grant.token] = std::move(grant);
}

void TokenRegistry::remove(const std::string& token) {
  const std::lock_guard lock(mutex_);
  grants_.erase(token);
}

void TokenRegistry::clear() {
  const std::lock_guard lock(mutex_);
  grants_.clear();
}

std::optional<TokenGrant> TokenRegistry::find(const std::string& token) const {
  const std::lock_guard lock(mutex_);
  const auto it = grants_.find(token);
  return it == grants_.end() ? std::nullopt : std::optional<TokenGrant>(it->second);
}

std::optional<TokenGrant> TokenRegistry::authenticate(const std::string& authorization) const {
  constexpr std::string_view kPrefix = "Bearer ";
  if (authorization.size() <= kPrefix.size() ||
      std::string_view(authorization).substr(0, kPrefix.size()) != kPrefix) {
    return std::nullopt;
  }
  return find(authorization.substr(kPrefix.size()));
}

TokenGrant TokenRegistry::from_json(const Json& spec, const std::string& default_user) {
  TokenGrant grant;
  grant.token = spec.at("token").get<std::string>();
  grant.user_id = spec.value("user_id", default_user);
  if (spec.contains("scopes")) {
    for (const Json& s : spec["scopes"]) {
      grant.scopes.insert(s.get<std::string>());
    }
  } else {
    grant.scopes = all_scopes();
  }
  if (spec.contains("bases") && spec["bases"].is_array()) {
    grant.all_bases = false;
    for (const Json& b : spec["bases"]) {
      grant.bases.insert(b.get<std::string>());
    }
  }
  grant.permission_level = spec.value("permissionLevel", std::string("create"));
  return grant;
}

}  // namespace emu
