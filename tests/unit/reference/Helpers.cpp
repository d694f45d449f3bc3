//===- tests/unit/reference/Helpers.cpp -----------------------------------===//
#include "Helpers.h"

#include "ir/Parser.h"
#include "ir/Verifier.h"
#include "ir/Walk.h"

#include <doctest/doctest.h>

#include <cmath>

namespace weft::test {

Expected<std::vector<Array>> runText(const std::string &ir, const std::vector<Array> &inputs,
                                     const ir::DimBindings &dims) {
  auto m = ir::parseModule(ir);
  if (!m)
    return m.diag();
  WEFT_TRY(ir::verify(**m));
  if ((*m)->functions().empty())
    return err("no function");
  return reference::run(*(*m)->functions()[0], inputs, dims);
}

void checkCase(const OpCase &c) {
  CAPTURE(c.name);
  auto out = runText(c.ir, c.inputs);
  if (!out)
    FAIL_CHECK(out.diag().str());
  if (!out)
    return;
  REQUIRE(out->size() == c.expected.size());
  for (size_t r = 0; r < out->size(); ++r) {
    CAPTURE(r);
    const Array &got = (*out)[r], &want = c.expected[r];
    CHECK(got.typeStr() == want.typeStr());
    if (got.typeStr() != want.typeStr())
      continue;
    for (int64_t i = 0; i < got.numel(); ++i) {
      CAPTURE(i);
      double g = got.getDouble(i), w = want.getDouble(i);
      if (std::isnan(w))
        CHECK(std::isnan(g));
      else if (isFloat(want.dtype()))
        CHECK(std::fabs(g - w) <= c.tol * (1 + std::fabs(w)));
      else
        CHECK(got.getInt(i) == want.getInt(i));
    }
  }
}

std::string withDType(std::string text, DType dt) {
  for (size_t p = text.find("DT"); p != std::string::npos; p = text.find("DT", p))
    text.replace(p, 2, dtypeName(dt));
  return text;
}

std::vector<ir::OpKind> opKindsOf(const OpCase &c) {
  std::vector<ir::OpKind> kinds;
  auto m = ir::parseModule(c.ir);
  if (!m)
    return kinds;
  for (auto &f : (*m)->functions())
    ir::walk(f->body(), [&](ir::Op &op) { kinds.push_back(op.kind()); });
  return kinds;
}

} // namespace weft::test
