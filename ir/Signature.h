//===- ir/Signature.h - matching call-time inputs to a function's types ---===//
#pragma once

#include "ir/Module.h"
#include "runtime/Array.h"

#include <span>
#include <string>
#include <vector>

namespace weft::ir {

/// What a caller must pass: the function's name and its parameters' names and types.
struct Signature {
  std::string name;
  std::vector<std::string> paramNames;
  std::vector<Type> paramTypes;
  /// The names of the returned values, in order (empty while the body is unfinished): how a
  /// training step's results are told apart (train::stepLayoutFromNames).
  std::vector<std::string> resultNames;

  static Signature of(const Function &f);

  /// Zeros of parameter `i`'s type, which must be static: the optimizer state a training step
  /// starts from.
  Expected<Array> zerosOf(size_t i) const;
};

/// Binds every parameter dim that is a plain symbol (B, T) from the input shapes, on top of
/// `dims`, then checks every input's dtype and shape against its parameter type. Errors name
/// the input ("input 1 (%W)"), both shapes, and who bound a conflicting symbol. Every backend
/// binds inputs through this, and symbols through runtime/SymbolBinder.h as AOT calls do, so
/// they all accept and reject the same calls with the same words.
Expected<DimBindings> bindInputs(const Signature &sig, std::span<const Array> inputs,
                                 DimBindings dims = {});

} // namespace weft::ir
