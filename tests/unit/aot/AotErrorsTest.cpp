// Every message the AOT runtime (runtime/Aot.cpp) can return, each from a call that provokes it,
// and a coverage check: each message string in Aot.cpp (and SymbolBinder.cpp) must match one of the
// messages these calls produced, so a new message without a test fails here. The entry points are
// written by hand; tests/aot runs the same checks on code that weftc compiled.
#include "runtime/Aot.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <functional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace aot_AotErrorsTest {

// Absurd sizes are this test's business: under AddressSanitizer an allocation it cannot make
// must return null (as malloc does), not abort the process.
extern "C" const char *__asan_default_options() { return "allocator_may_return_null=1"; }

namespace {

// The status the fault entry reports: code, site, three details.
int64_t gStatus[5];
void faultEntry(void *const *, const int64_t *, int64_t *status) {
  std::memcpy(status, gStatus, sizeof gStatus);
}

// @f(%x: tensor<N x f32>) -> (tensor<N x f32>, tensor<N x f32>), with scratch slots 3 and 4 of
// N f32 each, live at the same time; slot 5 is tensor<2*N x f32> (kDims[1]). The entry only
// reports gStatus: messages come from the runtime, not from what the code computes.
const weft_aot_slot kSlots[] = {{WEFT_AOT_F32, 1, 0, 0, 2},
                                {WEFT_AOT_F32, 1, 0, 0, 2},
                                {WEFT_AOT_F32, 1, 0, 0, 2},
                                {WEFT_AOT_F32, 1, 0, 0, 1},
                                {WEFT_AOT_F32, 1, 0, 0, 1}};
const weft_aot_dim kDims[] = {{1, 0, 1}, {2, 0, 1}};
const int32_t kDimSyms[] = {0};
const char *const kSymbols[] = {"N"};
const int32_t kParams[] = {0};
const char *const kParamNames[] = {"x"};
const int32_t kResults[] = {1, 2};
const char *const kResultNames[] = {"y", "z"};
const weft_aot_fault_site kSites[] = {{"gather", "m.wir:4:3", "axis 0 of tensor<10 x f32>"},
                                      {"reduce_max", "", "tensor<N x 0 x f32>"}};
const weft_aot_function kF = {
    "f",         faultEntry, 1,        kSymbols,     5, kSlots, kDims, kDimSyms, 1,       kParams,
    kParamNames, 2,          kResults, kResultNames, 2, kSites, 0,     nullptr,  nullptr, nullptr};

// @g(%x: tensor<2*N x f32>) -> tensor<2*N x f32>: its input's size is a multiple of N.
const weft_aot_slot kDoubleSlots[] = {{WEFT_AOT_F32, 1, 1, 0, 1}, {WEFT_AOT_F32, 1, 1, 0, 1}};
const int32_t kOne[] = {1};
const weft_aot_function kG = {
    "g",  faultEntry,   1, kSymbols, 2, kDoubleSlots, kDims,   kDimSyms, 1, kParams, kParamNames, 1,
    kOne, kResultNames, 0, nullptr,  0, nullptr,      nullptr, nullptr};

// @f again, but its entry calls @f on gBusy, the workspace the outer call is using, and keeps
// what that inner call returned.
weft_aot_workspace *gBusy = nullptr;
int gInnerCode = -1;
char gInnerErr[512];
void reenterEntry(void *const *, const int64_t *, int64_t *) {
  float x[1] = {}, y[1], z[1];
  int64_t shape[1] = {1};
  weft_aot_input in = {x, WEFT_AOT_F32, 1, shape};
  weft_aot_output out[2] = {{y, sizeof y, nullptr}, {z, sizeof z, nullptr}};
  gInnerCode = weft_aot_call_with_workspace(&kF, gBusy, nullptr, &in, 1, out, 2, gInnerErr,
                                            sizeof gInnerErr);
}
const weft_aot_function kReenter = {
    "f",      reenterEntry, 1, kSymbols, 5, kSlots,  kDims,   kDimSyms, 1, kParams, kParamNames, 2,
    kResults, kResultNames, 2, kSites,   0, nullptr, nullptr, nullptr};

constexpr int64_t kHuge = int64_t(1) << 60; // N f32 = 2^62 bytes: one buffer fits, two do not

/// A call of @f with N = 4 that the cases below break one thing of.
struct Call {
  float x[4] = {1, 2, 3, 4}, y[4] = {}, z[4] = {};
  int64_t shape[1] = {4};
  weft_aot_input in[1] = {{x, WEFT_AOT_F32, 1, shape}};
  weft_aot_output out[2] = {{y, sizeof y, nullptr}, {z, sizeof z, nullptr}};
  const int64_t *dims = nullptr;
  size_t nIn = 1, nOut = 2;
  const weft_aot_input *inputs = in;
  weft_aot_output *outputs = out;
  const weft_aot_function *fn = &kF;
  char err[512] = "untouched";

