// Personal access tokens: each has scopes, the bases it may see, and the user it acts as.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "json.hpp"

namespace emu {

struct TokenGrant {
  std::string token;
  std::string user_id;
  std::set<std::string> scopes;
  bool all_bases = true;
  std::set<std::string> bases;
  // The user's role on granted bases: none | read | comment | edit | create.
  std::string permission_level = "create";

  [[nodiscard]] bool has_scope(const std::string& scope) const { return scopes.count(scope) > 0; }
  [[nodiscard]] bool can_see_base(const std::string& base_id) const {
    return all_bases || bases.count(base_id) > 0;
  }
  // "read" < "comment" < "edit" < "create"
  [[nodiscard]] bool role_at_least(const std::string& level) const;
};

// Every scope a read+write+webhook token needs; the default token gets all of them.
std::set<std::string> all_scopes();

class TokenRegistry {
 public:
  void put(TokenGrant grant);
  void remove(const std::string& token);
  void clear();
  [[nodiscard]] std::optional<TokenGrant> find(const std::string& token) const;
  // Parses "Bearer <token>"; nullopt for a missing, malformed or unknown token.
  [[nodiscard]] std::optional<TokenGrant> authenticate(const std::string& authorization) const;
  static TokenGrant from_json(const Json& spec, const std::string& default_user);

 private:
  mutable std::mutex mutex_;
  std::map<std::string, TokenGrant> grants_;
};

}  // namespace emu
