#include "airtable_lakeflow/read/table_reader.hpp"

#include <simdjson.h>

#include <cctype>

#include "airtable_lakeflow/http/http_client.hpp"

namespace airtable_lakeflow::read {

namespace {

schema::TableLayout plan(api::AirtableClient& client, const ReadRequest& request,
                         const SchemaSource& schema_source) {
  if (request.base_id.empty()) {
    throw Error(ErrorKind::kConfig, "No base given: set the base id (app…).");
  }
  if (request.table.empty()) {
    throw Error(ErrorKind::kConfig, "No table given: name a table by id (tbl…) or name.");
  }
  if (request.batch_rows < 1) {
    throw Error(ErrorKind::kConfig, "batch_rows must be at least 1.");
  }
  if (request.page_size < 1 || request.page_size > 100) {
    throw Error(ErrorKind::kConfig, "page_size must be between 1 and 100 (Airtable's maximum).");
  }
  const auto tables =
      schema_source ? schema_source(request.base_id) : client.base_schema(request.base_id);
  return schema::plan_table(schema::find_table(tables, request.table, request.base_id),
                            request.fields);
}

api::ListQuery list_query(const ReadRequest& request, const schema::TableLayout& layout) {
  api::ListQuery query;
  query.view = request.view;
  query.formula = request.formula;
  query.sort = request.sort;
  query.page_size = request.page_size;
  query.max_records = request.max_records;
  query.fields_by_id = true;
  if (!request.fields.empty()) {
    for (const schema::Column& column : layout.columns) {
      if (!column.field_id.empty()) {
        query.fields.push_back(column.field_id);
      }
    }
  }
  return query;
}

// The offset of a page that ends the usual way, `…],"offset":"itr…/rec…"}`, read from its
// last bytes. Only the top-level object's last key can be followed by nothing but `"}`: any
// nested object is followed by the closing `]}` of the records list. Anything else (the last
// page, another key order, whitespace) returns nothing and the page is parsed instead.
std::optional<std::string> tail_offset(std::string_view body) {
  static constexpr std::string_view kKey = R"("offset":")";
  static constexpr size_t kTail = 128;
  if (body.size() < kTail || body.substr(body.size() - 2) != R"("})") {
    return std::nullopt;
  }
  const std::string_view tail = body.substr(body.size() - kTail);
  const size_t key = tail.rfind(kKey);
  if (key == std::string_view::npos || key == 0 || tail[key - 1] != ',') {
    return std::nullopt;
  }
  const std::string_view value =
      tail.substr(key + kKey.size(), tail.size() - key - kKey.size() - 2);
  for (const char c : value) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '/') {
      return std::nullopt;
    }
  }
  return value.empty() ? std::nullopt : std::optional<std::string>(value);
}

}  // namespace

TableReader::TableReader(api::AirtableClient& client, ReadRequest request, int max_listing_restarts,
                         const SchemaSource& schema_source)
    : client_(client),
      request_(std::move(request)),
      max_listing_restarts_(max_listing_restarts),
      converter_(plan(client_, request_, schema_source)) {
  query_ = list_query(request_, converter_.layout());
}

TableReader::~TableReader() {
  {
    const std::lock_guard lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  if (fetcher_.joinable()) {
    if (!fetcher_idle_.load()) {
      client_.http().cancel();  // stop a pause or backoff the fetcher may be waiting in
    }
    fetcher_.join();
    client_.http().uncancel();
  }
}

void TableReader::push(Fetched item) {
  std::unique_lock lock(mutex_);
  changed_.wait(
      lock, [&] { return stop_ || item.generation != generation_ || ready_.size() < kPagesAhead; });
  if (!stop_ && item.generation == generation_) {
    ready_.push_back(std::move(item));
  }
  changed_.notify_all();
}

TableReader::Fetched TableReader::pop() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [this] { return !ready_.empty(); });
  Fetched item = std::move(ready_.front());
  ready_.pop_front();
  changed_.notify_all();
  return item;
}

void TableReader::rewind(const std::string& offset) {
  const std::lock_guard lock(mutex_);
  ++generation_;
  rewind_to_ = offset;
  ready_.clear();
  changed_.notify_all();
}

Error TableReader::malformed_error(const std::string& cause) const {
  return Error(ErrorKind::kServer, "Airtable sent a malformed list-records page for table '" +
                                       converter_.layout().table_name + "' " +
                                       std::to_string(kMaxMalformedPageRetries + 1) +
                                       " times in a row (the last: " + cause +
                                       "); the read stopped with nothing partial kept. Try "
                                       "again later.");
}

