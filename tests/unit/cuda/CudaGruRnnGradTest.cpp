// gru_sequence_grad (PyTorch's and Cho's forms) and rnn_sequence_grad (tanh and relu) on the
// CUDA backend's host device against the reference interpreter, after the gru/rnn_sequence whose
// hs they read: T B rows and gates past the matmul's 64-wide tiles, lengths (i32 and i64, zero
// and full) and reverse, T = 1, B = 1, f32 and f64; a length out of range is the interpreter's
// error; and the kernels through ptxas for sm_80 and sm_90. GRU's training form ({save_gates}:
// the forward saves its gates, the gradient reads them) likewise, and with gates no forward made.
#include "tests/unit/cuda/Parity.h"
#include "tests/unit/cuda/Ptxas.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

namespace cuda_CudaGruRnnGradTest {

using namespace weft;
using testing::inputFor;

namespace {

enum class Cell { GruPyTorch, GruCho, RnnTanh, RnnRelu };

struct Case {
  Cell cell;
  int64_t input, hidden, batch, steps;
  const char *lengths; // "" (none), "i32" or "i64"
  bool reverse;
  const char *dtype;
};

const Case kCases[] = {
    // T B = 70 rows and G = 69 gates: two tiles each.
    {Cell::GruPyTorch, 5, 23, 10, 7, "i32", false, "f32"},
    {Cell::GruCho, 5, 23, 10, 7, "i64", true, "f32"},
    {Cell::GruCho, 3, 4, 3, 6, "i32", false, "f64"},
    {Cell::GruPyTorch, 3, 4, 3, 6, "i64", true, "f64"},
    {Cell::GruCho, 4, 5, 1, 5, "", true, "f64"},        // B = 1, reverse, no lengths
    {Cell::GruCho, 2, 3, 3, 1, "i32", false, "f64"},    // T = 1, lengths 0 and 1
    {Cell::RnnTanh, 5, 66, 10, 7, "i32", false, "f64"}, // H = G = 66: two tiles
    {Cell::RnnTanh, 3, 5, 4, 6, "i32", true, "f32"},
    {Cell::RnnRelu, 3, 4, 3, 6, "i64", true, "f64"},
    {Cell::RnnRelu, 2, 3, 1, 1, "", false, "f32"}, // T = 1, B = 1
};

bool isGru(Cell c) { return c == Cell::GruPyTorch || c == Cell::GruCho; }

const char *cellName(Cell c) {
  switch (c) {
  case Cell::GruPyTorch:
    return "gru (PyTorch's)";
  case Cell::GruCho:
    return "gru (Cho's)";
  case Cell::RnnTanh:
    return "rnn (tanh)";
  case Cell::RnnRelu:
    return "rnn (relu)";
  }
  return "";
}

/// The forward's and the gradient's attributes; `saved`: the training form.
std::string attributes(const Case &c, bool saved = false) {
  std::vector<std::string> attrs;
  if (c.cell == Cell::GruPyTorch)
    attrs.push_back("linear_before_reset = 1");
  if (c.cell == Cell::RnnRelu)
    attrs.push_back("relu = 1");
  if (c.reverse)
    attrs.push_back("reverse = 1");
  if (saved)
    attrs.push_back("save_gates = 1");
  return attrs.empty() ? "" : fmt::format(" {{{}}}", fmt::join(attrs, ", "));
}

/// @name(xs, h0, wx, wh, bx [, bh] [, len], dhs, dhT): the forward, then the gradient of its
/// results with adjoints dhs, dhT (the batch B symbolic). `saved` (a GRU): both in the training
/// form, the gradient reading the forward's gates.
std::string gradModule(const Case &c, const std::string &name = "grad", bool saved = false) {
  std::string dt = c.dtype;
  const bool gru = isGru(c.cell);
  const int64_t h = c.hidden, i = c.input, g = (gru ? 3 : 1) * h;
  std::string bh = fmt::format("tensor<B x {} x {}>", h, dt);
  std::string hs = fmt::format("tensor<T x B x {} x {}>", h, dt);
  std::string xs = fmt::format("tensor<T x B x {} x {}>", i, dt);
  std::string wx = fmt::format("tensor<{} x {} x {}>", i, g, dt);
  std::string wh = fmt::format("tensor<{} x {} x {}>", h, g, dt);
  std::string bias = fmt::format("tensor<{} x {}>", g, dt);
  const bool lengths = *c.lengths != 0;
  std::string len = lengths ? ", %len" : "";
  std::string biases = gru ? "%bx, %bh" : "%bx";
  std::string biasParams = gru ? fmt::format("%bx: {0}, %bh: {0}", bias) : "%bx: " + bias;
  std::string biasTypes = gru ? bias + ", " + bias : bias;
  std::string dbs = gru ? "%dbx, %dbh" : "%dbx";
  const char *op = gru ? "gru" : "rnn";
  std::string gates =
      fmt::format("tensor<T x B x {} x {}>", (c.cell == Cell::GruPyTorch ? 4 : 3) * h, dt);
  return fmt::format(
      "func @{13}(%xs: {0}, %h0: {1}, %wx: {2}, %wh: {3}, {4}{5}, %dhs: {6}, %dhT: {1}) -> "
      "({0}, {1}, {2}, {3}, {7}) {{\n"
      "  %hs, %hT{14} = {8}_sequence %xs, %h0, %wx, %wh, {9}{10}{11} : {6}, {1}{15}\n"
      "  %dxs, %dh0, %dwx, %dwh, {12} = {8}_sequence_grad %xs, %h0, %wx, %wh, {9}, %hs, %dhs, "
      "%dhT{14}{10}{11} : {0}, {1}, {2}, {3}, {7}\n"
      "  return %dxs, %dh0, %dwx, %dwh, {12}\n}}\n",
      xs, bh, wx, wh, biasParams, lengths ? fmt::format(", %len: tensor<B x {}>", c.lengths) : "",
      hs, biasTypes, op, biases, len, attributes(c, saved), dbs, name, saved ? ", %gates" : "",
      saved ? ", " + gates : "");
}

/// inputFor's numbers times `scale` (small weights keep the gates off their flat ends).
Array scaled(DType t, std::vector<int64_t> shape, int64_t seed, double scale) {
  Array a = inputFor(t, std::move(shape), seed);
  for (int64_t i = 0; i < a.numel(); ++i)
    a.setDouble(i, a.getDouble(i) * scale);
  return a;
}

std::vector<Array> inputsFor(const Case &c, std::vector<int64_t> lengths) {
  const DType t = std::string(c.dtype) == "f32" ? DType::F32 : DType::F64;
  const int64_t T = c.steps, B = c.batch, I = c.input, H = c.hidden,
                G = (isGru(c.cell) ? 3 : 1) * H;
  std::vector<Array> in = {scaled(t, {T, B, I}, 1, 0.5), scaled(t, {B, H}, 2, 0.3),
                           scaled(t, {I, G}, 4, 0.2), scaled(t, {H, G}, 5, 0.2),
                           scaled(t, {G}, 6, 0.2)};
  if (isGru(c.cell))
    in.push_back(scaled(t, {G}, 3, 0.2));
  if (*c.lengths) {
    Array len(std::string(c.lengths) == "i32" ? DType::I32 : DType::I64, {B});
    for (int64_t b = 0; b < B; ++b)
      len.setInt(b, lengths[static_cast<size_t>(b) % lengths.size()]);
    in.push_back(std::move(len));
  }
  in.push_back(scaled(t, {T, B, H}, 7, 0.5));
  in.push_back(scaled(t, {B, H}, 8, 0.5));
  return in;
}

} // namespace

TEST_CASE("cuda on the host device: gru_sequence_grad and rnn_sequence_grad match the "
          "interpreter") {
  for (const Case &c : kCases) {
    CAPTURE(std::string(cellName(c.cell)));
    CAPTURE(c.input);
    CAPTURE(c.hidden);
    CAPTURE(c.batch);
    CAPTURE(c.steps);
    CAPTURE(std::string(c.lengths));
    CAPTURE(c.reverse);
    CAPTURE(std::string(c.dtype));
    // Lengths: full, none, partial.
    std::vector<Array> in = inputsFor(c, {c.steps, 0, c.steps / 2 + 1});
    testing::checkAgainstInterpreter(gradModule(c), "grad", in,
                                     std::string(c.dtype) == "f32" ? 1e-5 : 1e-12);
  }
}

TEST_CASE("cuda on the host device: gru_sequence_grad {save_gates} after gru_sequence "
          "{save_gates} matches the interpreter") {
  for (const Case &c : kCases) {
    if (!isGru(c.cell))
      continue;
    CAPTURE(std::string(cellName(c.cell)));
    CAPTURE(c.batch);
    CAPTURE(c.steps);
    CAPTURE(std::string(c.lengths));
    CAPTURE(c.reverse);
    CAPTURE(std::string(c.dtype));
    std::vector<Array> in = inputsFor(c, {c.steps, 0, c.steps / 2 + 1});
    testing::checkAgainstInterpreter(gradModule(c, "grad", /*saved=*/true), "grad", in,
                                     std::string(c.dtype) == "f32" ? 1e-5 : 1e-12);
  }
}

TEST_CASE("cuda on the host device: gru_sequence_grad {save_gates} reads the gates it is given") {
  // The gradient alone, its gates a parameter that no forward made: a lowering that recomputed
  // them from xs and hs would not match.
  for (bool pytorch : {true, false}) {
    CAPTURE(pytorch);
    const int64_t width = (pytorch ? 4 : 3) * 5;
    const std::string text = fmt::format(R"(
func @grad(%xs: tensor<T x B x 3 x f64>, %h: tensor<B x 5 x f64>, %wx: tensor<3 x 15 x f64>, %wh: tensor<5 x 15 x f64>, %b: tensor<15 x f64>, %hs: tensor<T x B x 5 x f64>, %gates: tensor<T x B x {0} x f64>, %len: tensor<B x i32>) -> (tensor<T x B x 3 x f64>, tensor<B x 5 x f64>, tensor<3 x 15 x f64>, tensor<5 x 15 x f64>, tensor<15 x f64>, tensor<15 x f64>) {{
  %dxs, %dh0, %dwx, %dwh, %dbx, %dbh = gru_sequence_grad %xs, %h, %wx, %wh, %b, %b, %hs, %hs, %h, %gates, %len {{{1}reverse = 1, save_gates = 1}} : tensor<T x B x 3 x f64>, tensor<B x 5 x f64>, tensor<3 x 15 x f64>, tensor<5 x 15 x f64>, tensor<15 x f64>, tensor<15 x f64>
  return %dxs, %dh0, %dwx, %dwh, %dbx, %dbh
}}
)",
                                         width, pytorch ? "linear_before_reset = 1, " : "");
    const int64_t T = 4, B = 3;
    Array len(DType::I32, {B});
    for (int64_t b = 0; b < B; ++b)
      len.setInt(b, std::vector<int64_t>{4, 0, 2}[static_cast<size_t>(b)]);
    // Gates in (0, 1) as sigmoids are (n and gh_n there too).
    Array gates = scaled(DType::F64, {T, B, width}, 7, 1.0 / 21);
    for (int64_t i = 0; i < gates.numel(); ++i)
      gates.setDouble(i, 0.5 + gates.getDouble(i));
    std::vector<Array> in = {scaled(DType::F64, {T, B, 3}, 1, 0.5),
                             scaled(DType::F64, {B, 5}, 2, 0.3),
                             scaled(DType::F64, {3, 15}, 3, 0.2),
                             scaled(DType::F64, {5, 15}, 4, 0.2),
                             scaled(DType::F64, {15}, 5, 0.2),
                             scaled(DType::F64, {T, B, 5}, 6, 0.3),
                             gates,
                             len};
    testing::checkAgainstInterpreter(text, "grad", in, 1e-12);
  }
}

