#include "backends/cuda/Kernels.h"
#include "backends/cuda/Ptx.h"
#include "ir/Parser.h"
#include "tests/unit/RequireOk.h"
#include "tests/unit/cuda/Ptxas.h"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>

using namespace weft;

namespace {

/// A function with one op `line` over operands %a (and %b, %c) of the given types.
std::unique_ptr<ir::Module> oneOp(const std::string &params, const std::string &line,
                                  const std::string &result) {
  std::string text =
      fmt::format("func @f({}) -> ({}) {{\n  {}\n  return %r\n}}\n", params, result, line);
  auto m = ir::parseModule(text, "op.wir");
  REQUIRE_OK(m);
  return std::move(*m);
}

struct Case {
  std::string name, params, line, result;
};

/// Every elementwise op the CUDA backend lowers, in each dtype it takes.
std::vector<Case> cases() {
  std::vector<Case> out;
  auto t = [](const char *d) { return fmt::format("tensor<N x {}>", d); };
  for (const char *d : {"f32", "f64"})
    for (const char *op : {"neg", "abs", "sign", "relu", "exp", "log", "tanh", "sigmoid", "sqrt",
                           "rsqrt", "floor", "ceil", "stop_gradient"})
      out.push_back({fmt::format("{} {}", op, d), "%a: " + t(d),
                     fmt::format("%r = {} %a : {}", op, t(d)), t(d)});
  for (const char *d : {"i32", "i64"})
    for (const char *op : {"neg", "abs", "sign", "relu"})
      out.push_back({fmt::format("{} {}", op, d), "%a: " + t(d),
                     fmt::format("%r = {} %a : {}", op, t(d)), t(d)});
  for (const char *d : {"f32", "f64", "i32", "i64"}) {
    for (const char *op : {"add", "sub", "mul", "max", "min"})
      out.push_back({fmt::format("{} {}", op, d), fmt::format("%a: {}, %b: {}", t(d), t(d)),
                     fmt::format("%r = {} %a, %b : {}", op, t(d)), t(d)});
    for (const char *op : {"eq", "ne", "lt", "le", "gt", "ge"})
      out.push_back({fmt::format("{} {}", op, d), fmt::format("%a: {}, %b: {}", t(d), t(d)),
                     fmt::format("%r = {} %a, %b : {}", op, t("i1")), t("i1")});
    for (const char *to : {"f32", "f64", "i32", "i64", "i1"})
      out.push_back({fmt::format("cast {} to {}", d, to), "%a: " + t(d),
                     fmt::format("%r = cast %a : {}", t(to)), t(to)});
  }
  for (const char *d : {"f32", "f64"})
    out.push_back({fmt::format("div {}", d), fmt::format("%a: {}, %b: {}", t(d), t(d)),
                   fmt::format("%r = div %a, %b : {}", t(d)), t(d)});
  for (const char *op : {"and", "or", "xor"})
    out.push_back({op, fmt::format("%a: {}, %b: {}", t("i1"), t("i1")),
                   fmt::format("%r = {} %a, %b : {}", op, t("i1")), t("i1")});
  out.push_back({"not", "%a: " + t("i1"), "%r = not %a : " + t("i1"), t("i1")});
  out.push_back({"select", fmt::format("%c: {}, %a: {}, %b: {}", t("i1"), t("f32"), t("f32")),
                 "%r = select %c, %a, %b : " + t("f32"), t("f32")});
  return out;
}

} // namespace

TEST_CASE("every elementwise kernel compiles to PTX that ptxas accepts for sm_80 and sm_90") {
  auto ptxas = testing::findPtxas();
  if (!ptxas)
    MESSAGE("ptxas not found (no CUDA toolkit; set WEFT_PTXAS): PTX is generated but not "
            "validated");
  // One module of all the kernels, so that ptxas runs once per GPU generation.
  llvm::LLVMContext ctx;
  auto km = cuda::newKernelModule(ctx, "elementwise");
  std::vector<std::unique_ptr<ir::Module>> keep;
  int k = 0;
  for (const Case &c : cases()) {
    CAPTURE(c.name);
    keep.push_back(oneOp(c.params, c.line, c.result));
    const ir::Op &op = *keep.back()->functions()[0]->body().ops().front();
    REQUIRE_OK(cuda::emitElementwiseKernel(*km, op, fmt::format("k{}", k++)));
  }
  for (const char *sm : {"sm_80", "sm_90"}) {
    CAPTURE(sm);
    auto ptx = cuda::compileToPtx(*km, sm);
    REQUIRE_OK(ptx);
    CHECK(ptx->find(fmt::format(".target {}", sm)) != std::string::npos);
    for (int i = 0; i < k; ++i)
      CHECK(ptx->find(fmt::format(".entry k{}(", i)) != std::string::npos);
    if (ptxas)
      CHECK(testing::ptxasErrors(*ptxas, *ptx, sm) == "");
  }
}

TEST_CASE("ops without a GPU lowering yet are refused by name, with their location") {
  const std::string t = "tensor<N x f32>", ti = "tensor<N x i32>";
  for (auto [params, line, result, word] :
       {std::tuple{"%a: " + t, "%r = sin %a : " + t, t, std::string("'sin'")},
        std::tuple{"%a: " + t + ", %b: " + t, "%r = pow %a, %b : " + t, t, std::string("'pow'")},
        std::tuple{"%a: " + ti + ", %b: " + ti, "%r = div %a, %b : " + ti, ti,
                   std::string("integer 'div'")}}) {
    auto m = oneOp(params, line, result);
    const ir::Op &op = *m->functions()[0]->body().ops().front();
    llvm::LLVMContext ctx;
    auto km = cuda::newKernelModule(ctx, "k");
    auto f = cuda::emitElementwiseKernel(*km, op, "k");
    REQUIRE_FALSE(f);
    CHECK(f.diag().message.find(word + " is not on the CUDA backend yet") != std::string::npos);
    CHECK(f.diag().str().rfind("op.wir:2:", 0) == 0);
    CHECK(km->getFunction("k") == nullptr); // nothing half-built is left behind
  }
}

TEST_CASE("PTX is made only for the GPU generations weft supports") {
  llvm::LLVMContext ctx;
  auto km = cuda::newKernelModule(ctx, "k");
  auto ptx = cuda::compileToPtx(*km, "sm_52");
  REQUIRE_FALSE(ptx);
  CHECK(ptx.diag().message == "weft compiles CUDA kernels for sm_80 and sm_90, not 'sm_52'");
}
