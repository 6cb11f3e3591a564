// Column builders that fill Arrow buffers directly and hand them out through the Arrow C Data
// Interface without copying. One builder per DataType node; lists and structs own their
// children. finish() moves the buffers into an ArrowArray whose release frees them, and leaves
// the builder empty for the next batch.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "airtable_lakeflow/arrow/buffer.hpp"
#include "airtable_lakeflow/arrow/c_data.h"
#include "airtable_lakeflow/arrow/data_type.hpp"
#include "airtable_lakeflow/int128.hpp"

namespace airtable_lakeflow::arrow {

using Bytes = Buffer;

template <typename T>
inline void put(Bytes& bytes, T value) {
  bytes.put(value);
}

class ArrayBuilder {
 public:
  explicit ArrayBuilder(DataType type) : type_(std::move(type)) {}
  virtual ~ArrayBuilder() = default;
  ArrayBuilder(const ArrayBuilder&) = delete;
  ArrayBuilder& operator=(const ArrayBuilder&) = delete;

  virtual void append_null() = 0;
  // Drops every value from `length` on (undoing a partly appended nested value).
  virtual void truncate(int64_t length) = 0;
  [[nodiscard]] int64_t length() const { return length_; }
  [[nodiscard]] const DataType& type() const { return type_; }
  // Moves the built values into `out` and resets the builder.
  virtual void finish(ArrowArray* out) = 0;

 protected:
  void mark_valid() {
    if (!validity_.empty()) {
      const auto bit = static_cast<size_t>(length_);
      if (bit / 8 >= validity_.size()) {
        validity_.push_back(0);
      }
      validity_[bit / 8] |= static_cast<uint8_t>(1U << (bit % 8));
    }
    ++length_;
  }
  // A null slot; the validity bitmap is made at the first null.
  void mark_null() {
    const auto bit = static_cast<size_t>(length_);
    if (validity_.empty()) {
      first_null();
    } else if (bit / 8 >= validity_.size()) {
      validity_.push_back(0);
    }
    ++length_;
    ++null_count_;
  }
  Bytes take_validity();
  void truncate_validity(int64_t length);

  DataType type_;
  int64_t length_ = 0;
  int64_t null_count_ = 0;

 private:
  void first_null();  // the bitmap for every slot so far, all valid
  Bytes validity_;    // allocated at the first null
};

class StringBuilder final : public ArrayBuilder {
 public:
  StringBuilder();
  void append(std::string_view value) {
    check_length(value.size());
    data_.append(value.data(), value.size());
    close_value();
  }
  // `value` lies in a padded buffer: 32 bytes from its start are readable.
  [[gnu::always_inline]] void append_padded(std::string_view value) {
    check_length(value.size());
    data_.append_padded(value.data(), value.size());
    close_value();
  }
  void append_null() override {
    put(offsets_, static_cast<int32_t>(data_.size()));
    mark_null();
  }
  void truncate(int64_t length) override;
  void finish(ArrowArray* out) override;

 private:
  [[noreturn]] static void too_long();
  // 32-bit offsets: a batch's strings must fit in 2 GiB.
  void check_length(size_t more) const {
    if (data_.size() + more > static_cast<size_t>(INT32_MAX)) {
      too_long();
    }
  }
  // Ends the value whose bytes were just appended.
  void close_value() {
    put(offsets_, static_cast<int32_t>(data_.size()));
    mark_valid();
  }
  Bytes offsets_;
  Bytes data_;
};

class BoolBuilder final : public ArrayBuilder {
 public:
  BoolBuilder() : ArrayBuilder(boolean()) {}
  void append(bool value);
  void append_null() override;
  void truncate(int64_t length) override;
  void finish(ArrowArray* out) override;

 private:
  Bytes bits_;
};

// int64, timestamp[us], duration[us] (8 bytes), date32 (4 bytes), decimal128 (16 bytes).
template <typename T>
class FixedWidthBuilder final : public ArrayBuilder {
 public:
  explicit FixedWidthBuilder(DataType type) : ArrayBuilder(std::move(type)) {}
  void append(T value) {
    put(values_, value);
    mark_valid();
  }
  void append_null() override {
    put(values_, T{});
    mark_null();
  }
  void truncate(int64_t length) override;
  void finish(ArrowArray* out) override;

 private:
  Bytes values_;
};

using Int64Builder = FixedWidthBuilder<int64_t>;
using Int32Builder = FixedWidthBuilder<int32_t>;
using Decimal128Builder = FixedWidthBuilder<int128>;

class ListBuilder final : public ArrayBuilder {
 public:
  explicit ListBuilder(DataType type);
  ArrayBuilder& element() { return *element_; }
  // Closes one list holding everything appended to element() since the previous list.
  void close_list() {
    put(offsets_, static_cast<int32_t>(element_->length()));
    mark_valid();
  }
  void append_null() override;
  void truncate(int64_t length) override;
  void finish(ArrowArray* out) override;

 private:
  std::unique_ptr<ArrayBuilder> element_;
  Bytes offsets_;
};

class StructBuilder final : public ArrayBuilder {
 public:
  explicit StructBuilder(DataType type);
  ArrayBuilder& member(size_t index) { return *members_[index]; }
  [[nodiscard]] size_t member_count() const { return members_.size(); }
  // Marks one struct valid; the caller has appended exactly one value to every member.
  void close_struct() { mark_valid(); }
  void append_null() override;  // appends a null to every member too
  void truncate(int64_t length) override;
  void finish(ArrowArray* out) override;

 private:
  std::vector<std::unique_ptr<ArrayBuilder>> members_;
};

std::unique_ptr<ArrayBuilder> make_builder(const DataType& type);

// Exports a schema: one top-level struct ("+s") whose children are `fields`.
void export_schema(const std::vector<Field>& fields, ArrowSchema* out);
// Exports a record batch: a non-null struct array of `length` rows over the given columns.
void export_batch(std::vector<ArrowArray> columns, int64_t length, ArrowArray* out);

}  // namespace airtable_lakeflow::arrow
