//===- ir/Signature.cpp ---------------------------------------------------===//
#include "ir/Signature.h"

#include "runtime/SymbolBinder.h"

#include <fmt/format.h>

#include <algorithm>

namespace weft::ir {
namespace {

std::string inputName(const Signature &sig, size_t i) { return inputLabel(i, sig.paramNames[i]); }

/// The symbols the caller gave, then those the parameter types name, each once.
std::vector<std::string> symbolNames(const Signature &sig, const DimBindings &dims) {
  std::vector<std::string> names;
  for (const auto &[sym, n] : dims)
    names.push_back(sym);
  for (const Type &t : sig.paramTypes)
    for (const Dim &d : t.dims())
      for (const std::string &sym : d.symbols())
        if (std::find(names.begin(), names.end(), sym) == names.end())
          names.push_back(sym);
  return names;
}

} // namespace

Signature Signature::of(const Function &f) {
  Signature sig{f.name(), {}, {}, {}};
  for (Value *p : f.body().args()) {
    sig.paramNames.push_back(p->name());
    sig.paramTypes.push_back(p->type());
  }
  if (const Op *ret = f.returnOp())
    for (const Value *v : ret->operands())
      sig.resultNames.push_back(v->name());
  return sig;
}

Expected<Array> Signature::zerosOf(size_t i) const {
  if (i >= paramTypes.size())
    return err(fmt::format("@{} has no parameter {}", name, i));
  const Type &t = paramTypes[i];
  if (!t.isStatic())
    return err(fmt::format("@{}: parameter '{}' has a symbolic shape; it has no zeros of its own",
                           name, paramNames[i]));
  std::vector<int64_t> shape;
  for (const Dim &d : t.dims())
    shape.push_back(d.size());
  return Array(t.dtype(), shape);
}

Expected<DimBindings> bindInputs(const Signature &sig, std::span<const Array> inputs,
                                 DimBindings dims) {
  if (inputs.size() != sig.paramTypes.size())
    return err(fmt::format("function @{} expected {} inputs, got {}", sig.name,
                           sig.paramTypes.size(), inputs.size()));
  SymbolBinder binder(symbolNames(sig, dims));
  for (const auto &[sym, n] : dims)
    WEFT_TRY(binder.bindGiven(binder.find(sym), n));
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
      WEFT_TRY(
          binder.bindFromInput(binder.find(d.symbols()[0]), in.shape()[a], inputName(sig, i), a));
    }
  }
  for (size_t s = 0; s < binder.size(); ++s)
    if (binder.isBound(s))
      dims[binder.name(s)] = binder.values()[s];
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
