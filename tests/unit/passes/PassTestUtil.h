//===- tests/unit/passes/PassTestUtil.h - helpers for pass tests ----------===//
#pragma once

#include "backends/reference/Interpreter.h"
#include "ir/Builder.h"
#include "ir/Parser.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"
#include "ir/Walk.h"
#include "passes/Passes.h"
#include "tests/unit/RequireOk.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <string>

namespace weft::passes::test {

/// Parses `text`, named `file` in diagnostics, and requires success.
inline std::unique_ptr<ir::Module> parse(const std::string &text, const std::string &file) {
  auto m = ir::parseModule(text, file);
  REQUIRE_OK(m);
  return std::move(*m);
}

/// Runs `pass` on `m`, requires success and valid IR, and returns whether it changed the IR.
inline bool runPass(Pass &pass, ir::Module &m) {
  REQUIRE(ir::verify(m).isOk());
  auto changed = pass.run(m);
  REQUIRE_OK(changed);
  Status ok = ir::verify(m);
  REQUIRE_MESSAGE(ok.isOk(), std::string(ok.message() + "\n" + ir::print(m)));
  return *changed;
}

/// How many ops of kind `k` the function holds, regions included.
inline size_t countOps(ir::Function &f, ir::OpKind k) {
  size_t n = 0;
  ir::walk(f.body(), [&](ir::Op &op) { n += op.kind() == k; });
  return n;
}

/// The op that returns, for looking at what the function returns.
inline ir::Value *returned(ir::Function &f, size_t i = 0) { return f.returnOp()->operand(i); }

/// Builds an op that must type-check.
inline ir::Value *make(ir::OpBuilder &b, ir::OpKind k, std::vector<ir::Value *> operands,
                       ir::Attrs attrs = {}, std::vector<ir::Type> declared = {}) {
  auto v = b.create1(k, std::move(operands), std::move(attrs), std::move(declared));
  REQUIRE_OK(v);
  return *v;
}

/// The integers random inputs are drawn from (bools are 0 or 1).
struct IntRange {
  int64_t lo, hi;
};

/// Seeded random inputs for `f`'s parameters under `dims`: floats in [-2, 2], bools, integers
/// in `ints`.
inline std::vector<Array> randomInputs(const ir::Function &f, const ir::DimBindings &dims,
                                       unsigned seed, IntRange ints) {
  std::mt19937 rng(seed);
  std::vector<Array> inputs;
  for (size_t p = 0; p < f.numParams(); ++p) {
    const ir::Type &t = f.param(p)->type();
    std::vector<int64_t> shape;
    for (const ir::Dim &d : t.dims())
      shape.push_back(*d.evaluate(dims));
    Array a(t.dtype(), shape);
    for (int64_t i = 0; i < a.numel(); ++i) {
      if (isFloat(t.dtype()))
        a.setDouble(i, std::uniform_real_distribution<double>(-2.0, 2.0)(rng));
      else if (t.dtype() == DType::I1)
        a.setInt(i, std::uniform_int_distribution<int64_t>(0, 1)(rng));
      else
        a.setInt(i, std::uniform_int_distribution<int64_t>(ints.lo, ints.hi)(rng));
    }
    inputs.push_back(std::move(a));
  }
  return inputs;
}

inline bool sameBits(const Array &a, const Array &b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() &&
         std::memcmp(a.data(), b.data(), a.nbytes()) == 0;
}

/// Runs `want` and `got` on the reference interpreter with the same inputs; the largest
/// difference relative to max(1, |want|) over every result, or -1 when a result differs in
/// shape, in dtype or in an integer.
inline double worstRelativeDifference(const ir::Function &want, const ir::Function &got,
                                      const std::vector<Array> &inputs,
                                      const ir::DimBindings &dims) {
  auto w = reference::run(want, inputs, dims);
  auto g = reference::run(got, inputs, dims);
  REQUIRE_OK(w);
  REQUIRE_OK(g);
  REQUIRE(w->size() == g->size());
  double worst = 0;
  for (size_t r = 0; r < w->size(); ++r) {
    const Array &a = (*w)[r], &b = (*g)[r];
    if (a.shape() != b.shape() || a.dtype() != b.dtype())
      return -1;
    if (!isFloat(a.dtype())) {
      if (!sameBits(a, b))
        return -1;
      continue;
    }
    for (int64_t i = 0; i < a.numel(); ++i)
      worst = std::max(worst, std::abs(a.getDouble(i) - b.getDouble(i)) /
                                  std::max(1.0, std::abs(a.getDouble(i))));
  }
  return worst;
}

/// Runs `before` and `after` on the reference interpreter with the same seeded random inputs
/// (seeds 1-3) and checks every result bit for bit.
inline void checkSameResults(const ir::Function &before, const ir::Function &after,
                             const ir::DimBindings &dims, IntRange ints) {
  for (unsigned seed : {1u, 2u, 3u}) {
    CAPTURE(seed);
    std::vector<Array> inputs = randomInputs(before, dims, seed, ints);
    auto want = reference::run(before, inputs, dims);
    auto got = reference::run(after, inputs, dims);
    REQUIRE_OK(want);
    REQUIRE_OK(got);
    REQUIRE(want->size() == got->size());
    for (size_t i = 0; i < want->size(); ++i) {
      CAPTURE(i);
      CHECK(sameBits((*want)[i], (*got)[i]));
    }
  }
}

} // namespace weft::passes::test
