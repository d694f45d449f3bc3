// A small MLP, its forward pass and its SGD training step (made by autodiff and optimize-step:
// matmuls, reductions, broadcasts, transposes and elementwise ops), entirely on the CUDA
// backend's host device, against the reference interpreter over several steps.
#include "backends/Registry.h"
#include "backends/cuda/CudaBackend.h"
#include "ir/Parser.h"
#include "passes/PassManager.h"
#include "tests/unit/RequireOk.h"

#include <doctest/doctest.h>

#include <cmath>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace cuda_MlpTrainingTest {

using namespace weft;

namespace {

// B x 6 -> 16 (relu) -> 3, softmax cross-entropy against one-hot targets y.
const char *kMlp = R"(
func @mlp(%W1: tensor<6 x 16 x f32>, %b1: tensor<16 x f32>, %W2: tensor<16 x 3 x f32>, %b2: tensor<3 x f32>, %x: tensor<B x 6 x f32>, %y: tensor<B x 3 x f32>) -> (tensor<f32>) {
  %xw = matmul %x, %W1 : tensor<B x 16 x f32>
  %bb1 = broadcast %b1 {dims = [1]} : tensor<B x 16 x f32>
  %z1 = add %xw, %bb1 : tensor<B x 16 x f32>
  %h = relu %z1 : tensor<B x 16 x f32>
  %hw = matmul %h, %W2 : tensor<B x 3 x f32>
  %bb2 = broadcast %b2 {dims = [1]} : tensor<B x 3 x f32>
  %p = add %hw, %bb2 : tensor<B x 3 x f32>
  %pm = reduce_max %p {axes = [1]} : tensor<B x f32>
  %m = stop_gradient %pm : tensor<B x f32>
  %mb = broadcast %m {dims = [0]} : tensor<B x 3 x f32>
  %z = sub %p, %mb : tensor<B x 3 x f32>
  %e = exp %z : tensor<B x 3 x f32>
  %se = reduce_sum %e {axes = [1]} : tensor<B x f32>
  %lse = log %se : tensor<B x f32>
  %lb = broadcast %lse {dims = [0]} : tensor<B x 3 x f32>
  %logp = sub %z, %lb : tensor<B x 3 x f32>
  %yl = mul %y, %logp : tensor<B x 3 x f32>
  %s = reduce_sum %yl {axes = [1]} : tensor<B x f32>
  %ms = reduce_mean %s {axes = [0]} : tensor<f32>
  %l = neg %ms : tensor<f32>
  return %l
}
)";

Array values(std::vector<int64_t> shape, int64_t seed, double scale) {
  Array a(DType::F32, std::move(shape));
  for (int64_t i = 0; i < a.numel(); ++i)
    a.setDouble(i, scale * std::sin(double(i * 13 + seed * 7)));
  return a;
}

Array oneHot(int64_t batch) {
  Array a(DType::F32, {batch, 3});
  for (int64_t i = 0; i < batch; ++i)
    a.setDouble(i * 3 + (i * 5 + 1) % 3, 1.0);
  return a;
}

void checkClose(const Array &got, const Array &want) {
  REQUIRE(got.shape() == want.shape());
  for (int64_t i = 0; i < want.numel(); ++i) {
    CAPTURE(i);
    REQUIRE(std::abs(got.getDouble(i) - want.getDouble(i)) <=
            1e-5 * std::max(1.0, std::abs(want.getDouble(i))));
  }
}

std::unique_ptr<ir::Module> trainingStep() {
  auto m = ir::parseModule(kMlp, "mlp.wir");
  REQUIRE_OK(m);
  std::ostringstream log;
  passes::PassManager pm(log);
  REQUIRE_OK(pm.addPipeline("optimize-step{kind=sgd lr=0.5 params=W1,b1,W2,b2},simplify"));
  REQUIRE_OK(pm.run(**m));
  return std::move(*m);
}

} // namespace

TEST_CASE("cuda on the host device: an MLP's forward pass matches the interpreter") {
  auto m = ir::parseModule(kMlp, "mlp.wir");
  REQUIRE_OK(m);
  const int64_t batch = 5;
  std::vector<Array> in = {values({6, 16}, 1, 0.5),    values({16}, 2, 0.1),
                           values({16, 3}, 3, 0.5),    values({3}, 4, 0.1),
                           values({batch, 6}, 5, 1.0), oneHot(batch)};
  auto ref = backends::referenceBackend().compile(**m);
  REQUIRE_OK(ref);
  cuda::CudaBackend host(cuda::hostDevice());
  auto exe = host.compile(**m);
  REQUIRE_OK(exe);
  auto want = (*ref)->run("mlp", in);
  REQUIRE_OK(want);
  auto got = (*exe)->run("mlp", in);
  REQUIRE_OK(got);
  checkClose((*got)[0], (*want)[0]);
}

TEST_CASE("cuda on the host device: an MLP trains as on the interpreter, step after step") {
  auto m = trainingStep();
  const std::string step = "mlp_step";
  // The step's backward pass has the ops this test is about.
  std::set<std::string> kinds;
  for (const auto &f : m->functions())
    if (f->name() == step)
      for (const auto &op : f->body().ops())
        kinds.insert(std::string(op->name()));
  for (const char *kind :
       {"matmul", "transpose", "broadcast", "reduce_sum", "reduce_max", "select"})
    CHECK(kinds.count(kind) == 1);
  auto ref = backends::referenceBackend().compile(*m);
  REQUIRE_OK(ref);
  cuda::CudaBackend host(cuda::hostDevice());
  auto exe = host.compile(*m);
  REQUIRE_OK(exe);
  const int64_t batch = 7;
  std::vector<Array> params = {values({6, 16}, 1, 0.5), values({16}, 2, 0.1),
                               values({16, 3}, 3, 0.5), values({3}, 4, 0.1)};
  std::vector<Array> onHost = params, onRef = params;
  double first = 0, last = 0;
  for (int64_t s = 0; s < 3; ++s) {
    CAPTURE(s);
    auto args = [&](const std::vector<Array> &p) {
      std::vector<Array> in = p;
      in.push_back(values({batch, 6}, 5, 1.0));
      in.push_back(oneHot(batch));
      Array count(DType::I64, {});
      count.setInt(0, s);
      in.push_back(count);
      return in;
    };
    auto want = (*ref)->run(step, args(onRef));
    REQUIRE_OK(want);
    auto got = (*exe)->run(step, args(onHost));
    REQUIRE_OK(got);
    REQUIRE(got->size() == want->size());
    for (size_t r = 0; r < want->size(); ++r) {
      CAPTURE(r);
      checkClose((*got)[r], (*want)[r]);
    }
    for (size_t p = 0; p < params.size(); ++p) {
      onHost[p] = (*got)[p + 1];
      onRef[p] = (*want)[p + 1];
    }
    (s == 0 ? first : last) = (*got)[0].getDouble(0);
  }
  CHECK(last < first); // it learns
}

} // namespace cuda_MlpTrainingTest
