// A growable byte buffer for Arrow column data: like std::vector<uint8_t> but appends are a
// capacity check and a memcpy, and the memory moves into an exported ArrowArray as is.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string_view>
#include <utility>

namespace airtable_lakeflow::arrow {

class Buffer {
 public:
  Buffer() = default;
  ~Buffer() { std::free(data_); }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  Buffer(Buffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)),
        size_(std::exchange(other.size_, 0)),
        capacity_(std::exchange(other.capacity_, 0)) {}
  Buffer& operator=(Buffer&& other) noexcept {
    if (this != &other) {
      std::free(data_);
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
      capacity_ = std::exchange(other.capacity_, 0);
    }
    return *this;
  }

  [[nodiscard]] uint8_t* data() { return data_; }
  [[nodiscard]] const uint8_t* data() const { return data_; }
  [[nodiscard]] size_t size() const { return size_; }
  [[nodiscard]] bool empty() const { return size_ == 0; }
  // The bytes as text (a buffer of JSON text, say).
  [[nodiscard]] std::string_view text() const {
    return {reinterpret_cast<const char*>(data_), size_};
  }
  void clear() { size_ = 0; }
  [[nodiscard]] size_t capacity() const { return capacity_; }
  // For writers that fill reserved room through data(): the size becomes `n`, at most the
  // capacity.
  void set_size(size_t n) { size_ = n; }
  uint8_t& operator[](size_t i) { return data_[i]; }
  const uint8_t& operator[](size_t i) const { return data_[i]; }

  // One append; a loop of them is better off with an Appender (below).
  [[gnu::always_inline]] void append(const void* bytes, size_t n) {
    Appender(*this).append(bytes, n);
  }
  template <typename T>
  void put(T value) {
    append(&value, sizeof(T));
  }

  // Appends to a buffer with its end held in locals for a loop of appends: every append writes
  // bytes, and bytes may alias anything, so a Buffer's own fields would be reloaded from memory
  // after each. Written back when the Appender goes away.
  class Appender {
   public:
    explicit Appender(Buffer& buffer)
        : buffer_(buffer), data_(buffer.data_), size_(buffer.size_), capacity_(buffer.capacity_) {}
    ~Appender() { buffer_.size_ = size_; }
    Appender(const Appender&) = delete;
    Appender& operator=(const Appender&) = delete;

    [[nodiscard]] size_t size() const { return size_; }
    void reserve(size_t more) {
      if (size_ + more > capacity_) {
        // Through values only: a call given the Appender's address would keep it in memory.
        const Grown grown = buffer_.regrow(size_, size_ + more);
        data_ = grown.data;
        capacity_ = grown.capacity;
      }
    }
    template <typename T>
    void put(T value) {
      reserve(sizeof(T));
      put_reserved(value);
    }
    // put() into room already made by reserve().
    template <typename T>
    void put_reserved(T value) {
      std::memcpy(data_ + size_, &value, sizeof(T));
      size_ += sizeof(T);
    }
    void append(const void* bytes, size_t n) {
      reserve(n);
      if (n <= kShort) {
        copy_short(data_ + size_, static_cast<const uint8_t*>(bytes), n);
      } else {
        std::memcpy(data_ + size_, bytes, n);
      }
      size_ += n;
    }
    // Like append, but `bytes` has kShort readable bytes even when n is smaller (a JSON
    // parser's padded string buffer): a short string is then one fixed-size copy instead of a
    // choice among four sizes. The bytes copied past n are overwritten by the next append or
    // lie past the buffer's size.
    void append_padded(const void* bytes, size_t n) {
      const size_t room = n > kShort ? n : kShort;
      reserve(room);
      if (n <= kShort) {
        std::memcpy(data_ + size_, bytes, kShort);
      } else {
        std::memcpy(data_ + size_, bytes, n);
      }
      size_ += n;
    }

   private:
    Buffer& buffer_;
    uint8_t* data_;
    size_t size_;
    size_t capacity_;
  };
  void push_back(uint8_t byte) { put(byte); }
  // New bytes are zero.
  void resize(size_t n) {
    if (n > capacity_) {
      grow(n);
    }
    if (n > size_) {
      std::memset(data_ + size_, 0, n - size_);
    }
    size_ = n;
  }
  void assign(size_t n, uint8_t byte) {
    resize(0);
    resize(n);
    if (byte != 0) {
      std::memset(data_, byte, n);
    }
  }
  void reserve(size_t n) {
    if (n > capacity_) {
      grow(n);
    }
  }

 private:
  void grow(size_t at_least) {
    size_t capacity = capacity_ < 64 ? 64 : capacity_ * 2;
    while (capacity < at_least) {
      capacity *= 2;
    }
    auto* grown = static_cast<uint8_t*>(std::realloc(data_, capacity));
    if (grown == nullptr) {
      throw std::bad_alloc();
    }
    data_ = grown;
    capacity_ = capacity;
  }

  static constexpr size_t kShort = 32;

  // Most cells are short strings: two overlapping fixed-size copies of the head and the tail
  // cost less than a call into memcpy, and read and write only the n bytes.
  static void copy_short(uint8_t* to, const uint8_t* from, size_t n) {
    if (n >= 16) {
      copy_pair<16>(to, from, n);
    } else if (n >= 8) {
      copy_pair<8>(to, from, n);
    } else if (n >= 4) {
      copy_pair<4>(to, from, n);
    } else if (n != 0) {
      to[0] = from[0];
      to[n / 2] = from[n / 2];
      to[n - 1] = from[n - 1];
    }
  }
  template <size_t kWidth>
  static void copy_pair(uint8_t* to, const uint8_t* from, size_t n) {
    uint8_t head[kWidth];
    uint8_t tail[kWidth];
    std::memcpy(head, from, kWidth);
    std::memcpy(tail, from + n - kWidth, kWidth);
    std::memcpy(to, head, kWidth);
    std::memcpy(to + n - kWidth, tail, kWidth);
  }

  struct Grown {
    uint8_t* data;
    size_t capacity;
  };
  // An Appender's slow path: the buffer at `size` bytes, grown to hold `at_least`.
  [[gnu::noinline]] Grown regrow(size_t size, size_t at_least) {
    size_ = size;
    grow(at_least);
    return {data_, capacity_};
  }

  uint8_t* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

}  // namespace airtable_lakeflow::arrow