  Call() { std::memset(gStatus, 0, sizeof gStatus); }
  /// Buffers for N = 2^60 (2^62 bytes each) at addresses nothing dereferences: the calls that
  /// use them fail before the entry runs.
  void hugeBuffers() {
    auto at = [](uint64_t gib) { return reinterpret_cast<float *>(uintptr_t(gib) << 30); };
    shape[0] = kHuge;
    in[0].data = at(1);
    out[0] = {at(1 + (uint64_t(1) << 32)), SIZE_MAX, nullptr}; // 2^62 bytes = 2^32 GiB further
    out[1] = {at(1 + (uint64_t(2) << 32)), SIZE_MAX, nullptr};
  }

  int run() { return weft_aot_call(fn, dims, inputs, nIn, outputs, nOut, err, sizeof err); }
};

void *failingAlloc(size_t, void *ctx) {
  ++*static_cast<int *>(ctx);
  return nullptr;
}
void unusedRelease(void *, void *) { FAIL("release called for an allocation that failed"); }

struct Case {
  const char *what;
  int code;
  std::string message;
  std::function<int(char *err, size_t len)> call;
};

std::vector<Case> cases() {
  auto viaCall = [](std::function<void(Call &)> edit) {
    return [edit](char *err, size_t len) {
      Call c;
      edit(c);
      int code = c.run();
      std::strncpy(err, c.err, len);
      return code;
    };
  };
  auto fault = [&](std::vector<int64_t> st) {
    return viaCall([st](Call &) {
      std::memset(gStatus, 0, sizeof gStatus);
      std::copy(st.begin(), st.end(), gStatus);
    });
  };
  const int bad = WEFT_AOT_BAD_ARGUMENT, faulted = WEFT_AOT_FAULT;
  return {
      {"null function", bad, "the function is null", viaCall([](Call &c) { c.fn = nullptr; })},
      {"input count", bad, "@f: expected 1 inputs, got 0", viaCall([](Call &c) { c.nIn = 0; })},
      {"null inputs array", bad, "@f: the inputs array is null",
       viaCall([](Call &c) { c.inputs = nullptr; })},
      {"rank", bad, "@f: input 0 (%x) has rank 0, expected tensor<N x f32>",
       viaCall([](Call &c) { c.in[0].rank = 0; })},
      {"symbol bound twice", bad,
       "@f: input 0 (%x): axis 0 binds N = 4, but the caller's dims bound it to 3",
       viaCall([](Call &c) {
         static const int64_t three[] = {3};
         c.dims = three;
       })},
      {"negative symbol", bad, "@f: symbol N is -2, a size must be non-negative",
       viaCall([](Call &c) {
         static const int64_t negative[] = {-2};
         c.dims = negative;
       })},
      {"unbound symbol", bad, "@f: symbolic dim 'N' is not bound",
       viaCall([](Call &c) { c.shape[0] = -1; })},
      {"shape", bad, "@f: input 0 (%x) has shape [-1], expected [4] (tensor<N x f32>)",
       viaCall([](Call &c) {
         static const int64_t four[] = {4};
         c.dims = four;
         c.shape[0] = -1;
       })},
      {"dtype", bad, "@f: input 0 (%x) has dtype i64, expected tensor<N x f32>",
       viaCall([](Call &c) { c.in[0].dtype = WEFT_AOT_I64; })},
      {"null input", bad, "@f: input 0 (%x) is a null pointer",
       viaCall([](Call &c) { c.in[0].data = nullptr; })},
      {"output count", bad, "@f: expected 2 outputs, got 3", viaCall([](Call &c) { c.nOut = 3; })},
      {"null outputs array", bad, "@f: the outputs array is null",
       viaCall([](Call &c) { c.outputs = nullptr; })},
      {"null output", bad,
       "@f: output 1 (%z) is a null pointer; it needs 16 bytes (tensor<N x f32>)",
       viaCall([](Call &c) { c.out[1].data = nullptr; })},
      {"small output", bad,
       "@f: output 0 (%y) holds 15 bytes, but the result [4] (tensor<N x f32>) needs 16",
       viaCall([](Call &c) { c.out[0].capacity = 15; })},
      {"output overlaps an input", bad,
       "@f: output 1 (%z) overlaps input 0 (%x): outputs must not share memory with inputs",
       viaCall([](Call &c) { c.out[1].data = c.x + 3; })},
      {"outputs overlap", bad,
       "@f: output 1 (%z) overlaps output 0 (%y): outputs must not share memory",
       viaCall([](Call &c) { c.out[1].data = c.y; })},
      // 2^62 elements of 4 bytes do not fit in 63 bits.
      {"buffer size overflows", bad, "@f: a buffer of type tensor<N x f32> has an invalid size",
       viaCall([](Call &c) { c.shape[0] = int64_t(1) << 62; })},
      // Two live scratch buffers of 2^62 bytes each: more than any arena.
      {"arena size overflows", bad, "@f: the buffers of one call need more than SIZE_MAX / 2 bytes",
       viaCall([](Call &c) { c.hugeBuffers(); })},
      {"allocation fails", WEFT_AOT_NO_MEMORY, "@f: cannot allocate 128 bytes of scratch",
       [](char *err, size_t len) {
         int tries = 0;
         REQUIRE(weft_aot_set_allocator(failingAlloc, unusedRelease, &tries) == WEFT_AOT_OK);
         Call c;
         int code = c.run();
         weft_aot_set_allocator(nullptr, nullptr, nullptr);
         CHECK(tries == 1);
         std::strncpy(err, c.err, len);
         return code;
       }},
      {"internal tables too large", WEFT_AOT_NO_MEMORY, "out of memory", viaCall([](Call &c) {
         static weft_aot_function absurd = kF;
         absurd.n_symbols = SIZE_MAX / 2; // no vector of that many symbol values exists
         c.fn = &absurd;
       })},
      {"index fault", faulted,
       "m.wir:4:3: @f: gather: index 12 at flat position 3 of the indices is out of range "
       "[0, 10) for axis 0 of tensor<10 x f32>",
       fault({WEFT_AOT_FAULT_INDEX_OUT_OF_RANGE, 0, 12, 3, 10})},
      {"division fault", faulted,
       "m.wir:4:3: @f: gather: integer division by zero at element 5 of axis 0 of "
       "tensor<10 x f32>",
       fault({WEFT_AOT_FAULT_DIVISION_BY_ZERO, 0, 5})},
      {"length fault", faulted, "@f: reduce_max: length 9 of example 1 is outside [0, 4]",
       fault({WEFT_AOT_FAULT_LENGTH_OUT_OF_RANGE, 1, 9, 1, 4})},
      {"empty reduce fault", faulted,
       "@f: reduce_max: cannot reduce tensor<N x 0 x f32> over an empty axis",
       fault({WEFT_AOT_FAULT_EMPTY_REDUCE, 1})},
      {"constant count fault", faulted,
       "@f: reduce_max: value has 3 entries but the result has 4 elements",
       fault({WEFT_AOT_FAULT_CONSTANT_COUNT, 1, 3, 4})},
      {"unknown fault code", faulted, "@f: reduce_max: unknown fault 77", fault({77, 1})},
      {"unknown fault site", faulted, "@f: generated code reported fault 2 at an unknown op",
       fault({2, 9})},
      {"call_dims: null function", bad, "the function is null",
       [](char *err, size_t len) {
         return weft_aot_call_dims(nullptr, nullptr, nullptr, nullptr, err, len);
       }},
      {"call_dims: null dims", bad, "@f: the dims array is null",
       [](char *err, size_t len) {
         float x[1], y[1], z[1];
         const void *in[] = {x};
         void *out[] = {y, z};
         return weft_aot_call_dims(&kF, nullptr, in, out, err, len);
       }},
      {"call_dims: null inputs", bad, "@f: the inputs array is null",
       [](char *err, size_t len) {
         const int64_t dims[] = {1};
         float y[1], z[1];
         void *out[] = {y, z};
         return weft_aot_call_dims(&kF, dims, nullptr, out, err, len);
       }},
      {"call_dims: null outputs", bad, "@f: the outputs array is null",
       [](char *err, size_t len) {
         const int64_t dims[] = {1};
         float x[1];
         const void *in[] = {x};
         return weft_aot_call_dims(&kF, dims, in, nullptr, err, len);
       }},
      {"workspace in use", bad, "@f: the workspace is in use by another call",
       [](char *err, size_t len) {
         Call c;
         c.fn = &kReenter;
         gBusy = weft_aot_workspace_create();
         int outer = weft_aot_call_with_workspace(c.fn, gBusy, nullptr, c.in, 1, c.out, 2, c.err,
                                                  sizeof c.err);
         weft_aot_workspace_destroy(gBusy);
         std::strncpy(err, gInnerErr, len);
         return outer == WEFT_AOT_OK ? gInnerCode : -1;
       }},
      {"bind_symbols: null bound", bad, "@f: the bound array is null",
       [](char *err, size_t len) {
         Call c;
         return weft_aot_bind_symbols(&kF, nullptr, c.in, 1, nullptr, err, len);
       }},
      // 2 * 2^62 overflows the dim itself, before any byte count.
      {"call_dims: input size overflows", bad,
       "@g: input 0 (%x) has an invalid size (tensor<2*N x f32>)",
       [](char *err, size_t len) {
         const int64_t dims[] = {int64_t(1) << 62};
         float x[1], y[1];
         const void *in[] = {x};
         void *out[] = {y};
         return weft_aot_call_dims(&kG, dims, in, out, err, len);
       }},
  };
}

std::string slurp(const std::string &path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// The string literals of the code (not the comments) of `source` that read like messages:
/// those with a space and a letter.
std::vector<std::string> messageLiterals(const std::string &source) {
  std::vector<std::string> out;
  std::istringstream lines(source);
  std::string line;
  std::regex literal(R"re("((?:[^"\\]|\\.)*)")re");
  while (std::getline(lines, line)) {
    size_t comment = line.find("//");
    if (comment != std::string::npos && line.find('"') > comment)
      line.resize(comment); // a comment that holds no literal
    for (std::sregex_iterator it(line.begin(), line.end(), literal), end; it != end; ++it) {
      std::string s = (*it)[1];
      if (s.find(' ') != std::string::npos &&
          std::any_of(s.begin(), s.end(), [](char c) { return std::isalpha(c); }))
        out.push_back(s);
    }
  }
  return out;
}

/// A regex matching what fmt makes of `format`: each {} any text, the rest literally.
std::regex formatRegex(const std::string &format) {
  std::string re;
  for (size_t i = 0; i < format.size(); ++i) {
    if (format.compare(i, 2, "{}") == 0) {
      re += ".*";
      ++i;
    } else if (std::strchr(R"(\^$.|?*+()[]{})", format[i])) {
      re += std::string("\\") + format[i];
    } else {
      re += format[i];
    }
  }
  return std::regex(re);
}

} // namespace

TEST_CASE("every AOT runtime error returns its code and a message naming the problem") {
  for (const Case &c : cases()) {
    CAPTURE(std::string(c.what));
    char err[512] = "untouched";
    CHECK(c.call(err, sizeof err) == c.code);
    CHECK(std::string(err) == c.message);
  }
}

TEST_CASE("every message string in runtime/Aot.cpp and the symbol binder it calls is produced "
          "by a case above") {
  std::vector<std::string> produced;
  for (const Case &c : cases())
    produced.push_back(c.message);
  std::string runtime = std::string(WEFT_TEST_DATA_DIR) + "/../../runtime/";
  std::vector<std::string> literals = messageLiterals(slurp(runtime + "Aot.cpp"));
  REQUIRE(literals.size() > 20);
  std::vector<std::string> binder = messageLiterals(slurp(runtime + "SymbolBinder.cpp"));
  REQUIRE(binder.size() >= 4);
  literals.insert(literals.end(), binder.begin(), binder.end());
  for (const std::string &lit : literals) {
    CAPTURE(lit);
    std::regex re = formatRegex(lit);
    CHECK(std::any_of(produced.begin(), produced.end(),
                      [&](const std::string &m) { return std::regex_search(m, re); }));
  }
}

TEST_CASE("weft_aot_set_allocator takes both functions or neither") {
  int tries = 0;
  CHECK(weft_aot_set_allocator(failingAlloc, nullptr, &tries) == WEFT_AOT_BAD_ARGUMENT);
  CHECK(weft_aot_set_allocator(nullptr, unusedRelease, &tries) == WEFT_AOT_BAD_ARGUMENT);
  Call c; // the default allocator is still in place
  CHECK(c.run() == WEFT_AOT_OK);
  CHECK(tries == 0);
}

TEST_CASE("an arena too large to allocate is an error, not a crash") {
  Call c;
  c.hugeBuffers();
  weft_aot_function f = kF;
  f.n_slots = 4; // one scratch buffer: 2^62 bytes, more than this machine has
  c.fn = &f;
  CHECK(c.run() == WEFT_AOT_NO_MEMORY);
  CHECK(std::string(c.err) == "@f: cannot allocate 4611686018427387904 bytes of scratch");
}

} // namespace aot_AotErrorsTest
