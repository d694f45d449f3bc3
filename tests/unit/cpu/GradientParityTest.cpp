// Training graphs (autodiff + BPTT + the train pipeline) give the same gradients on the CPU
// backend as on the reference interpreter.
#include "backends/Registry.h"
#include "backends/reference/Interpreter.h"
#include "ir/Parser.h"
#include "ir/Walk.h"
#include "passes/PassManager.h"
#include "runtime/Random.h"
#include "tests/unit/LstmIr.h"
#include "tests/unit/RequireOk.h"

#include <doctest/doctest.h>

#include <cmath>
#include <sstream>

namespace cpu_GradientParityTest {

using namespace weft;

namespace {

/// A tanh RNN, an LSTM and a GRU over padded sequences, f64, symbolic B and T; the loss reads
/// every hidden state. And a decoder's output layer (a scan without carries, which
/// vectorize-scan runs over all steps at once).
const std::string kModels =
    R"(func @rnn(%xs: tensor<T x B x 4 x f64>, %len: tensor<B x i32>, %W: tensor<4 x 5 x f64>, %U: tensor<5 x 5 x f64>, %r: tensor<T x B x 5 x f64>) -> (tensor<f64>) {
  %h0 = constant {value = [0.0]} : tensor<B x 5 x f64>
  %hT, %hs = scan carry(%h0) over(%xs) lengths(%len) {
  ^body(%h: tensor<B x 5 x f64>, %x: tensor<B x 4 x f64>):
    %a = matmul %x, %W : tensor<B x 5 x f64>
    %b = matmul %h, %U : tensor<B x 5 x f64>
    %s = add %a, %b : tensor<B x 5 x f64>
    %h2 = tanh %s : tensor<B x 5 x f64>
    yield %h2, %h2
  } : tensor<B x 5 x f64>, tensor<T x B x 5 x f64>
  %w = mul %hs, %r : tensor<T x B x 5 x f64>
  %l = reduce_sum %w {axes = [0, 1, 2]} : tensor<f64>
  return %l
}

func @lstm(%xs: tensor<T x B x 4 x f64>, %len: tensor<B x i32>, %W: tensor<9 x 20 x f64>, %bias: tensor<20 x f64>, %r: tensor<T x B x 5 x f64>) -> (tensor<f64>) {
  %zero = constant {value = [0.0]} : tensor<B x 5 x f64>
  %hT, %cT, %hs = scan carry(%zero, %zero) over(%xs) lengths(%len) {
  ^body(%h: tensor<B x 5 x f64>, %c: tensor<B x 5 x f64>, %x: tensor<B x 4 x f64>):
)" +
    testing::lstmStep(
        {.input = 4, .hidden = 5, .gates = testing::LstmGates::ConcatBias, .dtype = "f64"}) +
    R"(    yield %h2, %c2, %h2
  } : tensor<B x 5 x f64>, tensor<B x 5 x f64>, tensor<T x B x 5 x f64>
  %w = mul %hs, %r : tensor<T x B x 5 x f64>
  %l = reduce_sum %w {axes = [0, 1, 2]} : tensor<f64>
  return %l
}

func @gru(%xs: tensor<T x B x 4 x f64>, %len: tensor<B x i32>, %W: tensor<4 x 15 x f64>, %U: tensor<5 x 10 x f64>, %Un: tensor<5 x 5 x f64>, %r: tensor<T x B x 5 x f64>) -> (tensor<f64>) {
  %h0 = constant {value = [0.0]} : tensor<B x 5 x f64>
  %hT, %hs = scan carry(%h0) over(%xs) lengths(%len) {
  ^body(%h: tensor<B x 5 x f64>, %x: tensor<B x 4 x f64>):
    %xw = matmul %x, %W : tensor<B x 15 x f64>
    %hu = matmul %h, %U : tensor<B x 10 x f64>
    %xz = slice %xw {axis = 1, limit = 5, start = 0} : tensor<B x 5 x f64>
    %xr = slice %xw {axis = 1, limit = 10, start = 5} : tensor<B x 5 x f64>
    %xn = slice %xw {axis = 1, limit = 15, start = 10} : tensor<B x 5 x f64>
    %hz = slice %hu {axis = 1, limit = 5, start = 0} : tensor<B x 5 x f64>
    %hr = slice %hu {axis = 1, limit = 10, start = 5} : tensor<B x 5 x f64>
    %sz = add %xz, %hz : tensor<B x 5 x f64>
    %z = sigmoid %sz : tensor<B x 5 x f64>
    %sr = add %xr, %hr : tensor<B x 5 x f64>
    %rg = sigmoid %sr : tensor<B x 5 x f64>
    %rh = mul %rg, %h : tensor<B x 5 x f64>
    %rn = matmul %rh, %Un : tensor<B x 5 x f64>
    %sn = add %xn, %rn : tensor<B x 5 x f64>
    %n = tanh %sn : tensor<B x 5 x f64>
    %one = constant {value = [1.0]} : tensor<B x 5 x f64>
    %omz = sub %one, %z : tensor<B x 5 x f64>
    %a = mul %omz, %n : tensor<B x 5 x f64>
    %b = mul %z, %h : tensor<B x 5 x f64>
    %h2 = add %a, %b : tensor<B x 5 x f64>
    yield %h2, %h2
  } : tensor<B x 5 x f64>, tensor<T x B x 5 x f64>
  %w = mul %hs, %r : tensor<T x B x 5 x f64>
  %l = reduce_sum %w {axes = [0, 1, 2]} : tensor<f64>
  return %l
}