TEST_CASE("cuda on the host device: rnn_sequence_grad takes f' from the hs it is given") {
  // The gradient alone, hs a parameter no forward made: a lowering that recomputed the
  // pre-activation from xs and hp (two matmuls over all rows) would not match. Without dxs
  // (a layer fed by data), whose matmul is then left out, the rest must not change.
  for (bool relu : {false, true})
    for (bool withDxs : {true, false}) {
      CAPTURE(relu);
      CAPTURE(withDxs);
      const std::string text =
          fmt::format(R"(
func @grad(%xs: tensor<T x B x 3 x f64>, %h: tensor<B x 5 x f64>, %wx: tensor<3 x 5 x f64>, %wh: tensor<5 x 5 x f64>, %b: tensor<5 x f64>, %hs: tensor<T x B x 5 x f64>, %len: tensor<B x i32>) -> ({1}tensor<B x 5 x f64>, tensor<3 x 5 x f64>, tensor<5 x 5 x f64>, tensor<5 x f64>) {{
  %dxs, %dh0, %dwx, %dwh, %db = rnn_sequence_grad %xs, %h, %wx, %wh, %b, %hs, %hs, %h, %len {{{0}reverse = 1}} : tensor<T x B x 3 x f64>, tensor<B x 5 x f64>, tensor<3 x 5 x f64>, tensor<5 x 5 x f64>, tensor<5 x f64>
  return {2}%dh0, %dwx, %dwh, %db
}}
)",
                      relu ? "relu = 1, " : "", withDxs ? "tensor<T x B x 3 x f64>, " : "",
                      withDxs ? "%dxs, " : "");
      const int64_t T = 4, B = 3;
      Array len(DType::I32, {B});
      for (int64_t b = 0; b < B; ++b)
        len.setInt(b, std::vector<int64_t>{4, 0, 2}[static_cast<size_t>(b)]);
      std::vector<Array> in = {scaled(DType::F64, {T, B, 3}, 1, 0.5),
                               scaled(DType::F64, {B, 5}, 2, 0.3),
                               scaled(DType::F64, {3, 5}, 3, 0.2),
                               scaled(DType::F64, {5, 5}, 4, 0.2),
                               scaled(DType::F64, {5}, 5, 0.2),
                               scaled(DType::F64, {T, B, 5}, 6, 0.9),
                               len};
      testing::checkAgainstInterpreter(text, "grad", in, 1e-12);
    }
}

