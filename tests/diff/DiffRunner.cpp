//===- tests/diff/DiffRunner.cpp - oracle vs compiled, per dtype ----------===//
#include "tests/diff/DiffRunner.h"

#include "backends/Registry.h"
#include "backends/reference/Interpreter.h"
#include "ir/Parser.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"
#include "passes/PassManager.h"
#include "passes/Passes.h"

#include <fmt/format.h>

#include <cmath>
#include <map>
#include <random>
#include <sstream>

namespace weft::difftest {

namespace {

/// The upper bound of a len<k>_<bound> parameter, or nullopt for other parameters.
std::optional<int64_t> lengthBound(const std::string &name, const ir::DimBindings &dims) {
  if (name.rfind("len", 0) != 0)
    return std::nullopt;
  size_t us = name.rfind('_');
  if (us == std::string::npos)
    return std::nullopt;
  std::string bound = name.substr(us + 1);
  if (auto it = dims.find(bound); it != dims.end())
    return it->second;
  if (!bound.empty() && bound.find_first_not_of("0123456789") == std::string::npos)
    return std::stoll(bound);
  return std::nullopt;
}

/// FNV-1a: a hash of a name that is the same on every platform.
uint64_t nameHash(const std::string &name) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : name)
    h = (h ^ c) * 0x100000001b3ull;
  return h;
}

/// A fresh copy of `m` through its text, which must print back identically.
Expected<std::unique_ptr<ir::Module>> reparse(const ir::Module &m) {
  std::string text = ir::print(m);
  auto copy = ir::parseModule(text, "<difftest>");
  if (!copy)
    return err("the printed module does not parse: " + copy.diag().str());
  if (std::string again = ir::print(**copy); again != text)
    return err("print(parse(print(m))) differs from print(m)");
  return std::move(*copy);
}

/// Agreement of `got` (from `variant`) with the oracle's `want`. A pipeline may remove a fault
/// (DCE drops an unused division, simplify folds x * 0), as C compilers may, but never add one;
/// without passes both sides must fault or neither.
std::optional<Failure> judge(const Variant &variant, const Expected<std::vector<Array>> &got,
                             const Expected<std::vector<Array>> &want) {
  if (!want.isOk() || !got.isOk()) {
    if (want.isOk() == got.isOk())
      return std::nullopt; // both fault: agreement
    if (!want.isOk() && !variant.pipeline.empty())
      return std::nullopt;
    return Failure{variant.name, "fault",
                   want.isOk() ? "only the variant failed: " + got.diag().str()
                               : "only the interpreter failed: " + want.diag().str()};
  }
  if (got->size() != want->size())
    return Failure{variant.name, "value",
                   fmt::format("{} results vs the interpreter's {}", got->size(), want->size())};
  for (size_t r = 0; r < got->size(); ++r)
    if (auto diff = compareArrays((*got)[r], (*want)[r]))
      return Failure{variant.name, "value", fmt::format("result {}: {}", r, *diff)};
  return std::nullopt;
}

} // namespace

Expected<std::vector<Array>> makeInputs(const ir::Function &f, const ir::DimBindings &dims,
                                        uint64_t seed) {
  std::vector<Array> inputs;
  for (size_t p = 0; p < f.numParams(); ++p) {
    const ir::Value *param = f.param(p);
    // Each parameter draws from its own stream, named by the parameter, so the minimizer can
    // drop one parameter without changing the others' values.
    std::mt19937_64 rng(seed ^ nameHash(param->name()));
    const ir::Type &t = param->type();
    auto shape = t.evaluateShape(dims);
    WEFT_TRY(shape.status());
    Array a(t.dtype(), *shape);
    std::optional<int64_t> lenBound = lengthBound(param->name(), dims);
    for (int64_t i = 0; i < a.numel(); ++i) {
      if (lenBound)
        a.setInt(i, std::uniform_int_distribution<int64_t>(0, *lenBound)(rng));
      else if (isFloat(t.dtype()))
        a.setDouble(i, std::uniform_real_distribution<double>(-2.0, 2.0)(rng));
      else if (t.dtype() == DType::I1)
        a.setInt(i, std::uniform_int_distribution<int64_t>(0, 1)(rng));
      else
        a.setInt(i, std::uniform_int_distribution<int64_t>(-20, 20)(rng));
    }
    inputs.push_back(std::move(a));
  }
  return inputs;
}

std::vector<Variant> defaultVariants() {
  // The `train` pipeline without its autodiff: what it does to the forward function it keeps.
  std::string train;
  for (auto [alias, expansion] : passes::pipelineAliases())
    if (alias == "train")
      train = expansion;
  if (size_t at = train.find("autodiff,"); at != std::string::npos)
    train.erase(at, std::string_view("autodiff,").size());
  std::vector<Variant> variants;
  for (const backends::Backend *b : backends::registeredBackends()) {
    std::string name(b->name());
    if (b != &backends::referenceBackend()) // the reference as it is is the oracle
      variants.push_back({name, "", name});
    variants.push_back({name + "+optimize", "optimize", name});
    if (b != &backends::referenceBackend())
      variants.push_back({name + "+train-passes", train, name});
  }
  return variants;
}