func @head(%hs: tensor<T x B x 5 x f64>, %len: tensor<B x i32>, %Wo: tensor<5 x 7 x f64>, %bo: tensor<7 x f64>, %r: tensor<T x B x 7 x f64>) -> (tensor<f64>) {
  %bb = broadcast %bo {dims = [1]} : tensor<B x 7 x f64>
  %ls = scan carry() over(%hs) lengths(%len) {
  ^body(%h: tensor<B x 5 x f64>):
    %lw = matmul %h, %Wo : tensor<B x 7 x f64>
    %l0 = add %lw, %bb : tensor<B x 7 x f64>
    %lt = tanh %l0 : tensor<B x 7 x f64>
    yield %lt
  } : tensor<T x B x 7 x f64>
  %w = mul %ls, %r : tensor<T x B x 7 x f64>
  %l = reduce_sum %w {axes = [0, 1, 2]} : tensor<f64>
  return %l
}
)";

Array uniform(DType dt, std::vector<int64_t> shape, int64_t seed) {
  Array a(dt, std::move(shape));
  for (int64_t k = 0; k < a.numel(); ++k)
    a.setDouble(k, 2.0 * random::uniformF64(seed, static_cast<uint64_t>(k)) - 1.0);
  return a;
}

/// Runs `function` of `m` on every registered backend and on the interpreter and compares.
void checkParity(const ir::Module &m, const char *function, const std::vector<Array> &inputs) {
  CAPTURE(function);
  auto want = reference::run(*m.function(function), inputs);
  REQUIRE_OK(want);
  for (const backends::Backend *b : backends::registeredBackends()) {
    if (b == &backends::referenceBackend())
      continue;
    CAPTURE(b->name());
    auto exe = b->compile(m);
    REQUIRE_OK(exe);
    auto got = (*exe)->run(function, inputs);
    REQUIRE_OK(got);
    REQUIRE(got->size() == want->size());
    for (size_t i = 0; i < want->size(); ++i) {
      REQUIRE((*got)[i].shape() == (*want)[i].shape());
      for (int64_t k = 0; k < (*want)[i].numel(); ++k) {
        double g = (*got)[i].getDouble(k), w = (*want)[i].getDouble(k);
        CAPTURE(i);
        CAPTURE(k);
        // f64 throughout: only summation order (matmul accumulates in f64 on both sides, in
        // another order here) and libm's tanh/exp separate the two.
        CHECK(std::abs(g - w) <= 1e-12 * (1.0 + std::abs(w)));
      }
    }
  }
}

} // namespace

TEST_CASE("tanh RNN, LSTM, GRU and output layer gradients (train pipeline) match between the CPU "
          "backend and "
          "the interpreter") {
  auto m = ir::parseModule(kModels, "models.wir");
  REQUIRE(m.isOk());
  std::ostringstream log;
  passes::PassManager pm(log);
  REQUIRE(pm.addPipeline("train").isOk());
  Status ran = pm.run(**m);
  REQUIRE_MESSAGE(ran.isOk(), ran.message());
  REQUIRE((*m)->function("rnn_grad"));
  REQUIRE((*m)->function("lstm_grad"));
  REQUIRE((*m)->function("gru_grad"));
  REQUIRE((*m)->function("head_grad"));

  const int64_t T = 23, B = 3;
  Array xs = uniform(DType::F64, {T, B, 4}, 1), r = uniform(DType::F64, {T, B, 5}, 2);
  Array len = Array::of<int32_t>({B}, {23, 11, 0});
  checkParity(**m, "rnn_grad",
              {xs, len, uniform(DType::F64, {4, 5}, 8), uniform(DType::F64, {5, 5}, 9), r});
  checkParity(**m, "lstm_grad",
              {xs, len, uniform(DType::F64, {9, 20}, 3), uniform(DType::F64, {20}, 4), r});
  checkParity(**m, "gru_grad",
              {xs, len, uniform(DType::F64, {4, 15}, 5), uniform(DType::F64, {5, 10}, 6),
               uniform(DType::F64, {5, 5}, 7), r});
  size_t scans = 0;
  ir::walk((*m)->function("head_grad")->body(),
           [&](ir::Op &op) { scans += op.kind() == ir::OpKind::Scan; });
  CHECK(scans == 0);
  checkParity(**m, "head_grad",
              {uniform(DType::F64, {T, B, 5}, 10), len, uniform(DType::F64, {5, 7}, 11),
               uniform(DType::F64, {7}, 12), uniform(DType::F64, {T, B, 7}, 13)});
}

} // namespace cpu_GradientParityTest
