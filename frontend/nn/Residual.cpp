//===- frontend/nn/Residual.cpp -------------------------------------------===//
#include "frontend/nn/Residual.h"

#include "frontend/Ops.h"

#include <fmt/format.h>

namespace weft::nn {

Tensor residual(const Tensor &x, const std::function<Tensor(const Tensor &)> &block, SrcLoc loc) {
  if (!x.valid())
    throwAt(loc, "nn residual: the input tensor is empty (default-constructed)");
  Tensor fx = block(x);
  if (!fx.valid() || fx.type() != x.type())
    throwAt(loc, fmt::format("nn residual: the block maps {} to {}; a residual block must keep "
                             "the shape and dtype of its input",
                             x.type().str(), fx.valid() ? fx.type().str() : "an empty tensor"));
  return add(x, fx, loc);
}

} // namespace weft::nn
