// Integer division on the CUDA backend's host device against the interpreter, alone and inside
// a fusion: C's truncation toward zero, INT_MIN / -1 wrapping, and division by zero stopping the
// call with the interpreter's words (the first element, found through a status word, of the
// first division in a fusion's body that faults); PTX through ptxas.
#include "backends/Registry.h"
#include "backends/cuda/CudaBackend.h"
#include "ir/Parser.h"
#include "tests/unit/RequireOk.h"
#include "tests/unit/cuda/DivisionCases.h"
#include "tests/unit/cuda/Parity.h"
#include "tests/unit/cuda/Ptxas.h"

#include <doctest/doctest.h>

namespace cuda_CudaIntegerDivisionTest {

using namespace weft;

using testing::divideOperands;
using testing::fusedOperands;
using testing::kDivide;
using testing::kFusedDivide;

TEST_CASE("cuda on the host device: integer division truncates and wraps as the interpreter") {
  for (int64_t n : {1, 29, 300})
    testing::checkAgainstInterpreter(kDivide, "divide", divideOperands(n));
}

TEST_CASE("cuda: integer division by zero stops the call at the first such element") {
  auto m = ir::parseModule(kDivide, "div.wir");
  REQUIRE_OK(m);
  cuda::CudaBackend host(cuda::hostDevice());
  auto exe = host.compile(**m);
  REQUIRE_OK(exe);
  std::vector<Array> in = divideOperands(300, 201);
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
  REQUIRE_OK((*exe)->run("divide", divideOperands(300)));
}

TEST_CASE("cuda on the host device: integer division inside a fusion is the interpreter's") {
  for (int64_t b : {1, 3, 70})
    testing::checkAgainstInterpreter(kFusedDivide, "fused", fusedOperands(b));
}

TEST_CASE("cuda: division by zero inside a fusion stops the call, naming that division") {
  auto m = ir::parseModule(kFusedDivide, "fused.wir");
  REQUIRE_OK(m);
  cuda::CudaBackend host(cuda::hostDevice());
  auto exe = host.compile(**m);
  REQUIRE_OK(exe);
  auto ref = backends::referenceBackend().compile(**m);
  REQUIRE_OK(ref);
  // The second division (i64) by zero at [2, 1] and [2, 3]: the first is named.
  std::vector<Array> in = fusedOperands(3);
  in[3].setInt(9, 0);
  in[3].setInt(11, 0);
  auto got = (*exe)->run("fused", in);
  REQUIRE_FALSE(got);
  CHECK(got.diag().message ==
        "'div' (fused.wir:6:5): integer division by zero at element 9 of i64[3, 4]");
  auto want = (*ref)->run("fused", in);
  REQUIRE_FALSE(want);
  CHECK(want.diag().message.find("integer division by zero at element 9 of i64[3, 4]") !=
        std::string::npos);
  // Both divisions fault: the one first in the body is the interpreter's, at its element.
  in[1].setInt(2, 0); // the broadcast divisor: elements 2, 6 and 10
  got = (*exe)->run("fused", in);
  REQUIRE_FALSE(got);
  CHECK(got.diag().message ==
        "'div' (fused.wir:5:5): integer division by zero at element 2 of i32[3, 4]");
  want = (*ref)->run("fused", in);
  REQUIRE_FALSE(want);
  CHECK(want.diag().message.find("integer division by zero at element 2 of i32[3, 4]") !=
        std::string::npos);
  // The words are reset by every call.
  REQUIRE_OK((*exe)->run("fused", fusedOperands(3)));
}

TEST_CASE("cuda: the integer division kernels are PTX that ptxas accepts for sm_80 and sm_90") {
  auto ptxas = testing::findPtxas();
  if (!ptxas)
    MESSAGE("ptxas not found (no CUDA toolkit; set WEFT_PTXAS): PTX is generated but not "
            "validated");
  for (const char *text : {kDivide, kFusedDivide}) {
    auto m = ir::parseModule(text, "div.wir");
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
}

} // namespace cuda_CudaIntegerDivisionTest
