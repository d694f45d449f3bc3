//===- backends/cpu/Aot.cpp - weft IR to an object file and a C header ----===//
//
// compileToObject(): verify, emit every function (EmitCore.cpp) under the name
// weft_<name>_entry, make every other definition internal, optimize with O3 for
// the chosen CPU (Jit.cpp's pipeline), emit a position-independent object with
// the legacy codegen pass manager, and write the object and header atomically.
//
//===----------------------------------------------------------------------===//
#include "backends/cpu/Aot.h"

#include "backends/cpu/Emitter.h"
#include "ir/Verifier.h"
#include "runtime/Aot.h"
#include "runtime/AtomicFile.h"

#include <fmt/format.h>
#include <llvm/ADT/SmallVector.h>
#include <llvm/IR/Constants.h>
#include <llvm/IR/GlobalVariable.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/IR/Verifier.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/Target/TargetOptions.h>
#include <llvm/TargetParser/Host.h>

#include <mutex>
#include <set>

namespace weft::cpu {
namespace {

static_assert(static_cast<int>(DType::F32) == WEFT_AOT_F32 &&
              static_cast<int>(DType::I1) == WEFT_AOT_I1);
static_assert(static_cast<int>(Fault::IndexOutOfRange) == WEFT_AOT_FAULT_INDEX_OUT_OF_RANGE &&
              static_cast<int>(Fault::ConstantCount) == WEFT_AOT_FAULT_CONSTANT_COUNT &&
              static_cast<int>(Fault::Collective) == WEFT_AOT_FAULT_COLLECTIVE);
static_assert(kStatusWords == 5);

Expected<std::unique_ptr<llvm::TargetMachine>> targetMachine(const AotOptions &o) {
  static std::once_flag targetsReady;
  std::call_once(targetsReady, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
  std::string triple = llvm::sys::getProcessTriple();
  std::string error;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return err(fmt::format("cannot target {}: {}", triple, error));
  std::string cpu = o.cpu.empty() || o.cpu == "native" ? llvm::sys::getHostCPUName().str() : o.cpu;
  if (!isKnownCpu(*target, triple, cpu))
    return err(fmt::format("unknown cpu '{}' for {}", cpu, triple));
  std::vector<std::string> features;
  if (o.cpu.empty() || o.cpu == "native")
    for (const auto &f : llvm::sys::getHostCPUFeatures())
      features.push_back((f.second ? "+" : "-") + f.first().str());
  if (!o.features.empty())
    features.push_back(o.features);
  std::string featureStr;
  for (const std::string &f : features)
    featureStr += (featureStr.empty() ? "" : ",") + f;
  llvm::TargetOptions to;
  std::unique_ptr<llvm::TargetMachine> tm(
      target->createTargetMachine(triple, cpu, featureStr, to, llvm::Reloc::PIC_, std::nullopt,
                                  llvm::CodeGenOptLevel::Aggressive));
  if (!tm)
    return err(fmt::format("cannot create a target machine for cpu '{}'", cpu));
  return tm;
}

} // namespace

Expected<int> targetVectorBytes(const std::string &cpu, const std::string &features) {
  AotOptions o;
  o.cpu = cpu;
  o.features = features;
  auto tm = targetMachine(o);
  WEFT_TRY(tm.status());
  return targetVectorBytes(**tm);
}

Status compileToObject(const ir::Module &module, const AotOptions &options) {
  WEFT_TRY(ir::verify(module));
  auto tm = targetMachine(options);
  WEFT_TRY(tm.status());

  llvm::LLVMContext ctx;
  llvm::Module m("weft", ctx);
  m.setDataLayout((*tm)->createDataLayout());
  m.setTargetTriple((*tm)->getTargetTriple().str());
  std::vector<FunctionPlan> plans;
  std::set<std::string> entries;
  for (const auto &f : module.functions()) {
    FunctionPlan plan;
    WEFT_TRY(emitFunction(m, *f, plan, **tm));
    std::string entry = "weft_" + aotIdentifier(f->name()) + "_entry";
    if (entries.count(entry))
      return err(
          fmt::format("functions @{} and another one share the C name {}", f->name(), entry));
    m.getFunction(plan.symbol)->setName(entry);
    plan.symbol = entry;
    entries.insert(entry);
    plans.push_back(std::move(plan));
  }
  // Only the entry points are visible: two models linked into one program do not clash.
  for (llvm::Function &fn : m)
    if (!fn.isDeclaration() && !entries.count(fn.getName().str()))
      fn.setLinkage(llvm::GlobalValue::InternalLinkage);
  for (llvm::GlobalVariable &g : m.globals())
    if (!g.isDeclaration())
      g.setLinkage(llvm::GlobalValue::InternalLinkage);
  // Each function's GPU code, as bytes the header points to (visible, as the entries are).
  std::set<std::string> gpuFunctions;
  for (const auto &[name, bytes] : options.gpuCode) {
    if (!module.function(name))
      return err(fmt::format("GPU code for @{}, which the module does not have", name));
    auto *data = llvm::ConstantDataArray::getRaw(llvm::StringRef(bytes.data(), bytes.size()),
                                                 bytes.size(), llvm::Type::getInt8Ty(ctx));
    auto *g = new llvm::GlobalVariable(m, data->getType(), /*isConstant=*/true,
                                       llvm::GlobalValue::ExternalLinkage, data,
                                       "weft_" + aotIdentifier(name) + "_gpu");
    g->setAlignment(llvm::Align(16));
    gpuFunctions.insert(name);
  }

  std::string verifyMsg;
  llvm::raw_string_ostream verifyOs(verifyMsg);
  if (llvm::verifyModule(m, &verifyOs))
    return err("cpu backend: generated invalid LLVM IR (a weft bug): " + verifyMsg);
  // Objects call glibc's libmvec from vectorized loops: binaries link weft_runtime, which
  // links it.
  mergeIdenticalFunctions(m);
  optimizeModule(m, **tm, 3, /*vectorMath=*/true);

  llvm::SmallVector<char, 0> object;
  llvm::raw_svector_ostream os(object);
  llvm::legacy::PassManager codegen;
  if ((*tm)->addPassesToEmitFile(codegen, os, nullptr, llvm::CodeGenFileType::ObjectFile))
    return err("cpu backend: the target cannot emit object files");
  codegen.run(m);

  WEFT_TRY(writeFileAtomically(options.objectPath, std::string_view(object.data(), object.size())));
  return writeFileAtomically(options.headerPath,
                             aotHeader(module, plans, options.runtimeInclude, gpuFunctions));
}

} // namespace weft::cpu
