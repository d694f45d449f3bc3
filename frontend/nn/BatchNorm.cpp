//===- frontend/nn/BatchNorm.cpp ------------------------------------------===//
#include "frontend/nn/BatchNorm.h"

#include "frontend/Ops.h"
#include "frontend/nn/LayerLabel.h"

namespace weft::nn {

BatchNormResult batchNorm1d(const Scope &s, const Tensor &x, int64_t numFeatures,
                            const BatchNormOptions &options, SrcLoc loc) {
  std::string label = layerLabel("BatchNorm1d", s);
  requireInput(x, label, loc);
  if (x.rank() != 2 || x.shape()[1] != Dim(numFeatures))
    throwAt(loc, fmt::format("{}: input {} is not [N, num_features] with num_features = {} "
                             "(running_mean [{}])",
                             label, x.type().shapeStr(), numFeatures, numFeatures));
  const Dim &n = x.shape()[0];
  if (s.training() && n == Dim(1))
    throwAt(loc, fmt::format("{}: training needs more than one example per feature, got input {}",
                             label, x.type().shapeStr()));
  DType dt = x.dtype();
  Tensor weight, bias;
  if (options.affine) {
    weight = s.param("weight", {numFeatures}, init::torchNormWeight(), dt, loc);
    bias = s.param("bias", {numFeatures}, init::torchNormBias(), dt, loc);
  }
  Tensor runningMean = s.buffer("running_mean", {numFeatures}, init::zeros(), dt, loc);
  Tensor runningVar = s.buffer("running_var", {numFeatures}, init::ones(), dt, loc);
  Tensor tracked = s.buffer("num_batches_tracked", {}, init::zeros(), DType::I64, loc);

  BatchNormResult r{Tensor(), runningMean, runningVar, tracked};
  Tensor mu = runningMean, var = runningVar;
  if (s.training()) {
    mu = mean(x, {0}, /*keepdims=*/false, loc);
    Tensor centered = sub(x, mu, loc);
    var = mean(mul(centered, centered, loc), {0}, /*keepdims=*/false, loc);
    // N / (N - 1) turns the biased batch variance into the unbiased one. A symbolic N is
    // counted in the graph.
    Tensor unbiased;
    if (n.isStatic()) {
      unbiased = At(var, loc) * (double(n.size()) / double(n.size() - 1));
    } else {
      Tensor count = sum(full_like(x, 1.0, loc), {0}, /*keepdims=*/false, loc);
      unbiased = div(mul(var, count, loc), At(count, loc) - 1.0, loc);
    }
    double m = options.momentum;
    r.runningMean = add(At(runningMean, loc) * (1 - m), At(mu, loc) * m, loc);
    r.runningVar = add(At(runningVar, loc) * (1 - m), At(unbiased, loc) * m, loc);
    r.numBatchesTracked = At(tracked, loc) + 1.0;
  }
  Tensor y = mul(sub(x, mu, loc), rsqrt(At(var, loc) + options.eps, loc), loc);
  if (options.affine)
    y = add(mul(y, weight, loc), bias, loc);
  r.y = y;
  return r;
}

} // namespace weft::nn
