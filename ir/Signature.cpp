//===- ir/Signature.cpp ---------------------------------------------------===//
#include "ir/Signature.h"

#include <fmt/format.h>

#include <map>

namespace weft::ir {
namespace {

std::string inputName(const Signature &sig, size_t i) {
  const std::string &n = sig.paramNames[i];
  return n.empty() ? fmt::format("input {}", i) : fmt::format("input {} (%{})", i, n);
}

} // namespace

Signature Signature::of(const Function &f) {
  Signature sig{f.name(), {}, {}};
  for (Value *p : f.body().args()) {
    sig.paramNames.push_back(p->name());
    sig.paramTypes.push_back(p->type());
  }
  return sig;
}

Expected<DimBindings> bindInputs(const Signature &sig, std::span<const Array> inputs,
                                 DimBindings dims) {
  if (inputs.size() != sig.paramTypes.size())
    return err(fmt::format("function @{} expected {} inputs, got {}", sig.name,
                           sig.paramTypes.size(), inputs.size()));
  std::map<std::string, std::string, std::less<>> boundBy;
  for (const auto &[sym, n] : dims)
    boundBy[sym] = "the caller";
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Type &t = sig.paramTypes[i];
    const Array &in = inputs[i];
    if (in.dtype() != t.dtype())
      return err(fmt::format("{} has dtype {} but the function expects {}", inputName(sig, i),
                             dtypeName(in.dtype()), dtypeName(t.dtype())));
    if (in.rank() != t.rank())
      return err(fmt::format("{} has shape {} but the function expects {}", inputName(sig, i),
                             formatShape(in.shape()), t.shapeStr()));
    for (int64_t a = 0; a < t.rank(); ++a) {
      const Dim &d = t.dim(a);
      if (d.coeff() != 1 || d.symbols().size() != 1)
        continue;
      const std::string &sym = d.symbols()[0];
      int64_t n = in.shape()[a];
      auto it = dims.find(sym);
      if (it == dims.end()) {
        dims[sym] = n;
        boundBy[sym] = fmt::format("input {}", i);
      } else if (it->second != n) {
        return err(fmt::format("{}: dim {} is bound to {} by {} but input {} has {} on axis {}",
                               inputName(sig, i), sym, it->second, boundBy[sym], i, n, a));
      }
    }
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    auto want = sig.paramTypes[i].evaluateShape(dims);
    if (!want)
      return err(fmt::format("{}: {}", inputName(sig, i), want.diag().message));
    if (*want != inputs[i].shape())
      return err(fmt::format("{} has shape {} but the function expects {}", inputName(sig, i),
                             formatShape(inputs[i].shape()), formatShape(*want)));
  }
  return dims;
}

} // namespace weft::ir
