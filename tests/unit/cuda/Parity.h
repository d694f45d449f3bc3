// What the CUDA parity tests share: inputs exact in f32, and a run of one function on the
// reference interpreter and on the CUDA backend's host device, compared result by result.
#pragma once

#include "backends/Registry.h"
#include "backends/cuda/CudaBackend.h"
#include "ir/Parser.h"
#include "tests/unit/RequireOk.h"

#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

namespace weft::testing {

/// Numbers exact in f32, of both signs, with repeats (ties for max and argmax) and zeros of
/// both signs.
inline Array inputFor(DType t, std::vector<int64_t> shape, int64_t seed) {
  Array a(t, std::move(shape));
  for (int64_t i = 0; i < a.numel(); ++i) {
    int64_t v = ((i + seed) * 7919 + seed * 31) % 41 - 20;
    if (isFloat(t))
      a.setDouble(i, v == 0 && i % 2 ? -0.0 : double(v) / 8);
    else
      a.setInt(i, v);
  }
  return a;
}

/// How close a float result must be: exactly (shape ops, max, min), or within `relative`.
inline void checkClose(const Array &got, const Array &want, double relative) {
  REQUIRE(got.dtype() == want.dtype());
  REQUIRE(got.shape() == want.shape());
  for (int64_t i = 0; i < want.numel(); ++i) {
    CAPTURE(i);
    if (!isFloat(want.dtype())) {
      REQUIRE(got.getInt(i) == want.getInt(i));
    } else if (relative == 0) {
      double g = got.getDouble(i), w = want.getDouble(i);
      const bool same =
          (std::isnan(g) && std::isnan(w)) || (g == w && std::signbit(g) == std::signbit(w));
      REQUIRE(same);
    } else {
      REQUIRE(std::abs(got.getDouble(i) - want.getDouble(i)) <=
              relative * std::max(1.0, std::abs(want.getDouble(i))));
    }
  }
}

/// Runs `fn` of `text` on the interpreter and on the host device and compares every result.
inline void checkAgainstInterpreter(const std::string &text, const std::string &fn,
                                    const std::vector<Array> &in, double relative = 0) {
  auto m = ir::parseModule(text, "ops.wir");
  REQUIRE_OK(m);
  auto ref = backends::referenceBackend().compile(**m);
  REQUIRE_OK(ref);
  auto want = (*ref)->run(fn, in);
  REQUIRE_OK(want);
  cuda::CudaBackend host(cuda::hostDevice());
  auto exe = host.compile(**m);
  REQUIRE_OK(exe);
  auto got = (*exe)->run(fn, in);
  REQUIRE_OK(got);
  REQUIRE(got->size() == want->size());
  for (size_t r = 0; r < want->size(); ++r) {
    CAPTURE(r);
    checkClose((*got)[r], (*want)[r], relative);
  }
}

} // namespace weft::testing
