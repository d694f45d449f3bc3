//===- tools/weftc/main.cpp - ahead-of-time compile a .wir file -----------===//
//
//   weftc model.wir -o model.o --header model.h [--cpu=native|x86-64-v3]
//   weftc model.wir --report-memory --bind T=100 --bind B=32
//
// Runs a pass pipeline first (`optimize` unless --pipeline says otherwise), then writes an object
// file with weft_<name>_entry for every function and a C header that describes them to
// runtime/Aot.h and declares typed wrappers.
// --report-memory prints each function's scratch arena under the bound dims.
// Errors print as `weftc: <message>` and exit 1.
//
//===----------------------------------------------------------------------===//
#include "backends/cpu/Aot.h"
#include "backends/cpu/CpuBackend.h"
#include "ir/Parser.h"
#include "passes/PassManager.h"

#include <fmt/format.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string_view>

namespace {

using namespace weft;

const char *const kUsage = R"(usage: weftc FILE.wir -o OBJECT --header HEADER [options]

Compiles every function of an IR file ahead of time into an object file and a C header.
Link the object with weft_runtime; the header declares int weft_<name>(...) per function.

options:
  -o FILE               the object file to write
  --header FILE         the C header to write
  --cpu=NAME            native (the default: this machine) or an LLVM CPU such as x86-64-v3
  --features=LIST       extra target features, e.g. +avx2,-fma
  --runtime-include=P   the path the header includes runtime/Aot.h by (default runtime/Aot.h)
  --pipeline=PASSES     passes to run before code generation (default: optimize, which fuses
                        elementwise chains into kernels); --pipeline= runs none
  --report-memory       print each function's per-call scratch arena (planned, and one range
                        per buffer) instead of writing files; needs every dim bound
  --bind NAME=N         the value of symbolic dim NAME for --report-memory (repeatable)
  --help                show this text
)";

struct Options {
  std::string input;
  cpu::AotOptions aot;
  bool reportMemory = false;
  ir::DimBindings binds;
  std::string pipeline = "optimize";
  bool help = false;
};

Expected<Options> parseArgs(int argc, char **argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto value = [&](std::string_view flag) -> Expected<std::string> {
      if (a.size() > flag.size() && a.substr(0, flag.size()) == flag && a[flag.size()] == '=')
        return std::string(a.substr(flag.size() + 1));
      if (i + 1 >= argc)
        return err(fmt::format("{} expects a value", flag));
      return std::string(argv[++i]);
    };
    auto is = [&](std::string_view flag) {
      return a == flag ||
             (a.size() > flag.size() && a.substr(0, flag.size()) == flag && a[flag.size()] == '=');
    };
    std::string *target = nullptr;
    if (a == "--help" || a == "-h") {
      o.help = true;
      continue;
    }
    if (a == "--report-memory") {
      o.reportMemory = true;
      continue;
    }
    if (is("--bind")) {
      auto v = value("--bind");
      WEFT_TRY(v.status());
      size_t eq = v->find('=');
      int64_t n = 0;
      const char *end = v->data() + v->size();
      if (eq == std::string::npos || eq == 0 ||
          std::from_chars(v->data() + eq + 1, end, n).ptr != end || eq + 1 == v->size() || n < 0)
        return err(fmt::format("--bind expects NAME=N with N >= 0, got '{}'", *v));
      o.binds[v->substr(0, eq)] = n;
      continue;
    }
    if (is("-o"))
      target = &o.aot.objectPath;
    else if (is("--header"))
      target = &o.aot.headerPath;
    else if (is("--cpu"))
      target = &o.aot.cpu;
    else if (is("--features"))
      target = &o.aot.features;
    else if (is("--runtime-include"))
      target = &o.aot.runtimeInclude;
    else if (is("--pipeline"))
      target = &o.pipeline;
    if (target) {
      std::string flag(a.substr(0, a.find('=')));
      if (flag == "--pipeline" && a == "--pipeline=") {
        o.pipeline.clear();
        continue;
      }
      auto v = value(flag);
      WEFT_TRY(v.status());
      *target = *v;
      continue;
    }
    if (!a.empty() && a[0] == '-')
      return err(fmt::format("unknown option '{}' (see --help)", a));
    if (!o.input.empty())
      return err(fmt::format("more than one input file: '{}' and '{}'", o.input, a));
    o.input = std::string(a);
  }
  if (o.help)
    return o;
  if (o.input.empty())
    return err("no input file (see --help)");
  if (o.reportMemory)
    return o;
  if (o.aot.objectPath.empty())
    return err("no object file: pass -o FILE");
  if (o.aot.headerPath.empty())
    return err("no header file: pass --header FILE");
  return o;
}

/// Prints, per function, the scratch arena a call allocates under `dims`.
Status reportMemory(const ir::Module &m, const ir::DimBindings &dims) {
  auto exe = cpu::compile(m);
  WEFT_TRY(exe.status());
  for (const auto &f : m.functions()) {
    auto r = (*exe)->memoryPlan(f->name(), dims);
    if (!r)
      return err(fmt::format("@{}: {}", f->name(), r.diag().message));
    double saved =
        r->unplannedBytes ? 100.0 * (1.0 - double(r->arenaBytes) / r->unplannedBytes) : 0;
    std::cout << fmt::format("@{}: arena {} bytes for {} buffers (one range each: {} bytes, "
                             "{:.1f}% saved)\n",
                             f->name(), r->arenaBytes, r->buffers, r->unplannedBytes, saved);
  }
  return {};
}

Status run(const Options &o) {
  std::ifstream in(o.input, std::ios::binary);
  if (!in)
    return err(fmt::format("cannot open '{}': {}", o.input, std::strerror(errno)));
  std::ostringstream ss;
  ss << in.rdbuf();
  auto m = ir::parseModule(ss.str(), o.input);
  WEFT_TRY(m.status());
  if ((*m)->functions().empty())
    return err(fmt::format("{} has no functions", o.input));
  if (!o.pipeline.empty()) {
    passes::PassManager pm(std::cerr);
    WEFT_TRY(pm.addPipeline(o.pipeline));
    WEFT_TRY(pm.run(**m));
  }
  if (o.reportMemory)
    return reportMemory(**m, o.binds);
  return cpu::compileToObject(**m, o.aot);
}

} // namespace

int main(int argc, char **argv) {
  try {
    auto opts = parseArgs(argc, argv);
    if (!opts) {
      std::cerr << "weftc: " << opts.diag().str() << "\n";
      return 1;
    }
    if (opts->help) {
      std::cout << kUsage;
      return 0;
    }
    Status s = run(*opts);
    if (!s) {
      std::cerr << "weftc: " << s.diag().str() << "\n";
      return 1;
    }
    return 0;
  } catch (const std::exception &e) {
    std::cerr << "weftc: " << e.what() << "\n";
    return 1;
  }
}
