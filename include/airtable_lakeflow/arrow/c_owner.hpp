// Owners of the Arrow C structs (nanoarrow's UniqueSchema / UniqueArray / UniqueArrayStream):
// each releases its struct exactly once, when it goes away, unless the struct was handed on
// first. A producer fills one in place; if anything throws before it is handed on, nothing
// leaks, however many structs were exported before the throw.
#pragma once

#include "airtable_lakeflow/arrow/c_data.h"

namespace airtable_lakeflow::arrow {

template <typename T>
class Unique {
 public:
  Unique() noexcept = default;
  // Takes `raw` over; the caller's struct is left released, as the Arrow spec moves structs.
  explicit Unique(T* raw) noexcept : raw_(*raw) { raw->release = nullptr; }
  ~Unique() { reset(); }
  Unique(Unique&& other) noexcept : raw_(other.raw_) { other.raw_.release = nullptr; }
  Unique& operator=(Unique&& other) noexcept {
    if (this != &other) {
      reset();
      raw_ = other.raw_;
      other.raw_.release = nullptr;
    }
    return *this;
  }
  Unique(const Unique&) = delete;
  Unique& operator=(const Unique&) = delete;

  // The struct, for a producer to fill or a reader to read; still owned.
  [[nodiscard]] T* get() noexcept { return &raw_; }
  [[nodiscard]] const T* get() const noexcept { return &raw_; }
  T* operator->() noexcept { return &raw_; }
  [[nodiscard]] bool valid() const noexcept { return raw_.release != nullptr; }

  // Hands the struct to `out`, whose owner releases it from now on.
  void move_to(T* out) noexcept {
    *out = raw_;
    raw_.release = nullptr;
  }
  void reset() noexcept {
    if (raw_.release != nullptr) {
      raw_.release(&raw_);
      raw_.release = nullptr;
    }
  }

 private:
  T raw_{};
};

using UniqueSchema = Unique<ArrowSchema>;
using UniqueArray = Unique<ArrowArray>;
using UniqueArrayStream = Unique<ArrowArrayStream>;

}  // namespace airtable_lakeflow::arrow
