//===- tests/unit/cpu/F32GradientTest.cpp - f32 gradients against f64 ------===//
//
// The LSTM and GRU training graphs (train pipeline: autodiff with BPTT) run in
// f32 on the interpreter and on the JIT, and their gradients are checked
// against the same graphs' gradients in f64 (interpreter) at the same inputs.
// The f64 gradients are themselves checked against finite differences in
// tests/unit/autodiff; this checks that f32 training computes them as well as
// f32 can.
//
//===----------------------------------------------------------------------===//
#include "Parity.h"
#include "tests/unit/ConvertArray.h"
#include "tests/unit/GruIr.h"

namespace weft::cputest::cpu_F32GradientTest {
namespace {

constexpr int64_t kT = 25, kB = 3, kI = 4, kH = 8;

/// `text` with every "DT" replaced by `dt`.
std::string withDType(std::string text, const char *dt) {
  for (size_t at; (at = text.find("DT")) != std::string::npos;)
    text.replace(at, 2, dt);
  return text;
}

// The models: a layer over xs (T x B x I) with hidden size H (the text spells I = 4, H = 8)
// and the loss sum(hs * wl) over every hidden state, in dtype DT.
std::string lstmModel(const char *dt) {
  return withDType(
      R"(
func @lstm(%xs: tensor<T x B x 4 x DT>, %W: tensor<4 x 32 x DT>, %U: tensor<8 x 32 x DT>, %bias: tensor<32 x DT>, %wl: tensor<T x B x 8 x DT>) -> (tensor<DT>) {
  %zero = constant {value = [0.0]} : tensor<B x 8 x DT>
  %hT, %cT, %hs = scan carry(%zero, %zero) over(%xs) {
  ^body(%h: tensor<B x 8 x DT>, %c: tensor<B x 8 x DT>, %x: tensor<B x 4 x DT>):
)" +
          testing::lstmStep(
              {.input = kI, .hidden = kH, .gates = testing::LstmGates::Separate, .dtype = "DT"}) +
          R"(    yield %h2, %c2, %h2
  } : tensor<B x 8 x DT>, tensor<B x 8 x DT>, tensor<T x B x 8 x DT>
  %w = mul %hs, %wl : tensor<T x B x 8 x DT>
  %l = reduce_sum %w {axes = [0, 1, 2]} : tensor<DT>
  return %l
}
)",
      dt);
}

std::string gruModel(const char *dt) {
  return withDType(
      R"(
func @gru(%xs: tensor<T x B x 4 x DT>, %Wi: tensor<4 x 24 x DT>, %Wh: tensor<8 x 24 x DT>, %bi: tensor<24 x DT>, %bh: tensor<24 x DT>, %wl: tensor<T x B x 8 x DT>) -> (tensor<DT>) {
  %zero = constant {value = [0.0]} : tensor<B x 8 x DT>
  %hT, %hs = scan carry(%zero) over(%xs) {
  ^body(%h: tensor<B x 8 x DT>, %x: tensor<B x 4 x DT>):
)" + testing::gruStep({.input = kI, .hidden = kH, .dtype = "DT"}) +
          R"(    yield %h2, %h2
  } : tensor<B x 8 x DT>, tensor<T x B x 8 x DT>
  %w = mul %hs, %wl : tensor<T x B x 8 x DT>
  %l = reduce_sum %w {axes = [0, 1, 2]} : tensor<DT>
  return %l
}
)",
      dt);
}

/// `text` after the train pipeline, which adds @<name>_grad for each model.
std::unique_ptr<ir::Module> trainingModule(const std::string &text) {
  auto m = ir::parseModule(text, "model.wir");
  REQUIRE_OK(m);
  runPipeline(**m, "train");
  return std::move(*m);
}

double norm(const Array &a) {
  double s = 0;
  for (int64_t i = 0; i < a.numel(); ++i)
    s += a.getDouble(i) * a.getDouble(i);
  return std::sqrt(s);
}

