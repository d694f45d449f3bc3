// Workspaces (runtime/Aot.h) on a hand-written entry point: a workspace allocates its arena
// once for many calls, from the allocator installed when it grows and back to it; a call on a
// workspace that another call is using is refused; and weft_aot_bind_symbols /
// weft_aot_slot_shape size a call's outputs before it runs.
#include "runtime/Aot.h"

#include <doctest/doctest.h>

#include <cstdlib>
#include <string>

namespace aot_AotWorkspaceTest {

namespace {

weft_aot_workspace *reentrantWorkspace = nullptr;
int reentrantCode = -1;
std::string reentrantErr;

int callTwice(weft_aot_workspace *ws, float *x, float *out);

// @twice(%x: tensor<N x f32>) -> tensor<N x f32>, by hand: slot 0 the parameter, 1 the result,
// 2 a scratch of 2*N f32. When reentrantWorkspace is set, it calls itself on that workspace
// once, from inside the call, and records what that inner call returned.
void twiceEntry(void *const *bufs, const int64_t *dims, int64_t *) {
  const float *x = static_cast<const float *>(bufs[0]);
  float *out = static_cast<float *>(bufs[1]), *scratch = static_cast<float *>(bufs[2]);
  for (int64_t i = 0; i < dims[0]; ++i)
    scratch[i] = scratch[dims[0] + i] = x[i];
  for (int64_t i = 0; i < dims[0]; ++i)
    out[i] = scratch[i] + scratch[dims[0] + i];
  if (weft_aot_workspace *ws = reentrantWorkspace) {
    reentrantWorkspace = nullptr;
    float x2[1] = {1}, out2[1];
    reentrantCode = callTwice(ws, x2, out2);
  }
}

const weft_aot_slot kSlots[] = {
    {WEFT_AOT_F32, 1, 0, 0, 1}, {WEFT_AOT_F32, 1, 0, 0, 1}, {WEFT_AOT_F32, 1, 1, 0, 0}};
const weft_aot_dim kDims[] = {{1, 0, 1}, {2, 0, 1}};
const int32_t kDimSyms[] = {0};
const char *const kSymbols[] = {"N"};
const int32_t kParams[] = {0};
const char *const kParamNames[] = {"x"};
const int32_t kResults[] = {1};
const char *const kResultNames[] = {"y"};
const weft_aot_function kTwice = {
    "twice",     twiceEntry, 1,        kSymbols,     3, kSlots,  kDims, kDimSyms, 1,       kParams,
    kParamNames, 1,          kResults, kResultNames, 0, nullptr, 0,     nullptr,  nullptr, nullptr};

/// Calls @twice on x[0 .. n) (n = 1 from the entry, else 4).
int callN(weft_aot_workspace *ws, float *x, float *out, int64_t n) {
  int64_t shape[1] = {n};
  weft_aot_input in = {x, WEFT_AOT_F32, 1, shape};
  weft_aot_output o = {out, static_cast<size_t>(n) * sizeof(float), nullptr};
  char err[256];
  int code = weft_aot_call_with_workspace(&kTwice, ws, nullptr, &in, 1, &o, 1, err, sizeof err);
  if (code != WEFT_AOT_OK)
    reentrantErr = err;
  return code;
}

int callTwice(weft_aot_workspace *ws, float *x, float *out) { return callN(ws, x, out, 1); }

/// An allocator that counts what it hands out and takes back.
struct Counts {
  int allocs = 0, releases = 0;
};
void *countingAlloc(size_t bytes, void *ctx) {
  ++static_cast<Counts *>(ctx)->allocs;
  return std::aligned_alloc(64, (bytes + 63) / 64 * 64);
}
void countingRelease(void *p, void *ctx) {
  ++static_cast<Counts *>(ctx)->releases;
  std::free(p);
}

} // namespace

TEST_CASE("a workspace allocates its arena once for many calls and frees it with its allocator") {
  Counts counts;
  REQUIRE(weft_aot_set_allocator(countingAlloc, countingRelease, &counts) == WEFT_AOT_OK);
  float x[4] = {1, 2, 3, 4}, out[4] = {};
  weft_aot_workspace *ws = weft_aot_workspace_create();
  REQUIRE(ws);
  for (int i = 0; i < 3; ++i)
    REQUIRE(callN(ws, x, out, 4) == WEFT_AOT_OK);
  CHECK(out[3] == 8);
  CHECK(counts.allocs == 1);
  CHECK(counts.releases == 0);
  int64_t four = 4;
  CHECK(weft_aot_workspace_bytes(ws) == static_cast<size_t>(weft_aot_arena_bytes(&kTwice, &four)));
  for (int i = 0; i < 3; ++i) // without a workspace: an arena per call
    REQUIRE(callN(nullptr, x, out, 4) == WEFT_AOT_OK);
  CHECK(counts.allocs == 4);
  CHECK(counts.releases == 3);
  // The default comes back; the workspace still returns its arena to the counting allocator.
  REQUIRE(weft_aot_set_allocator(nullptr, nullptr, nullptr) == WEFT_AOT_OK);
  weft_aot_workspace_destroy(ws);
  CHECK(counts.releases == 4);
}

TEST_CASE("a call on a workspace that another call is using is refused") {
  weft_aot_workspace *ws = weft_aot_workspace_create();
  REQUIRE(ws);
  float x[4] = {1, 2, 3, 4}, out[4] = {};
  reentrantWorkspace = ws;
  reentrantCode = -1;
  REQUIRE(callN(ws, x, out, 4) == WEFT_AOT_OK);
  CHECK(reentrantCode == WEFT_AOT_BAD_ARGUMENT);
  CHECK(reentrantErr == "@twice: the workspace is in use by another call");
  // Once the outer call is done, the workspace is free again.
  CHECK(callN(ws, x, out, 4) == WEFT_AOT_OK);
  weft_aot_workspace_destroy(ws);
}

TEST_CASE("no workspace is a call with a fresh arena, and a null one has no bytes") {
  float x[4] = {1, 2, 3, 4}, out[4] = {};
  CHECK(callN(nullptr, x, out, 4) == WEFT_AOT_OK);
  CHECK(out[0] == 2);
  CHECK(weft_aot_workspace_bytes(nullptr) == 0);
  weft_aot_workspace_destroy(nullptr);
}

TEST_CASE("weft_aot_bind_symbols and weft_aot_slot_shape size a call before it runs") {
  float x[5] = {};
  int64_t shape[1] = {5}, bound[1] = {-1};
  weft_aot_input in = {x, WEFT_AOT_F32, 1, shape};
  char err[256];
  REQUIRE(weft_aot_bind_symbols(&kTwice, nullptr, &in, 1, bound, err, sizeof err) == WEFT_AOT_OK);
  CHECK(bound[0] == 5);
  int64_t sizes[1] = {};
  REQUIRE(weft_aot_slot_shape(&kTwice, 2, bound, sizes) == 0);
  CHECK(sizes[0] == 10);
  CHECK(weft_aot_slot_shape(&kTwice, 3, bound, sizes) == -1);

  int64_t given[1] = {4};
  CHECK(weft_aot_bind_symbols(&kTwice, given, &in, 1, bound, err, sizeof err) ==
        WEFT_AOT_BAD_ARGUMENT);
  CHECK(std::string(err).find("@twice: ") == 0);
  in.dtype = WEFT_AOT_F64;
  CHECK(weft_aot_bind_symbols(&kTwice, nullptr, &in, 1, bound, err, sizeof err) ==
        WEFT_AOT_BAD_ARGUMENT);
  CHECK(std::string(err) == "@twice: input 0 (%x) has dtype f64, expected tensor<N x f32>");
}

} // namespace aot_AotWorkspaceTest
