// Column builders that fill Arrow buffers directly and hand them out through the Arrow C Data
// Interface without copying. One builder per DataType node; lists and structs own their
// children. finish() moves the buffers into an ArrowArray whose release frees them, and leaves
// the builder empty for the next batch.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "airtable_lakeflow/arrow/buffer.hpp"
#include "airtable_lakeflow/arrow/c_data.h"
#include "airtable_lakeflow/arrow/c_owner.hpp"
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
      start_bitmap(length_, length_ + 1);
    } else if (bit / 8 >= validity_.size()) {
      validity_.push_back(0);
    }
    ++length_;
    ++null_count_;
  }
  Bytes take_validity();
  void truncate_validity(int64_t length);

  // The slots of one column append (see the builders' append_column): the length, null count
  // and validity bitmap held in locals, so in registers however many bytes the append writes,
  // with room for `rows` more slots made first. Written back when the Slots go away.
  class Slots {
   public:
    Slots(ArrayBuilder& builder, uint32_t rows)
        : builder_(builder), length_(builder.length_), end_(builder.length_ + rows) {
      if (!builder.validity_.empty()) {
        builder.validity_.resize(static_cast<size_t>(end_ + 7) / 8);
        bits_ = builder.validity_.data();
      }
    }
    ~Slots() {
      builder_.length_ = length_;
      builder_.null_count_ += nulls_;
      if (bits_ != nullptr) {
        builder_.validity_.resize(static_cast<size_t>(length_ + 7) / 8);
      }
    }
    Slots(const Slots&) = delete;
    Slots& operator=(const Slots&) = delete;

    [[nodiscard]] int64_t length() const { return length_; }
    void valid() {
      if (bits_ != nullptr) {
        bits_[length_ >> 3] |= static_cast<uint8_t>(1U << (length_ & 7));
      }
      ++length_;
    }
    void null() {
      if (bits_ == nullptr) {
        bits_ = builder_.start_bitmap(length_, end_);
      }
      ++length_;
      ++nulls_;
    }

   private:
    ArrayBuilder& builder_;
    uint8_t* bits_ = nullptr;
    int64_t length_;
    int64_t end_;
    int64_t nulls_ = 0;
  };

  DataType type_;
  int64_t length_ = 0;
  int64_t null_count_ = 0;

 private:
  // The bitmap made at the first null: `length` slots valid, zero bytes up to slot `end`.
  [[gnu::noinline]] uint8_t* start_bitmap(int64_t length, int64_t end);
  Bytes validity_;  // allocated at the first null
};

class StringBuilder final : public ArrayBuilder {
 public:
  StringBuilder();
  void append(std::string_view value) {
    check_length(value.size());
    data_.append(value.data(), value.size());
    close_value();
  }
  void append_null() {
    put(offsets_, static_cast<int32_t>(data_.size()));
    mark_null();
  }
  // Appends `rows` values, the i-th being `cell_at(i)` (a std::optional<std::string_view>,
  // nullopt for a null), with the builder's state held in locals for the whole column. kPadded:
  // every value lies in a padded buffer (32 bytes from its start readable; simdjson's string
  // buffer), so a short one is one fixed-size copy.
  template <bool kPadded, typename CellAt>
  void append_column(uint32_t rows, CellAt cell_at);
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

template <bool kPadded, typename CellAt>
void StringBuilder::append_column(uint32_t rows, CellAt cell_at) {
  Slots slots(*this, rows);
  Bytes::Appender offsets(offsets_);
  offsets.reserve(size_t{rows} * sizeof(int32_t));
  Bytes::Appender data(data_);
  for (uint32_t i = 0; i < rows; ++i) {
    const std::optional<std::string_view> cell = cell_at(i);
    if (!cell) {
      offsets.put_reserved(static_cast<int32_t>(data.size()));
      slots.null();
      continue;
    }
    if (data.size() + cell->size() > static_cast<size_t>(INT32_MAX)) {
      too_long();
    }
    if constexpr (kPadded) {
      data.append_padded(cell->data(), cell->size());
    } else {
      data.append(cell->data(), cell->size());
    }
    offsets.put_reserved(static_cast<int32_t>(data.size()));
    slots.valid();
  }
}

class BoolBuilder final : public ArrayBuilder {
 public:
  BoolBuilder() : ArrayBuilder(boolean()) {}
  // Appends `rows` values, the i-th being `cell_at(i)` (a std::optional<bool>), with the
  // builder's state held in locals for the whole column.
  template <typename CellAt>
  void append_column(uint32_t rows, CellAt cell_at) {
    bits_.resize(static_cast<size_t>(length_ + rows + 7) / 8);
    uint8_t* const bits = bits_.data();
    {
      Slots slots(*this, rows);
      for (uint32_t i = 0; i < rows; ++i) {
        const std::optional<bool> cell = cell_at(i);
        if (!cell) {
          slots.null();
          continue;
        }
        const int64_t at = slots.length();
        bits[at >> 3] |= static_cast<uint8_t>(static_cast<unsigned>(*cell) << (at & 7));
        slots.valid();
      }
    }
    bits_.resize(static_cast<size_t>(length_ + 7) / 8);
  }
  void truncate(int64_t length) override;
  void finish(ArrowArray* out) override;

