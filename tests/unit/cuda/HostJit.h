// Compiles LLVM modules for this machine and looks up their functions: how the CUDA backend's
// target-independent IR (its math, its kernel bodies built for KernelTarget::Host) runs in tests.
#pragma once

#include <doctest/doctest.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/TargetSelect.h>

#include <memory>
#include <string>

namespace weft::testing {

class HostJit {
public:
  HostJit() {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    auto jit = llvm::orc::LLJITBuilder().create();
    REQUIRE(bool(jit));
    jit_ = std::move(*jit);
  }
  /// A module with this machine's data layout, in a context of its own, to fill and add().
  std::pair<std::unique_ptr<llvm::LLVMContext>, std::unique_ptr<llvm::Module>> newModule() {
    auto ctx = std::make_unique<llvm::LLVMContext>();
    auto m = std::make_unique<llvm::Module>("host", *ctx);
    m->setDataLayout(jit_->getDataLayout());
    m->setTargetTriple(jit_->getTargetTriple().str());
    return {std::move(ctx), std::move(m)};
  }
  void add(std::unique_ptr<llvm::LLVMContext> ctx, std::unique_ptr<llvm::Module> m) {
    auto err = jit_->addIRModule(llvm::orc::ThreadSafeModule(std::move(m), std::move(ctx)));
    REQUIRE_FALSE(bool(err));
  }
  template <class Fn> Fn lookup(const std::string &name) {
    auto sym = jit_->lookup(name);
    REQUIRE(bool(sym));
    return sym->toPtr<Fn>();
  }

private:
  std::unique_ptr<llvm::orc::LLJIT> jit_;
};

} // namespace weft::testing
