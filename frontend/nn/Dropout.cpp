//===- frontend/nn/Dropout.cpp --------------------------------------------===//
#include "frontend/nn/Dropout.h"

#include "frontend/OpSupport.h"
#include "frontend/Ops.h"

#include <fmt/format.h>

namespace weft::nn {
namespace {

/// Odd and below 2^53, so the splat constant is exact; spreads the streams of one seed's sites
/// far from those of the neighbouring seeds (seed + 1's site 0 is not seed's site 1).
constexpr int64_t kSeedStride = 0x9E3779B97F4B;

void checkP(double p, SrcLoc loc) {
  if (!(p >= 0.0 && p <= 1.0))
    throwAt(loc, fmt::format("dropout: the drop probability must be in [0, 1], got {}", p));
}

} // namespace

Tensor dropout(const Scope &scope, const Tensor &x, double p, SrcLoc loc) {
  checkP(p, loc);
  Graph &g = detail::graphOf("dropout", {&x}, loc);
  if (x.dtype() != DType::F32 && x.dtype() != DType::F64)
    throwAt(loc, fmt::format("dropout: needs a float tensor, got {}", x.type().str()));
  if (!scope.training() || p == 0.0)
    return x;
  if (p == 1.0)
    return full_like(x, 0.0, loc);
  if (!scope.seed().valid())
    throwAt(loc, fmt::format("dropout{}: training mode needs a seed; give the scope one with "
                             "Scope::withSeed(g.input(\"seed\", {{}}, DType::I64))",
                             scope.prefix().empty() ? "" : " in '" + scope.prefix() + "'"));
  if (&g != &scope.graph())
    throwAt(loc, "dropout: the tensor and the scope belong to different graphs");
  ir::Type seedType({}, DType::I64);
  Tensor stride = detail::splat(g, seedType, static_cast<double>(kSeedStride), loc);
  Tensor site = detail::splat(g, seedType, static_cast<double>(scope.nextRandomSite()), loc);
  Tensor stream = add(mul(scope.seed(), stride, loc), site, loc);
  Tensor u = random_uniform(x.shape(), stream, x.dtype(), loc);
  // The kept elements' factor: 1 / (1 - p) where u >= p, else 0.
  ir::Type scalar({}, x.dtype());
  Tensor keep = ge(u, detail::splat(g, scalar, p, loc), loc);
  Tensor factor = select(keep, detail::splat(g, scalar, 1.0 / (1.0 - p), loc),
                         detail::splat(g, scalar, 0.0, loc), loc);
  return mul(x, factor, loc);
}

Tensor stepSeed(Graph &g, int64_t seed, SrcLoc loc) {
  constexpr int64_t kSteps = int64_t(1) << 32;
  if (seed < 0 || seed >= kSteps)
    throwAt(loc, fmt::format("stepSeed: the seed must be in [0, 2^32), got {}", seed));
  ir::Type seedType({}, DType::I64);
  // One step counter per graph: a second call (another scope's seed, say) reads the same %step,
  // as does a %step input the model declared itself.
  Tensor step = g.inputNamed("step");
  if (!step.valid())
    step = g.input("step", {}, DType::I64, loc);
  else if (step.type() != seedType)
    throwAt(loc, fmt::format("stepSeed: graph '{}' has an input 'step' of type {}, but the step "
                             "counter is a tensor<i64> scalar",
                             g.name(), step.type().str()));
  Tensor stride = detail::splat(g, seedType, static_cast<double>(kSteps), loc);
  return add(mul(step, stride, loc), detail::splat(g, seedType, static_cast<double>(seed), loc),
             loc);
}

Dropout::Dropout(const Scope &scope, double p, SrcLoc loc) : scope_(scope), p_(p) {
  checkP(p, loc);
}

} // namespace weft::nn
