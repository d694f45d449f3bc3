#include "backends/Registry.h"
#include "ir/Parser.h"
#include "tests/unit/RequireOk.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace backends_BackendTest {

using namespace weft;

namespace {

const char *kModule = R"(
func @axpy(%a: tensor<N x f32>, %x: tensor<N x f32>, %y: tensor<N x f32>) -> (tensor<N x f32>) {
  %ax = mul %a, %x : tensor<N x f32>
  %r = add %ax, %y : tensor<N x f32>
  return %r
}
func @fill() -> (tensor<K x f32>) {
  %z = constant {value = [2.5]} : tensor<K x f32>
  return %z
}
)";

/// kModule compiled by `b`.
std::unique_ptr<backends::Executable> compileOn(const backends::Backend &b) {
  auto m = ir::parseModule(kModule);
  REQUIRE_OK(m);
  auto exe = b.compile(**m);
  REQUIRE_OK(exe);
  return std::move(*exe);
}

/// The error message of running `fn` on `inputs` with every backend; all must fail the same way.
std::string commonError(std::string_view fn, const std::vector<Array> &inputs) {
  std::vector<std::string> messages;
  for (const backends::Backend *b : backends::registeredBackends()) {
    auto r = compileOn(*b)->run(fn, inputs);
    CAPTURE(b->name());
    REQUIRE_FALSE(r);
    messages.push_back(r.diag().str());
  }
  for (const std::string &m : messages)
    CHECK(m == messages.front());
  return messages.front();
}

} // namespace

TEST_CASE("backend: every backend lists the module's functions with their signatures") {
  for (const backends::Backend *b : backends::registeredBackends()) {
    CAPTURE(b->name());
    auto exe = compileOn(*b);
    REQUIRE(exe->functions().size() == 2);
    CHECK(exe->functions()[0].name == "axpy");
    CHECK(exe->functions()[1].name == "fill");
    const ir::Signature *axpy = exe->signature("axpy");
    REQUIRE(axpy);
    CHECK(axpy->paramNames == std::vector<std::string>{"a", "x", "y"});
    CHECK(axpy->paramTypes[1].str() == "tensor<N x f32>");
    CHECK(exe->signature("nope") == nullptr);
  }
}

TEST_CASE("backend: every backend computes the same results") {
  Array a = Array::of<float>({4}, {3, 3, 3, 3});
  Array x = Array::of<float>({4}, {1, 2, -1, 0.5f});
  Array y = Array::of<float>({4}, {10, 20, 30, 40});
  for (const backends::Backend *b : backends::registeredBackends()) {
    CAPTURE(b->name());
    auto exe = compileOn(*b);
    auto r = exe->run("axpy", std::vector<Array>{a, x, y});
    REQUIRE_OK(r);
    REQUIRE(r->size() == 1);
    CHECK((*r)[0].shape() == std::vector<int64_t>{4});
    CHECK((*r)[0].data<float>()[0] == 13);
    CHECK((*r)[0].data<float>()[2] == 27);
    CHECK((*r)[0].data<float>()[3] == 41.5f);
    auto filled = exe->run("fill", std::vector<Array>{}, {.dims = {{"K", 3}}});
    REQUIRE_OK(filled);
    CHECK((*filled)[0].shape() == std::vector<int64_t>{3});
    CHECK((*filled)[0].data<float>()[2] == 2.5f);
  }
}

TEST_CASE("backend: an unknown function is the same error on every backend") {
  CHECK(commonError("nope", {}) == "no function @nope in the compiled module");
}

TEST_CASE("backend: a wrong number of inputs is the same error on every backend") {
  Array x = Array::of<float>({2}, {1, 2});
  CHECK(commonError("axpy", {x}) == "function @axpy expected 3 inputs, got 1");
}

TEST_CASE("backend: a mis-shaped or mis-typed input is the same error on every backend") {
  Array a = Array::of<float>({2}, {3, 3});
  Array x = Array::of<float>({2}, {1, 2});
  Array y3 = Array::of<float>({3}, {1, 2, 3});
  CHECK(commonError("axpy", {a, x, y3}) ==
        "input 2 (%y): axis 0 binds N = 3, but input 0 (%a) bound it to 2");
  Array matrix(DType::F32, {2, 2});
  CHECK(commonError("axpy", {matrix, x, x}).find("input 0 (%a) has shape [2, 2]") !=
        std::string::npos);
  Array xi = Array::of<int32_t>({2}, {1, 2});
  CHECK(commonError("axpy", {a, xi, x}) ==
        "input 1 (%x) has dtype i32 but the function expects f32");
}

TEST_CASE("backend: a module that does not verify is an error from every backend's compile") {
  auto m = ir::parseModule("func @f(%x: tensor<3 x f32>) -> (tensor<3 x f32>) {\n"
                           "  %y = neg %x : tensor<3 x f32>\n  return %y\n}\n");
  REQUIRE_OK(m);
  (*m)->functions()[0]->body().ops().pop_back(); // drop the return
  for (const backends::Backend *b : backends::registeredBackends()) {
    CAPTURE(b->name());
    auto exe = b->compile(**m);
    REQUIRE_FALSE(exe);
    CHECK_FALSE(exe.diag().str().empty());
  }
}

} // namespace backends_BackendTest
