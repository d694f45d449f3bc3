//===- ir/Type.h - element types, dimensions and tensor types -------------===//
//
// A tensor type is a list of dims and a dtype: tensor<T x B x 64 x f32>.
// A dim is a monomial: a positive constant times a product of named symbols
// (64, B, B*T, 2*B). Symbols are bound to sizes when a function is called.
// Monomials are closed under the products that reshape needs and the sums of
// equal-symbol dims that concat needs, which covers sequence models; dims such
// as T+2 are not representable and the ops that would produce them say so.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/DType.h"
#include "runtime/Support.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace weft::ir {

using weft::DType;
using weft::dtypeBytes;
using weft::dtypeName;
using weft::isFloat;
using weft::isInteger;
using weft::parseDType;

/// Sizes bound to symbolic dims at call time, by symbol name.
using DimBindings = std::map<std::string, int64_t, std::less<>>;

/// A dimension: coeff * sym[0] * sym[1] * ... (symbols kept sorted).
class Dim {
public:
  Dim() = default;
  /*implicit*/ Dim(int64_t n) : coeff_(n) {}
  static Dim symbol(std::string name) {
    Dim d;
    d.syms_.push_back(std::move(name));
    return d;
  }

  bool isStatic() const { return syms_.empty(); }
  /// The static size; only meaningful when isStatic().
  int64_t size() const { return coeff_; }
  int64_t coeff() const { return coeff_; }
  const std::vector<std::string> &symbols() const { return syms_; }

  /// The product of two dims (for reshape and element counts).
  Dim operator*(const Dim &o) const;
  /// The sum, defined when both have the same symbols (2*B + B = 3*B); nullopt otherwise.
  std::optional<Dim> plus(const Dim &o) const;
  /// This dim divided by `o` when it divides exactly (B*T / T = B); nullopt otherwise.
  std::optional<Dim> dividedBy(const Dim &o) const;

  /// The size under `env`, or an error naming the first unbound symbol.
  Expected<int64_t> evaluate(const DimBindings &env) const;

  bool operator==(const Dim &o) const { return coeff_ == o.coeff_ && syms_ == o.syms_; }
  bool operator!=(const Dim &o) const { return !(*this == o); }
  /// "64", "B", "B*T", "2*B".
  std::string str() const;

private:
  int64_t coeff_ = 1;
  std::vector<std::string> syms_;
};

/// tensor<dims x dtype>; rank 0 is a scalar, printed tensor<f32>.
class Type {
public:
  Type() = default;
  Type(std::vector<Dim> dims, DType dtype) : dims_(std::move(dims)), dtype_(dtype) {}

  const std::vector<Dim> &dims() const { return dims_; }
  const Dim &dim(size_t i) const { return dims_.at(i); }
  int64_t rank() const { return static_cast<int64_t>(dims_.size()); }
  DType dtype() const { return dtype_; }
  bool isStatic() const;
  /// Product of all dims.
  Dim numElements() const;
  /// The same shape with another dtype.
  Type withDType(DType t) const { return Type(dims_, t); }
  /// This type stacked on a new leading axis of `steps`: what a scan or while makes of a
  /// per-step value.
  Type stacked(const Dim &steps) const;
  /// Concrete sizes under `env`, or an error naming an unbound symbol.
  Expected<std::vector<int64_t>> evaluateShape(const DimBindings &env) const;
  /// The bytes of a buffer of this type under `env`, or an error for an unbound symbol, a
  /// negative size or one that overflows (what backends size their buffers with).
  Expected<size_t> evaluateBytes(const DimBindings &env) const;

  bool operator==(const Type &o) const { return dtype_ == o.dtype_ && dims_ == o.dims_; }
  bool operator!=(const Type &o) const { return !(*this == o); }
  /// "tensor<B x 64 x f32>".
  std::string str() const;
  /// "[B, 64]": the shape alone, for error messages.
  std::string shapeStr() const;

private:
  std::vector<Dim> dims_;
  DType dtype_ = DType::F32;
};

} // namespace weft::ir
