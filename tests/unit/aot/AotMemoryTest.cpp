// The AOT runtime's arena: weft_aot_call places scratch slots by their live ranges (the JIT's
// memory plan), and weft_aot_arena_bytes reports the arena a call allocates.
#include "backends/cpu/Aot.h"
#include "ir/Parser.h"
#include "runtime/Aot.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace aot_AotMemoryTest {

namespace {

// @twice(%x: tensor<N x f32>) -> tensor<N x f32> by hand: slot 0 the parameter, 1 the result,
// 2 and 3 scratch of N f32 used one after the other: out = 2x + 3x.
void twiceEntry(void *const *bufs, const int64_t *dims, int64_t *) {
  const float *x = static_cast<const float *>(bufs[0]);
  float *out = static_cast<float *>(bufs[1]);
  float *a = static_cast<float *>(bufs[2]), *b = static_cast<float *>(bufs[3]);
  for (int64_t i = 0; i < dims[0]; ++i)
    a[i] = 2 * x[i];
  for (int64_t i = 0; i < dims[0]; ++i)
    out[i] = a[i];
  for (int64_t i = 0; i < dims[0]; ++i)
    b[i] = 3 * x[i];
  for (int64_t i = 0; i < dims[0]; ++i)
    out[i] += b[i];
}

const weft_aot_dim kDims[] = {{1, 0, 1}};
const int32_t kDimSyms[] = {0};
const char *const kSymbols[] = {"N"};
const int32_t kParams[] = {0};
const char *const kParamNames[] = {"x"};
const int32_t kResults[] = {1};
const char *const kResultNames[] = {"y"};

weft_aot_function twice(const weft_aot_slot *slots) {
  return {"twice",  twiceEntry, 1,       kSymbols,    4,       slots,    kDims,
          kDimSyms, 1,          kParams, kParamNames, 1,       kResults, kResultNames,
          0,        nullptr,    0,       nullptr,     nullptr, nullptr};
}

} // namespace

TEST_CASE("weft_aot_call shares arena bytes between scratch slots with disjoint live ranges") {
  const weft_aot_slot disjoint[] = {{WEFT_AOT_F32, 1, 0, 0, 3},
                                    {WEFT_AOT_F32, 1, 0, 0, 3},
                                    {WEFT_AOT_F32, 1, 0, 0, 1},
                                    {WEFT_AOT_F32, 1, 0, 2, 3}};
  const weft_aot_slot overlapping[] = {{WEFT_AOT_F32, 1, 0, 0, 3},
                                       {WEFT_AOT_F32, 1, 0, 0, 3},
                                       {WEFT_AOT_F32, 1, 0, 0, 2},
                                       {WEFT_AOT_F32, 1, 0, 2, 3}};
  weft_aot_function shared = twice(disjoint), apart = twice(overlapping);
  const int64_t dims[] = {40}; // 160 bytes a slot, 192 aligned
  CHECK(weft_aot_arena_bytes(&shared, dims) == 192);
  CHECK(weft_aot_arena_bytes(&apart, dims) == 384);
  const int64_t bad[] = {-5};
  CHECK(weft_aot_arena_bytes(&shared, bad) == -1);
  CHECK(weft_aot_arena_bytes(nullptr, dims) == -1);

  for (const weft_aot_function *fn : {&shared, &apart}) {
    float x[40], y[40];
    for (int i = 0; i < 40; ++i)
      x[i] = static_cast<float>(i);
    const void *in[] = {x};
    void *out[] = {y};
    char err[128];
    REQUIRE(weft_aot_call_dims(fn, dims, in, out, err, sizeof err) == WEFT_AOT_OK);
    for (int i = 0; i < 40; ++i)
      CHECK(y[i] == 5.0f * static_cast<float>(i));
  }
}

TEST_CASE("compileToObject writes each slot's live range and documents the arena query") {
  auto m = weft::ir::parseModule(R"(func @chain(%x: tensor<B x 4 x f32>) -> (tensor<B x 4 x f32>) {
  %t = tanh %x : tensor<B x 4 x f32>
  %e = exp %t : tensor<B x 4 x f32>
  %y = add %e, %x : tensor<B x 4 x f32>
  return %y
}
)",
                                 "t.wir");
  REQUIRE(m);
  auto dir = std::filesystem::temp_directory_path() /
             ("weft-aot-memory-test-" + std::to_string(reinterpret_cast<uintptr_t>(&m)));
  std::filesystem::create_directories(dir);
  weft::cpu::AotOptions o;
  o.objectPath = (dir / "m.o").string();
  o.headerPath = (dir / "m.h").string();
  REQUIRE(weft::cpu::compileToObject(**m, o));
  std::ifstream h(o.headerPath);
  std::stringstream ss;
  ss << h.rdbuf();
  std::string header = ss.str();
  // Positions: tanh 0, exp 1, add 2, return 3. %t lives [0, 1]; %e is written in place into
  // %t's slot, which so lives to the add at 2; %y (returned) from 2 to the return at 3.
  CHECK(header.find("static const weft_aot_slot weft_chain_slots[] = {\n"
                    "    {0, 2, 0, 0, 3},\n"
                    "    {0, 2, 2, 0, 2},\n"
                    "    {0, 2, 4, 2, 3},\n};") != std::string::npos);
  CHECK(header.find("weft_aot_arena_bytes(&weft_chain_fn, dims)") != std::string::npos);
  std::filesystem::remove_all(dir);
}

} // namespace aot_AotMemoryTest
