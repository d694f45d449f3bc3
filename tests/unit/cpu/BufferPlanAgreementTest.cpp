//===- tests/unit/cpu/BufferPlanAgreementTest.cpp - one plan, JIT and report ===//
//
// The JIT's arena (Executable::memoryPlan) is the IR-level buffer plan's with
// the CPU backend's scratch: the tools' --report-memory prints the same bytes
// a call allocates.
//
//===----------------------------------------------------------------------===//
#include "Parity.h"
#include "analysis/MemoryReport.h"
#include "backends/cpu/Aot.h"
#include "backends/cpu/Scratch.h"

namespace cpu_BufferPlanAgreementTest {

using namespace weft;
using namespace weft::cputest;

namespace {

void checkAgreement(const std::string &text, const std::string &pipeline,
                    const ir::DimBindings &dims) {
  auto m = ir::parseModule(text);
  REQUIRE_OK(m);
  if (!pipeline.empty())
    runPipeline(**m, pipeline);
  auto exe = cpu::compile(**m);
  REQUIRE_OK(exe);
  auto vectorBytes = cpu::targetVectorBytes("native", "");
  REQUIRE_OK(vectorBytes);
  for (const auto &f : (*m)->functions()) {
    CAPTURE(f->name());
    auto jit = (*exe)->memoryPlan(f->name(), dims);
    REQUIRE_OK(jit);
    auto plan =
        analysis::reportMemory(analysis::BufferPlan(*f, cpu::scratchModel(*vectorBytes)), dims);
    REQUIRE_OK(plan);
    CHECK(jit->arenaBytes == plan->arenaBytes);
    CHECK(jit->unplannedBytes == plan->unplannedBytes);
    CHECK(jit->buffers == plan->buffers);
  }
}

} // namespace

TEST_CASE("buffer plan: the JIT allocates the arena the plan reports, matmul scratch included") {
  // kLstm has float matmuls (packed-B scratch), f32 sums (f64 accumulators) and a scan.
  checkAgreement(kLstm, "", {{"T", 7}, {"B", 5}});
  checkAgreement(kLstm, "train", {{"T", 7}, {"B", 5}});
  // A while whose carries swap (staging scratch) and whose `done` is computed per trip.
  checkAgreement(R"(
func @swap(%f0: tensor<N x i1>, %a0: tensor<N x f32>, %b0: tensor<N x f32>) -> (tensor<N x i1>, tensor<N x f32>, tensor<N x f32>, tensor<i64>) {
  %fin, %a, %b, %trips = while finished(%f0) carry(%a0, %b0) {max_trips = 3} {
  ^body(%x: tensor<N x f32>, %y: tensor<N x f32>):
    %s = add %x, %y : tensor<N x f32>
    %d = gt %s, %x : tensor<N x i1>
    yield %d, %y, %x
  } : tensor<N x i1>, tensor<N x f32>, tensor<N x f32>, tensor<i64>
  return %fin, %a, %b, %trips
}
)",
                 "", {{"N", 9}});
}

} // namespace cpu_BufferPlanAgreementTest
