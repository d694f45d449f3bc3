//===- backends/reference/ReferenceBackend.cpp - the interpreter as a Backend ===//
#include "backends/reference/ReferenceBackend.h"

#include "backends/reference/Interpreter.h"
#include "ir/Clone.h"
#include "ir/Verifier.h"

namespace weft::reference {
namespace {

/// A copy of the module, interpreted on every call.
class InterpretedModule final : public backends::Executable {
public:
  explicit InterpretedModule(std::unique_ptr<ir::Module> module)
      : Executable(backends::signaturesOf(*module)), module_(std::move(module)) {}

protected:
  Expected<std::vector<Array>> runChecked(const ir::Signature &sig, std::span<const Array> inputs,
                                          const ir::DimBindings &dims) const override {
    return reference::run(*module_->function(sig.name), inputs, dims);
  }

private:
  std::unique_ptr<const ir::Module> module_;
};

class ReferenceBackend final : public backends::Backend {
public:
  std::string_view name() const override { return "reference"; }
  std::string_view description() const override {
    return "the reference interpreter: plain loops, the oracle";
  }
  Expected<std::unique_ptr<backends::Executable>>
  compile(const ir::Module &module, const backends::CompileOptions &) const override {
    WEFT_TRY(ir::verify(module));
    auto copy = std::make_unique<ir::Module>();
    for (const auto &f : module.functions())
      ir::cloneFunction(*copy, *f, f->name());
    return std::unique_ptr<backends::Executable>(
        std::make_unique<InterpretedModule>(std::move(copy)));
  }
};

} // namespace

const backends::Backend &backend() {
  static const ReferenceBackend b;
  return b;
}

} // namespace weft::reference
