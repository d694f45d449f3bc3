//===- tools/weftc/main.cpp - ahead-of-time compile a .wir file -----------===//
//
//   weftc model.wir -o model.o --header model.h [--cpu=native|x86-64-v3] [--gpu=sm_90]
//   weftc model.wir --report-memory --bind T=100 --bind B=32
//
// Runs a pass pipeline first (`optimize` unless --pipeline says otherwise), then writes an object
// file with weft_<name>_entry for every function and a C header that describes them to
// runtime/Aot.h and declares typed wrappers. --gpu adds each function's GPU code (PTX and
// the plan of a call, backends/cuda/AotPlan.h), which runtime/CudaAot.h runs.
// --report-memory prints each function's buffer plan under the bound dims, as weft-opt does.
// Errors print as `weftc: <message>` and exit 1.
//
//===----------------------------------------------------------------------===//
#include "backends/cpu/Aot.h"
#include "backends/cpu/CpuBackend.h"
#ifdef WEFT_HAVE_CUDA_BACKEND
#include "backends/cuda/AotPlan.h"
#endif
#include "ir/Parser.h"
#include "passes/PassManager.h"
#include "tools/common/CommandLine.h"
#include "tools/common/MemoryReport.h"

#include <fmt/format.h>

#include <cerrno>
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
  --gpu=SM              also embed each function's GPU code for SM (sm_80 or sm_90): PTX and
                        the plan of a call, for functions of static shapes the CUDA backend
                        compiles (for others, the reason it does not); run by the runtime's
                        loader (runtime/CudaAot.h), e.g. with a native binary's --device cuda
  --runtime-include=P   the path the header includes runtime/Aot.h by (default runtime/Aot.h)
  --pipeline=PASSES     passes to run before code generation (default: optimize, which fuses
                        elementwise chains into kernels); --pipeline= runs none
  --report-memory       print each function's peak memory by its buffer plan (the per-call
                        arena, planned and one range per buffer, plus the results) for --cpu
                        instead of writing files; needs every dim bound
  --bind NAME=N         the value of symbolic dim NAME for --report-memory, and the value
                        --gpu's code is specialized to (repeatable)
  --help                show this text
)";

struct Options {
  std::vector<std::string> inputs;
  cpu::AotOptions aot;
  bool reportMemory = false;
  std::vector<std::string> binds;
  std::string pipeline = "optimize";
  std::string gpu;
  bool help = false;
};

Expected<Options> parseArgs(int argc, char **argv) {
  Options o;
  CLI::App app("weftc", "weftc");
  app.set_help_flag(); // kUsage is the help text
  app.allow_extras();
  app.add_flag("-h,--help", o.help);
  app.add_option("-o", o.aot.objectPath);
  app.add_option("--header", o.aot.headerPath);
  app.add_option("--cpu", o.aot.cpu);
  app.add_option("--features", o.aot.features);
  app.add_option("--runtime-include", o.aot.runtimeInclude);
  app.add_option("--gpu", o.gpu);
  app.add_option("--pipeline", o.pipeline)->expected(0, 1); // --pipeline= runs no passes
  app.add_flag("--report-memory", o.reportMemory);
  tool::addBindOption(app, o.binds, "the value of symbolic dim NAME");
  app.add_option("input", o.inputs);
  WEFT_TRY(tool::parseCommandLine(app, tool::argumentsOf(argc, argv)));
  if (o.help)
    return o;
  WEFT_TRY(tool::parseBinds(o.binds).status());
  if (o.inputs.empty())
    return err("no input file (see --help)");
  if (o.inputs.size() > 1)
    return err(fmt::format("more than one input file: '{}' and '{}'", o.inputs[0], o.inputs[1]));
  if (o.reportMemory)
    return o;
  if (o.aot.objectPath.empty())
    return err("no object file: pass -o FILE");
  if (o.aot.headerPath.empty())
    return err("no header file: pass --header FILE");
  return o;
}

Status run(const Options &o) {
  const std::string &input = o.inputs.front();
  std::ifstream in(input, std::ios::binary);
  if (!in)
    return err(fmt::format("cannot open '{}': {}", input, std::strerror(errno)));
  std::ostringstream ss;
  ss << in.rdbuf();
  auto m = ir::parseModule(ss.str(), input);
  WEFT_TRY(m.status());
  if ((*m)->functions().empty())
    return err(fmt::format("{} has no functions", input));
  if (!o.pipeline.empty()) {
    passes::PassManager pm(std::cerr);
    WEFT_TRY(pm.addPipeline(o.pipeline));
    WEFT_TRY(pm.run(**m));
  }
  if (o.reportMemory) {
    auto binds = tool::parseBinds(o.binds);
    WEFT_TRY(binds.status());
    return tool::printMemoryReport(**m, *binds, o.aot.cpu, o.aot.features, std::cout);
  }
  cpu::AotOptions aot = o.aot;
  if (!o.gpu.empty()) {
#ifdef WEFT_HAVE_CUDA_BACKEND
    auto binds = tool::parseBinds(o.binds);
    WEFT_TRY(binds.status());
    auto gpu = cuda::aotGpuCode(**m, o.gpu, *binds);
    WEFT_TRY(gpu.status());
    aot.gpuCode = std::move(*gpu);
#else
    return err("--gpu: this weftc was built without the CUDA backend (it needs LLVM's NVPTX "
               "target)");
#endif
  }
  return cpu::compileToObject(**m, aot);
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
