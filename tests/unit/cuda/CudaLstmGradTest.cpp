// lstm_sequence_grad on the CUDA backend's host device against the reference interpreter, after
// the lstm_sequence whose hs it reads: T B rows and 4H gates past the matmul's 64-wide tiles,
// lengths (i32 and i64, zero and full) and reverse, T = 1, f32 and f64; a length out of range is
// the interpreter's error; and the kernels through ptxas for sm_80 and sm_90.
#include "tests/unit/cuda/Parity.h"
#include "tests/unit/cuda/Ptxas.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

namespace cuda_CudaLstmGradTest {

using namespace weft;
using testing::inputFor;

namespace {

struct LstmGradCase {
  int64_t input, hidden, batch, steps;
  const char *lengths; // "" (none), "i32" or "i64"
  bool reverse;
  const char *dtype;
};

const LstmGradCase kLstmGradCases[] = {
    {5, 17, 10, 7, "i32", false, "f32"}, // T B = 70 rows and G = 68 gates: two tiles each
    {3, 4, 3, 6, "i64", true, "f64"},    // reverse with lengths: each example starts elsewhere
    {4, 5, 2, 5, "", true, "f32"},       // reverse, no lengths
    {2, 3, 3, 1, "i32", false, "f64"},   // T = 1, lengths 0 and 1
};

/// @grad(xs, h0, c0, wx, wh, b [, len], dhs, dhT, dcT): lstm_sequence, then the gradient of its
/// results with adjoints dhs, dhT, dcT (the batch B symbolic). `saved`: both in the training form
/// ({save_gates}), the gradient reading the forward's gates and cell states.
std::string lstmGradModule(const LstmGradCase &c, bool saved = false) {
  std::string dt = c.dtype;
  const int64_t h = c.hidden, i = c.input;
  std::string bh = fmt::format("tensor<B x {} x {}>", h, dt);
  std::string hs = fmt::format("tensor<T x B x {} x {}>", h, dt);
  std::string xs = fmt::format("tensor<T x B x {} x {}>", i, dt);
  std::string wx = fmt::format("tensor<{} x {} x {}>", i, 4 * h, dt);
  std::string wh = fmt::format("tensor<{} x {} x {}>", h, 4 * h, dt);
  std::string bias = fmt::format("tensor<{} x {}>", 4 * h, dt);
  const bool lengths = *c.lengths != 0;
  std::string len = lengths ? ", %len" : "";
  std::string attr = c.reverse && saved ? " {reverse = 1, save_gates = 1}"
                     : c.reverse        ? " {reverse = 1}"
                     : saved            ? " {save_gates = 1}"
                                        : "";
  std::string gates = fmt::format("tensor<T x B x {} x {}>", 4 * h, dt);
  return fmt::format(
      "func @grad(%xs: {0}, %h0: {1}, %c0: {1}, %wx: {2}, %wh: {3}, %b: {4}{5}, %dhs: {6}, "
      "%dhT: {1}, %dcT: {1}) -> ({0}, {1}, {1}, {2}, {3}, {4}) {{\n"
      "  %hs, %hT, %cT{9} = lstm_sequence %xs, %h0, %c0, %wx, %wh, %b{7}{8} : {6}, {1}, {1}{10}\n"
      "  %dxs, %dh0, %dc0, %dwx, %dwh, %db = lstm_sequence_grad %xs, %h0, %c0, %wx, %wh, %b, "
      "%hs, %dhs, %dhT, %dcT{9}{7}{8} : {0}, {1}, {1}, {2}, {3}, {4}\n"
      "  return %dxs, %dh0, %dc0, %dwx, %dwh, %db\n}}\n",
      xs, bh, wx, wh, bias, lengths ? fmt::format(", %len: tensor<B x {}>", c.lengths) : "", hs,
      len, attr, saved ? ", %gates, %cs" : "", saved ? fmt::format(", {}, {}", gates, hs) : "");
}

/// inputFor's numbers times `scale` (small weights keep the gates off their flat ends).
Array scaledLstm(DType t, std::vector<int64_t> shape, int64_t seed, double scale) {
  Array a = inputFor(t, std::move(shape), seed);
  for (int64_t i = 0; i < a.numel(); ++i)
    a.setDouble(i, a.getDouble(i) * scale);
  return a;
}

std::vector<Array> lstmGradInputs(const LstmGradCase &c, std::vector<int64_t> lengths) {
  const DType t = std::string(c.dtype) == "f32" ? DType::F32 : DType::F64;
  const int64_t T = c.steps, B = c.batch, I = c.input, H = c.hidden;
  std::vector<Array> in = {scaledLstm(t, {T, B, I}, 1, 0.5),  scaledLstm(t, {B, H}, 2, 0.3),
                           scaledLstm(t, {B, H}, 3, 0.3),     scaledLstm(t, {I, 4 * H}, 4, 0.2),
                           scaledLstm(t, {H, 4 * H}, 5, 0.2), scaledLstm(t, {4 * H}, 6, 0.2)};
  if (*c.lengths) {
    Array len(std::string(c.lengths) == "i32" ? DType::I32 : DType::I64, {B});
    for (int64_t b = 0; b < B; ++b)
      len.setInt(b, lengths[static_cast<size_t>(b) % lengths.size()]);
    in.push_back(std::move(len));
  }
  in.push_back(scaledLstm(t, {T, B, H}, 7, 0.5));
  in.push_back(scaledLstm(t, {B, H}, 8, 0.5));
  in.push_back(scaledLstm(t, {B, H}, 9, 0.5));
  return in;
}

} // namespace

TEST_CASE("cuda on the host device: lstm_sequence_grad matches the interpreter") {
  for (const LstmGradCase &c : kLstmGradCases) {
    CAPTURE(c.input);
    CAPTURE(c.hidden);
    CAPTURE(c.batch);
    CAPTURE(c.steps);
    CAPTURE(c.lengths);
    CAPTURE(c.reverse);
    CAPTURE(c.dtype);
    // Lengths: full, none, partial.
    std::vector<Array> in = lstmGradInputs(c, {c.steps, 0, c.steps / 2 + 1});
    testing::checkAgainstInterpreter(lstmGradModule(c), "grad", in,
                                     std::string(c.dtype) == "f32" ? 1e-5 : 1e-12);
  }
}

TEST_CASE("cuda on the host device: lstm_sequence_grad {save_gates} after lstm_sequence "
          "{save_gates} matches the interpreter") {
  for (const LstmGradCase &c : kLstmGradCases) {
    CAPTURE(c.batch);
    CAPTURE(c.lengths);
    CAPTURE(c.reverse);
    CAPTURE(c.dtype);
    std::vector<Array> in = lstmGradInputs(c, {c.steps, 0, c.steps / 2 + 1});
    testing::checkAgainstInterpreter(lstmGradModule(c, /*saved=*/true), "grad", in,
                                     std::string(c.dtype) == "f32" ? 1e-5 : 1e-12);
  }
}

TEST_CASE("cuda on the host device: lstm_sequence_grad {save_gates} reads the gates and cell "
          "states it is given") {
  // The gradient alone, its gates and cs parameters that no forward made: a lowering that
  // recomputed them from xs and hs would not match.
  for (std::string attr : {"{save_gates = 1}", "{reverse = 1, save_gates = 1}"}) {
    CAPTURE(attr);
    const std::string text = fmt::format(R"(
func @grad(%xs: tensor<T x B x 3 x f64>, %h: tensor<B x 5 x f64>, %wx: tensor<3 x 20 x f64>, %wh: tensor<5 x 20 x f64>, %b: tensor<20 x f64>, %hs: tensor<T x B x 5 x f64>, %gates: tensor<T x B x 20 x f64>, %cs: tensor<T x B x 5 x f64>, %len: tensor<B x i32>) -> (tensor<T x B x 3 x f64>, tensor<B x 5 x f64>, tensor<B x 5 x f64>, tensor<3 x 20 x f64>, tensor<5 x 20 x f64>, tensor<20 x f64>) {{
  %dxs, %dh0, %dc0, %dwx, %dwh, %db = lstm_sequence_grad %xs, %h, %h, %wx, %wh, %b, %hs, %hs, %h, %h, %gates, %cs, %len {} : tensor<T x B x 3 x f64>, tensor<B x 5 x f64>, tensor<B x 5 x f64>, tensor<3 x 20 x f64>, tensor<5 x 20 x f64>, tensor<20 x f64>
  return %dxs, %dh0, %dc0, %dwx, %dwh, %db
}}
)",
                                         attr);
    const int64_t T = 4, B = 3;
    Array len(DType::I32, {B});
    for (int64_t b = 0; b < B; ++b)
      len.setInt(b, std::vector<int64_t>{4, 0, 2}[static_cast<size_t>(b)]);
    // Gates in (0, 1) as sigmoids are (tanh's g in (-1, 1) too).
    Array gates = scaledLstm(DType::F64, {T, B, 20}, 7, 1.0 / 21);
    for (int64_t i = 0; i < gates.numel(); ++i)
      gates.setDouble(i, 0.5 + gates.getDouble(i));
    std::vector<Array> in = {scaledLstm(DType::F64, {T, B, 3}, 1, 0.5),
                             scaledLstm(DType::F64, {B, 5}, 2, 0.3),
                             scaledLstm(DType::F64, {3, 20}, 3, 0.2),
                             scaledLstm(DType::F64, {5, 20}, 4, 0.2),
                             scaledLstm(DType::F64, {20}, 5, 0.2),
                             scaledLstm(DType::F64, {T, B, 5}, 6, 0.3),
                             gates,
                             scaledLstm(DType::F64, {T, B, 5}, 8, 0.4),
                             len};
    testing::checkAgainstInterpreter(text, "grad", in, 1e-12);
  }
}

