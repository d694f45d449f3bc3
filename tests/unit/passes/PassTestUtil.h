//===- tests/unit/passes/PassTestUtil.h - helpers for pass tests ----------===//
#pragma once

#include "ir/Builder.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"
#include "ir/Walk.h"
#include "passes/Passes.h"

#include <doctest/doctest.h>

namespace weft::passes::test {

/// Runs `pass` on `m`, requires success and valid IR, and returns whether it changed the IR.
inline bool runPass(Pass &pass, ir::Module &m) {
  REQUIRE(ir::verify(m).isOk());
  auto changed = pass.run(m);
  REQUIRE_MESSAGE(changed.isOk(), changed.diag().str());
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
  REQUIRE_MESSAGE(v.isOk(), v.diag().str());
  return *v;
}

} // namespace weft::passes::test
