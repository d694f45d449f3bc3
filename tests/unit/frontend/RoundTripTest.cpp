#include "frontend/Weft.h"
#include "ir/Parser.h"
#include "ir/Printer.h"

#include <doctest/doctest.h>

namespace frontend_RoundTripTest {

using namespace weft;

TEST_CASE("DSL-built IR with scan and while prints and parses back identically") {
  Graph g("roundtrip");
  Dim B = g.dim("B"), T = g.dim("T");
  Tensor xs = g.input("xs", {T, B, 4});
  Tensor len = g.input("len", {B}, DType::I64);
  Tensor W = g.param("W", {8, 4}, init::xavier());
  auto [hT, hs] = scan(
      xs, {zeros({B, 4})},
      [&](Tensor x, Tensor h) { return carry(tanh(matmul(concat({x, h}, -1), W))).emit(h); },
      ScanOptions().withLengths(len).reversed());
  auto [fin, tok, toks, n] = while_loop(full({B}, 0, DType::I1), {argmax(hT, 1)}, 3, [&](Tensor t) {
    return done(ge(t, full_like(t, 2))).carry(t + 1).emit(cast(t, DType::F32) * 0.5);
  });
  g.outputs({hT, hs, fin, toks, n, softmax(hT, 1), random_uniform({B, 2}, 9)});
  std::string text = ir::print(*g.build());
  auto parsed = ir::parseModule(text);
  if (!parsed)
    FAIL(parsed.diag().str());
  CHECK(ir::print(**parsed) == text);
}

} // namespace frontend_RoundTripTest