TEST_CASE("cuda on the host device: lstm_sequence_grad refuses a length out of range") {
  // The gradient alone (hs a parameter), so that no forward refuses it first.
  auto m = ir::parseModule(R"(
func @grad(%xs: tensor<T x 2 x 1 x f64>, %h: tensor<2 x 1 x f64>, %w: tensor<1 x 4 x f64>, %b: tensor<4 x f64>, %hs: tensor<T x 2 x 1 x f64>, %len: tensor<2 x i64>) -> (tensor<T x 2 x 1 x f64>) {
  %dxs, %dh0, %dc0, %dwx, %dwh, %db = lstm_sequence_grad %xs, %h, %h, %w, %w, %b, %hs, %hs, %h, %h, %len : tensor<T x 2 x 1 x f64>, tensor<2 x 1 x f64>, tensor<2 x 1 x f64>, tensor<1 x 4 x f64>, tensor<1 x 4 x f64>, tensor<4 x f64>
  return %dxs
}
)");
  REQUIRE_OK(m);
  cuda::CudaBackend host(cuda::hostDevice());
  auto exe = host.compile(**m);
  REQUIRE_OK(exe);
  Array len(DType::I64, {2});
  len.setInt(0, 3);
  len.setInt(1, 4);
  std::vector<Array> in = {inputFor(DType::F64, {3, 2, 1}, 1), inputFor(DType::F64, {2, 1}, 2),
                           inputFor(DType::F64, {1, 4}, 3),    inputFor(DType::F64, {4}, 4),
                           inputFor(DType::F64, {3, 2, 1}, 5), len};
  auto got = (*exe)->run("grad", in);
  REQUIRE_FALSE(got);
  CHECK(got.diag().message.find("'lstm_sequence_grad'") != std::string::npos);
  CHECK(got.diag().message.find("length 4 of example 1 is outside [0, 3]") != std::string::npos);
}

