#include "airtable_lakeflow/error.hpp"

namespace airtable_lakeflow {

const char* error_kind_name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kConfig: return "config";
    case ErrorKind::kAuthentication: return "authentication";
    case ErrorKind::kPermission: return "permission";
    case ErrorKind::kNotFound: return "not_found";
    case ErrorKind::kInvalidRequest: return "invalid_request";
    case ErrorKind::kRateLimit: return "rate_limit";
    case ErrorKind::kQuota: return "quota";
    case ErrorKind::kServer: return "server";
    case ErrorKind::kTransport: return "transport";
    case ErrorKind::kInternal: return "internal";
  }
  return "internal";
}

}  // namespace airtable_lakeflow
