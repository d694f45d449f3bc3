//===- examples/ExampleSupport.h - what the examples share ----------------===//
//
// Writing the IR for weft-opt, and running a built function on every backend
// this build has (backends/Registry.h; WEFT_HAVE_BACKENDS).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/Weft.h"
#include "ir/Printer.h"
#include "runtime/AtomicFile.h"

#include <fmt/format.h>

#include <cstdio>

#ifdef WEFT_HAVE_BACKENDS
#include "backends/Registry.h"
#endif

namespace weft::examples {

/// Writes `text` to `path` atomically (runtime/AtomicFile.h); throws weft::Error on failure.
inline void writeFileAtomically(const std::string &path, const std::string &text) {
  weft::writeFileAtomically(path, text).check();
}

/// Prints the module, and writes it to argv[1] when given.
inline void emitIR(const ir::Module &m, int argc, char **argv) {
  std::string text = ir::print(m);
  std::fputs(text.c_str(), stdout);
  if (argc > 1) {
    writeFileAtomically(argv[1], text);
    std::fprintf(stderr, "wrote %s\n", argv[1]);
  }
}

/// An input array of uniform values in [lo, hi), drawn from `seed`.
inline Array uniformArray(std::vector<int64_t> shape, double lo, double hi, int64_t seed) {
  return drawInit(init::uniform(lo, hi), DType::F32, shape, seed).take();
}

/// The first `n` values of `a` on one line.
inline void printHead(const char *name, const Array &a, int64_t n = 6) {
  std::string s;
  for (int64_t i = 0; i < std::min(n, a.numel()); ++i)
    s += fmt::format("{}{:.5f}", i ? ", " : "", a.getDouble(i));
  std::printf("// %s %s: [%s%s]\n", name, a.typeStr().c_str(), s.c_str(),
              a.numel() > n ? ", ..." : "");
}

/// Runs function 0 of `m` on every registered backend (the reference interpreter first) and
/// prints the head of each result; says so when this build has no backend.
inline void runOnEveryBackend(const ir::Module &m, const std::vector<Array> &args,
                              const std::vector<const char *> &names) {
#ifdef WEFT_HAVE_BACKENDS
  for (const backends::Backend *b : backends::registeredBackends()) {
    std::string name(b->name());
    auto exe = b->compile(m);
    auto results = exe ? (*exe)->run(m.functions()[0]->name(), args)
                       : Expected<std::vector<Array>>(exe.diag());
    if (!results) {
      std::printf("// %s run failed: %s\n", name.c_str(), results.diag().str().c_str());
      continue;
    }
    std::printf("// on %s:\n", name.c_str());
    for (size_t i = 0; i < results->size(); ++i)
      printHead(i < names.size() ? names[i] : "result", (*results)[i]);
  }
#else
  (void)m, (void)args, (void)names;
  std::printf("// (built without backends: printing the IR only)\n");
#endif
}

} // namespace weft::examples
