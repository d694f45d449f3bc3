//===- runtime/Array.h - an n-dimensional array on the host ---------------===//
//
// What callers pass to and get back from compiled or interpreted functions:
// a dtype, a shape and row-major data, 64-byte aligned. Arrays are values:
// copying one copies its data.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/DType.h"
#include "runtime/Support.h"

#include <cstddef>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

namespace weft {

class Array {
public:
  Array() = default;
  /// A zero-filled array.
  Array(DType dtype, std::vector<int64_t> shape);
  /// An array whose elements the caller writes before reading (generated code writes every
  /// element of a result): no zero-fill pass. Debug builds fill it with 0xFF bytes (NaN, -1), so
  /// that a test reading an element nobody wrote sees it.
  static Array uninitialized(DType dtype, std::vector<int64_t> shape);
  Array(const Array &o);
  Array &operator=(const Array &o);
  Array(Array &&) noexcept = default;
  Array &operator=(Array &&) noexcept = default;

  /// An array of C++ element type T (float, double, int32_t, int64_t, bool) holding `values`,
  /// which must have one entry per element.
  template <typename T> static Array of(std::vector<int64_t> shape, const std::vector<T> &values);

  DType dtype() const { return dtype_; }
  const std::vector<int64_t> &shape() const { return shape_; }
  int64_t rank() const { return static_cast<int64_t>(shape_.size()); }
  int64_t numel() const { return numel_; }
  size_t nbytes() const { return static_cast<size_t>(numel_ * dtypeBytes(dtype_)); }

  void *data() { return data_.get(); }
  const void *data() const { return data_.get(); }
  /// Typed data; aborts when T does not match the dtype (a bug in the caller).
  template <typename T> T *data();
  template <typename T> const T *data() const { return const_cast<Array *>(this)->data<T>(); }

  /// Element i (row-major) converted to double / to int64, whatever the dtype.
  double getDouble(int64_t i) const;
  int64_t getInt(int64_t i) const;
  /// Stores v into element i, converted to the dtype (rounded to f32, truncated to ints).
  void setDouble(int64_t i, double v);
  void setInt(int64_t i, int64_t v);

  /// "f32[2, 3]".
  std::string typeStr() const;

private:
  struct NoFill {};
  Array(DType dtype, std::vector<int64_t> shape, NoFill);
  struct Free {
    void operator()(std::byte *p) const { ::operator delete[](p, std::align_val_t(64)); }
  };
  DType dtype_ = DType::F32;
  std::vector<int64_t> shape_;
  int64_t numel_ = 0;
  std::unique_ptr<std::byte[], Free> data_;
};

/// "[2, 3]": a concrete shape, for messages.
std::string formatShape(const std::vector<int64_t> &shape);

template <typename T> T *Array::data() {
  WEFT_CHECK(dtypeOf<T>() == dtype_, "Array::data<T>() with the wrong element type");
  return reinterpret_cast<T *>(data_.get());
}

template <typename T> Array Array::of(std::vector<int64_t> shape, const std::vector<T> &values) {
  Array a(dtypeOf<T>(), std::move(shape));
  if (static_cast<int64_t>(values.size()) != a.numel())
    throw Error(err("Array::of: " + std::to_string(values.size()) + " values for " + a.typeStr()));
  for (int64_t i = 0; i < a.numel(); ++i)
    a.data<T>()[i] = values[i];
  return a;
}

} // namespace weft
