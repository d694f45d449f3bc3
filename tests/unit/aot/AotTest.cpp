// Ahead-of-time compilation: the runtime's C entry (runtime/Aot.h) on a hand-written entry
// point, and compileToObject's object file and header. The end-to-end run of a linked object
// against the interpreter is the ctest aot-example (examples/aot).
#include "backends/cpu/Aot.h"

#include "ir/Parser.h"
#include "runtime/Aot.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace aot_AotTest {

using namespace weft;

namespace {

// @add(%x: tensor<N x f32>, %y: tensor<N x f32>) -> tensor<N x f32>, by hand: slots 0, 1 are
// the parameters, 2 the result, 3 a scratch of 2*N f32. A negative x[0] reports a fault.
void addEntry(void *const *bufs, const int64_t *dims, int64_t *status) {
  const float *x = static_cast<const float *>(bufs[0]), *y = static_cast<const float *>(bufs[1]);
  float *out = static_cast<float *>(bufs[2]), *scratch = static_cast<float *>(bufs[3]);
  if (dims[0] > 0 && x[0] < 0) {
    status[0] = WEFT_AOT_FAULT_DIVISION_BY_ZERO;
    status[1] = 0;
    status[2] = 7;
    return;
  }
  for (int64_t i = 0; i < 2 * dims[0]; ++i)
    scratch[i] = 1; // the scratch slot is really allocated
  for (int64_t i = 0; i < dims[0]; ++i)
    out[i] = x[i] + y[i] * scratch[i];
}

const weft_aot_slot kSlots[] = {{WEFT_AOT_F32, 1, 0, 0, 1},
                                {WEFT_AOT_F32, 1, 1, 0, 1},
                                {WEFT_AOT_F32, 1, 2, 0, 1},
                                {WEFT_AOT_F32, 1, 3, 0, 0}};
const weft_aot_dim kDims[] = {{1, 0, 1}, {1, 0, 1}, {1, 0, 1}, {2, 0, 1}};
const int32_t kDimSyms[] = {0};
const char *const kSymbols[] = {"N"};
const int32_t kParams[] = {0, 1};
const char *const kParamNames[] = {"x", "y"};
const int32_t kResults[] = {2};
const char *const kResultNames[] = {"sum"};
const weft_aot_fault_site kSites[] = {{"div", "m.wir:3:5", "tensor<N x i32>"}};
const weft_aot_function kAdd = {
    "add",       addEntry, 1,        kSymbols,     4, kSlots, kDims, kDimSyms, 2,       kParams,
    kParamNames, 1,        kResults, kResultNames, 1, kSites, 0,     nullptr,  nullptr, nullptr};

// @flip(%x: tensor<3 x f32>) -> tensor<3 x f32>, by hand and without symbols: slot 0 the
// parameter, 1 the result, 2 a scratch of 2 f32.
void flipEntry(void *const *bufs, const int64_t *, int64_t *) {
  const float *x = static_cast<const float *>(bufs[0]);
  float *out = static_cast<float *>(bufs[1]), *scratch = static_cast<float *>(bufs[2]);
  scratch[0] = x[0];
  scratch[1] = x[2];
  out[0] = scratch[1];
  out[1] = x[1];
  out[2] = scratch[0];
}

const weft_aot_slot kFlipSlots[] = {
    {WEFT_AOT_F32, 1, 0, 0, 1}, {WEFT_AOT_F32, 1, 0, 0, 1}, {WEFT_AOT_F32, 1, 1, 0, 0}};
const weft_aot_dim kFlipDims[] = {{3, 0, 0}, {2, 0, 0}};
const int32_t kFlipParams[] = {0};
const char *const kFlipParamNames[] = {"x"};
const int32_t kFlipResults[] = {1};
const char *const kFlipResultNames[] = {"y"};
const weft_aot_function kFlip = {
    "flip",  flipEntry, 0,           nullptr,         3,       kFlipSlots,   kFlipDims,
    nullptr, 1,         kFlipParams, kFlipParamNames, 1,       kFlipResults, kFlipResultNames,
    0,       nullptr,   0,           nullptr,         nullptr, nullptr};

struct Call {
  float x[3] = {1, 2, 3}, y[3] = {10, 20, 30}, out[3] = {};
  int64_t xShape[1] = {3}, yShape[1] = {3}, outShape[1] = {-1};
  weft_aot_input in[2] = {{x, WEFT_AOT_F32, 1, xShape}, {y, WEFT_AOT_F32, 1, yShape}};
  weft_aot_output outs[1] = {{out, sizeof out, outShape}};
  char err[256] = "untouched";
  int run() { return weft_aot_call(&kAdd, nullptr, in, 2, outs, 1, err, sizeof err); }
};

std::string readText(const std::filesystem::path &p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

} // namespace

TEST_CASE("weft_aot_call binds symbols from input shapes, runs and writes the result shape") {
  Call c;
  REQUIRE(c.run() == WEFT_AOT_OK);
  CHECK(std::string(c.err).empty());
  CHECK(c.out[0] == 11);
  CHECK(c.out[2] == 33);
  CHECK(c.outShape[0] == 3);
}

TEST_CASE("weft_aot_call rejects a null input pointer with a message") {
  Call c;
  c.in[1].data = nullptr;
  CHECK(c.run() == WEFT_AOT_BAD_ARGUMENT);
  CHECK(std::string(c.err) == "@add: input 1 (%y) is a null pointer");
}

TEST_CASE("weft_aot_call rejects inputs that bind a symbol to two sizes") {
  Call c;
  c.yShape[0] = 2;
  CHECK(c.run() == WEFT_AOT_BAD_ARGUMENT);
  CHECK(std::string(c.err) == "@add: input 1 (%y): axis 0 binds N = 2, but input 0 (%x) bound it "
                              "to 3");
}

TEST_CASE("weft_aot_call rejects a wrong rank, dtype or input count") {
  Call c;
  c.in[0].rank = 2;
  CHECK(c.run() == WEFT_AOT_BAD_ARGUMENT);
  CHECK(std::string(c.err) == "@add: input 0 (%x) has rank 2, expected tensor<N x f32>");
  Call d;
  d.in[1].dtype = WEFT_AOT_I32;
  CHECK(d.run() == WEFT_AOT_BAD_ARGUMENT);
  CHECK(std::string(d.err) == "@add: input 1 (%y) has dtype i32, expected tensor<N x f32>");
  Call e;
  CHECK(weft_aot_call(&kAdd, nullptr, e.in, 1, e.outs, 1, e.err, sizeof e.err) ==
        WEFT_AOT_BAD_ARGUMENT);
  CHECK(std::string(e.err) == "@add: expected 2 inputs, got 1");
}

TEST_CASE("weft_aot_call rejects a too small or null output buffer") {
  Call c;
  c.outs[0].capacity = 11;
  CHECK(c.run() == WEFT_AOT_BAD_ARGUMENT);
  CHECK(std::string(c.err) ==
        "@add: output 0 (%sum) holds 11 bytes, but the result [3] (tensor<N x f32>) needs 12");
  Call d;
  d.outs[0].data = nullptr;
  CHECK(d.run() == WEFT_AOT_BAD_ARGUMENT);
  CHECK(std::string(d.err).find("output 0 (%sum) is a null pointer") != std::string::npos);
}

TEST_CASE("weft_aot_call checks explicit dims against the inputs") {
  Call c;
  int64_t dims[] = {4};
  CHECK(weft_aot_call(&kAdd, dims, c.in, 2, c.outs, 1, c.err, sizeof c.err) ==
        WEFT_AOT_BAD_ARGUMENT);
  CHECK(std::string(c.err) == "@add: input 0 (%x): axis 0 binds N = 3, but the caller's dims "
                              "bound it to 4");
  int64_t negative[] = {-5};
  CHECK(weft_aot_call(&kAdd, negative, c.in, 2, c.outs, 1, c.err, sizeof c.err) ==
        WEFT_AOT_BAD_ARGUMENT);
  CHECK(std::string(c.err) == "@add: symbol N is -5, a size must be non-negative");
}

TEST_CASE("weft_aot_call turns a fault of the generated code into a located message") {
  Call c;
  c.x[0] = -1;
  CHECK(c.run() == WEFT_AOT_FAULT);
  CHECK(std::string(c.err) ==
        "m.wir:3:5: @add: div: integer division by zero at element 7 of tensor<N x i32>");
}

TEST_CASE("weft_aot_call truncates a long message to the error buffer") {
  Call c;
  c.in[1].data = nullptr;
  CHECK(weft_aot_call(&kAdd, nullptr, c.in, 2, c.outs, 1, c.err, 6) == WEFT_AOT_BAD_ARGUMENT);
  CHECK(std::string(c.err) == "@add:");
}

TEST_CASE("weft_aot_call_dims sizes inputs and outputs from the symbols") {
  Call c;
  const void *in[] = {c.x, c.y};
  void *out[] = {c.out};
  int64_t dims[] = {2};
  REQUIRE(weft_aot_call_dims(&kAdd, dims, in, out, c.err, sizeof c.err) == WEFT_AOT_OK);
  CHECK(c.out[1] == 22);
  CHECK(c.out[2] == 0); // only N = 2 elements written
  CHECK(weft_aot_slot_bytes(&kAdd, 3, dims) == 16);
  CHECK(weft_aot_slot_bytes(&kAdd, 9, dims) == -1);
}

TEST_CASE("weft_aot_call_dims and the size queries accept null dims for a function without "
          "symbols") {
  CHECK(weft_aot_slot_bytes(&kFlip, 0, nullptr) == 12);
  CHECK(weft_aot_slot_bytes(&kFlip, 2, nullptr) == 8);
  CHECK(weft_aot_arena_bytes(&kFlip, nullptr) == 64); // the 8-byte scratch, 64-byte aligned
  float x[3] = {1, 2, 3}, y[3] = {};
  const void *in[] = {x};
  void *out[] = {y};
  char err[128] = "untouched";
  REQUIRE(weft_aot_call_dims(&kFlip, nullptr, in, out, err, sizeof err) == WEFT_AOT_OK);
  CHECK(y[0] == 3);
  CHECK(y[2] == 1);
}

TEST_CASE("weft_aot_call_dims and the size queries reject an unbound or negative symbol") {
  Call c;
  const void *in[] = {c.x, c.y};
  void *out[] = {c.out};
  int64_t unbound[] = {-1};
  CHECK(weft_aot_call_dims(&kAdd, unbound, in, out, c.err, sizeof c.err) == WEFT_AOT_BAD_ARGUMENT);
  CHECK(std::string(c.err) == "@add: symbolic dim 'N' is not bound");
  CHECK(weft_aot_slot_bytes(&kAdd, 2, unbound) == -1);
  CHECK(weft_aot_arena_bytes(&kAdd, unbound) == -1);
  int64_t negative[] = {-5};
  CHECK(weft_aot_call_dims(&kAdd, negative, in, out, c.err, sizeof c.err) == WEFT_AOT_BAD_ARGUMENT);
  CHECK(std::string(c.err) == "@add: symbol N is -5, a size must be non-negative");
  CHECK(weft_aot_slot_bytes(&kAdd, 2, negative) == -1);
  CHECK(weft_aot_arena_bytes(&kAdd, negative) == -1);
  int64_t three[] = {3};
  CHECK(weft_aot_slot_bytes(&kAdd, 2, three) == 12);
  CHECK(weft_aot_arena_bytes(&kAdd, three) == 64); // the scratch slot, 24 bytes, aligned
}

TEST_CASE("compileToObject writes an object file and a header with typed wrappers") {
  auto m = ir::parseModule(R"(func @scale.by2(%x: tensor<B x 4 x f32>) -> (tensor<B x 4 x f32>) {
  %y = add %x, %x : tensor<B x 4 x f32>
  return %y
}
)",
                           "t.wir");
  REQUIRE(m);
  auto dir = std::filesystem::temp_directory_path() /
             ("weft-aot-test-" + std::to_string(reinterpret_cast<uintptr_t>(&m)));
  std::filesystem::create_directories(dir);
  cpu::AotOptions o;
  o.objectPath = (dir / "m.o").string();
  o.headerPath = (dir / "m.h").string();
  REQUIRE(cpu::compileToObject(**m, o));
  std::string object = readText(o.objectPath), header = readText(o.headerPath);
  CHECK(object.substr(0, 4) == "\x7f"
                               "ELF");
  CHECK(object.find("weft_scale_by2_entry") != std::string::npos);
  CHECK(header.find("static inline int weft_scale_by2(const float *x, int64_t B, float *y, "
                    "char *err, size_t err_len)") != std::string::npos);
  CHECK(header.find("x: B x 4 x f32, 16*B bytes (input)") != std::string::npos);
  CHECK(header.find("#include \"runtime/Aot.h\"") != std::string::npos);

  // Symbol arguments come in the order the parameter types name them (T, then B), whatever
  // order the body first uses them in (the scan's carry, B, is touched before T).
  auto scan = ir::parseModule(
      R"(func @sum(%xs: tensor<T x B x f32>, %c0: tensor<B x f32>) -> (tensor<B x f32>) {
  %c = scan carry(%c0) over(%xs) {
  ^body(%c1: tensor<B x f32>, %x: tensor<B x f32>):
    %c2 = add %c1, %x : tensor<B x f32>
    yield %c2
  } : tensor<B x f32>
  return %c
}
)",
      "s.wir");
  REQUIRE(scan);
  REQUIRE(cpu::compileToObject(**scan, o));
  CHECK(readText(o.headerPath)
            .find("static inline int weft_sum(const float *xs, const float *c0, int64_t T, "
                  "int64_t B, float *c, char *err, size_t err_len)") != std::string::npos);

  o.cpu = "not-a-cpu";
  Status bad = cpu::compileToObject(**m, o);
  REQUIRE_FALSE(bad);
  CHECK(bad.diag().message.find("unknown cpu 'not-a-cpu'") != std::string::npos);
  o.cpu = "x86-64-v3";
  o.objectPath = (dir / "missing" / "m.o").string();
  CHECK_FALSE(cpu::compileToObject(**m, o));
  std::filesystem::remove_all(dir);
}