TEST_CASE("cuda on the host device: gru_sequence_grad refuses a length out of range") {
  // The gradient alone (hs a parameter), so that no forward refuses it first.
  auto m = ir::parseModule(R"(
func @grad(%xs: tensor<T x 2 x 1 x f64>, %h: tensor<2 x 1 x f64>, %w: tensor<1 x 3 x f64>, %b: tensor<3 x f64>, %hs: tensor<T x 2 x 1 x f64>, %len: tensor<2 x i32>) -> (tensor<T x 2 x 1 x f64>) {
  %dxs, %dh0, %dwx, %dwh, %dbx, %dbh = gru_sequence_grad %xs, %h, %w, %w, %b, %b, %hs, %hs, %h, %len : tensor<T x 2 x 1 x f64>, tensor<2 x 1 x f64>, tensor<1 x 3 x f64>, tensor<1 x 3 x f64>, tensor<3 x f64>, tensor<3 x f64>
  return %dxs
}
)");
  REQUIRE_OK(m);
  cuda::CudaBackend host(cuda::hostDevice());
  auto exe = host.compile(**m);
  REQUIRE_OK(exe);
  Array len(DType::I32, {2});
  len.setInt(0, -1);
  len.setInt(1, 2);
  std::vector<Array> in = {inputFor(DType::F64, {3, 2, 1}, 1), inputFor(DType::F64, {2, 1}, 2),
                           inputFor(DType::F64, {1, 3}, 3),    inputFor(DType::F64, {3}, 4),
                           inputFor(DType::F64, {3, 2, 1}, 5), len};
  auto got = (*exe)->run("grad", in);
  REQUIRE_FALSE(got);
  CHECK(got.diag().message.find("'gru_sequence_grad'") != std::string::npos);
  CHECK(got.diag().message.find("length -1 of example 0 is outside [0, 3]") != std::string::npos);
}

