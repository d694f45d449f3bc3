//===- runtime/Array.cpp --------------------------------------------------===//
#include "runtime/Array.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>

namespace weft {

Array::Array(DType dtype, std::vector<int64_t> shape, NoFill)
    : dtype_(dtype), shape_(std::move(shape)) {
  numel_ = 1;
  for (int64_t d : shape_) {
    if (d < 0)
      throw Error(err(fmt::format("array dimension {} is negative", d)));
    numel_ *= d;
  }
  data_.reset(new (std::align_val_t(64)) std::byte[std::max<size_t>(nbytes(), 1)]);
}

Array::Array(DType dtype, std::vector<int64_t> shape) : Array(dtype, std::move(shape), NoFill{}) {
  std::memset(data_.get(), 0, std::max<size_t>(nbytes(), 1));
}

Array Array::uninitialized(DType dtype, std::vector<int64_t> shape) {
  Array a(dtype, std::move(shape), NoFill{});
#ifndef NDEBUG
  std::memset(a.data_.get(), 0xFF, std::max<size_t>(a.nbytes(), 1));
#endif
  return a;
}

Array::Array(const Array &o) {
  if (!o.data_)
    return; // a default-constructed (or moved-from) array copies as an empty one
  *this = Array(o.dtype_, o.shape_, NoFill{});
  std::memcpy(data_.get(), o.data_.get(), nbytes());
}

Array &Array::operator=(const Array &o) {
  if (this != &o)
    *this = Array(o);
  return *this;
}

double Array::getDouble(int64_t i) const {
  switch (dtype_) {
#define DTYPE(Id, Name, Bytes, Npy, Element, CType, Llvm, Kind)                                    \
  case DType::Id:                                                                                  \
    return static_cast<double>(data<Element>()[i]);
#include "runtime/DTypes.def"
  }
  WEFT_UNREACHABLE("unhandled DType");
}

int64_t Array::getInt(int64_t i) const {
  switch (dtype_) {
  case DType::I32:
    return data<int32_t>()[i];
  case DType::I64:
    return data<int64_t>()[i];
  case DType::I1:
    return data<bool>()[i];
  default:
    return static_cast<int64_t>(getDouble(i));
  }
}

void Array::setDouble(int64_t i, double v) {
  switch (dtype_) {
  case DType::F32:
    data<float>()[i] = static_cast<float>(v);
    return;
  case DType::F64:
    data<double>()[i] = v;
    return;
  case DType::I1:
    data<bool>()[i] = v != 0.0;
    return;
  default:
    setInt(i, std::isnan(v) ? 0 : static_cast<int64_t>(std::trunc(v)));
  }
}

void Array::setInt(int64_t i, int64_t v) {
  switch (dtype_) {
  case DType::I32:
    data<int32_t>()[i] = static_cast<int32_t>(v);
    return;
  case DType::I64:
    data<int64_t>()[i] = v;
    return;
  case DType::I1:
    data<bool>()[i] = v != 0;
    return;
  default:
    setDouble(i, static_cast<double>(v));
  }
}

std::string formatShape(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

std::string Array::typeStr() const { return std::string(dtypeName(dtype_)) + formatShape(shape_); }

} // namespace weft
