#include "batch_stream.hpp"

#include <cerrno>

#include "airtable_lakeflow/arrow/c_owner.hpp"
#include "airtable_lakeflow/error.hpp"
#include "airtable_lakeflow/http/http_client.hpp"
#include "json_io.hpp"

namespace airtable_lakeflow::capi {

namespace {

struct StreamData {
  std::shared_ptr<BatchSource> source;
};

BatchSource& source_of(ArrowArrayStream* stream) {
  return *static_cast<StreamData*>(stream->private_data)->source;
}

void fail(BatchSource& source, const Error& error) {
  source.error_json = error_text(error, source.token());
  source.error_message = valid_utf8(http::redact(error.what(), source.token()));
}

int get_schema(ArrowArrayStream* stream, ArrowSchema* out) {
  BatchSource& source = source_of(stream);
  const std::lock_guard lock(source.mutex);
  try {
    // Filled here and handed on whole: a failure leaves the caller's struct untouched.
    arrow::UniqueSchema schema;
    source.schema(schema.get());
    schema.move_to(out);
    return 0;
  } catch (const std::exception& error) {
    fail(source, Error(ErrorKind::kInternal, error.what()));
    return ENOMEM;
  }
}

int get_next(ArrowArrayStream* stream, ArrowArray* out) {
  BatchSource& source = source_of(stream);
  const std::lock_guard lock(source.mutex);
  if (!source.error_json.empty()) {
    return EIO;  // a failed stream stays failed
  }
  try {
    arrow::UniqueArray batch;
    if (source.next(batch.get())) {
      batch.move_to(out);
    } else {
      out->release = nullptr;  // the end of the stream
    }
    return 0;
  } catch (const Error& error) {
    fail(source, error);
  } catch (const std::exception& error) {
    fail(source, Error(ErrorKind::kInternal, error.what()));
  }
  return EIO;
}

const char* last_error(ArrowArrayStream* stream) {
  const BatchSource& source = source_of(stream);
  return source.error_message.empty() ? nullptr : source.error_message.c_str();
}

void release(ArrowArrayStream* stream) {
  delete static_cast<StreamData*>(stream->private_data);
  stream->release = nullptr;
}

}  // namespace

void make_stream(std::shared_ptr<BatchSource> source, ArrowArrayStream* out) {
  auto data = std::make_unique<StreamData>(StreamData{std::move(source)});  // may throw
  out->get_schema = get_schema;
  out->get_next = get_next;
  out->get_last_error = last_error;
  out->release = release;
  out->private_data = data.release();
}

}  // namespace airtable_lakeflow::capi