TEST_CASE("cuda: the gru/rnn_sequence_grad kernels are PTX that ptxas accepts") {
  auto ptxas = testing::findPtxas();
  if (!ptxas)
    MESSAGE("ptxas not found (no CUDA toolkit; set WEFT_PTXAS): PTX is generated but not "
            "validated");
  // Each form once, in one module: PyTorch's GRU, Cho's, the relu RNN.
  auto m = ir::parseModule(gradModule(kCases[3], "pytorch") + gradModule(kCases[1], "cho") +
                           gradModule(kCases[8], "rnn") +
                           gradModule(kCases[3], "pytorch_saved", /*saved=*/true) +
                           gradModule(kCases[1], "cho_saved", /*saved=*/true));
  REQUIRE_OK(m);
  for (const char *sm : {"sm_80", "sm_90"}) {
    CAPTURE(sm);
    auto ptx = cuda::modulePtx(**m, sm);
    REQUIRE_OK(ptx);
    for (const char *kernel : {"_gru_sequence_grad_previous(", "_gru_sequence_grad_gates(",
                               "_gru_sequence_grad_gate_grad(", "_gru_sequence_grad_accumulate(",
                               "_gru_sequence_grad_new_gate(", "_gru_sequence_grad_reset_grad(",
                               "_gru_sequence_grad_copy(", "_gru_sequence_grad_db(",
                               "_rnn_sequence_grad_step_grad(", "_gru_sequence_grad_reset_hidden(",
                               "_rnn_sequence_grad_matmul(", "_rnn_sequence_grad_stack0("}) {
      CAPTURE(std::string(kernel));
      CHECK(ptx->find(kernel) != std::string::npos);
    }
    if (ptxas)
      CHECK(testing::ptxasErrors(*ptxas, *ptx, sm) == "");
  }
}

} // namespace cuda_CudaGruRnnGradTest
