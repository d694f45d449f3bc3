// GPU code in objects built ahead of time (backends/cuda/AotPlan.h, weftc --gpu): the object
// carries each function's PTX, which ptxas accepts, and its plan, which run step by step on the
// host device (the same kernels built for this CPU) gives the interpreter's results; a function
// the plan cannot hold says why; and the runtime's loader reports "no CUDA device" here.
#include "backends/Registry.h"
#include "backends/cpu/Aot.h"
#include "backends/cuda/AotPlan.h"
#include "backends/cuda/Device.h"
#include "backends/cuda/Kernels.h"
#include "backends/cuda/Lowering.h"
#include "ir/Parser.h"
#include "runtime/CudaAot.h"
#include "runtime/CudaDriver.h"
#include "runtime/ReadFile.h"
#include "tests/unit/RequireOk.h"
#include "tests/unit/cuda/PlanOnHost.h"
#include "tests/unit/cuda/Ptxas.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <limits>

namespace cuda_AotGpuCodeTest {

using namespace weft;
using namespace weft::cuda;
using testing::runPlanOnHost;

namespace {

const char *kModule = R"(
func @layer(%x: tensor<B x 3 x f32>, %w: tensor<3 x 5 x f32>, %i: tensor<2 x i64>) -> (tensor<B x 5 x f32>, tensor<B x f32>, tensor<2 x 5 x f32>) {
  %y = matmul %x, %w : tensor<B x 5 x f32>
  %c = constant {value = [0.5]} : tensor<B x 5 x f32>
  %z = add %y, %c : tensor<B x 5 x f32>
  %r = relu %z : tensor<B x 5 x f32>
  %s = reduce_sum %r {axes = [1]} : tensor<B x f32>
  %g = gather %w, %i {axis = 0} : tensor<2 x 5 x f32>
  return %r, %s, %g
}
func @sgd(%w: tensor<4 x f32>, %g: tensor<4 x f32>) -> (tensor<4 x f32>, tensor<4 x f32>) aliases(0 = %w) {
  %lr = constant {value = [0.5, 0.25, 0.125, 1.0]} : tensor<4 x f32>
  %step = mul %g, %lr : tensor<4 x f32>
  %w2 = sub %w, %step : tensor<4 x f32>
  %late = mul %w, %g : tensor<4 x f32>
  return %w2, %late
}
func @loop(%xs: tensor<3 x 2 x f32>) -> (tensor<2 x f32>) {
  %h0 = constant {value = [0.0]} : tensor<2 x f32>
  %h = scan carry(%h0) over(%xs) {
  ^body(%c: tensor<2 x f32>, %x: tensor<2 x f32>):
    %n = add %x, %c : tensor<2 x f32>
    yield %n
  } : tensor<2 x f32>
  return %h
}
)";

Array filled(DType t, std::vector<int64_t> shape, double start, double step) {
  Array a(t, std::move(shape));
  for (int64_t i = 0; i < a.numel(); ++i) {
    if (isFloat(t))
      a.setDouble(i, start + step * double(i) * (i % 3 ? -1 : 1));
    else
      a.setInt(i, static_cast<int64_t>(start) + i * static_cast<int64_t>(step));
  }
  return a;
}

} // namespace

TEST_CASE("GPU code: a plan run on the host device gives the interpreter's results") {
  auto m = ir::parseModule(kModule, "gpu.wir");
  REQUIRE_OK(m);
  auto ref = backends::referenceBackend().compile(**m);
  REQUIRE_OK(ref);
  for (const char *name : {"layer", "sgd"}) {
    CAPTURE(name);
    const ir::Function &f = *(*m)->function(name);
    auto plan = aotGpuPlan(f, "sm_90", {{"B", 4}});
    REQUIRE_OK(plan);
    REQUIRE(plan->unavailable.empty());
    CHECK(plan->symbols == std::vector<std::string>{"B"});
    std::vector<Array> in;
    if (std::string(name) == "layer")
      in = {filled(DType::F32, {4, 3}, 0.5, 0.25), filled(DType::F32, {3, 5}, -0.75, 0.125),
            filled(DType::I64, {2}, 2, -1)};
    else
      in = {filled(DType::F32, {4}, 1, 1), filled(DType::F32, {4}, 0.5, 0.5)};
    if (std::string(name) == "sgd") // %w is read after its update: copied in at the end
      CHECK(std::any_of(plan->steps.begin(), plan->steps.end(), [](const AotPlan::Step &s) {
        return s.kind == AotPlan::Step::Kind::Copy;
      }));
    auto got = runPlanOnHost(f, *plan, in, {{"B", 4}});
    REQUIRE_OK(got);
    auto want = (*ref)->run(name, in);
    REQUIRE_OK(want);
    REQUIRE(got->size() == want->size());
    for (size_t r = 0; r < want->size(); ++r)
      for (int64_t k = 0; k < (*want)[r].numel(); ++k) {
        CAPTURE(r);
        CAPTURE(k);
        CHECK((*got)[r].getDouble(k) == doctest::Approx((*want)[r].getDouble(k)).epsilon(1e-6));
      }
  }
}

