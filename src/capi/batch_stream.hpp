// An Arrow C stream over any source of record batches. The first failure ends the stream: its
// typed error is kept as JSON (token redacted) for the caller to map, its message is what
// get_last_error returns.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "airtable_lakeflow/arrow/c_data.h"

namespace airtable_lakeflow::capi {

class BatchSource {
 public:
  explicit BatchSource(std::string token) : token_(std::move(token)) {}
  virtual ~BatchSource() = default;
  BatchSource(const BatchSource&) = delete;
  BatchSource& operator=(const BatchSource&) = delete;

  virtual void schema(ArrowSchema* out) = 0;
  // The next batch, or false at the end.
  virtual bool next(ArrowArray* out) = 0;

  // Stream callbacks run under this lock; so do readers of the error.
  std::mutex mutex;
  std::string error_json;
  std::string error_message;
  [[nodiscard]] const std::string& token() const { return token_; }

 private:
  std::string token_;
};

void make_stream(std::shared_ptr<BatchSource> source, ArrowArrayStream* out);

}  // namespace airtable_lakeflow::capi
