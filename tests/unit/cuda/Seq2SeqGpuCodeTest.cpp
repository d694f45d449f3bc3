// The sort-letters greedy decoder (examples/models/SortLettersModel.h) as GPU code built ahead
// of time: with its batch and source length bound (as the native programs bind them), the
// encoder's scans and the decoder's while unroll into a plan, and that plan, run on the host
// device, answers as the interpreter does, with and without attention.
#include "backends/Registry.h"
#include "examples/models/SortLettersModel.h"
#include "frontend/Weft.h"
#include "ir/Signature.h"
#include "passes/PassManager.h"
#include "tests/unit/RequireOk.h"
#include "tests/unit/cuda/Parity.h"
#include "tests/unit/cuda/PlanOnHost.h"

#include <doctest/doctest.h>

#include <sstream>

namespace cuda_Seq2SeqGpuCodeTest {

using namespace weft;

TEST_CASE("GPU code built ahead of time: the sort-letters decoder runs as the interpreter") {
  const int64_t vocab = 9, B = 3, S = 4;
  for (bool attention : {false, true}) {
    CAPTURE(attention);
    Graph g("decode");
    examples::SortLettersSizes sizes;
    sizes.embedding = 5;
    sizes.hidden = 6;
    sizes.attention = attention;
    examples::buildSortLettersModel(g, examples::Decode::Greedy, sizes, vocab, /*maxIterations=*/5);
    std::unique_ptr<ir::Module> m = g.build();
    std::ostringstream log;
    passes::PassManager pm(log);
    REQUIRE_OK(pm.addPipeline("optimize"));
    REQUIRE_OK(pm.run(*m));
    const ir::Function &f = *m->function("decode");
    const ir::DimBindings dims = {{"B", B}, {"S", S}};
    auto plan = cuda::aotGpuPlan(f, "sm_90", dims);
    REQUIRE_OK(plan);
    REQUIRE(plan->unavailable == "");

    ir::Signature sig = ir::Signature::of(f);
    std::vector<Array> in;
    for (size_t i = 0; i < sig.paramTypes.size(); ++i) {
      auto shape = sig.paramTypes[i].evaluateShape(dims);
      REQUIRE_OK(shape);
      if (sig.paramNames[i] == "source") {
        Array ids(DType::I32, *shape);
        for (int64_t k = 0; k < ids.numel(); ++k)
          ids.setInt(k, 4 + (k * 5) % (vocab - 4)); // letters, past the special tokens
        in.push_back(std::move(ids));
      } else if (sig.paramNames[i] == "source_lengths") {
        Array lengths(DType::I32, {B});
        for (int64_t b = 0; b < B; ++b)
          lengths.setInt(b, std::vector<int64_t>{4, 1, 3}[static_cast<size_t>(b)]);
        in.push_back(std::move(lengths));
      } else {
        in.push_back(
            testing::inputFor(sig.paramTypes[i].dtype(), *shape, static_cast<int64_t>(7 + i)));
      }
    }
    auto got = testing::runPlanOnHost(f, *plan, in, dims);
    REQUIRE_OK(got);
    auto ref = backends::referenceBackend().compile(*m);
    REQUIRE_OK(ref);
    auto want = (*ref)->run("decode", in);
    REQUIRE_OK(want);
    REQUIRE(got->size() == want->size());
    for (size_t r = 0; r < want->size(); ++r) {
      CAPTURE(r);
      testing::checkClose((*got)[r], (*want)[r], 1e-5);
    }
  }
}

} // namespace cuda_Seq2SeqGpuCodeTest