TEST_CASE("the header's wrapper renames parameters and results named after C or C++ keywords") {
  // %int, %class and %for are fine IR names; as C parameter names they would not compile, so
  // the wrapper appends '_'. The C compiler checks the whole header where one is installed.
  auto m = ir::parseModule(
      R"(func @f(%int: tensor<4 x f32>, %class: tensor<4 x f32>) -> (tensor<4 x f32>) {
  %for = add %int, %class : tensor<4 x f32>
  return %for
}
)",
      "k.wir");
  REQUIRE(m);
  auto dir = std::filesystem::temp_directory_path() /
             ("weft-aot-keywords-" + std::to_string(reinterpret_cast<uintptr_t>(&m)));
  std::filesystem::create_directories(dir);
  cpu::AotOptions o;
  o.objectPath = (dir / "k.o").string();
  o.headerPath = (dir / "k.h").string();
  REQUIRE(cpu::compileToObject(**m, o));
  std::string header = readText(o.headerPath);
  CHECK(header.find("static inline int weft_f(const float *int_, const float *class_, float "
                    "*for_, char *err, size_t err_len)") != std::string::npos);
  if (std::system("cc --version > /dev/null 2>&1") == 0) {
    std::filesystem::path root =
        std::filesystem::path(WEFT_TEST_DATA_DIR).parent_path().parent_path();
    std::ofstream((dir / "use.c").string()) << "#include \"k.h\"\n";
    std::string cmd = fmt::format("cc -fsyntax-only -Wall -Werror -I '{}' '{}' 2>&1", root.string(),
                                  (dir / "use.c").string());
    CHECK_MESSAGE(std::system(cmd.c_str()) == 0, cmd);
  }
  std::filesystem::remove_all(dir);
}

} // namespace aot_AotTest
