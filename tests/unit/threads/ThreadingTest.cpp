//===- tests/unit/threads/ThreadingTest.cpp - results do not depend on the thread count -===//
//
// The packed GEMM runs its output tiles through weft_parallel_for (runtime/Parallel.h). These
// cases check that the chunks it makes depend only on n and grain, and that matmuls (plain,
// batched, f64) and an LSTM scan give bit-identical results with 1 and 2 threads, also when
// several caller threads run them at once, and still match the interpreter.
//
//===----------------------------------------------------------------------===//
#include "tests/unit/cpu/Parity.h"
#include "tests/unit/threads/RepeatedRuns.h"
#include "tests/unit/threads/ThreadsUtil.h"

#include <algorithm>
#include <array>
#include <mutex>

namespace weft::cputest::threads_ThreadingTest {
namespace {

using threadstest::ThreadCount;

struct Chunks {
  std::mutex mutex;
  std::vector<std::pair<int64_t, int64_t>> seen;
};

void recordChunk(void *ctx, int64_t begin, int64_t end) {
  auto *c = static_cast<Chunks *>(ctx);
  std::lock_guard<std::mutex> lock(c->mutex);
  c->seen.emplace_back(begin, end);
}

std::vector<std::pair<int64_t, int64_t>> chunksOf(int threads, int64_t n, int64_t grain) {
  ThreadCount tc(threads);
  Chunks c;
  weft_parallel_for(recordChunk, &c, n, grain);
  std::sort(c.seen.begin(), c.seen.end());
  return c.seen;
}

/// Runs `fn` of `exe` on `in` with `threads` threads.
std::vector<Array> runWith(const backends::Executable &exe, const char *fn,
                           const std::vector<Array> &in, const ir::DimBindings &dims, int threads) {
  ThreadCount tc(threads);
  REQUIRE(numThreads() == threads);
  auto r = exe.run(fn, in, {.dims = dims});
  REQUIRE_OK(r);
  return std::move(*r);
}

/// `fn` gives bit-identical results with 1 and 2 threads on every backend, within `tol` of the
/// interpreter.
void checkThreadInvariant(const Compiled &c, const char *fn, const ir::DimBindings &dims,
                          const Tolerance &tol) {
  std::vector<Array> in = randomInputs(*c.module->function(fn), dims, {}, 7);
  auto want = reference::run(*c.module->function(fn), in, dims);
  REQUIRE_OK(want);
  for (const Target &t : c.targets) {
    CAPTURE(t.backend);
    std::vector<Array> one = runWith(*t.exe, fn, in, dims, 1);
    std::vector<Array> two = runWith(*t.exe, fn, in, dims, 2);
    REQUIRE(one.size() == want->size());
    REQUIRE(two.size() == want->size());
    for (size_t r = 0; r < one.size(); ++r) {
      CAPTURE(r);
      checkClose(two[r], one[r], Tolerance::exact());
      checkClose(one[r], (*want)[r], tol);
    }
  }
}

} // namespace

TEST_CASE("parallel: chunks cover [0, n) once and do not depend on the thread count") {
  for (auto [n, grain] : std::vector<std::pair<int64_t, int64_t>>{
           {1, 1}, {7, 1}, {100, 3}, {1000, 64}, {5, 10}, {0, 1}}) {
    CAPTURE(n);
    CAPTURE(grain);
    auto one = chunksOf(1, n, grain), two = chunksOf(2, n, grain), four = chunksOf(4, n, grain);
    CHECK(one == two);
    CHECK(one == four);
    int64_t next = 0;
    for (auto [b, e] : one) {
      CHECK(b == next);
      CHECK(e > b);
      CHECK(e - b <= grain);
      next = e;
    }
    CHECK(next == n);
  }
}

TEST_CASE("parallel: setNumThreads sets the count and 0 restores the default") {
  int def = numThreads();
  CHECK(def >= 1);
  setNumThreads(3);
  CHECK(numThreads() == 3);
  setNumThreads(0);
  CHECK(numThreads() == def);
}

TEST_CASE("cpu: f32 matmul 257x513x129 is bit-identical with 1 and 2 threads") {
  Compiled c = compileText(R"(
func @f(%a: tensor<257 x 129 x f32>, %b: tensor<129 x 513 x f32>) -> (tensor<257 x 513 x f32>) {
  %c = matmul %a, %b : tensor<257 x 513 x f32>
  return %c
})");
  checkThreadInvariant(c, "f", {}, matmulTolerance(129));
}

TEST_CASE("cpu: batched symbolic f32 and f64 matmuls are bit-identical with 1 and 2 threads") {
  Compiled c = compileText(R"(
func @f(%a: tensor<B x M x K x f32>, %b: tensor<B x K x N x f32>, %x: tensor<B x M x K x f64>, %y: tensor<B x K x N x f64>) -> (tensor<B x M x N x f32>, tensor<B x M x N x f64>) {
  %c = matmul %a, %b : tensor<B x M x N x f32>
  %z = matmul %x, %y : tensor<B x M x N x f64>
  return %c, %z
})");
  // The GEMM cuts a block into tasks by the pool's size (weft_num_threads): 150 x 300 is two
  // tasks (M blocks) on 1 thread and four (two column groups each) on 2; results must not move.
  for (auto [B, M, N, K] : std::vector<std::array<int64_t, 4>>{
           {3, 150, 300, 70}, {2, 33, 1100, 300}, {1, 400, 17, 9}}) {
    CAPTURE(B);
    CAPTURE(M);
    CAPTURE(N);
    CAPTURE(K);
    checkThreadInvariant(c, "f", {{"B", B}, {"M", M}, {"N", N}, {"K", K}}, matmulTolerance(K));
  }
}

TEST_CASE("cpu: an LSTM scan is bit-identical with 1 and 2 threads") {
  Compiled c = compileText(kLstm);
  // B = 256 gives several M blocks per step, so the step's matmuls do run in parallel.
  checkThreadInvariant(c, "lstm", {{"T", 20}, {"B", 256}}, kLstmTolerance);
}

TEST_CASE("cpu: with 2 threads, 4 caller threads running one Executable get identical results") {
  Compiled c = compileText(kLstm);
  ir::DimBindings dims{{"T", 10}, {"B", 256}};
  std::vector<Array> in = randomInputs(*c.module->function("lstm"), dims, {}, 5);
  for (const Target &t : c.targets) {
    CAPTURE(t.backend);
    std::vector<Array> first = runWith(*t.exe, "lstm", in, dims, 1);
    ThreadCount tc(2);
    // Every repetition's results (or error) are kept and compared, not only the last one.
    const int reps = 3;
    int64_t compared = threadstest::compareRepeatedRuns(
        4, reps, [&] { return t.exe->run("lstm", in, {.dims = dims}); }, first);
    CHECK(compared == int64_t{4} * reps * 2);
  }
}

} // namespace weft::cputest::threads_ThreadingTest
