//===- tests/unit/cpu/ErrorTest.cpp - faults and bad inputs are clear errors ===//
#include "Parity.h"

#include <fmt/format.h>

namespace cpu_ErrorTest {

using namespace weft;
using namespace weft::cputest;

namespace {

const char *kFaulty = R"(
func @gather(%table: tensor<V x 4 x f32>, %ids: tensor<B x i32>) -> (tensor<B x 4 x f32>) {
  %e = gather %table, %ids {axis = 0} : tensor<B x 4 x f32>
  return %e
}

func @scatter(%base: tensor<5 x 2 x f32>, %ids: tensor<3 x i64>, %u: tensor<3 x 2 x f32>) -> (tensor<5 x 2 x f32>) {
  %s = scatter_add %base, %ids, %u {axis = 0} : tensor<5 x 2 x f32>
  return %s
}

func @div(%a: tensor<N x i64>, %b: tensor<N x i64>) -> (tensor<N x i64>) {
  %q = div %a, %b : tensor<N x i64>
  return %q
}

func @lengths(%xs: tensor<T x B x f32>, %len: tensor<B x i32>, %c0: tensor<B x f32>) -> (tensor<B x f32>) {
  %c = scan carry(%c0) over(%xs) lengths(%len) {
  ^body(%c1: tensor<B x f32>, %x: tensor<B x f32>):
    %c2 = add %c1, %x : tensor<B x f32>
    yield %c2
  } : tensor<B x f32>
  return %c
}
)";

std::string runError(const Compiled &c, const char *fn, const std::vector<Array> &in) {
  auto r = c.cpu->run(fn, in);
  REQUIRE_FALSE(r);
  return r.diag().str();
}

} // namespace

TEST_CASE("cpu: a gather index out of range is an error naming the index, not a crash") {
  Compiled c = compileText(kFaulty);
  Array table(DType::F32, {3, 4});
  for (int32_t bad : {3, -1, 1000000}) {
    CAPTURE(bad);
    std::string msg = runError(c, "gather", {table, Array::of<int32_t>({3}, {0, bad, 2})});
    CHECK(msg.find(fmt::format("gather: index {} at flat position 1", bad)) != std::string::npos);
    CHECK(msg.find("out of range [0, 3)") != std::string::npos);
  }
  CHECK(c.cpu->run("gather", std::vector<Array>{table, Array::of<int32_t>({2}, {2, 0})}));
}

TEST_CASE("cpu: a scatter_add index out of range is an error") {
  Compiled c = compileText(kFaulty);
  std::string msg = runError(
      c, "scatter",
      {Array(DType::F32, {5, 2}), Array::of<int64_t>({3}, {0, 4, 5}), Array(DType::F32, {3, 2})});
  CHECK(msg.find("scatter_add: index 5 at flat position 2") != std::string::npos);
}

TEST_CASE("cpu: integer division by zero is an error") {
  Compiled c = compileText(kFaulty);
  std::string msg =
      runError(c, "div", {Array::of<int64_t>({3}, {1, 2, 3}), Array::of<int64_t>({3}, {1, 0, 3})});
  CHECK(msg.find("div: integer division by zero at element 1") != std::string::npos);
}

TEST_CASE("cpu: a scan length outside [0, T] is an error") {
  Compiled c = compileText(kFaulty);
  std::string msg = runError(
      c, "lengths",
      {Array(DType::F32, {4, 2}), Array::of<int32_t>({2}, {4, 5}), Array(DType::F32, {2})});
  CHECK(msg.find("scan: length 5 of example 1 is outside [0, 4]") != std::string::npos);
}

TEST_CASE("cpu: wrong inputs are errors naming the input and both shapes") {
  Compiled c = compileText(kFaulty);
  std::string msg = runError(
      c, "scatter",
      {Array(DType::F32, {5, 3}), Array::of<int64_t>({3}, {0, 1, 2}), Array(DType::F32, {3, 2})});
  CHECK(msg == "input 0 (%base) has shape [5, 3] but the function expects [5, 2]");
  msg = runError(c, "gather", {Array(DType::F32, {3, 4}), Array(DType::I64, {2})});
  CHECK(msg == "input 1 (%ids) has dtype i64 but the function expects i32");
  msg = runError(c, "div", {Array(DType::I64, {3}), Array(DType::I64, {4})});
  CHECK(msg == "input 1 (%b): axis 0 binds N = 4, but input 0 (%a) bound it to 3");
  msg = runError(c, "div", {Array(DType::I64, {3})});
  CHECK(msg == "function @div expected 2 inputs, got 1");
  auto r = c.cpu->run("nope", std::vector<Array>{});
  REQUIRE_FALSE(r);
  CHECK(r.diag().str() == "no function @nope in the compiled module");
}

TEST_CASE("cpu: a symbol used only inside a function must be bound by the caller") {
  Compiled c = compileText(R"(
func @f() -> (tensor<K x f32>) {
  %z = constant {value = [1.5]} : tensor<K x f32>
  return %z
})");
  auto r = c.cpu->run("f", std::vector<Array>{});
  REQUIRE_FALSE(r);
  CHECK(r.diag().str().find("'K' is not bound") != std::string::npos);
  auto ok = c.cpu->run("f", std::vector<Array>{}, {{"K", 7}});
  REQUIRE(ok);
  CHECK((*ok)[0].shape() == std::vector<int64_t>{7});
  CHECK((*ok)[0].data<float>()[6] == 1.5f);
}

TEST_CASE("cpu: a module that does not verify is an error from compile") {
  auto m = ir::parseModule("func @f(%x: tensor<3 x f32>) -> (tensor<3 x f32>) {\n"
                           "  %y = neg %x : tensor<3 x f32>\n  return %y\n}\n");
  REQUIRE(m);
  (*m)->functions()[0]->body().ops().pop_back(); // drop the return
  auto exe = cpu::compile(**m);
  REQUIRE_FALSE(exe);
  CHECK_FALSE(exe.diag().str().empty());
}

TEST_CASE("cpu: the JIT refuses a cpu or features with instructions this machine lacks") {
  // AVX-512 FP16 (Sapphire Rapids) is on no machine this runs on in CI; if it is here, the
  // refusal cannot be shown with it.
  if (__builtin_cpu_supports("avx512fp16"))
    return;
  auto m = ir::parseModule(R"(
func @f(%a: tensor<4 x f32>) -> (tensor<4 x f32>) {
  %b = tanh %a : tensor<4 x f32>
  return %b
})");
  REQUIRE(m);
  cpu::CompileOptions newer;
  newer.cpu = "sapphirerapids";
  auto exe = cpu::compile(**m, newer);
  REQUIRE_FALSE(exe);
  CHECK(exe.diag().str().find("cpu 'sapphirerapids' needs") != std::string::npos);
  CHECK(exe.diag().str().find("avx512fp16") != std::string::npos);
  cpu::CompileOptions extra;
  extra.features = "+avx512fp16";
  auto exe2 = cpu::compile(**m, extra);
  REQUIRE_FALSE(exe2);
  CHECK(exe2.diag().str().find("avx512fp16, which this machine lacks") != std::string::npos);
}

} // namespace cpu_ErrorTest
