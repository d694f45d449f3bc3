//===- tests/unit/cpu/ThreadsTest.cpp - one Executable, several threads ---===//
#include "Parity.h"

#include <chrono>
#include <thread>

using namespace weft;
using namespace weft::cputest;

namespace {

/// An LSTM layer over a time-major sequence: the scan the JIT exists for.
const char *kLstm = R"(
func @lstm(%xs: tensor<T x B x 16 x f32>, %W: tensor<16 x 128 x f32>, %U: tensor<32 x 128 x f32>, %bias: tensor<128 x f32>, %h0: tensor<B x 32 x f32>, %c0: tensor<B x 32 x f32>) -> (tensor<B x 32 x f32>, tensor<T x B x 32 x f32>) {
  %hT, %cT, %hs = scan carry(%h0, %c0) over(%xs) {
  ^body(%h: tensor<B x 32 x f32>, %c: tensor<B x 32 x f32>, %x: tensor<B x 16 x f32>):
    %xw = matmul %x, %W : tensor<B x 128 x f32>
    %hu = matmul %h, %U : tensor<B x 128 x f32>
    %z0 = add %xw, %hu : tensor<B x 128 x f32>
    %bb = broadcast %bias {dims = [1]} : tensor<B x 128 x f32>
    %z = add %z0, %bb : tensor<B x 128 x f32>
    %zi = slice %z {axis = 1, limit = 32, start = 0} : tensor<B x 32 x f32>
    %zf = slice %z {axis = 1, limit = 64, start = 32} : tensor<B x 32 x f32>
    %zg = slice %z {axis = 1, limit = 96, start = 64} : tensor<B x 32 x f32>
    %zo = slice %z {axis = 1, limit = 128, start = 96} : tensor<B x 32 x f32>
    %i = sigmoid %zi : tensor<B x 32 x f32>
    %f = sigmoid %zf : tensor<B x 32 x f32>
    %g = tanh %zg : tensor<B x 32 x f32>
    %o = sigmoid %zo : tensor<B x 32 x f32>
    %fc = mul %f, %c : tensor<B x 32 x f32>
    %ig = mul %i, %g : tensor<B x 32 x f32>
    %c2 = add %fc, %ig : tensor<B x 32 x f32>
    %tc = tanh %c2 : tensor<B x 32 x f32>
    %h2 = mul %o, %tc : tensor<B x 32 x f32>
    yield %h2, %c2, %h2
  } : tensor<B x 32 x f32>, tensor<B x 32 x f32>, tensor<T x B x 32 x f32>
  return %hT, %hs
}
)";

} // namespace

TEST_CASE("cpu: one Executable run from 4 threads at once gives identical results") {
  Compiled c = compileText(kLstm);
  ir::DimBindings dims{{"T", 100}, {"B", 8}};
  std::vector<Array> in = randomInputs(*c.module->function("lstm"), dims, {}, 4);
  auto first = c.exe->run("lstm", in);
  REQUIRE_MESSAGE(first, first.diag().str());
  std::vector<std::vector<Array>> outs(4);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < outs.size(); ++t)
    threads.emplace_back([&, t] {
      for (int rep = 0; rep < 5; ++rep) {
        auto r = c.exe->run("lstm", in);
        if (r)
          outs[t] = std::move(*r);
      }
    });
  for (std::thread &t : threads)
    t.join();
  for (size_t t = 0; t < outs.size(); ++t) {
    CAPTURE(t);
    REQUIRE(outs[t].size() == first->size());
    for (size_t r = 0; r < outs[t].size(); ++r)
      checkClose(outs[t][r], (*first)[r], Tol::Exact, 0);
  }
}

TEST_CASE("cpu: an LSTM over T=100 matches the interpreter; compile time is reported") {
  Compiled c = compileText(kLstm);
  MESSAGE("LSTM scan JIT compile time: " << c.exe->compileMillis() << " ms");
  CHECK(c.exe->compileMillis() > 0);
  // f32 matmuls accumulate in f32 (K = 16 and 32); gates are bounded, errors do not grow.
  checkParity(c, "lstm", {{"T", 100}, {"B", 8}}, Tol::Reduction, {}, 1e-4, 4);
  auto m = ir::parseModule(kLstm);
  REQUIRE(m);
  ir::DimBindings dims{{"T", 100}, {"B", 8}};
  std::vector<Array> in = randomInputs(*c.module->function("lstm"), dims, {}, 4);
  auto t0 = std::chrono::steady_clock::now();
  auto r1 = reference::run(*c.module->function("lstm"), in);
  auto t1 = std::chrono::steady_clock::now();
  auto r2 = c.exe->run("lstm", in);
  auto t2 = std::chrono::steady_clock::now();
  REQUIRE(r1);
  REQUIRE(r2);
  MESSAGE("LSTM T=100 B=8: interpreter "
          << std::chrono::duration<double, std::milli>(t1 - t0).count() << " ms, JIT "
          << std::chrono::duration<double, std::milli>(t2 - t1).count() << " ms");
}
