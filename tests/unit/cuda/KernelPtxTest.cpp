#include "backends/cuda/Kernels.h"
#include "backends/cuda/Ptx.h"
#include "ir/Parser.h"
#include "tests/unit/RequireOk.h"
#include "tests/unit/cuda/ElementwiseCases.h"
#include "tests/unit/cuda/Ptxas.h"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>

namespace cuda_KernelPtxTest {

using namespace weft;

using weft::testing::Case;
using weft::testing::cases;
using weft::testing::oneOp;

TEST_CASE("every elementwise kernel compiles to PTX that ptxas accepts for sm_80 and sm_90") {
  auto ptxas = testing::findPtxas();
  if (!ptxas)
    MESSAGE("ptxas not found (no CUDA toolkit; set WEFT_PTXAS): PTX is generated but not "
            "validated");
  // One module of all the kernels, so that ptxas runs once per GPU generation.
  llvm::LLVMContext ctx;
  auto km = cuda::newKernelModule(ctx, "elementwise");
  std::vector<std::unique_ptr<ir::Module>> keep;
  int k = 0;
  for (const Case &c : cases()) {
    CAPTURE(c.name);
    keep.push_back(oneOp(c.params, c.line, c.result));
    const ir::Op &op = *keep.back()->functions()[0]->body().ops().front();
    REQUIRE_OK(cuda::emitElementwiseKernel(*km, op, fmt::format("k{}", k++)));
  }
  for (const char *sm : {"sm_80", "sm_90"}) {
    CAPTURE(sm);
    auto ptx = cuda::compileToPtx(*km, sm);
    REQUIRE_OK(ptx);
    CHECK(ptx->find(fmt::format(".target {}", sm)) != std::string::npos);
    for (int i = 0; i < k; ++i)
      CHECK(ptx->find(fmt::format(".entry k{}(", i)) != std::string::npos);
    if (ptxas)
      CHECK(testing::ptxasErrors(*ptxas, *ptx, sm) == "");
  }
}

TEST_CASE("PTX is made only for the GPU generations weft supports") {
  llvm::LLVMContext ctx;
  auto km = cuda::newKernelModule(ctx, "k");
  auto ptx = cuda::compileToPtx(*km, "sm_52");
  REQUIRE_FALSE(ptx);
  CHECK(ptx.diag().message == "weft compiles CUDA kernels for sm_80 and sm_90, not 'sm_52'");
}

} // namespace cuda_KernelPtxTest
