//===- ir/Type.cpp - dims and tensor types --------------------------------===//
#include "ir/Type.h"

#include "runtime/Array.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

namespace weft::ir {

Dim Dim::operator*(const Dim &o) const {
  Dim r;
  r.coeff_ = coeff_ * o.coeff_;
  r.syms_ = syms_;
  r.syms_.insert(r.syms_.end(), o.syms_.begin(), o.syms_.end());
  std::sort(r.syms_.begin(), r.syms_.end());
  if (r.coeff_ == 0)
    r.syms_.clear();
  return r;
}

std::optional<Dim> Dim::plus(const Dim &o) const {
  if (syms_ != o.syms_)
    return std::nullopt;
  Dim r = *this;
  r.coeff_ += o.coeff_;
  return r;
}

std::optional<Dim> Dim::dividedBy(const Dim &o) const {
  if (o.coeff_ == 0 || coeff_ % o.coeff_ != 0)
    return std::nullopt;
  Dim r;
  r.coeff_ = coeff_ / o.coeff_;
  r.syms_ = syms_;
  for (const std::string &s : o.syms_) {
    auto it = std::find(r.syms_.begin(), r.syms_.end(), s);
    if (it == r.syms_.end())
      return std::nullopt;
    r.syms_.erase(it);
  }
  return r;
}

Expected<int64_t> Dim::evaluate(const DimBindings &env) const {
  int64_t n = coeff_;
  for (const std::string &s : syms_) {
    auto it = env.find(s);
    if (it == env.end())
      return err(fmt::format("symbolic dim '{}' is not bound", s));
    n *= it->second;
  }
  return n;
}

std::string Dim::str() const {
  if (syms_.empty())
    return std::to_string(coeff_);
  std::string s = coeff_ == 1 ? "" : std::to_string(coeff_) + "*";
  for (size_t i = 0; i < syms_.size(); ++i)
    s += (i ? "*" : "") + syms_[i];
  return s;
}

bool Type::isStatic() const {
  return std::all_of(dims_.begin(), dims_.end(), [](const Dim &d) { return d.isStatic(); });
}

Dim Type::numElements() const {
  Dim n = 1;
  for (const Dim &d : dims_)
    n = n * d;
  return n;
}

Expected<std::vector<int64_t>> Type::evaluateShape(const DimBindings &env) const {
  std::vector<int64_t> shape;
  for (const Dim &d : dims_) {
    auto n = d.evaluate(env);
    if (!n)
      return n.diag();
    shape.push_back(*n);
  }
  return shape;
}

Expected<size_t> Type::evaluateBytes(const DimBindings &env) const {
  auto shape = evaluateShape(env);
  WEFT_TRY(shape.status());
  int64_t n = dtypeBytes(dtype_);
  for (int64_t d : *shape) {
    if (d < 0 || (d != 0 && n > std::numeric_limits<int64_t>::max() / 2 / d))
      return err(
          fmt::format("a buffer of type {} has an invalid size {}", str(), formatShape(*shape)));
    n *= d;
  }
  return static_cast<size_t>(n);
}

Type Type::stacked(const Dim &steps) const {
  std::vector<Dim> dims{steps};
  dims.insert(dims.end(), dims_.begin(), dims_.end());
  return Type(std::move(dims), dtype_);
}

std::string Type::str() const {
  std::string s = "tensor<";
  for (const Dim &d : dims_)
    s += d.str() + " x ";
  s += dtypeName(dtype_);
  return s + ">";
}

std::string Type::shapeStr() const {
  std::string s = "[";
  for (size_t i = 0; i < dims_.size(); ++i)
    s += (i ? ", " : "") + dims_[i].str();
  return s + "]";
}

} // namespace weft::ir
