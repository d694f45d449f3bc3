// A training step end to end on the CUDA backend's host device for each of nn::GRU (PyTorch's
// reset and Cho's) and nn::RNN (relu) over padded sequences, a loss over every output: the
// train pipeline fuses the recurrence (gru_sequence, rnn_sequence) and differentiates it as a
// fused op (gru_sequence_grad, rnn_sequence_grad). The gradient function, run on the host
// device, gives the interpreter's loss and gradients for every parameter and input.
#include "backends/Registry.h"
#include "backends/cuda/CudaBackend.h"
#include "frontend/Weft.h"
#include "frontend/nn/Recurrent.h"
#include "ir/Walk.h"
#include "passes/PassManager.h"
#include "tests/unit/RequireOk.h"
#include "tests/unit/cuda/Parity.h"

#include <doctest/doctest.h>

#include <cmath>
#include <sstream>

namespace cuda_GruRnnTrainingTest {

using namespace weft;

namespace {

enum class TrainingCell { GruPyTorch, GruCho, RnnRelu };

int countOps(ir::Function &f, ir::OpKind kind) {
  int n = 0;
  ir::walk(f.body(), [&](ir::Op &op) { n += op.kind() == kind; });
  return n;
}

/// xs [T, B, 3] with lengths -> the recurrence (H = 5) -> sum(out r).
std::unique_ptr<ir::Module> recurrentModel(TrainingCell cell) {
  Graph g("seq");
  Dim T = g.dim("T"), B = g.dim("B");
  Tensor xs = g.input("xs", {T, B, 3}, DType::F64);
  Tensor len = g.input("len", {B}, DType::I64);
  Tensor r = g.input("r", {T, B, 5}, DType::F64);
  nn::Scope s(g, nn::Mode::Eval);
  nn::RecurrentOptions opts = nn::RecurrentOptions().withDType(DType::F64);
  nn::RecurrentInputs inputs = nn::RecurrentInputs().withLengths(len);
  Tensor out;
  if (cell == TrainingCell::RnnRelu) {
    nn::RNN rnn(s.child("rnn"), 3, 5, opts.relu());
    out = rnn(xs, inputs).output;
  } else {
    nn::GRU gru(s.child("gru"), 3, 5,
                opts.withGruReset(cell == TrainingCell::GruPyTorch ? nn::GruReset::AfterMatmul
                                                                   : nn::GruReset::BeforeMatmul));
    out = gru(xs, inputs).output;
  }
  g.outputs({sum(out * r, {0, 1, 2})});
  return g.build();
}

/// Numbers in [-1, 1) for floats; lengths T, T - 2, T, ... for the i64 lengths.
std::vector<Array> inputsOf(const ir::Function &f, const ir::DimBindings &dims, int64_t steps) {
  std::vector<Array> in;
  for (size_t p = 0; p < f.numParams(); ++p) {
    auto shape = f.param(p)->type().evaluateShape(dims);
    REQUIRE_OK(shape);
    Array a(f.param(p)->type().dtype(), *shape);
    for (int64_t e = 0; e < a.numel(); ++e) {
      if (isFloat(a.dtype()))
        a.setDouble(e, std::sin(double(e * 7 + static_cast<int64_t>(p) * 13)));
      else
        a.setInt(e, steps - 2 * (e % 2));
    }
    in.push_back(std::move(a));
  }
  return in;
}

} // namespace

TEST_CASE("cuda on the host device: GRU and RNN training steps' gradients match the "
          "interpreter's") {
  for (TrainingCell cell :
       {TrainingCell::GruPyTorch, TrainingCell::GruCho, TrainingCell::RnnRelu}) {
    CAPTURE(static_cast<int>(cell));
    auto m = recurrentModel(cell);
    std::ostringstream log;
    passes::PassManager pm(log);
    REQUIRE_OK(pm.addPipeline("train"));
    REQUIRE_OK(pm.run(*m));
    ir::Function *grad = m->function("seq_grad");
    REQUIRE(grad);
    // The fused gradient is what this test is about.
    CHECK(countOps(*grad, cell == TrainingCell::RnnRelu ? ir::OpKind::RnnSequenceGrad
                                                        : ir::OpKind::GruSequenceGrad) == 1);

    const int64_t steps = 5, batch = 3;
    ir::DimBindings dims{{"T", steps}, {"B", batch}};
    std::vector<Array> in = inputsOf(*grad, dims, steps);
    auto ref = backends::referenceBackend().compile(*m);
    REQUIRE_OK(ref);
    auto want = (*ref)->run("seq_grad", in);
    REQUIRE_OK(want);
    cuda::CudaBackend host(cuda::hostDevice());
    auto exe = host.compile(*m);
    REQUIRE_OK(exe);
    auto got = (*exe)->run("seq_grad", in);
    REQUIRE_OK(got);
    REQUIRE(got->size() == want->size());
    REQUIRE(got->size() == grad->resultTypes().size());
    for (size_t i = 0; i < want->size(); ++i) {
      CAPTURE(i);
      // f64 throughout: summation order and the GPU's own exp and tanh separate the two.
      testing::checkClose((*got)[i], (*want)[i], 1e-10);
    }
  }
}

} // namespace cuda_GruRnnTrainingTest
