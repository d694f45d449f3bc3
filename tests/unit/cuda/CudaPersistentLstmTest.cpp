// The persistent lstm_sequence kernel (backends/cuda/PersistentLstm.h): parity with the
// interpreter on the host device (whose co-resident grid of 4 blocks makes blocks of a large H
// take several slices each), the rule that picks it or the per-step scan, and its PTX.
#include "backends/cuda/PersistentLstm.h"
#include "backends/cuda/Ptx.h"
#include "tests/unit/cuda/Parity.h"
#include "tests/unit/cuda/Ptxas.h"
#include "tests/unit/cuda/RecordingDevice.h"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>

namespace cuda_CudaPersistentLstmTest {

using namespace weft;

namespace {

/// Three lstm_sequences of hidden size `hidden` over one input: forward, reverse with i64
/// lengths, forward with i32 lengths; T and B symbolic.
std::string threeLstms(DType t, int64_t hidden) {
  const std::string d(dtypeName(t));
  const int64_t g = 4 * hidden;
  const std::string state = fmt::format("tensor<B x {} x {}>", hidden, d);
  const std::string seq = fmt::format("tensor<T x B x {} x {}>", hidden, d);
  const std::string outs = fmt::format("{}, {}, {}", seq, state, state);
  return fmt::format(
      "func @lstm(%xs: tensor<T x B x 3 x {d}>, %h0: {st}, %c0: {st}, %wx: tensor<3 x {g} x {d}>, "
      "%wh: tensor<{h} x {g} x {d}>, %b: tensor<{g} x {d}>, %len: tensor<B x i64>, "
      "%len32: tensor<B x i32>) -> ({o}, {o}, {o}) {{\n"
      "  %hs, %hT, %cT = lstm_sequence %xs, %h0, %c0, %wx, %wh, %b : {o}\n"
      "  %rs, %rT, %rc = lstm_sequence %xs, %h0, %c0, %wx, %wh, %b, %len {{reverse = 1}} : {o}\n"
      "  %ls, %lT, %lc = lstm_sequence %xs, %h0, %c0, %wx, %wh, %b, %len32 : {o}\n"
      "  return %hs, %hT, %cT, %rs, %rT, %rc, %ls, %lT, %lc\n}}\n",
      fmt::arg("d", d), fmt::arg("st", state), fmt::arg("g", g), fmt::arg("h", hidden),
      fmt::arg("o", outs));
}

/// testing::inputFor scaled by `scale` (weights of a large H stay in the gates' useful range).
Array scaled(DType t, std::vector<int64_t> shape, int64_t seed, double scale) {
  Array a = testing::inputFor(t, std::move(shape), seed);
  for (int64_t i = 0; i < a.numel(); ++i)
    a.setDouble(i, a.getDouble(i) * scale);
  return a;
}

/// Lengths with a 0, a full T and the rest in between.
Array lengths(DType t, int64_t batch, int64_t steps) {
  Array a(t, {batch});
  for (int64_t b = 0; b < batch; ++b)
    a.setInt(b, b % 3 == 1 ? 0 : std::max<int64_t>(0, steps - b % 3));
  return a;
}

std::vector<Array> inputs(DType t, int64_t hidden, int64_t steps, int64_t batch) {
  const double w = 1.0 / static_cast<double>(hidden);
  return {scaled(t, {steps, batch, 3}, 1, 1),    scaled(t, {batch, hidden}, 2, 0.5),
          scaled(t, {batch, hidden}, 3, 1),      scaled(t, {3, 4 * hidden}, 4, 0.5),
          scaled(t, {hidden, 4 * hidden}, 5, w), scaled(t, {4 * hidden}, 6, 0.5),
          lengths(DType::I64, batch, steps),     lengths(DType::I32, batch, steps)};
}

/// The launches of one call of @lstm on a recording host device, after checking its results
/// against the interpreter.
struct Launches {
  int all = 0, coResident = 0;
};
Launches runAndCount(DType t, int64_t hidden, int64_t steps, int64_t batch) {
  const std::string text = threeLstms(t, hidden);
  const std::vector<Array> in = inputs(t, hidden, steps, batch);
  testing::checkAgainstInterpreter(text, "lstm", in, t == DType::F32 ? 2e-6 : 1e-13);
  auto device = std::make_shared<testing::RecordingDevice>(cuda::hostDevice());
  cuda::CudaBackend backend(device);
  auto m = ir::parseModule(text, "lstm.wir");
  REQUIRE_OK(m);
  auto exe = backend.compile(**m);
  REQUIRE_OK(exe);
  REQUIRE_OK((*exe)->run("lstm", in));
  return {device->launches, device->coResidentLaunches};
}

} // namespace

TEST_CASE("persistent lstm: the rule keeps wh's slice within a block's shared memory") {
  CHECK(cuda::persistentLstmUnits(512) == 4);
  CHECK(cuda::persistentLstmSliceCount(512) == 128);
  CHECK(cuda::persistentLstmSliceCount(131) == 66); // U = 2, the last slice one unit
  CHECK(cuda::persistentLstmFits(512, DType::F32));
  CHECK(cuda::persistentLstmFits(614, DType::F32));
  CHECK_FALSE(cuda::persistentLstmFits(615, DType::F32));
  CHECK(cuda::persistentLstmFits(384, DType::F64));
  CHECK_FALSE(cuda::persistentLstmFits(385, DType::F64));
  CHECK_FALSE(cuda::persistentLstmFits(4, DType::I32));
}

TEST_CASE("persistent lstm on the host device matches the interpreter, in one launch per op") {
  // (dtype, H, T, B): an odd H whose 66 slices the 4 co-resident blocks share (the last slice
  // one unit; h read one element at a time), H = 132 (h read as vectors), H below the grid (a
  // slice per block), B = 1, T = 1 and T = 0, f32 and f64.
  const std::tuple<DType, int64_t, int64_t, int64_t> cases[] = {
      {DType::F32, 131, 4, 3}, {DType::F32, 132, 2, 2}, {DType::F32, 3, 1, 1},
      {DType::F32, 3, 0, 2},   {DType::F64, 6, 3, 4},   {DType::F64, 131, 2, 1}};
  for (auto [t, hidden, steps, batch] : cases) {
    CAPTURE(dtypeName(t));
    CAPTURE(hidden);
    CAPTURE(steps);
    CAPTURE(batch);
    Launches n = runAndCount(t, hidden, steps, batch);
    // Per op: the projection and the kernel (the lengths' check is no launch).
    CHECK(n.coResident == 3);
    CHECK(n.all == 6);
  }
}

TEST_CASE("persistent lstm: where wh's slice does not fit, lstm_sequence runs as its scan") {
  // f64 with H = 385: U = 4, a slice of 385 x 16 doubles is more than 48 KB.
  Launches n = runAndCount(DType::F64, 385, 2, 1);
  CHECK(n.coResident == 0);
  CHECK(n.all > 6); // launches per step
}

TEST_CASE("persistent lstm kernels compile to PTX that ptxas accepts for sm_80 and sm_90") {
  auto ptxas = testing::findPtxas();
  if (!ptxas)
    MESSAGE("ptxas not found (no CUDA toolkit; set WEFT_PTXAS): PTX is generated but not "
            "validated");
  llvm::LLVMContext ctx;
  auto km = cuda::newKernelModule(ctx, "lstm");
  REQUIRE_OK(cuda::emitPersistentLstmKernel(*km, "lstm512", cuda::KernelTarget::Nvptx, DType::F32,
                                            512, cuda::LstmLengths::None, false));
  REQUIRE_OK(cuda::emitPersistentLstmKernel(*km, "lstm130", cuda::KernelTarget::Nvptx, DType::F64,
                                            130, cuda::LstmLengths::I32, true));
  REQUIRE_OK(cuda::emitPersistentLstmKernel(*km, "lstm7", cuda::KernelTarget::Nvptx, DType::F32, 7,
                                            cuda::LstmLengths::I64, false));
  CHECK_FALSE(cuda::emitPersistentLstmKernel(*km, "big", cuda::KernelTarget::Nvptx, DType::F32, 615,
                                             cuda::LstmLengths::None, false));
  for (const char *sm : {"sm_80", "sm_90"}) {
    CAPTURE(sm);
    auto ptx = cuda::compileToPtx(*km, sm);
    REQUIRE_OK(ptx);
    for (const char *name : {"lstm512", "lstm130", "lstm7"})
      CHECK(ptx->find(fmt::format(".entry {}(", name)) != std::string::npos);
    // The grid barrier: a fenced atomic arrival and a volatile spin on the counter.
    CHECK(ptx->find("membar.gl") != std::string::npos);
    CHECK(ptx->find("atom.global.add.u64") != std::string::npos);
    CHECK(ptx->find("ld.volatile.global.u64") != std::string::npos);
    CHECK(ptx->find("[32768]") != std::string::npos); // H = 512: 512 x 16 floats of wh
    if (ptxas)
      CHECK(testing::ptxasErrors(*ptxas, *ptx, sm) == "");
  }
}

TEST_CASE("persistent lstm: a length outside [0, T] is an error naming it, as the interpreter's") {
  std::vector<Array> in = inputs(DType::F32, 3, 2, 2);
  in[6].setInt(1, 3); // T = 2
  auto m = ir::parseModule(threeLstms(DType::F32, 3), "lstm.wir");
  REQUIRE_OK(m);
  cuda::CudaBackend host(cuda::hostDevice());
  auto exe = host.compile(**m);
  REQUIRE_OK(exe);
  auto out = (*exe)->run("lstm", in);
  REQUIRE_FALSE(out);
  CHECK(out.diag().message ==
        "'lstm_sequence' (lstm.wir:3:3): length 3 of example 1 is outside [0, 2]");
}

} // namespace cuda_CudaPersistentLstmTest
