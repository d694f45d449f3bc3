//===- frontend/Tensor.cpp ------------------------------------------------===//
#include "frontend/Tensor.h"

#include "ir/Op.h"

namespace weft {
namespace {

const ir::Value &valueOf(const Tensor &t) {
  if (!t.valid())
    throw Error(err("the tensor is empty (default-constructed)"));
  return *t.value();
}

} // namespace

const ir::Type &Tensor::type() const { return valueOf(*this).type(); }
const Shape &Tensor::shape() const { return type().dims(); }
DType Tensor::dtype() const { return type().dtype(); }
int64_t Tensor::rank() const { return type().rank(); }

Tensor Tensor::named(std::string name) const {
  valueOf(*this);
  value_->setName(std::move(name));
  return *this;
}

} // namespace weft
