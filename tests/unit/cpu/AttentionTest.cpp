//===- tests/unit/cpu/AttentionTest.cpp - fuse-attention, on and off ------===//
//
// Attention written out in primitives, in each form fuse-attention matches (softmax with and
// without the max subtracted, a scale multiplied or divided, k transposed in the IR or given
// transposed, causal, a key-padding or a full additive mask), run with the fusion on and off,
// on the interpreter and the CPU backend, on seeded random inputs of several sizes including
// odd ones and T = 1: outputs and the gradients of a loss (autodiff after fuse-attention, as
// the train pipeline runs them). The fused graph's peak memory grows linearly in T.
//
//===----------------------------------------------------------------------===//
#include "Parity.h"
#include "analysis/MemoryReport.h"
#include "backends/cpu/Aot.h"
#include "backends/cpu/Scratch.h"
#include "ir/Walk.h"

#include <fmt/format.h>

namespace cpu_AttentionTest {

using namespace weft;
using namespace weft::cputest;

namespace {

enum class Mask { None, KeyPadding, Full };

struct Form {
  std::string lead; // batch dims before [T, ...]: "", "5" or "2 x 3"
  int64_t d = 5, dv = 3;
  bool causal = false;
  Mask mask = Mask::None;
  bool maxSubtracted = true, divideScale = false, explicitTranspose = true;
  std::string dt = "f64";
};

std::string str(const Form &f) {
  return fmt::format("lead [{}] d {} dv {} causal {} mask {} max {} div {} transpose {} {}", f.lead,
                     f.d, f.dv, f.causal, static_cast<int>(f.mask), f.maxSubtracted, f.divideScale,
                     f.explicitTranspose, f.dt);
}

/// @f(q, k or kt, v, mask?, r) -> sum(attention(...) * r) when `loss`, else the attention.
std::string attentionText(const Form &f, bool loss) {
  std::string L = f.lead.empty() ? "" : f.lead + " x ";
  int64_t r = 2 + (f.lead.empty()
                       ? 0
                       : 1 + static_cast<int64_t>(std::count(f.lead.begin(), f.lead.end(), 'x')));
  auto T = [&](const std::string &dims) { return fmt::format("tensor<{}{} x {}>", L, dims, f.dt); };
  std::string sc = T("T x S"), rows = T("T"), keep = T("T x 1");
  std::string all, allButLast;
  for (int64_t i = 0; i < r; ++i) {
    all += (i ? ", " : "") + std::to_string(i);
    if (i < r - 1)
      allButLast += (i ? ", " : "") + std::to_string(i);
  }
  std::string swapped;
  for (int64_t i = 0; i < r; ++i)
    swapped += (i ? ", " : "") + std::to_string(i == r - 2 ? r - 1 : i == r - 1 ? r - 2 : i);
  std::string params = fmt::format("%q: {}, ", T(fmt::format("T x {}", f.d)));
  params += f.explicitTranspose ? fmt::format("%k: {}, ", T(fmt::format("S x {}", f.d)))
                                : fmt::format("%kt: {}, ", T(fmt::format("{} x S", f.d)));
  params += fmt::format("%v: {}", T(fmt::format("S x {}", f.dv)));
  std::string first = f.lead.empty() ? "" : f.lead.substr(0, f.lead.find(' '));
  std::string padT = fmt::format("tensor<{}S x {}>", first.empty() ? "" : first + " x ", f.dt);
  if (f.mask == Mask::KeyPadding)
    params += ", %pad: " + padT;
  if (f.mask == Mask::Full)
    params += ", %mask: " + sc;
  std::string out = T(fmt::format("T x {}", f.dv));
  if (loss)
    params += ", %r: " + out;
  std::string b;
  if (f.explicitTranspose)
    b += fmt::format("  %kt = transpose %k {{perm = [{}]}} : {}\n", swapped,
                     T(fmt::format("{} x S", f.d)));
  b += fmt::format("  %s0 = matmul %q, %kt : {}\n", sc);
  double c =
      f.divideScale ? std::sqrt(static_cast<double>(f.d)) : 1 / std::sqrt(static_cast<double>(f.d));
  b += fmt::format("  %c = constant {{value = [{}]}} : tensor<{}>\n", c, f.dt);
  b += fmt::format("  %cb = broadcast %c {{dims = []}} : {}\n", sc);
  b += fmt::format("  %s1 = {} %s0, %cb : {}\n", f.divideScale ? "div" : "mul", sc);
  std::string s = "%s1";
  if (f.mask == Mask::KeyPadding) {
    b += fmt::format("  %pb = broadcast %pad {{dims = [{}{}]}} : {}\n", first.empty() ? "" : "0, ",
                     r - 1, sc);
    b += fmt::format("  %s2 = add %s1, %pb : {}\n", sc);
    s = "%s2";
  }
  if (f.mask == Mask::Full) {
    b += fmt::format("  %s2 = add %mask, %s1 : {}\n", sc);
    s = "%s2";
  }
  if (f.causal) {
    std::string it = fmt::format("tensor<{}T x S x i32>", L);
    b += fmt::format("  %qi = iota {{axis = {}}} : {}\n", r - 2, it);
    b += fmt::format("  %kj = iota {{axis = {}}} : {}\n", r - 1, it);
    b += fmt::format("  %seen = ge %qi, %kj : tensor<{}T x S x i1>\n", L);
    b += fmt::format("  %ninf = constant {{value = [-inf]}} : tensor<{}>\n", f.dt);
    b += fmt::format("  %nb = broadcast %ninf {{dims = []}} : {}\n", sc);
    b += fmt::format("  %s3 = select %seen, {}, %nb : {}\n", s, sc);
    s = "%s3";
  }
  if (f.maxSubtracted) {
    b += fmt::format("  %m = reduce_max {} {{axes = [{}]}} : {}\n", s, r - 1, rows);
    b += fmt::format("  %mk = reshape %m : {}\n", keep);
    b += fmt::format("  %mb = broadcast %mk {{dims = [{}]}} : {}\n", all, sc);
    b += fmt::format("  %sh = sub {}, %mb : {}\n", s, sc);
    s = "%sh";
  }
  b += fmt::format("  %e = exp {} : {}\n", s, sc);
  b += fmt::format("  %z = reduce_sum %e {{axes = [{}]}} : {}\n", r - 1, rows);
  b += fmt::format("  %zb = broadcast %z {{dims = [{}]}} : {}\n", allButLast, sc);
  b += fmt::format("  %p = div %e, %zb : {}\n", sc);
  b += fmt::format("  %o = matmul %p, %v : {}\n", out);
  if (!loss)
    return fmt::format("func @f({}) -> ({}) {{\n{}  return %o\n}}\n", params, out, b);
  b += fmt::format("  %or = mul %o, %r : {}\n", out);
  b += fmt::format("  %l = reduce_sum %or {{axes = [{}]}} : tensor<{}>\n", all, f.dt);
  return fmt::format("func @f({}) -> (tensor<{}>) {{\n{}  return %l\n}}\n", params, f.dt, b);
}

size_t countOps(const ir::Function &f, ir::OpKind k) {
  size_t n = 0;
  ir::walk(const_cast<ir::Block &>(f.body()), [&](ir::Op &op) { n += op.kind() == k; });
  return n;
}

/// |got - want| <= tol * (1 + max |want|), elementwise, NaN nowhere.
void checkNear(const Array &got, const Array &want, double tol) {
  REQUIRE(got.shape() == want.shape());
  double scale = 1;
  for (int64_t i = 0; i < want.numel(); ++i)
    scale = std::max(scale, std::fabs(want.getDouble(i)));
  for (int64_t i = 0; i < want.numel(); ++i) {
    CAPTURE(i);
    REQUIRE_FALSE(std::isnan(want.getDouble(i)));
    CHECK(std::fabs(got.getDouble(i) - want.getDouble(i)) <= tol * scale);
  }
}

std::unique_ptr<ir::Module> build(const std::string &text, const std::string &pipeline) {
  auto m = ir::parseModule(text);
  REQUIRE_OK(m);
  if (!pipeline.empty())
    runPipeline(**m, pipeline);
  return std::move(*m);
}

/// Runs `fn` of the fused module on the interpreter and the CPU backend and of the unfused one
/// on the interpreter (the unfused graph's ops have their own parity tests) with the same
/// inputs, at each of `sizes` (T, S); every run must match the unfused interpreter's.
void checkForms(const std::string &text, const std::string &fused, const std::string &unfused,
                const std::string &fn, const Form &f,
                const std::vector<std::pair<int64_t, int64_t>> &sizes, double tol) {
  std::unique_ptr<ir::Module> on = build(text, fused), off = build(text, unfused);
  REQUIRE(on->function(fn));
  CHECK(countOps(*on->function("f"), ir::OpKind::Attention) == 1);
  CHECK(countOps(*off->function("f"), ir::OpKind::Attention) == 0);
  Compiled cOn = compileModule(std::move(on));
  for (auto [T, S] : sizes) {
    CAPTURE(T);
    CAPTURE(S);
    ir::DimBindings dims = {{"T", T}, {"S", S}};
    std::vector<Array> in = randomInputs(*off->function(fn), dims, {}, 7);
    if (f.mask == Mask::KeyPadding && S > 1)
      in[3].setDouble(S - 1, -std::numeric_limits<double>::infinity()); // a padded key
    auto want = reference::run(*off->function(fn), in, dims);
    REQUIRE_OK(want);
    auto gotRef = reference::run(*cOn.module->function(fn), in, dims);
    REQUIRE_OK(gotRef);
    for (size_t r = 0; r < want->size(); ++r)
      checkNear((*gotRef)[r], (*want)[r], tol);
    for (const Target &t : cOn.targets) {
      CAPTURE(t.backend);
      auto got = t.exe->run(fn, in, {.dims = dims});
      REQUIRE_OK(got);
      for (size_t r = 0; r < want->size(); ++r)
        checkNear((*got)[r], (*want)[r], tol);
    }
  }
}

std::vector<Form> forms() {
  std::vector<Form> fs;
  Form base;
  fs.push_back(base);
  Form multiHead = base;
  multiHead.lead = "2 x 3";
  multiHead.d = 8;
  multiHead.dv = 8;
  fs.push_back(multiHead);
  Form causal = multiHead;
  causal.causal = true;
  fs.push_back(causal);
  Form padded = multiHead;
  padded.mask = Mask::KeyPadding;
  padded.causal = true;
  fs.push_back(padded);
  Form byHand = base; // exp / sum / div without the max, a division, k given transposed
  byHand.lead = "5";
  byHand.maxSubtracted = false;
  byHand.divideScale = true;
  byHand.explicitTranspose = false;
  byHand.mask = Mask::Full;
  fs.push_back(byHand);
  Form padRank2 = base;
  padRank2.mask = Mask::KeyPadding;
  fs.push_back(padRank2);
  return fs;
}

const std::vector<std::pair<int64_t, int64_t>> kSizes = {{1, 1}, {1, 6}, {7, 7}, {5, 3}, {33, 17}};

} // namespace

TEST_CASE("fuse-attention: outputs match with the fusion on and off, interpreter and CPU") {
  for (Form f : forms())
    for (const char *dt : {"f64", "f32"}) {
      if (std::string(dt) == "f32" && !f.causal && f.mask != Mask::Full)
        continue; // f32: the causal, padded and by-hand forms only
      f.dt = dt;
      std::string text = attentionText(f, false);
      CAPTURE(str(f));
      CAPTURE(text);
      checkForms(text, "fuse-attention", "", "f", f, kSizes, f.dt == "f64" ? 1e-12 : 2e-5);
    }
}

TEST_CASE("fuse-attention: gradients match with the fusion on and off, interpreter and CPU") {
  for (Form f : forms()) {
    std::string text = attentionText(f, true);
    CAPTURE(str(f));
    CAPTURE(text);
    checkForms(text, "fuse-attention,autodiff", "autodiff", "f_grad", f,
               {{1, 1}, {1, 6}, {5, 3}, {7, 7}, {12, 9}}, 1e-11);
  }
}

// The CPU kernels work on tiles of 32 query rows and 4 vectors of keys (64 f32 or 32 f64 keys
// with AVX-512, half that with AVX2): sizes on both sides of the tiles' edges, Tq above and
// below Tk, causal ones among them.
TEST_CASE("fuse-attention: outputs and gradients match at the CPU kernel's tile edges") {
  const std::vector<std::pair<int64_t, int64_t>> sizes = {{33, 65}, {65, 31}, {31, 97}};
  std::vector<Form> fs = forms();
  for (Form f : {fs[1], fs[3]}) { // multi-head; causal with a key-padding mask
    for (const char *dt : {"f64", "f32"}) {
      f.dt = dt;
      CAPTURE(str(f));
      checkForms(attentionText(f, false), "fuse-attention", "", "f", f, sizes,
                 f.dt == "f64" ? 1e-12 : 2e-5);
    }
  }
  for (Form f : {fs[1], fs[3]}) // the gradient kernel's tiles: dq, dk and dv together
    for (const char *dt : {"f64", "f32"}) {
      f.dt = dt;
      CAPTURE(str(f));
      checkForms(attentionText(f, true), "fuse-attention,autodiff", "autodiff", "f_grad", f, sizes,
                 f.dt == "f64" ? 1e-11 : 2e-5);
    }
}

TEST_CASE("fuse-attention: autodiff makes one attention_grad for dq, dk and dv") {
  for (Form f : forms()) {
    CAPTURE(str(f));
    std::unique_ptr<ir::Module> m = build(attentionText(f, true), "fuse-attention,autodiff");
    CHECK(countOps(*m->function("f_grad"), ir::OpKind::AttentionGrad) == 1);
  }
}

TEST_CASE("fuse-attention: the fused forward and training graphs' peak memory grows as T") {
  Form f;
  f.lead = "2 x 2";
  f.d = 16;
  f.dv = 16;
  f.causal = true;
  f.dt = "f32";
  auto vectorBytes = cpu::targetVectorBytes("native", "");
  REQUIRE_OK(vectorBytes);
  auto peak = [&](const std::string &text, const std::string &pipeline, const char *fn, int64_t T) {
    std::unique_ptr<ir::Module> m = build(text, pipeline);
    const ir::Function *g = m->function(fn);
    REQUIRE(g);
    auto r = analysis::reportMemory(analysis::BufferPlan(*g, cpu::scratchModel(*vectorBytes)),
                                    {{"T", T}, {"S", T}});
    REQUIRE_OK(r);
    return static_cast<double>(r->peakBytes);
  };
  for (bool loss : {false, true}) {
    CAPTURE(loss);
    std::string text = attentionText(f, loss);
    const char *fn = loss ? "f_grad" : "f";
    std::string on = loss ? "fuse-attention,autodiff,canonicalize" : "optimize";
    std::string off = loss ? "autodiff,canonicalize" : "canonicalize";
    // Doubling T doubles the fused graph's memory and quadruples the unfused one's scores.
    CHECK(peak(text, on, fn, 1024) <= 2.05 * peak(text, on, fn, 512));
    CHECK(peak(text, off, fn, 1024) >= 3.5 * peak(text, off, fn, 512));
  }
}

// The kernels skip the test of which keys a query sees on a whole key block of an attention
// without causal, a mask included: masked forms (a full mask, a key-padding one) over sizes
// with whole blocks (64 f32 keys with AVX-512, 32 with AVX2), T = 1 among them; f32 only, as
// each form compiles for every target.
TEST_CASE("fuse-attention: masked attention without causal over whole key blocks") {
  const std::vector<std::pair<int64_t, int64_t>> sizes = {{1, 64}, {5, 65}};
  std::vector<Form> fs = forms();
  for (Form f : {fs[4], fs[5]}) { // by hand with a full mask; rank 2 with a key-padding mask
    f.dt = "f32";
    CAPTURE(str(f));
    checkForms(attentionText(f, false), "fuse-attention", "", "f", f, sizes, 2e-5);
  }
  Form f = fs[5];
  f.dt = "f32";
  checkForms(attentionText(f, true), "fuse-attention,autodiff", "autodiff", "f_grad", f, sizes,
             2e-5);
}

// A NaN in a query makes that query's output row NaN and no other, as the unfused graph does
// (the kernel's row max lets either operand through where one is NaN).
TEST_CASE("fuse-attention: a NaN query poisons its own output row only") {
  Form f = forms()[1]; // multi-head, no mask
  f.dt = "f32";
  std::string text = attentionText(f, false);
  Compiled c = compileModule(build(text, "fuse-attention"));
  std::unique_ptr<ir::Module> off = build(text, "");
  ir::DimBindings dims = {{"T", 33}, {"S", 65}};
  std::vector<Array> in = randomInputs(*off->function("f"), dims, {}, 7);
  in[0].setDouble(5 * f.d + 2, std::numeric_limits<double>::quiet_NaN()); // q row 5
  auto want = reference::run(*off->function("f"), in, dims);
  REQUIRE_OK(want);
  for (const Target &t : c.targets) {
    CAPTURE(t.backend);
    auto got = t.exe->run("f", in, {.dims = dims});
    REQUIRE_OK(got);
    const Array &o = (*got)[0], &w = (*want)[0];
    REQUIRE(o.shape() == w.shape());
    int64_t nan = 0;
    for (int64_t i = 0; i < o.numel(); ++i) {
      CAPTURE(i);
      CHECK(std::isnan(o.getDouble(i)) == std::isnan(w.getDouble(i)));
      nan += std::isnan(o.getDouble(i));
    }
    CHECK(nan == f.dv); // row 5 of the first head
  }
}

} // namespace cpu_AttentionTest
