//===- backends/cuda/Ptx.cpp ----------------------------------------------===//
#include "backends/cuda/Ptx.h"

#include <fmt/format.h>
#include <llvm/ADT/SmallString.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/CodeGen.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>

#include <mutex>

extern "C" {
void LLVMInitializeNVPTXTargetInfo();
void LLVMInitializeNVPTXTarget();
void LLVMInitializeNVPTXTargetMC();
void LLVMInitializeNVPTXAsmPrinter();
}

namespace weft::cuda {
namespace {

constexpr const char *kTriple = "nvptx64-nvidia-cuda";
// PTX ISA 7.8 is the first with sm_90; every driver that runs an sm_90 GPU reads it.
constexpr const char *kPtxFeatures = "+ptx78";

Expected<std::unique_ptr<llvm::TargetMachine>> targetMachine(const std::string &sm, int opt) {
  static std::once_flag once;
  std::call_once(once, [] {
    LLVMInitializeNVPTXTargetInfo();
    LLVMInitializeNVPTXTarget();
    LLVMInitializeNVPTXTargetMC();
    LLVMInitializeNVPTXAsmPrinter();
  });
  std::string error;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(kTriple, error);
  if (!target)
    return err(fmt::format("this LLVM has no NVPTX target: {}", error));
  llvm::TargetOptions options;
  auto level = opt >= 3   ? llvm::CodeGenOptLevel::Aggressive
               : opt == 0 ? llvm::CodeGenOptLevel::None
                          : llvm::CodeGenOptLevel::Default;
  std::unique_ptr<llvm::TargetMachine> tm(target->createTargetMachine(
      kTriple, sm, kPtxFeatures, options, llvm::Reloc::PIC_, std::nullopt, level));
  if (!tm)
    return err(fmt::format("LLVM cannot make an NVPTX target machine for {}", sm));
  return tm;
}

} // namespace

bool isSupportedSm(const std::string &sm) { return sm == "sm_80" || sm == "sm_90"; }

std::unique_ptr<llvm::Module> newKernelModule(llvm::LLVMContext &ctx, const std::string &name) {
  auto m = std::make_unique<llvm::Module>(name, ctx);
  m->setTargetTriple(kTriple);
  // NVPTX's 64-bit data layout (as clang sets it for CUDA device code).
  m->setDataLayout("e-i64:64-i128:128-v16:16-v32:32-n16:32:64");
  return m;
}

Expected<std::string> compileToPtx(llvm::Module &m, const std::string &sm, int optLevel) {
  if (!isSupportedSm(sm))
    return err(fmt::format("weft compiles CUDA kernels for sm_80 and sm_90, not '{}'", sm));
  std::string broken;
  llvm::raw_string_ostream why(broken);
  if (llvm::verifyModule(m, &why))
    return err(fmt::format("weft generated an invalid kernel module (a bug in weft): {}", broken));
  auto tmOr = targetMachine(sm, optLevel);
  if (!tmOr)
    return tmOr.diag();
  llvm::TargetMachine &tm = **tmOr;
  m.setDataLayout(tm.createDataLayout());

  if (optLevel > 0) {
    llvm::LoopAnalysisManager lam;
    llvm::FunctionAnalysisManager fam;
    llvm::CGSCCAnalysisManager cgam;
    llvm::ModuleAnalysisManager mam;
    llvm::PassBuilder pb(&tm);
    pb.registerModuleAnalyses(mam);
    pb.registerCGSCCAnalyses(cgam);
    pb.registerFunctionAnalyses(fam);
    pb.registerLoopAnalyses(lam);
    pb.crossRegisterProxies(lam, fam, cgam, mam);
    auto level = optLevel >= 3 ? llvm::OptimizationLevel::O3 : llvm::OptimizationLevel::O2;
    pb.buildPerModuleDefaultPipeline(level).run(m, mam);
  }

  llvm::SmallString<0> ptx;
  llvm::raw_svector_ostream out(ptx);
  llvm::legacy::PassManager pm;
  if (tm.addPassesToEmitFile(pm, out, nullptr, llvm::CodeGenFileType::AssemblyFile))
    return err("LLVM's NVPTX target cannot print PTX");
  pm.run(m);
  return std::string(ptx.str());
}

} // namespace weft::cuda
