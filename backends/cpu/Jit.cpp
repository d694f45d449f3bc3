//===- backends/cpu/Jit.cpp - optimize for the host and JIT with ORC LLJIT -===//
//
// compile(): verify the weft module, emit one LLVM function per weft function
// (EmitCore.cpp), split the module into one partition per compile thread, each
// in its own LLVMContext, optimize (O2 by default, for the host CPU and its
// features) and compile the partitions to objects in parallel, and hand the
// objects to an LLJIT that links them, resolves libm symbols (tanhf, erff, ...)
// from the process and the runtime's (weft_parallel_for) by address, and looks
// up every entry point.
//
//===----------------------------------------------------------------------===//
#include "backends/cpu/Emitter.h"
#include "backends/cpu/PerfMap.h"
#include "ir/Verifier.h"
#include "runtime/Collective.h"
#include "runtime/Parallel.h"

#include <fmt/format.h>
#include <llvm/Analysis/TargetLibraryInfo.h>
#include <llvm/Bitcode/BitcodeReader.h>
#include <llvm/Bitcode/BitcodeWriter.h>
#include <llvm/ExecutionEngine/Orc/CompileUtils.h>
#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/ExecutionEngine/Orc/ObjectLinkingLayer.h>
#include <llvm/IR/Verifier.h>
#include <llvm/MC/MCSubtargetInfo.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/DynamicLibrary.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/TargetParser/Host.h>
#include <llvm/Transforms/IPO/MergeFunctions.h>
#include <llvm/Transforms/Utils/SplitModule.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <optional>
#include <thread>