TEST_CASE("cuda: the lstm_sequence_grad kernels are PTX that ptxas accepts") {
  auto ptxas = testing::findPtxas();
  if (!ptxas)
    MESSAGE("ptxas not found (no CUDA toolkit; set WEFT_PTXAS): PTX is generated but not "
            "validated");
  auto m = ir::parseModule(lstmGradModule(kLstmGradCases[1]));
  REQUIRE_OK(m);
  for (const char *sm : {"sm_80", "sm_90"}) {
    CAPTURE(sm);
    auto ptx = cuda::modulePtx(**m, sm);
    REQUIRE_OK(ptx);
    for (const char *kernel : {"_previous(", "_gates(", "_cell(", "_gate_grad(", "_db("})
      CHECK(ptx->find(kernel) != std::string::npos);
    if (ptxas)
      CHECK(testing::ptxasErrors(*ptxas, *ptx, sm) == "");
  }
}

TEST_CASE("cuda on the host device: lstm_sequence_grad's results returned are right when others "
          "are not computed") {
  // The gradient alone (hs, gates and cs parameters), returning only some of its results: the
  // lowering leaves out the matmuls, sum and transposes of those nothing reads (dxs of a layer
  // fed by data, a frozen layer's weight gradients), and the rest must not change.
  const std::vector<std::string> names = {"%dxs", "%dh0", "%dc0", "%dwx", "%dwh", "%db"},
                                 types = {"tensor<T x B x 3 x f64>", "tensor<B x 5 x f64>",
                                          "tensor<B x 5 x f64>",     "tensor<3 x 20 x f64>",
                                          "tensor<5 x 20 x f64>",    "tensor<20 x f64>"};
  const std::vector<std::vector<size_t>> subsets = {{3, 4, 5}, {0}, {1, 2}, {3}, {4}, {5}, {0, 5}};
  for (bool saved : {false, true})
    for (const std::vector<size_t> &returned : subsets) {
      CAPTURE(saved);
      std::vector<std::string> outNames, outTypes;
      for (size_t r : returned) {
        outNames.push_back(names[r]);
        outTypes.push_back(types[r]);
      }
      const std::string text = fmt::format(
          R"(
func @grad(%xs: tensor<T x B x 3 x f64>, %h: tensor<B x 5 x f64>, %wx: tensor<3 x 20 x f64>, %wh: tensor<5 x 20 x f64>, %b: tensor<20 x f64>, %hs: tensor<T x B x 5 x f64>, %gates: tensor<T x B x 20 x f64>, %cs: tensor<T x B x 5 x f64>, %len: tensor<B x i32>) -> ({0}) {{
  %dxs, %dh0, %dc0, %dwx, %dwh, %db = lstm_sequence_grad %xs, %h, %h, %wx, %wh, %b, %hs, %hs, %h, %h{1}, %len{2} : {3}
  return {4}
}}
)",
          fmt::join(outTypes, ", "), saved ? ", %gates, %cs" : "", saved ? " {save_gates = 1}" : "",
          fmt::join(types, ", "), fmt::join(outNames, ", "));
      INFO(text);
      const int64_t T = 4, B = 3;
      Array len(DType::I32, {B});
      for (int64_t b = 0; b < B; ++b)
        len.setInt(b, std::vector<int64_t>{4, 0, 2}[static_cast<size_t>(b)]);
      Array gates = scaledLstm(DType::F64, {T, B, 20}, 7, 1.0 / 21);
      for (int64_t i = 0; i < gates.numel(); ++i)
        gates.setDouble(i, 0.5 + gates.getDouble(i));
      std::vector<Array> in = {scaledLstm(DType::F64, {T, B, 3}, 1, 0.5),
                               scaledLstm(DType::F64, {B, 5}, 2, 0.3),
                               scaledLstm(DType::F64, {3, 20}, 3, 0.2),
                               scaledLstm(DType::F64, {5, 20}, 4, 0.2),
                               scaledLstm(DType::F64, {20}, 5, 0.2),
                               scaledLstm(DType::F64, {T, B, 5}, 6, 0.3),
                               gates,
                               scaledLstm(DType::F64, {T, B, 5}, 8, 0.4),
                               len};
      testing::checkAgainstInterpreter(text, "grad", in, 1e-12);
    }
}

} // namespace cuda_CudaLstmGradTest