TEST_CASE("GPU code: a gather's out-of-range index stops the plan at its status check") {
  auto m = ir::parseModule(kModule, "gpu.wir");
  REQUIRE_OK(m);
  const ir::Function &f = *(*m)->function("layer");
  auto plan = aotGpuPlan(f, "sm_90", {{"B", 4}});
  REQUIRE_OK(plan);
  auto got =
      runPlanOnHost(f, *plan,
                    {filled(DType::F32, {4, 3}, 0.5, 0.25),
                     filled(DType::F32, {3, 5}, -0.75, 0.125), filled(DType::I64, {2}, 1, 5)},
                    {{"B", 4}});
  REQUIRE_FALSE(got);
  CHECK(got.diag().message == "'gather' (gpu.wir:8:3): index 6 at position [1] of the indices is "
                              "out of range [0, 3) for axis 0 of f32[3, 5]");
}

TEST_CASE("GPU code: a function the plan cannot hold says why") {
  auto m = ir::parseModule(kModule, "gpu.wir");
  REQUIRE_OK(m);
  auto unbound = aotGpuPlan(*(*m)->function("layer"), "sm_90");
  REQUIRE_OK(unbound);
  CHECK(unbound->unavailable.find("its shapes are not all static") != std::string::npos);
  CHECK(unbound->unavailable.find("weftc --bind") != std::string::npos);
  auto sm = aotGpuPlan(*(*m)->function("sgd"), "sm_75");
  REQUIRE_FALSE(sm);
}

TEST_CASE("GPU code: the object carries each function's plan and PTX that ptxas accepts") {
  auto m = ir::parseModule(kModule, "gpu.wir");
  REQUIRE_OK(m);
  auto gpu = aotGpuCode(**m, "sm_90", {{"B", 4}});
  REQUIRE_OK(gpu);
  auto dir = std::filesystem::temp_directory_path() / ("weft-aot-gpu-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  cpu::AotOptions o;
  o.objectPath = (dir / "model.o").string();
  o.headerPath = (dir / "model.h").string();
  o.cpu = "x86-64-v3";
  o.gpuCode = *gpu;
  REQUIRE_OK(cpu::compileToObject(**m, o));
  auto object = readFile(o.objectPath);
  auto header = readFile(o.headerPath);
  std::filesystem::remove_all(dir);
  REQUIRE_OK(object);
  REQUIRE_OK(header);
  CHECK(header->find("extern const unsigned char weft_layer_gpu[];") != std::string::npos);
  CHECK(header->find("    weft_sgd_gpu};") != std::string::npos);

  // Every plan in the object, found by its magic, decodes as the one weftc was given.
  std::map<std::string, AotPlan> found;
  for (size_t at = object->find("WEFTGPU1"); at != std::string::npos;
       at = object->find("WEFTGPU1", at + 1)) {
    auto size = encodedAotPlanSize(reinterpret_cast<const unsigned char *>(object->data() + at));
    REQUIRE(size <= object->size() - at);
    auto plan = decodeAotPlan(std::string_view(*object).substr(at, size));
    REQUIRE_OK(plan);
    found[plan->function] = *plan;
  }
  REQUIRE(found.size() == 3);
  CHECK(found["loop"].unavailable.empty()); // a static scan is unrolled
  auto ptxas = testing::findPtxas();
  for (const char *name : {"layer", "sgd", "loop"}) {
    CAPTURE(name);
    CHECK(encodeAotPlan(found[name]) == gpu->at(name));
    CHECK(found[name].ptx.find(".target sm_90") != std::string::npos);
    if (!ptxas) {
      MESSAGE("ptxas not found (no CUDA toolkit): the embedded PTX is not validated here");
      continue;
    }
    CHECK(testing::ptxasErrors(*ptxas, found[name].ptx, "sm_90") == "");
  }
}

TEST_CASE("GPU code: on a machine without a GPU the loader says 'no CUDA device'") {
  if (Driver::get()) {
    MESSAGE("a GPU is here: the loader's run belongs to bench/gpu.sh");
    return;
  }
  auto m = ir::parseModule(kModule, "gpu.wir");
  REQUIRE_OK(m);
  auto plan = aotGpuPlan(*(*m)->function("sgd"), "sm_90");
  REQUIRE_OK(plan);
  std::string bytes = encodeAotPlan(*plan);
  weft_aot_function fn{};
  fn.name = "sgd";
  fn.n_params = 2;
  fn.n_results = 2;
  fn.gpu_code = reinterpret_cast<const unsigned char *>(bytes.data());
  auto loaded = AotGpuFunction::load(fn);
  REQUIRE_FALSE(loaded);
  CHECK(loaded.diag().message.rfind("no CUDA device: ", 0) == 0);
}

} // namespace cuda_AotGpuCodeTest