namespace weft::cpu {
namespace {

Diag llvmError(const char *what, llvm::Error e) {
  return err(fmt::format("cpu backend: {}: {}", what, llvm::toString(std::move(e))));
}

/// Refuses a target whose instruction set this machine lacks (CompileOptions::cpu or
/// ::features naming a newer CPU): the JIT would run code that dies of an illegal instruction.
Status checkHostCanRun(const llvm::TargetMachine &tm) {
  static const char *const kIsaFeatures[] = {
      "sse3",       "ssse3",      "sse4.1",     "sse4.2",   "popcnt",   "avx",
      "avx2",       "fma",        "f16c",       "bmi",      "bmi2",     "lzcnt",
      "movbe",      "avx512f",    "avx512bw",   "avx512dq", "avx512vl", "avx512cd",
      "avx512vnni", "avx512bf16", "avx512fp16", "amx-tile", "avxvnni"};
  llvm::StringMap<bool> host = llvm::sys::getHostCPUFeatures();
  const llvm::MCSubtargetInfo *sti = tm.getMCSubtargetInfo();
  std::string missing;
  for (const char *f : kIsaFeatures) {
    auto it = host.find(f);
    bool hostHas = it != host.end() && it->second;
    if (!hostHas && sti->checkFeatures(std::string("+") + f))
      missing += (missing.empty() ? "" : ", ") + std::string(f);
  }
  if (!missing.empty())
    return err(fmt::format("cpu backend: cpu '{}' needs {}, which this machine lacks; the JIT "
                           "runs code here (compile for that cpu ahead of time with weftc)",
                           tm.getTargetCPU().str(), missing));
  return {};
}

/// How many partitions compile() splits a module of `functions` defined functions into:
/// `requested` (CompileOptions::compileThreads), or one per hardware thread, at most 8, and
/// none below about 8 functions a partition (a partition costs a bitcode round trip and the
/// pipeline's fixed work).
unsigned compilePartitions(size_t functions, int requested) {
  unsigned threads = requested > 0
                         ? static_cast<unsigned>(requested)
                         : std::max(1u, std::min(8u, std::thread::hardware_concurrency()));
  return static_cast<unsigned>(std::clamp<size_t>(functions / 8, 1, threads));
}

/// A module with the context it lives in: what one compile thread works on.
struct Partition {
  std::unique_ptr<llvm::LLVMContext> context;
  std::unique_ptr<llvm::Module> module;
};

/// `m` split into `n` modules, each in a context of its own so that threads can optimize and
/// compile them at once. Internal functions become hidden externals where a partition calls
/// into another; weft's kernels call each other only through weft_parallel_for's function
/// pointer or as out-of-line GEMM blocks, so nothing hot depended on inlining across them.
Expected<std::vector<Partition>> partition(std::unique_ptr<llvm::Module> m,
                                           std::unique_ptr<llvm::LLVMContext> ctx, unsigned n) {
  std::vector<Partition> parts;
  if (n <= 1) {
    parts.push_back({std::move(ctx), std::move(m)});
    return parts;
  }
  std::vector<llvm::SmallVector<char, 0>> bitcode;
  llvm::SplitModule(
      *m, n,
      [&](std::unique_ptr<llvm::Module> part) {
        llvm::raw_svector_ostream os(bitcode.emplace_back());
        llvm::WriteBitcodeToFile(*part, os);
      },
      /*PreserveLocals=*/false, /*RoundRobin=*/true);
  m.reset();
  ctx.reset();
  for (auto &code : bitcode) {
    Partition p{std::make_unique<llvm::LLVMContext>(), nullptr};
    auto part = llvm::parseBitcodeFile(llvm::MemoryBufferRef({code.data(), code.size()}, "weft"),
                                       *p.context);
    if (!part)
      return llvmError("cannot read back a partition of the module", part.takeError());
    p.module = std::move(*part);
    parts.push_back(std::move(p));
  }
  return parts;
}

/// Optimizes `part` and generates its object code, on the calling thread.
Expected<std::unique_ptr<llvm::MemoryBuffer>>
compilePartition(Partition &part, const llvm::orc::JITTargetMachineBuilder &tmb, int level,
                 bool vectorMath, bool dump, std::mutex &dumpLock) {
  auto tm = llvm::orc::JITTargetMachineBuilder(tmb).createTargetMachine();
  if (!tm)
    return llvmError("cannot create a target machine", tm.takeError());
  optimizeModule(*part.module, **tm, level, vectorMath);
  if (dump) {
    std::lock_guard<std::mutex> lock(dumpLock);
    llvm::errs() << "; weft cpu: optimized LLVM IR\n" << *part.module;
  }
  auto object = llvm::orc::SimpleCompiler(**tm)(*part.module);
  if (!object)
    return llvmError("cannot generate code", object.takeError());
  return std::move(*object);
}

} // namespace

bool vectorMathLibraryLoaded() {
  // glibc's libmvec: vector exp, log, sin, cos, pow. The loop vectorizer calls it from the
  // generated loops; the JIT finds its symbols in the process once it is loaded.
  static const bool loaded =
      !llvm::sys::DynamicLibrary::LoadLibraryPermanently("libmvec.so.1", nullptr);
  return loaded;
}

void optimizeModule(llvm::Module &m, llvm::TargetMachine &tm, int level, bool vectorMath) {
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PipelineTuningOptions pto;
  pto.LoopVectorization = level >= 2;
  pto.SLPVectorization = level >= 2;
  llvm::PassBuilder pb(&tm, pto);
  llvm::Triple triple(m.getTargetTriple());
  llvm::TargetLibraryInfoImpl tlii(triple);
  if (vectorMath && triple.isX86())
    tlii.addVectorizableFunctionsFromVecLib(llvm::TargetLibraryInfoImpl::LIBMVEC_X86, triple);
  fam.registerPass([&] { return llvm::TargetLibraryAnalysis(tlii); });
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::OptimizationLevel ol = level <= 0   ? llvm::OptimizationLevel::O0
                               : level == 1 ? llvm::OptimizationLevel::O1
                               : level == 2 ? llvm::OptimizationLevel::O2
                                            : llvm::OptimizationLevel::O3;
  llvm::ModulePassManager mpm =
      level <= 0 ? pb.buildO0DefaultPipeline(ol) : pb.buildPerModuleDefaultPipeline(ol);
  mpm.run(m, mam);
}

unsigned mergeIdenticalFunctions(llvm::Module &m) {
  // weft never compares the addresses of its internal functions (it only calls them, or hands
  // them to weft_parallel_for), so a duplicate can be replaced outright rather than kept as a
  // thunk into its twin.
  size_t before = 0;
  for (llvm::Function &fn : m) {
    before += !fn.isDeclaration();
    if (fn.hasLocalLinkage() && !fn.isDeclaration())
      fn.setUnnamedAddr(llvm::GlobalValue::UnnamedAddr::Global);
  }
  llvm::ModuleAnalysisManager mam;
  llvm::MergeFunctionsPass().run(m, mam);
  size_t after = 0;
  for (const llvm::Function &fn : m)
    after += !fn.isDeclaration();
  return static_cast<unsigned>(before - after);
}

/// The optimization level the JIT uses: CompileOptions::optLevel, lowered to WEFT_JIT_OPT_LEVEL
/// when that is set. A test-only knob: the sanitized CI build sets it (tests/CMakeLists.txt),
/// since there most of a test's time is LLVM optimizing code whose speed nobody measures; the
/// release build runs the same tests at the levels they ask for.
Expected<int> jitOptLevel(int requested) {
  const char *cap = std::getenv("WEFT_JIT_OPT_LEVEL");
  if (!cap || !*cap)
    return requested;
  if (std::strlen(cap) != 1 || cap[0] < '0' || cap[0] > '3')
    return err(fmt::format("cpu backend: WEFT_JIT_OPT_LEVEL must be 0, 1, 2 or 3, not '{}'", cap));
  return std::min(requested, cap[0] - '0');
}

bool isKnownCpu(const llvm::Target &target, const std::string &triple, const std::string &cpu) {
  std::unique_ptr<llvm::MCSubtargetInfo> sti(target.createMCSubtargetInfo(triple, "", ""));
  return sti && sti->isCPUStringValid(cpu);
}

Expected<std::unique_ptr<Executable>> compile(const ir::Module &module,
                                              const CompileOptions &options) {
  auto start = std::chrono::steady_clock::now();
  static std::once_flag targetsReady;
  std::call_once(targetsReady, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
  WEFT_TRY(ir::verify(module));
  auto optLevel = jitOptLevel(options.optLevel);
  if (!optLevel)
    return optLevel.diag();

  // WEFT_DEBUG=4 (or more) dumps the LLVM IR, like CompileOptions::dumpLLVM.
  const char *debugEnv = std::getenv("WEFT_DEBUG");
  bool dump = options.dumpLLVM || (debugEnv && std::atoi(debugEnv) >= 4);
  auto ctx = std::make_unique<llvm::LLVMContext>();
  auto m = std::make_unique<llvm::Module>("weft", *ctx);
  auto jtmb = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!jtmb)
    return llvmError("cannot target the host", jtmb.takeError());
  if (options.cpu != "native") {
    std::string triple = jtmb->getTargetTriple().str(), error;
    const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, error);
    if (!target || !isKnownCpu(*target, triple, options.cpu))
      return err(fmt::format("cpu backend: unknown cpu '{}' for {}", options.cpu, triple));
    jtmb->setCPU(options.cpu);
    jtmb->getFeatures() = llvm::SubtargetFeatures(); // the named CPU's features, not the host's
  }
  if (!options.features.empty()) {
    llvm::SmallVector<llvm::StringRef> features;
    llvm::StringRef(options.features).split(features, ',', -1, false);
    jtmb->addFeatures(std::vector<std::string>(features.begin(), features.end()));
  }
  jtmb->setCodeGenOptLevel(*optLevel >= 3 ? llvm::CodeGenOptLevel::Aggressive
                                          : llvm::CodeGenOptLevel::Default);
  auto tm = jtmb->createTargetMachine();
  if (!tm)
    return llvmError("cannot create a target machine", tm.takeError());
  WEFT_TRY(checkHostCanRun(**tm));
  auto impl = std::make_unique<CompiledFunctions>();
  for (const auto &f : module.functions()) {
    FunctionPlan plan;
    WEFT_TRY(emitFunction(*m, *f, plan, **tm));
    impl->functions.push_back(std::move(plan));
  }
  std::string verifyMsg;
  llvm::raw_string_ostream verifyOs(verifyMsg);
  if (llvm::verifyModule(*m, &verifyOs))
    return err("cpu backend: generated invalid LLVM IR (a weft bug): " + verifyMsg);