// The fetcher: pages in listing order; the offset of the next page is read from each body.
// After the listing's end (or an error) it waits: a rewind may still ask for a page again.
void TableReader::fetch_loop() {
  struct Idle {
    std::atomic<bool>& flag;
    ~Idle() { flag = true; }
  } idle_on_return{fetcher_idle_};
  simdjson::dom::parser parser;
  std::string offset;
  uint64_t generation = 0;
  int malformed_in_a_row = 0;
  bool listed = false;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      if (listed) {
        fetcher_idle_ = true;
        changed_.wait(lock, [this] { return stop_ || rewind_to_.has_value(); });
      }
      if (stop_) {
        return;
      }
      if (rewind_to_) {
        offset = std::move(*rewind_to_);
        rewind_to_.reset();
        generation = generation_;
        malformed_in_a_row = 0;
        listed = false;
        fetcher_idle_ = false;
      }
    }
    try {
      listed = fetch_page(parser, offset, generation, malformed_in_a_row);
    } catch (const http::Cancelled&) {
      return;  // the reader is going away
    } catch (...) {
      push({Fetched::Kind::kError, {}, std::current_exception(), {}, generation});
      listed = true;
    }
  }
}

bool TableReader::fetch_page(simdjson::dom::parser& parser, std::string& offset,
                             uint64_t generation, int& malformed_in_a_row) {
  api::Page page;
  try {
    page =
        client_.list_records_page(request_.base_id, converter_.layout().table_id, query_, offset);
  } catch (const http::ListingExpired&) {
    offset.clear();
    push({Fetched::Kind::kRestart, {}, {}, {}, generation});
    return false;
  }
  // Handed over with the offset it was listed at, so that it can be asked for again.
  Fetched fetched{Fetched::Kind::kPage, std::move(page.body), {}, offset, generation};
  if (auto quick = tail_offset(fetched.body)) {
    // The usual page: no need to parse it twice (the converter parses it).
    malformed_in_a_row = 0;
    offset = std::move(*quick);
    push(std::move(fetched));
    return false;
  }
  simdjson::dom::element doc;
  if (parser.parse(fetched.body).get(doc) != simdjson::SUCCESS) {
    ++progress_.malformed_pages;
    if (++malformed_in_a_row > kMaxMalformedPageRetries) {
      throw malformed_error("a page that is not JSON");
    }
    return false;  // ask for the same page again
  }
  malformed_in_a_row = 0;
  std::string_view next;
  offset = doc["offset"].get_string().get(next) == simdjson::SUCCESS ? std::string(next) : "";
  push(std::move(fetched));
  if (offset.empty()) {
    push({Fetched::Kind::kEnd, {}, {}, {}, generation});
    return true;
  }
  return false;
}

bool TableReader::next(ArrowArray* out) {
  const auto keep = [this](std::string_view id) {
    if (skipping_ && emitted_.contains(id)) {
      return false;
    }
    emitted_.add(id);
    return true;
  };
  if (!done_ && !fetcher_.joinable()) {
    fetcher_ = std::thread([this] { fetch_loop(); });
  }
  while (!done_ && converter_.rows() < request_.batch_rows) {
    Fetched item = pop();
    switch (item.kind) {
      case Fetched::Kind::kError: done_ = true; std::rethrow_exception(item.error);
      case Fetched::Kind::kEnd: done_ = true; break;
      case Fetched::Kind::kRestart:
        if (progress_.restarts.load() >= max_listing_restarts_) {
          done_ = true;
          throw Error(ErrorKind::kServer,
                      "Airtable's listing of table '" + converter_.layout().table_name +
                          "' expired " + std::to_string(max_listing_restarts_ + 1) +
                          " times; the read stopped. Reading faster (fewer concurrent reads of "
                          "this base) or a smaller view helps.");
        }
        ++progress_.restarts;
        emitted_.seal();
        skipping_ = true;
        break;
      case Fetched::Kind::kPage: {
        convert::PageResult result;
        try {
          result = converter_.append_page(item.body, keep);
        } catch (const convert::MalformedPage& malformed) {
          // Nothing of it was appended (nor marked emitted): ask for the same page again.
          ++progress_.malformed_pages;
          const bool again = malformed_in_a_row_ > 0 && item.offset == malformed_offset_;
          malformed_in_a_row_ = again ? malformed_in_a_row_ + 1 : 1;
          malformed_offset_ = item.offset;
          if (malformed_in_a_row_ > kMaxMalformedPageRetries) {
            done_ = true;
            throw malformed_error(malformed.what());
          }
          rewind(item.offset);
          break;
        }
        malformed_in_a_row_ = 0;
        ++progress_.pages;
        progress_.records += result.records;
        break;
      }
    }
  }
  progress_.rescued_cells = converter_.rescued_cells();
  if (converter_.rows() == 0) {
    return false;
  }
  converter_.finish(out);
  return true;
}

}  // namespace airtable_lakeflow::read
