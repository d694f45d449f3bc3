//===- backends/Backend.cpp - what every Executable does the same way -----===//
#include "backends/Backend.h"

#include <fmt/format.h>

namespace weft::backends {

Executable::Executable(std::vector<ir::Signature> signatures)
    : signatures_(std::move(signatures)) {}

Executable::~Executable() = default;

const ir::Signature *Executable::signature(std::string_view function) const {
  for (const ir::Signature &s : signatures_)
    if (s.name == function)
      return &s;
  return nullptr;
}

Expected<std::vector<Array>> Executable::run(std::string_view function,
                                             std::span<const Array> inputs,
                                             const RunOptions &options) const {
  const ir::Signature *sig = signature(function);
  if (!sig)
    return err(fmt::format("no function @{} in the compiled module", function));
  auto bound = ir::bindInputs(*sig, inputs, options.dims);
  WEFT_TRY(bound.status());
  return runChecked(*sig, inputs, *bound);
}

std::vector<ir::Signature> signaturesOf(const ir::Module &module) {
  std::vector<ir::Signature> sigs;
  for (const auto &f : module.functions())
    sigs.push_back(ir::Signature::of(*f));
  return sigs;
}

} // namespace weft::backends
