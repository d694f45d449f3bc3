// A workspace kept across calls of weftc-compiled code (linear_step.h): the same results as
// calls that allocate a fresh arena, grown by a larger batch and kept by a smaller one, and
// usable again after a call that failed.
#include "linear_step.h"

#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <vector>

namespace {

struct DestroyWorkspace {
  void operator()(weft_aot_workspace *ws) const { weft_aot_workspace_destroy(ws); }
};
using Workspace = std::unique_ptr<weft_aot_workspace, DestroyWorkspace>;

/// One call of @linear_step on a batch of B rows; its nine results (loss, 2 parameters, 4 Adam
/// moments, 2 gradient maxima), flattened.
struct StepCall {
  explicit StepCall(int64_t B)
      : B(B), x(static_cast<size_t>(B) * 3), y(static_cast<size_t>(B) * 2) {
    for (size_t i = 0; i < x.size(); ++i)
      x[i] = std::sin(0.37f * static_cast<float>(i));
    for (size_t i = 0; i < y.size(); ++i)
      y[i] = std::cos(0.53f * static_cast<float>(i));
  }

  int run(weft_aot_workspace *ws, bool useWorkspace) {
    const int64_t s32[] = {3, 2}, s2[] = {2}, sx[] = {B, 3}, sy[] = {B, 2};
    weft_aot_input in[] = {{W, WEFT_AOT_F32, 2, s32},        {b, WEFT_AOT_F32, 1, s2},
                           {m, WEFT_AOT_F32, 2, s32},        {v, WEFT_AOT_F32, 2, s32},
                           {mb, WEFT_AOT_F32, 1, s2},        {vb, WEFT_AOT_F32, 1, s2},
                           {x.data(), WEFT_AOT_F32, 2, sx},  {y.data(), WEFT_AOT_F32, 2, sy},
                           {&step, WEFT_AOT_I64, 0, nullptr}};
    const size_t sizes[] = {1, 6, 2, 6, 6, 2, 2, 1, 1};
    out.assign(1 + 6 + 2 + 6 + 6 + 2 + 2 + 1 + 1, -1.0f);
    weft_aot_output o[9];
    size_t at = 0;
    for (int r = 0; r < 9; ++r) {
      o[r] = {out.data() + at, sizes[r] * sizeof(float), nullptr};
      at += sizes[r];
    }
    const int64_t dims[] = {B};
    return useWorkspace ? weft_aot_call_with_workspace(&weft_linear_step_fn, ws, dims, in, 9, o, 9,
                                                       err, sizeof err)
                        : weft_aot_call(&weft_linear_step_fn, dims, in, 9, o, 9, err, sizeof err);
  }

  int64_t B;
  float W[6] = {0.1f, -0.2f, 0.3f, 0.4f, -0.1f, 0.2f}, b[2] = {0.05f, -0.05f};
  float m[6] = {}, v[6] = {}, mb[2] = {}, vb[2] = {};
  std::vector<float> x, y, out;
  int64_t step = 2;
  char err[256] = {};
};

int64_t arenaFor(int64_t B) { return weft_aot_arena_bytes(&weft_linear_step_fn, &B); }

} // namespace

TEST_CASE("repeated calls with one workspace give the results of calls with fresh arenas") {
  Workspace ws(weft_aot_workspace_create());
  REQUIRE(ws);
  for (int64_t B : {8, 8, 64, 8, 64, 64}) {
    CAPTURE(B);
    StepCall fresh(B), reused(B);
    REQUIRE(fresh.run(nullptr, false) == WEFT_AOT_OK);
    REQUIRE(reused.run(ws.get(), true) == WEFT_AOT_OK);
    CHECK(std::memcmp(fresh.out.data(), reused.out.data(), fresh.out.size() * sizeof(float)) == 0);
  }
}

TEST_CASE("a larger batch grows a workspace and a smaller one keeps it") {
  Workspace ws(weft_aot_workspace_create());
  REQUIRE(ws);
  CHECK(weft_aot_workspace_bytes(ws.get()) == 0);
  REQUIRE(arenaFor(8) > 0);
  REQUIRE(arenaFor(64) > arenaFor(8));

  StepCall small(8), large(64);
  REQUIRE(small.run(ws.get(), true) == WEFT_AOT_OK);
  CHECK(weft_aot_workspace_bytes(ws.get()) == static_cast<size_t>(arenaFor(8)));
  REQUIRE(large.run(ws.get(), true) == WEFT_AOT_OK);
  CHECK(weft_aot_workspace_bytes(ws.get()) == static_cast<size_t>(arenaFor(64)));
  REQUIRE(small.run(ws.get(), true) == WEFT_AOT_OK);
  CHECK(weft_aot_workspace_bytes(ws.get()) == static_cast<size_t>(arenaFor(64)));
}

TEST_CASE("a workspace is usable again after a call that failed") {
  Workspace ws(weft_aot_workspace_create());
  REQUIRE(ws);
  StepCall bad(8);
  bad.B = -3; // refused before anything runs
  CHECK(bad.run(ws.get(), true) == WEFT_AOT_BAD_ARGUMENT);
  StepCall fresh(8), reused(8);
  REQUIRE(fresh.run(nullptr, false) == WEFT_AOT_OK);
  REQUIRE(reused.run(ws.get(), true) == WEFT_AOT_OK);
  CHECK(std::memcmp(fresh.out.data(), reused.out.data(), fresh.out.size() * sizeof(float)) == 0);
}
