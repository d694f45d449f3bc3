//===- backends/cpu/Jit.cpp - optimize for the host and JIT with ORC LLJIT -===//
//
// compile(): verify the weft module, emit one LLVM function per weft function
// (EmitCore.cpp), run the O3 pipeline (loop and SLP vectorizers on) for the
// host CPU and its features, hand the module to an LLJIT that resolves libm
// symbols (tanhf, erff, ...) from the process and the runtime's (weft_parallel_for)
// by address, and look up every entry point.
//
//===----------------------------------------------------------------------===//
#include "backends/cpu/Emitter.h"
#include "ir/Verifier.h"
#include "runtime/Collective.h"
#include "runtime/Parallel.h"

#include <fmt/format.h>
#include <llvm/Analysis/TargetLibraryInfo.h>
#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/IR/Verifier.h>
#include <llvm/MC/MCSubtargetInfo.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/DynamicLibrary.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/TargetParser/Host.h>

#include <chrono>
#include <cstdlib>
#include <mutex>

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
  jtmb->setCodeGenOptLevel(options.optLevel >= 3 ? llvm::CodeGenOptLevel::Aggressive
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
  if (dump)
    llvm::errs() << "; weft cpu: generated LLVM IR\n" << *m;
  optimizeModule(*m, **tm, options.optLevel, vectorMathLibraryLoaded());
  if (dump)
    llvm::errs() << "; weft cpu: optimized LLVM IR\n" << *m;

  auto jit = llvm::orc::LLJITBuilder().setJITTargetMachineBuilder(std::move(*jtmb)).create();
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
  if (auto e = (*jit)->addIRModule(llvm::orc::ThreadSafeModule(std::move(m), std::move(ctx))))
    return llvmError("cannot add the module", std::move(e));
  for (FunctionPlan &plan : impl->functions) {
    auto addr = (*jit)->lookup(plan.symbol);
    if (!addr)
      return llvmError("cannot find compiled code", addr.takeError());
    plan.entry = addr->toPtr<EntryFn>();
  }
  impl->jit = std::shared_ptr<llvm::orc::LLJIT>(std::move(*jit));
  impl->compileMillis =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return std::make_unique<Executable>(std::move(impl));
}

} // namespace weft::cpu