  m->setDataLayout((*tm)->createDataLayout());
  m->setTargetTriple((*tm)->getTargetTriple().str());
  if (*optLevel > 0)
    mergeIdenticalFunctions(*m);
  if (dump)
    llvm::errs() << "; weft cpu: generated LLVM IR\n" << *m;
  size_t defined = 0;
  for (const llvm::Function &fn : *m)
    defined += !fn.isDeclaration();
  unsigned threads = compilePartitions(defined, options.compileThreads);
  auto parts = partition(std::move(m), std::move(ctx), threads);
  if (!parts)
    return parts.diag();
  // Each partition is optimized and compiled to an object on a thread of its own (the first
  // on this one); the JIT then only links the objects.
  std::vector<std::optional<Expected<std::unique_ptr<llvm::MemoryBuffer>>>> objects(parts->size());
  std::mutex dumpLock;
  bool vectorMath = vectorMathLibraryLoaded();
  auto work = [&](size_t i) {
    objects[i].emplace(compilePartition((*parts)[i], *jtmb, *optLevel, vectorMath, dump, dumpLock));
  };
  std::vector<std::thread> workers;
  for (size_t i = 1; i < parts->size(); ++i)
    workers.emplace_back(work, i);
  work(0);
  for (std::thread &w : workers)
    w.join();

