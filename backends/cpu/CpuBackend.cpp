//===- backends/cpu/CpuBackend.cpp - the JIT as a Backend -----------------===//
//
// Maps the backend interface onto cpu::compile and Executable::run; free of
// LLVM.
//
//===----------------------------------------------------------------------===//
#include "backends/cpu/CpuBackend.h"

namespace weft::cpu {
namespace {

class JitExecutable final : public backends::Executable {
public:
  JitExecutable(std::vector<ir::Signature> signatures, std::unique_ptr<cpu::Executable> native)
      : Executable(std::move(signatures)), native_(std::move(native)) {}

  const cpu::Executable &native() const { return *native_; }

protected:
  Expected<std::vector<Array>> runChecked(const ir::Signature &sig, std::span<const Array> inputs,
                                          const ir::DimBindings &dims) const override {
    return native_->run(sig.name, inputs, dims);
  }

private:
  std::unique_ptr<cpu::Executable> native_;
};

class CpuBackend final : public backends::Backend {
public:
  std::string_view name() const override { return "cpu"; }
  std::string_view description() const override {
    return "LLVM-generated native code for this machine's CPU (ORC JIT)";
  }
  Expected<std::unique_ptr<backends::Executable>>
  compile(const ir::Module &module, const backends::CompileOptions &options) const override {
    CompileOptions o;
    o.cpu = options.target.empty() ? "native" : options.target;
    o.features = options.features;
    o.optLevel = options.optLevel;
    o.dumpLLVM = options.dumpCode;
    auto native = cpu::compile(module, o);
    WEFT_TRY(native.status());
    return std::unique_ptr<backends::Executable>(
        std::make_unique<JitExecutable>(backends::signaturesOf(module), std::move(*native)));
  }
};

} // namespace

const backends::Backend &backend() {
  static const CpuBackend b;
  return b;
}

const Executable *nativeExecutable(const backends::Executable &exe) {
  auto *jit = dynamic_cast<const JitExecutable *>(&exe);
  return jit ? &jit->native() : nullptr;
}

} // namespace weft::cpu
