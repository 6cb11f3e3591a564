#include "airtable_lakeflow/arrow/array_builder.hpp"

#include <cstring>
#include <stdexcept>

namespace airtable_lakeflow::arrow {

namespace {

template <typename T>
void put(Bytes& bytes, T value) {
  const size_t at = bytes.size();
  bytes.resize(at + sizeof(T));
  std::memcpy(bytes.data() + at, &value, sizeof(T));
}

// Owns everything an exported ArrowArray points at.
struct ExportedArray {
  std::vector<Bytes> buffers;
  std::vector<const void*> buffer_pointers;
  std::vector<ArrowArray> children;
  std::vector<ArrowArray*> child_pointers;
};

void release_array(ArrowArray* array) {
  auto* exported = static_cast<ExportedArray*>(array->private_data);
  for (ArrowArray& child : exported->children) {
    if (child.release != nullptr) {
      child.release(&child);
    }
  }
  delete exported;
  array->release = nullptr;
}

// `buffers` in Arrow order; an empty validity buffer (index 0) is exported as null.
void fill_array(ArrowArray* out, int64_t length, int64_t null_count, std::vector<Bytes> buffers,
                std::vector<ArrowArray> children) {
  auto exported = std::make_unique<ExportedArray>();
  exported->buffers = std::move(buffers);
  for (size_t i = 0; i < exported->buffers.size(); ++i) {
    Bytes& buffer = exported->buffers[i];
    if (i == 0 && buffer.empty()) {
      exported->buffer_pointers.push_back(nullptr);
      continue;
    }
    buffer.reserve(8);  // never a null pointer for a value buffer, even when empty
    exported->buffer_pointers.push_back(buffer.data());
  }
  exported->children = std::move(children);
  for (ArrowArray& child : exported->children) {
    exported->child_pointers.push_back(&child);
  }
  out->length = length;
  out->null_count = null_count;
  out->offset = 0;
  out->n_buffers = static_cast<int64_t>(exported->buffer_pointers.size());
  out->n_children = static_cast<int64_t>(exported->children.size());
  out->buffers = exported->buffer_pointers.data();
  out->children = exported->children.empty() ? nullptr : exported->child_pointers.data();
  out->dictionary = nullptr;
  out->release = release_array;
  out->private_data = exported.release();
}

struct ExportedSchema {
  std::string format;
  std::string name;
  std::string metadata;
  std::vector<ArrowSchema> children;
  std::vector<ArrowSchema*> child_pointers;
};

void release_schema(ArrowSchema* schema) {
  auto* exported = static_cast<ExportedSchema*>(schema->private_data);
  for (ArrowSchema& child : exported->children) {
    if (child.release != nullptr) {
      child.release(&child);
    }
  }
  delete exported;
  schema->release = nullptr;
}

std::string encode_metadata(const Metadata& metadata) {
  if (metadata.empty()) {
    return {};
  }
  Bytes bytes;
  put(bytes, static_cast<int32_t>(metadata.size()));
  for (const auto& [key, value] : metadata) {
    put(bytes, static_cast<int32_t>(key.size()));
    bytes.insert(bytes.end(), key.begin(), key.end());
    put(bytes, static_cast<int32_t>(value.size()));
    bytes.insert(bytes.end(), value.begin(), value.end());
  }
  return {bytes.begin(), bytes.end()};
}

void fill_schema(ArrowSchema* out, const std::string& name, const DataType& type, bool nullable,
                 const Metadata& metadata) {
  auto exported = std::make_unique<ExportedSchema>();
  exported->format = format_string(type);
  exported->name = name;
  exported->metadata = encode_metadata(metadata);
  exported->children.resize(type.children.size());
  for (size_t i = 0; i < type.children.size(); ++i) {
    const Field& child = type.children[i];
    fill_schema(&exported->children[i], child.name, child.type, child.nullable, child.metadata);
    exported->child_pointers.push_back(&exported->children[i]);
  }
  out->format = exported->format.c_str();
  out->name = exported->name.c_str();
  out->metadata = exported->metadata.empty() ? nullptr : exported->metadata.data();
  out->flags = nullable ? ARROW_FLAG_NULLABLE : 0;
  out->n_children = static_cast<int64_t>(exported->children.size());
  out->children = exported->children.empty() ? nullptr : exported->child_pointers.data();
  out->dictionary = nullptr;
  out->release = release_schema;
  out->private_data = exported.release();
}

}  // namespace

void ArrayBuilder::mark_valid() {
  if (!validity_.empty()) {
    const auto bit = static_cast<size_t>(length_);
    if (bit / 8 >= validity_.size()) {
      validity_.push_back(0);
    }
    validity_[bit / 8] |= static_cast<uint8_t>(1U << (bit % 8));
  }
  ++length_;
}

void ArrayBuilder::mark_null() {
  const auto bit = static_cast<size_t>(length_);
  if (validity_.empty()) {
    // Every earlier slot was valid.
    validity_.assign(bit / 8 + 1, 0);
    for (size_t i = 0; i < bit; ++i) {
      validity_[i / 8] |= static_cast<uint8_t>(1U << (i % 8));
    }
  } else if (bit / 8 >= validity_.size()) {
    validity_.push_back(0);
  }
  ++length_;
  ++null_count_;
}

Bytes ArrayBuilder::take_validity() {
  Bytes out = std::move(validity_);
  validity_ = {};
  length_ = 0;
  null_count_ = 0;
  return out;
}

StringBuilder::StringBuilder() : ArrayBuilder(utf8()) { put(offsets_, int32_t{0}); }

void StringBuilder::append(std::string_view value) {
  if (data_.size() + value.size() > static_cast<size_t>(INT32_MAX)) {
    throw std::length_error("a string column passed 2 GiB in one batch; lower the batch size");
  }
  data_.insert(data_.end(), value.begin(), value.end());
  put(offsets_, static_cast<int32_t>(data_.size()));
  mark_valid();
}

void StringBuilder::append_null() {
  put(offsets_, static_cast<int32_t>(data_.size()));
  mark_null();
}

void StringBuilder::finish(ArrowArray* out) {
  const int64_t length = length_;
  const int64_t nulls = null_count_;
  std::vector<Bytes> buffers;
  buffers.push_back(take_validity());
  buffers.push_back(std::move(offsets_));
  buffers.push_back(std::move(data_));
  offsets_ = {};
  data_ = {};
  put(offsets_, int32_t{0});
  fill_array(out, length, nulls, std::move(buffers), {});
}

void BoolBuilder::append(bool value) {
  const auto bit = static_cast<size_t>(length_);
  if (bit / 8 >= bits_.size()) {
    bits_.push_back(0);
  }
  if (value) {
    bits_[bit / 8] |= static_cast<uint8_t>(1U << (bit % 8));
  }
  mark_valid();
}

void BoolBuilder::append_null() {
  const auto bit = static_cast<size_t>(length_);
  if (bit / 8 >= bits_.size()) {
    bits_.push_back(0);
  }
  mark_null();
}

void BoolBuilder::finish(ArrowArray* out) {
  const int64_t length = length_;
  const int64_t nulls = null_count_;
  std::vector<Bytes> buffers;
  buffers.push_back(take_validity());
  buffers.push_back(std::move(bits_));
  bits_ = {};
  fill_array(out, length, nulls, std::move(buffers), {});
}

template <typename T>
void FixedWidthBuilder<T>::append(T value) {
  put(values_, value);
  mark_valid();
}

template <typename T>
void FixedWidthBuilder<T>::append_null() {
  put(values_, T{});
  mark_null();
}

template <typename T>
void FixedWidthBuilder<T>::finish(ArrowArray* out) {
  const int64_t length = length_;
  const int64_t nulls = null_count_;
  std::vector<Bytes> buffers;
  buffers.push_back(take_validity());
  buffers.push_back(std::move(values_));
  values_ = {};
  fill_array(out, length, nulls, std::move(buffers), {});
}

template class FixedWidthBuilder<int64_t>;
template class FixedWidthBuilder<int32_t>;
template class FixedWidthBuilder<int128>;

ListBuilder::ListBuilder(DataType type)
    : ArrayBuilder(std::move(type)), element_(make_builder(type_.children.at(0).type)) {
  put(offsets_, int32_t{0});
}

void ListBuilder::close_list() {
  put(offsets_, static_cast<int32_t>(element_->length()));
  mark_valid();
}

void ListBuilder::append_null() {
  put(offsets_, static_cast<int32_t>(element_->length()));
  mark_null();
}

void ListBuilder::finish(ArrowArray* out) {
  const int64_t length = length_;
  const int64_t nulls = null_count_;
  std::vector<Bytes> buffers;
  buffers.push_back(take_validity());
  buffers.push_back(std::move(offsets_));
  offsets_ = {};
  put(offsets_, int32_t{0});
  std::vector<ArrowArray> children(1);
  element_->finish(&children[0]);
  fill_array(out, length, nulls, std::move(buffers), std::move(children));
}

StructBuilder::StructBuilder(DataType type) : ArrayBuilder(std::move(type)) {
  for (const Field& member : type_.children) {
    members_.push_back(make_builder(member.type));
  }
}

void StructBuilder::close_struct() { mark_valid(); }

void StructBuilder::append_null() {
  for (auto& member : members_) {
    member->append_null();
  }
  mark_null();
}

void StructBuilder::finish(ArrowArray* out) {
  const int64_t length = length_;
  const int64_t nulls = null_count_;
  std::vector<Bytes> buffers;
  buffers.push_back(take_validity());
  std::vector<ArrowArray> children(members_.size());
  for (size_t i = 0; i < members_.size(); ++i) {
    members_[i]->finish(&children[i]);
  }
  fill_array(out, length, nulls, std::move(buffers), std::move(children));
}

std::unique_ptr<ArrayBuilder> make_builder(const DataType& type) {
  switch (type.id) {
    case TypeId::kUtf8: return std::make_unique<StringBuilder>();
    case TypeId::kBool: return std::make_unique<BoolBuilder>();
    case TypeId::kInt64:
    case TypeId::kTimestampUs:
    case TypeId::kDurationUs: return std::make_unique<Int64Builder>(type);
    case TypeId::kDate32: return std::make_unique<Int32Builder>(type);
    case TypeId::kDecimal128: return std::make_unique<Decimal128Builder>(type);
    case TypeId::kList: return std::make_unique<ListBuilder>(type);
    case TypeId::kStruct: return std::make_unique<StructBuilder>(type);
  }
  throw std::logic_error("no builder for this Arrow type");
}

void export_schema(const std::vector<Field>& fields, ArrowSchema* out) {
  fill_schema(out, "", struct_of(fields), false, {});
}

void export_batch(std::vector<ArrowArray> columns, int64_t length, ArrowArray* out) {
  std::vector<Bytes> buffers(1);  // no validity: every row exists
  fill_array(out, length, 0, std::move(buffers), std::move(columns));
}

}  // namespace airtable_lakeflow::arrow