  llvm::orc::LLJITBuilder builder;
  builder.setJITTargetMachineBuilder(*jtmb);
  if (perfMapRequested())
    builder.setObjectLinkingLayerCreator(
        [](llvm::orc::ExecutionSession &session,
           const llvm::Triple &) -> llvm::Expected<std::unique_ptr<llvm::orc::ObjectLayer>> {
          auto layer = std::make_unique<llvm::orc::ObjectLinkingLayer>(session);
          addPerfMapPlugin(*layer);
          return std::unique_ptr<llvm::orc::ObjectLayer>(std::move(layer));
        });
  auto jit = builder.create();
  if (!jit)
    return llvmError("cannot create the JIT", jit.takeError());
  auto gen = llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
      (*jit)->getDataLayout().getGlobalPrefix());
  if (!gen)
    return llvmError("cannot search the process for symbols", gen.takeError());
  (*jit)->getMainJITDylib().addGenerator(std::move(*gen));
  // The runtime's entry points are linked statically, so not in the process's dynamic symbols.
  llvm::orc::SymbolMap runtimeSymbols;
  runtimeSymbols[(*jit)->mangleAndIntern("weft_parallel_for")] = {
      llvm::orc::ExecutorAddr::fromPtr(&weft_parallel_for), llvm::JITSymbolFlags::Exported};
  runtimeSymbols[(*jit)->mangleAndIntern("weft_num_threads")] = {
      llvm::orc::ExecutorAddr::fromPtr(&weft_num_threads), llvm::JITSymbolFlags::Exported};
  runtimeSymbols[(*jit)->mangleAndIntern("weft_all_reduce_start")] = {
      llvm::orc::ExecutorAddr::fromPtr(&weft_all_reduce_start), llvm::JITSymbolFlags::Exported};
  runtimeSymbols[(*jit)->mangleAndIntern("weft_all_reduce_wait")] = {
      llvm::orc::ExecutorAddr::fromPtr(&weft_all_reduce_wait), llvm::JITSymbolFlags::Exported};
  runtimeSymbols[(*jit)->mangleAndIntern("weft_all_reduce_progress")] = {
      llvm::orc::ExecutorAddr::fromPtr(&weft_all_reduce_progress), llvm::JITSymbolFlags::Exported};
  if (auto e =
          (*jit)->getMainJITDylib().define(llvm::orc::absoluteSymbols(std::move(runtimeSymbols))))
    return llvmError("cannot define the runtime's symbols", std::move(e));
  for (auto &object : objects) {
    if (!*object)
      return object->diag();
    if (auto e = (*jit)->addObjectFile(std::move(**object)))
      return llvmError("cannot add the code", std::move(e));
  }
  llvm::orc::SymbolLookupSet entries;
  for (const FunctionPlan &plan : impl->functions)
    entries.add((*jit)->mangleAndIntern(plan.symbol));
  auto found = (*jit)->getExecutionSession().lookup(
      llvm::orc::makeJITDylibSearchOrder(&(*jit)->getMainJITDylib()), std::move(entries));
  if (!found)
    return llvmError("cannot find compiled code", found.takeError());
  for (FunctionPlan &plan : impl->functions)
    plan.entry = (*found)[(*jit)->mangleAndIntern(plan.symbol)].getAddress().toPtr<EntryFn>();
  impl->jit = std::shared_ptr<llvm::orc::LLJIT>(std::move(*jit));
  impl->compileMillis =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return std::make_unique<Executable>(std::move(impl));
}

} // namespace weft::cpu