 private:
  Bytes bits_;
};

// int64, timestamp[us] (8 bytes), date32 (4 bytes), decimal128 (16 bytes).
template <typename T>
class FixedWidthBuilder final : public ArrayBuilder {
 public:
  explicit FixedWidthBuilder(DataType type) : ArrayBuilder(std::move(type)) {}
  // Appends `rows` values, the i-th being `cell_at(i)` (a std::optional<T>), with the builder's
  // state held in locals for the whole column.
  template <typename CellAt>
  void append_column(uint32_t rows, CellAt cell_at) {
    Slots slots(*this, rows);
    Bytes::Appender values(values_);
    values.reserve(size_t{rows} * sizeof(T));
    for (uint32_t i = 0; i < rows; ++i) {
      const std::optional<T> cell = cell_at(i);
      values.put_reserved(cell ? *cell : T{});
      if (cell) {
        slots.valid();
      } else {
        slots.null();
      }
    }
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
  // Closes `rows` lists (their elements appended ahead, column by column): the i-th ends at
  // element `end_at(i)` and is valid when `valid_at(i)`. A null list's range is empty.
  template <typename EndAt, typename ValidAt>
  void close_lists(uint32_t rows, EndAt end_at, ValidAt valid_at) {
    Slots slots(*this, rows);
    Bytes::Appender offsets(offsets_);
    offsets.reserve(size_t{rows} * sizeof(int32_t));
    for (uint32_t i = 0; i < rows; ++i) {
      offsets.put_reserved(static_cast<int32_t>(end_at(i)));
      if (valid_at(i)) {
        slots.valid();
      } else {
        slots.null();
      }
    }
  }
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
  // Closes `rows` structs, the i-th valid when `valid_at(i)`; the caller has appended one value
  // per row to every member (a null to each member of a null struct).
  template <typename ValidAt>
  void close_structs(uint32_t rows, ValidAt valid_at) {
    Slots slots(*this, rows);
    for (uint32_t i = 0; i < rows; ++i) {
      if (valid_at(i)) {
        slots.valid();
      } else {
        slots.null();
      }
    }
  }
  void truncate(int64_t length) override;
  void finish(ArrowArray* out) override;

 private:
  std::vector<std::unique_ptr<ArrayBuilder>> members_;
};

std::unique_ptr<ArrayBuilder> make_builder(const DataType& type);

// Exports a schema: one top-level struct ("+s") whose children are `fields`. Throws
// std::invalid_argument for a type Arrow cannot hold (a list without its one child), leaving
// `out` untouched.
void export_schema(const std::vector<Field>& fields, ArrowSchema* out);
// Exports a record batch: a non-null struct array of `length` rows over the given columns.
void export_batch(std::vector<UniqueArray> columns, int64_t length, ArrowArray* out);

}  // namespace airtable_lakeflow::arrow
