//===- frontend/nn/Linear.cpp ---------------------------------------------===//
#include "frontend/nn/Linear.h"

#include "frontend/Ops.h"
#include "frontend/nn/LayerLabel.h"

namespace weft::nn {

Tensor linear(const Scope &s, const Tensor &x, int64_t inFeatures, int64_t outFeatures,
              const LinearOptions &options, SrcLoc loc) {
  std::string label = layerLabel("Linear", s);
  requireInput(x, label, loc);
  if (inFeatures <= 0 || outFeatures <= 0)
    throwAt(loc, fmt::format("{}: in_features and out_features must be positive, got {} and {}",
                             label, inFeatures, outFeatures));
  Shape wShape{outFeatures, inFeatures};
  if (x.rank() == 0 || x.shape().back() != Dim(inFeatures))
    throwAt(loc,
            fmt::format("{}: input {} does not end in in_features = {} (weight {})", label,
                        x.type().shapeStr(), inFeatures, ir::Type(wShape, x.dtype()).shapeStr()));
  Init wInit = options.weightInit.value_or(init::torchLinear(inFeatures));
  Tensor w = s.param("weight", wShape, wInit, x.dtype(), loc);
  // A rank-1 input is one row.
  Tensor rows = x.rank() == 1 ? reshape(x, {1, inFeatures}, loc) : x;
  Tensor y = matmul(rows, transpose(w, {1, 0}, loc), loc);
  if (options.bias) {
    Tensor b = s.param("bias", {outFeatures},
                       options.biasInit.value_or(init::torchLinear(inFeatures)), x.dtype(), loc);
    y = add(y, b, loc);
  }
  return x.rank() == 1 ? reshape(y, {outFeatures}, loc) : y;
}

} // namespace weft::nn
