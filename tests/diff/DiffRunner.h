//===- tests/diff/DiffRunner.h - one program, every backend and pipeline ---===//
//
// Runs @f of a module on the reference interpreter (the oracle) and in each
// variant, on every registered backend (backends/Registry.h): the module as
// it is, after `optimize`, and after the train pipeline's passes that apply
// to a program without gradients. Results are compared per dtype
// (compareArrays); an error on both sides (a fault) is agreement, an error on
// one side only is a failure, except that a pipeline may remove a fault (DCE
// of an unused division) but never add one. Before anything runs, the module must print,
// parse and print back to the same text.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Module.h"
#include "runtime/Array.h"

#include <optional>
#include <string>
#include <vector>

namespace weft::difftest {

/// Seeded inputs for the parameters of `f` under `dims`: floats in [-2, 2], integers in
/// [-20, 20], i1 fair coins. A parameter named len<k>_<bound> holds scan lengths, drawn in
/// [0, bound] (a number or a symbol of `dims`). Each parameter's values depend only on the seed
/// and its name.
Expected<std::vector<Array>> makeInputs(const ir::Function &f, const ir::DimBindings &dims,
                                        uint64_t seed);

/// One way of running the program besides the oracle.
struct Variant {
  std::string name;
  std::string pipeline; ///< passes run first ("" for none)
  std::string backend;  ///< a registered backend (backends/Registry.h)
};

/// For every registered backend: the module as it is (except on the reference, the oracle),
/// after `optimize`, and after the train pipeline's passes without autodiff (except on the
/// reference): cpu, reference+optimize, cpu+optimize, cpu+train-passes.
std::vector<Variant> defaultVariants();

/// How a variant disagreed with the oracle.
struct Failure {
  std::string variant;
  /// verify | roundtrip | pipeline | compile | fault (one side failed) | value
  std::string kind;
  std::string message;
  std::string str() const { return variant + ": " + kind + ": " + message; }
};

/// Where `got` differs from `want`, or nullopt when they agree: dtype and shape exactly,
/// integers and i1 exactly, floats within a bound for the dtype (see DiffRunner.cpp).
std::optional<std::string> compareArrays(const Array &got, const Array &want);

/// Runs @f of `m` on the oracle and on every variant with the inputs of `inputSeed`, and
/// returns the first disagreement.
std::optional<Failure> runDifferential(const ir::Module &m, const ir::DimBindings &dims,
                                       uint64_t inputSeed, const std::vector<Variant> &variants);

} // namespace weft::difftest
