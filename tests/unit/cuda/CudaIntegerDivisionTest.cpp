// Integer division on the CUDA backend's host device against the interpreter: C's truncation
// toward zero, INT_MIN / -1 wrapping, and division by zero stopping the call with the
// interpreter's words (the first element, found through a status word); PTX through ptxas.
#include "backends/Registry.h"
#include "backends/cuda/CudaBackend.h"
#include "ir/Parser.h"
#include "tests/unit/RequireOk.h"
#include "tests/unit/cuda/Parity.h"
#include "tests/unit/cuda/Ptxas.h"

#include <doctest/doctest.h>

#include <limits>

using namespace weft;

namespace {

const char *kDivide =
    R"(func @divide(%a: tensor<N x i32>, %b: tensor<N x i32>, %c: tensor<N x i64>, %d: tensor<N x i64>) -> (tensor<N x i32>, tensor<N x i64>) {
  %q = div %a, %b : tensor<N x i32>
  %r = div %c, %d : tensor<N x i64>
  return %q, %r
}
)";

/// Dividends and divisors of both signs, the extremes, and -1 (INT_MIN / -1 wraps); no zero
/// divisor unless `zeroAt` is an element.
std::vector<Array> operands(int64_t n, int64_t zeroAt = -1) {
  Array a(DType::I32, {n}), b(DType::I32, {n}), c(DType::I64, {n}), d(DType::I64, {n});
  for (int64_t i = 0; i < n; ++i) {
    int64_t x = (i * 7919) % 201 - 100, y = (i * 31) % 23 - 11;
    if (y == 0)
      y = 3;
    a.setInt(i, i % 11 == 0 ? std::numeric_limits<int32_t>::min() : x * 1000003);
    b.setInt(i, i % 11 == 0 ? -1 : y);
    c.setInt(i, i % 13 == 0 ? std::numeric_limits<int64_t>::min() : x * 99999999977);
    d.setInt(i, i % 13 == 0 ? -1 : -y);
  }
  if (zeroAt >= 0)
    d.setInt(zeroAt, 0);
  return {a, b, c, d};
}

} // namespace

TEST_CASE("cuda on the host device: integer division truncates and wraps as the interpreter") {
  for (int64_t n : {1, 29, 300})
    testing::checkAgainstInterpreter(kDivide, "divide", operands(n));
}

TEST_CASE("cuda: integer division by zero stops the call at the first such element") {
  auto m = ir::parseModule(kDivide, "div.wir");
  REQUIRE_OK(m);
  cuda::CudaBackend host(cuda::hostDevice());
  auto exe = host.compile(**m);
  REQUIRE_OK(exe);
  std::vector<Array> in = operands(300, 201);
  in[3].setInt(250, 0); // a later one, which the message does not name
  auto got = (*exe)->run("divide", in);
  REQUIRE_FALSE(got);
  CHECK(got.diag().message ==
        "'div' (div.wir:3:3): integer division by zero at element 201 of i64[300]");
  auto ref = backends::referenceBackend().compile(**m);
  REQUIRE_OK(ref);
  auto want = (*ref)->run("divide", in);
  REQUIRE_FALSE(want);
  CHECK(want.diag().message.find("integer division by zero at element 201 of i64[300]") !=
        std::string::npos);
  // The status word is reset by every call: a good call after a bad one runs.
  REQUIRE_OK((*exe)->run("divide", operands(300)));
}

TEST_CASE("cuda: integer division inside a fusion is refused, naming the op") {
  auto m = ir::parseModule(R"(func @f(%a: tensor<N x i32>) -> (tensor<N x i32>) {
  %y = fusion %a {
  ^body(%x: tensor<N x i32>):
    %q = div %x, %x : tensor<N x i32>
    yield %q
  } : tensor<N x i32>
  return %y
}
)",
                           "fused.wir");
  REQUIRE_OK(m);
  auto ptx = cuda::modulePtx(**m, "sm_90");
  REQUIRE_FALSE(ptx);
  CHECK(ptx.diag().message.find("integer 'div' inside a fusion is not on the CUDA backend yet") !=
        std::string::npos);
}

TEST_CASE("cuda: the integer division kernels are PTX that ptxas accepts for sm_80 and sm_90") {
  auto ptxas = testing::findPtxas();
  if (!ptxas)
    MESSAGE("ptxas not found (no CUDA toolkit; set WEFT_PTXAS): PTX is generated but not "
            "validated");
  auto m = ir::parseModule(kDivide, "div.wir");
  REQUIRE_OK(m);
  for (const char *sm : {"sm_80", "sm_90"}) {
    CAPTURE(sm);
    auto ptx = cuda::modulePtx(**m, sm);
    REQUIRE_OK(ptx);
    CHECK(ptx->find("atom.global.min.s64") != std::string::npos);
    if (ptxas)
      CHECK(testing::ptxasErrors(*ptxas, *ptx, sm) == "");
  }
}
