#include "airtable_lakeflow/read/table_reader.hpp"

#include "airtable_lakeflow/http/http_client.hpp"

namespace airtable_lakeflow::read {

namespace {

schema::TableLayout plan(api::AirtableClient& client, const ReadRequest& request) {
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
  const auto tables = client.base_schema(request.base_id);
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

}  // namespace

TableReader::TableReader(api::AirtableClient& client, ReadRequest request, int max_listing_restarts)
    : client_(client),
      request_(std::move(request)),
      max_listing_restarts_(max_listing_restarts),
      converter_(plan(client_, request_)) {
  query_ = list_query(request_, converter_.layout());
}

api::Page TableReader::fetch_page() {
  return client_.list_records_page(request_.base_id, converter_.layout().table_id, query_, offset_);
}

bool TableReader::next(ArrowArray* out) {
  const auto keep = [this](std::string_view id) {
    if (skipping_ && emitted_.contains(id)) {
      return false;
    }
    emitted_.add(id);
    return true;
  };
  int malformed_in_a_row = 0;
  while (!done_ && converter_.rows() < request_.batch_rows) {
    api::Page page;
    try {
      page = fetch_page();
    } catch (const http::ListingExpired& expired) {
      if (progress_.restarts.load() >= max_listing_restarts_) {
        throw Error(ErrorKind::kServer,
                    "Airtable's listing of table '" + converter_.layout().table_name +
                        "' expired " + std::to_string(max_listing_restarts_ + 1) +
                        " times; the read stopped. Reading faster (fewer concurrent reads of this "
                        "base) or a smaller view helps.");
      }
      ++progress_.restarts;
      emitted_.seal();
      skipping_ = true;
      offset_.clear();
      continue;
    }
    ++progress_.pages;
    convert::PageResult result;
    try {
      result = converter_.append_page(page.body, keep);
    } catch (const convert::MalformedPage& bad) {
      ++progress_.malformed_pages;
      if (++malformed_in_a_row > kMaxMalformedPageRetries) {
        throw Error(ErrorKind::kServer,
                    std::string(bad.what()) + " " + std::to_string(kMaxMalformedPageRetries + 1) +
                        " times in a row for table '" + converter_.layout().table_name +
                        "'; the read stopped with nothing partial kept.");
      }
      continue;  // ask for the same page again
    }
    malformed_in_a_row = 0;
    progress_.records += result.records;
    offset_ = result.offset;
    done_ = offset_.empty();
  }
  progress_.rescued_cells = converter_.rescued_cells();
  if (converter_.rows() == 0) {
    return false;
  }
  converter_.finish(out);
  return true;
}

}  // namespace airtable_lakeflow::read