double distance(const Array &a, const Array &b) {
  double s = 0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    double d = a.getDouble(i) - b.getDouble(i);
    s += d * d;
  }
  return std::sqrt(s);
}

// The bound. Every op rounds with unit roundoff u = 2^-24 in f32; a gate's dot products have
// K = I + H = 12 terms, and the forward state and the backward state gradient carry their
// errors through all T = 25 steps, so about T K = 300 roundings reach each gradient element.
// The worst case, T K u = 1.8e-5 of the gradient's norm, would let an op that is wrong in the
// fifth digit pass. Rounding errors of independent sign grow like sqrt(T K) u instead (Higham
// and Mary, "A new approach to probabilistic rounding error analysis", SISC 2019), which holds
// here because sigmoid and tanh have slopes <= 1 and the weights are O(1 / sqrt(H)), so the
// recurrence neither amplifies nor damps errors; 4 sqrt(T K) u = 4.1e-6. Measured: at most
// 2.6e-7 (loss and every gradient, both backends); the inputs are fixed, so nothing flakes.
const double kRelativeBound = 4.0 * std::sqrt(double(kT * (kI + kH))) * 0x1p-24;

void checkF32AgainstF64(std::string (*model)(const char *), const char *function) {
  CAPTURE(std::string(function));
  auto m32 = trainingModule(model("f32")), m64 = trainingModule(model("f64"));
  const ir::Function *f32 = m32->function(function), *f64 = m64->function(function);
  REQUIRE(f32);
  REQUIRE(f64);
  // One set of inputs, drawn as f32 numbers in [-1, 1] and given to both: weights scaled by
  // 1 / sqrt(H) as an initializer would, inputs and loss weights left at O(1).
  ir::DimBindings dims{{"T", kT}, {"B", kB}};
  std::vector<Array> in32 = randomInputs(*f32, dims, {}, /*seed=*/7), in64;
  for (size_t p = 0; p < in32.size(); ++p) {
    bool weight = p != 0 && p + 1 != in32.size(); // not xs, not wl
    for (int64_t i = 0; i < in32[p].numel(); ++i)
      in32[p].setDouble(i, in32[p].getDouble(i) / (weight ? 2.0 * std::sqrt(kH) : 2.0));
    in64.push_back(testing::convertedTo(DType::F64, in32[p]));
  }
  auto want = reference::run(*f64, in64, dims);
  REQUIRE_OK(want);
  REQUIRE(want->size() == in64.size() + 1); // the loss, then one gradient per parameter
  for (const backends::Backend *b : backends::registeredBackends()) { // the interpreter too
    CAPTURE(b->name());
    auto exe = b->compile(*m32);
    REQUIRE_OK(exe);
    auto got = (*exe)->run(function, in32, {.dims = dims});
    REQUIRE_OK(got);
    REQUIRE(got->size() == want->size());
    for (size_t r = 0; r < want->size(); ++r) {
      CAPTURE(r); // 0: the loss; r > 0: the gradient of parameter r - 1
      REQUIRE((*got)[r].dtype() == DType::F32);
      REQUIRE((*got)[r].shape() == (*want)[r].shape());
      double err = distance((*got)[r], (*want)[r]), size = norm((*want)[r]);
      CAPTURE(err);
      CAPTURE(size);
      CHECK(size > 0);
      CHECK(err <= kRelativeBound * size);
    }
  }
}

} // namespace

TEST_CASE("f32 LSTM training gradients match f64 ones to f32 accuracy, interpreter and JIT") {
  checkF32AgainstF64(lstmModel, "lstm_grad");
}

TEST_CASE("f32 GRU training gradients match f64 ones to f32 accuracy, interpreter and JIT") {
  checkF32AgainstF64(gruModel, "gru_grad");
}

} // namespace weft::cputest::cpu_F32GradientTest