// The float bound: |got - want| <= rtol * (|want| + scale), scale = max(1, max |want| of the
// array). Exact ops agree bit for bit (the generator makes jumps read only those), so the
// bound covers the inexact ones: libm vs LLVM's exp/log/tanh/sin and vector math differ by a
// few ulps per op, sums and GEMMs (up to 33 * T terms) add in another order, and the clamps
// and safe divisors keep every derivative at most ~4, so a chain of the generator's depth
// (at most 5 ops, times 2 nested loop bodies, times up to 5 steps of a carry) stays below
// 2^11 ulps: rtol = 2^-12 for f32 and 2^-40 for f64 (2^-52 ulps). The scale term is for
// cancellation: a difference of two values of size s carries their error, s * rtol, into a
// result that may be near 0. A real miscompile (a wrong element, index, mask or step) is an
// O(1) relative error, far above either bound.
std::optional<std::string> compareArrays(const Array &got, const Array &want) {
  if (got.dtype() != want.dtype() || got.shape() != want.shape())
    return fmt::format("got {} but the interpreter gives {}", got.typeStr(), want.typeStr());
  if (!isFloat(got.dtype())) {
    for (int64_t i = 0; i < got.numel(); ++i)
      if (got.getInt(i) != want.getInt(i))
        return fmt::format("element {}: got {} want {}", i, got.getInt(i), want.getInt(i));
    return std::nullopt;
  }
  double rtol = got.dtype() == DType::F32 ? 0x1p-12 : 0x1p-40;
  double scale = 1;
  for (int64_t i = 0; i < want.numel(); ++i)
    if (std::isfinite(want.getDouble(i)))
      scale = std::max(scale, std::fabs(want.getDouble(i)));
  for (int64_t i = 0; i < got.numel(); ++i) {
    double g = got.getDouble(i), w = want.getDouble(i);
    if ((std::isnan(g) && std::isnan(w)) || g == w)
      continue;
    if (std::fabs(g - w) <= rtol * (std::fabs(w) + scale))
      continue;
    return fmt::format("element {}: got {} want {} (allowed {:.3g})", i, g, w,
                       rtol * (std::fabs(w) + scale));
  }
  return std::nullopt;
}

std::optional<Failure> runDifferential(const ir::Module &m, const ir::DimBindings &dims,
                                       uint64_t inputSeed, const std::vector<Variant> &variants) {
  auto original = reparse(m);
  if (!original)
    return Failure{"roundtrip", "roundtrip", original.diag().str()};
  if (Status ok = ir::verify(**original); !ok.isOk())
    return Failure{"oracle", "verify", ok.message()};
  const ir::Function *f = (*original)->function("f");
  if (!f)
    return Failure{"oracle", "pipeline", "the module has no function @f"};
  auto inputs = makeInputs(*f, dims, inputSeed);
  if (!inputs)
    return Failure{"oracle", "pipeline", inputs.diag().str()};
  auto want = reference::run(*f, *inputs, dims);

  // Every variant's function goes into one module per backend as f_<i>, compiled once; a
  // variant whose function prints the same as an earlier one's on that backend (a pipeline
  // that changed nothing) reuses it.
  struct ForBackend {
    const backends::Backend *backend = nullptr;
    ir::Module module;
    std::map<std::string, std::string> nameOfText;
    std::unique_ptr<backends::Executable> exe;
  };
  std::map<std::string, ForBackend> perBackend;
  std::vector<std::string> compiledName(variants.size());
  for (size_t v = 0; v < variants.size(); ++v) {
    const Variant &var = variants[v];
    auto backend = backends::findBackend(var.backend);
    if (!backend)
      return Failure{var.name, "compile", backend.diag().str()};
    auto copy = reparse(m);
    if (!copy)
      return Failure{var.name, "roundtrip", copy.diag().str()};
    if (!var.pipeline.empty()) {
      std::ostringstream dumps;
      passes::PassManager pm(dumps);
      Status added = pm.addPipeline(var.pipeline);
      if (!added.isOk())
        return Failure{var.name, "pipeline", added.message()};
      if (Status ran = pm.run(**copy); !ran.isOk())
        return Failure{var.name, "pipeline", ran.message()};
      if (auto again = reparse(**copy); !again)
        return Failure{var.name, "roundtrip", "after " + var.pipeline + ": " + again.diag().str()};
    }
    ForBackend &fb = perBackend[var.backend];
    fb.backend = *backend;
    auto &fns = (*copy)->functions();
    std::string text = ir::print(*fns[0]);
    if (auto it = fb.nameOfText.find(text); it != fb.nameOfText.end()) {
      compiledName[v] = it->second;
      continue;
    }
    compiledName[v] = fb.nameOfText[text] = fmt::format("f_{}", v);
    fns[0]->setName(compiledName[v]);
    fb.module.functions().push_back(std::move(fns[0]));
  }
  for (auto &[name, fb] : perBackend) {
    auto exe = fb.backend->compile(fb.module);
    if (exe) {
      fb.exe = std::move(*exe);
      continue;
    }
    // Name the variant that does not compile.
    for (auto &fn : fb.module.functions()) {
      ir::Module one;
      std::string fnName = fn->name();
      one.functions().push_back(std::move(fn));
      size_t v = std::stoul(fnName.substr(2));
      if (auto e = fb.backend->compile(one); !e)
        return Failure{variants[v].name, "compile", e.diag().str()};
    }
    return Failure{name, "compile", exe.diag().str()};
  }
  for (size_t v = 0; v < variants.size(); ++v) {
    auto got =
        perBackend.at(variants[v].backend).exe->run(compiledName[v], *inputs, {.dims = dims});
    if (auto failure = judge(variants[v], got, want))
      return failure;
  }
  return std::nullopt;
}

} // namespace weft::difftest
