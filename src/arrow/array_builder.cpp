#include "airtable_lakeflow/arrow/array_builder.hpp"

#include <cstring>
#include <stdexcept>

#include "airtable_lakeflow/arrow/c_owner.hpp"

namespace airtable_lakeflow::arrow {

namespace {

// Owns everything an exported ArrowArray points at; its children release themselves (unless a
// consumer moved one out).
struct ExportedArray {
  std::vector<Bytes> buffers;
  std::vector<const void*> buffer_pointers;
  std::vector<UniqueArray> children;
  std::vector<ArrowArray*> child_pointers;
};

void release_array(ArrowArray* array) {
  delete static_cast<ExportedArray*>(array->private_data);
  array->release = nullptr;
}

// `buffers` in Arrow order; an empty validity buffer (index 0) is exported as null.
void fill_array(ArrowArray* out, int64_t length, int64_t null_count, std::vector<Bytes> buffers,
                std::vector<UniqueArray> children) {
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
  for (UniqueArray& child : exported->children) {
    exported->child_pointers.push_back(child.get());
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
  std::vector<UniqueSchema> children;
  std::vector<ArrowSchema*> child_pointers;
};

void release_schema(ArrowSchema* schema) {
  delete static_cast<ExportedSchema*>(schema->private_data);
  schema->release = nullptr;
}

std::string encode_metadata(const Metadata& metadata) {
  if (metadata.empty()) {
    return {};
  }
  std::string bytes;
  const auto put_length = [&bytes](size_t n) {
    const auto length = static_cast<int32_t>(n);
    bytes.append(reinterpret_cast<const char*>(&length), sizeof(length));
  };
  put_length(metadata.size());
  for (const auto& [key, value] : metadata) {
    put_length(key.size());
    bytes += key;
    put_length(value.size());
    bytes += value;
  }
  return bytes;
}

void fill_schema(ArrowSchema* out, const std::string& name, const DataType& type, bool nullable,
                 const Metadata& metadata) {
  if (type.id == TypeId::kList && type.children.size() != 1) {
    throw std::invalid_argument("a list type needs exactly one child to be exported");
  }
  auto exported = std::make_unique<ExportedSchema>();
  exported->format = format_string(type);
  exported->name = name;
  exported->metadata = encode_metadata(metadata);
  // Children exported before a throw are released with `exported`.
  exported->children.resize(type.children.size());
  for (size_t i = 0; i < type.children.size(); ++i) {
    const Field& child = type.children[i];
    fill_schema(exported->children[i].get(), child.name, child.type, child.nullable,
                child.metadata);
    exported->child_pointers.push_back(exported->children[i].get());
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

uint8_t* ArrayBuilder::start_bitmap(int64_t length, int64_t end) {
  validity_.assign(static_cast<size_t>(end + 7) / 8, 0);
  const auto full = static_cast<size_t>(length / 8);
  std::memset(validity_.data(), 0xFF, full);
  if (length % 8 != 0) {
    validity_[full] = static_cast<uint8_t>((1U << (length % 8)) - 1);
  }
  return validity_.data();
}

namespace {

// A finished batch's buffer is handed out; its successor starts with room for a batch like it
// and a quarter more, so that the next batch rarely grows it: growing copies the buffer into
// fresh memory, which the kernel must first clear.
void reserve_for_next(Bytes& buffer, size_t last_size) {
  buffer.reserve(last_size + last_size / 4 + 64);
}

// Keeps the first `length` bits, clearing the rest of the last byte.
void truncate_bits(Bytes& bits, int64_t length) {
  const auto keep = static_cast<size_t>(length);
  if (bits.size() > (keep + 7) / 8) {
    bits.resize((keep + 7) / 8);
  }
  if (keep % 8 != 0 && keep / 8 < bits.size()) {
    bits[keep / 8] &= static_cast<uint8_t>((1U << (keep % 8)) - 1);
  }
}

template <typename T>
T read_at(const Bytes& bytes, int64_t index) {
  T out;
  std::memcpy(&out, bytes.data() + static_cast<size_t>(index) * sizeof(T), sizeof(T));
  return out;
}

}  // namespace

void ArrayBuilder::truncate_validity(int64_t length) {
  if (length >= length_) {
    return;
  }
  if (!validity_.empty()) {
    truncate_bits(validity_, length);
    int64_t valid = 0;
    for (int64_t i = 0; i < length; ++i) {
      valid += (validity_[static_cast<size_t>(i / 8)] >> (i % 8)) & 1;
    }
    null_count_ = length - valid;
  }
  length_ = length;
}

Bytes ArrayBuilder::take_validity() {
  Bytes out = std::move(validity_);
  validity_ = {};
  length_ = 0;
  null_count_ = 0;
  return out;
}

StringBuilder::StringBuilder() : ArrayBuilder(utf8()) { put(offsets_, int32_t{0}); }

void StringBuilder::too_long() {
  throw std::length_error("a string column passed 2 GiB in one batch; lower the batch size");
}

void StringBuilder::truncate(int64_t length) {
  if (length >= length_) {
    return;
  }
  data_.resize(static_cast<size_t>(read_at<int32_t>(offsets_, length)));
  offsets_.resize(static_cast<size_t>(length + 1) * sizeof(int32_t));
  truncate_validity(length);
}

void StringBuilder::finish(ArrowArray* out) {
  const int64_t length = length_;
  const int64_t nulls = null_count_;
  std::vector<Bytes> buffers;
  buffers.push_back(take_validity());
  const size_t offsets_size = offsets_.size();
  const size_t data_size = data_.size();
  buffers.push_back(std::move(offsets_));
  buffers.push_back(std::move(data_));
  offsets_ = {};
  data_ = {};
  reserve_for_next(offsets_, offsets_size);
  reserve_for_next(data_, data_size);
  put(offsets_, int32_t{0});
  fill_array(out, length, nulls, std::move(buffers), {});
}

void BoolBuilder::truncate(int64_t length) {
  if (length >= length_) {
    return;
  }
  truncate_bits(bits_, length);
  truncate_validity(length);
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
void FixedWidthBuilder<T>::truncate(int64_t length) {
  if (length >= length_) {
    return;
  }
  values_.resize(static_cast<size_t>(length) * sizeof(T));
  truncate_validity(length);
}

template <typename T>
void FixedWidthBuilder<T>::finish(ArrowArray* out) {
  const int64_t length = length_;
  const int64_t nulls = null_count_;
  std::vector<Bytes> buffers;
  buffers.push_back(take_validity());
  const size_t size = values_.size();
  buffers.push_back(std::move(values_));
  values_ = {};
  reserve_for_next(values_, size);
  fill_array(out, length, nulls, std::move(buffers), {});
}

template class FixedWidthBuilder<int64_t>;
template class FixedWidthBuilder<int32_t>;
template class FixedWidthBuilder<int128>;

ListBuilder::ListBuilder(DataType type)
    : ArrayBuilder(std::move(type)), element_(make_builder(type_.children.at(0).type)) {
  put(offsets_, int32_t{0});
}

void ListBuilder::truncate(int64_t length) {
  if (length >= length_) {
    return;
  }
  element_->truncate(read_at<int32_t>(offsets_, length));
  offsets_.resize(static_cast<size_t>(length + 1) * sizeof(int32_t));
  truncate_validity(length);
}

void ListBuilder::finish(ArrowArray* out) {
  const int64_t length = length_;
  const int64_t nulls = null_count_;
  std::vector<Bytes> buffers;
  buffers.push_back(take_validity());
  const size_t offsets_size = offsets_.size();
  buffers.push_back(std::move(offsets_));
  offsets_ = {};
  reserve_for_next(offsets_, offsets_size);
  put(offsets_, int32_t{0});
  std::vector<UniqueArray> children(1);
  element_->finish(children[0].get());
  fill_array(out, length, nulls, std::move(buffers), std::move(children));
}

StructBuilder::StructBuilder(DataType type) : ArrayBuilder(std::move(type)) {
  for (const Field& member : type_.children) {
    members_.push_back(make_builder(member.type));
  }
}

void StructBuilder::truncate(int64_t length) {
  if (length >= length_) {
    return;
  }
  for (auto& member : members_) {
    member->truncate(length);
  }
  truncate_validity(length);
}

void StructBuilder::finish(ArrowArray* out) {
  const int64_t length = length_;
  const int64_t nulls = null_count_;
  std::vector<Bytes> buffers;
  buffers.push_back(take_validity());
  std::vector<UniqueArray> children(members_.size());
  for (size_t i = 0; i < members_.size(); ++i) {
    members_[i]->finish(children[i].get());
  }
  fill_array(out, length, nulls, std::move(buffers), std::move(children));
}

std::unique_ptr<ArrayBuilder> make_builder(const DataType& type) {
  switch (type.id) {
    case TypeId::kUtf8: return std::make_unique<StringBuilder>();
    case TypeId::kBool: return std::make_unique<BoolBuilder>();
    case TypeId::kInt64:
    case TypeId::kTimestampUs: return std::make_unique<Int64Builder>(type);
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

void export_batch(std::vector<UniqueArray> columns, int64_t length, ArrowArray* out) {
  std::vector<Bytes> buffers(1);  // no validity: every row exists
  fill_array(out, length, 0, std::move(buffers), std::move(columns));
}

}  // namespace airtable_lakeflow::arrow
