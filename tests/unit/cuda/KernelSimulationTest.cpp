// Each elementwise kernel's body, built for the host (KernelTarget::Host), run as a grid of
// threads striding over the elements, against the reference interpreter on the same inputs:
// what the GPU computes, checked on a machine without one.
#include "backends/cuda/Kernels.h"
#include "eval/Evaluate.h"
#include "tests/unit/cuda/ElementwiseCases.h"
#include "tests/unit/cuda/HostJit.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <random>

namespace cuda_KernelSimulationTest {

using namespace weft;

namespace {

constexpr int64_t kN = 53;

/// Values that find mistakes: specials, edges and ordinary numbers of both signs.
Array randomInput(DType t, std::mt19937_64 &gen) {
  Array a(t, {kN});
  const double specials[] = {0.0,    -0.0,  INFINITY, -INFINITY, NAN,  1e-310, -1e-310,
                             1e30,   -1e30, 0.5,      -0.5,      1.0,  -1.0,   88.7,
                             -103.9, 709.7, -745.0,   2.5,       -2.5, 1e-8};
  std::uniform_real_distribution<double> uni(-20, 20);
  for (int64_t i = 0; i < kN; ++i) {
    switch (t) {
    case DType::F32:
    case DType::F64:
      a.setDouble(i, i < int64_t(std::size(specials)) ? specials[i] : uni(gen));
      break;
    case DType::I32:
      a.setInt(i, static_cast<int32_t>(gen()));
      break;
    case DType::I64:
      a.setInt(i, static_cast<int64_t>(gen()));
      break;
    case DType::I1:
      a.setInt(i, gen() & 1);
      break;
    }
  }
  if (t == DType::I32 || t == DType::I64) // small ones and the extremes too
    for (int64_t i = 0; i < 8; ++i)
      a.setInt(i, i - 4);
  return a;
}

bool isMath(const std::string &name) {
  for (const char *fn : {"exp ", "log ", "tanh ", "sigmoid ", "sin ", "cos ", "erf ", "pow "})
    if (name.rfind(fn, 0) == 0)
      return true;
  return false;
}

/// Bits equal (any NaN matches any NaN), or within `ulps` for the math functions.
bool agrees(double got, double want, DType t, int64_t ulps) {
  if ((std::isnan(got) && std::isnan(want)) ||
      std::bit_cast<int64_t>(got) == std::bit_cast<int64_t>(want))
    return true;
  if (ulps == 0 || !std::isfinite(got) || !std::isfinite(want) ||
      std::signbit(got) != std::signbit(want))
    return false;
  int64_t a = t == DType::F32 ? std::bit_cast<int32_t>(float(got)) : std::bit_cast<int64_t>(got);
  int64_t b = t == DType::F32 ? std::bit_cast<int32_t>(float(want)) : std::bit_cast<int64_t>(want);
  return std::abs(a - b) <= ulps;
}

using Thread = cuda::HostThread;
using K2 = void (*)(void *, void *, int64_t, Thread *);
using K3 = void (*)(void *, void *, void *, int64_t, Thread *);
using K4 = void (*)(void *, void *, void *, void *, int64_t, Thread *);

} // namespace

TEST_CASE("every elementwise kernel computes what the interpreter computes") {
  testing::HostJit jit;
  std::mt19937_64 gen(19);
  int k = 0;
  for (const testing::Case &c : testing::cases()) {
    CAPTURE(c.name);
    auto m = testing::oneOp(c.params, c.line, c.result);
    const ir::Op &op = *m->functions()[0]->body().ops().front();
    auto [ctx, km] = jit.newModule();
    std::string name = fmt::format("kernel{}", k++);
    REQUIRE_OK(cuda::emitElementwiseKernel(*km, op, name, cuda::KernelTarget::Host));
    jit.add(std::move(ctx), std::move(km));

    std::vector<Array> in;
    for (size_t i = 0; i < op.numOperands(); ++i)
      in.push_back(randomInput(op.operand(i)->type().dtype(), gen));
    auto want = eval::evaluateOp(op, in, {{"N", kN}});
    REQUIRE_OK(want);
    Array out(op.result()->type().dtype(), {kN});
    // A grid of 2 blocks of 4 threads, each striding by 8, run one after the other (they need
    // no barrier).
    for (int64_t block = 0; block < 2; ++block)
      for (int64_t t = 0; t < 4; ++t) {
        Thread th{t, 4, block, 2, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr};
        if (in.size() == 1)
          jit.lookup<K2>(name)(out.data(), in[0].data(), kN, &th);
        else if (in.size() == 2)
          jit.lookup<K3>(name)(out.data(), in[0].data(), in[1].data(), kN, &th);
        else
          jit.lookup<K4>(name)(out.data(), in[0].data(), in[1].data(), in[2].data(), kN, &th);
      }
    const DType t = out.dtype();
    const int64_t ulps = isMath(c.name) ? (t == DType::F32 ? 1 : 3) : 0;
    for (int64_t i = 0; i < kN; ++i) {
      CAPTURE(i);
      if (isFloat(t))
        CHECK(agrees(out.getDouble(i), (*want)[0].getDouble(i), t, ulps));
      else
        CHECK(out.getInt(i) == (*want)[0].getInt(i));
    }
  }
}

} // namespace cuda_KernelSimulationTest
