//===- tools/weft-run/main.cpp - run IR on a backend ----------------------===//
//
//   weft-run model.wir --input xs=xs.npy --bind B=4 --print --save-dir out/ --backend cpu
//
// Parameters without --input get seeded random values; errors print
// "weft-run: <message>" and exit 1.
//
//===----------------------------------------------------------------------===//
#include "Format.h"
#include "Options.h"
#include "backends/Registry.h"
#include "ir/Parser.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"
#include "runtime/Npy.h"
#include "runtime/Random.h"

#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

namespace weft::tool {
namespace {

Expected<std::string> readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return err(fmt::format("cannot open '{}': {}", path, std::strerror(errno)));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Uniform [-1, 1) floats, integers in {0, 1, 2, 3}, or random bools; stream `seed`, one
/// sub-stream per parameter.
Array randomArray(DType dt, const std::vector<int64_t> &shape, int64_t seed, size_t param) {
  Array a(dt, shape);
  auto stream = static_cast<int64_t>(random::bits(seed, param));
  for (int64_t i = 0; i < a.numel(); ++i) {
    double u = random::uniformF64(stream, static_cast<uint64_t>(i));
    if (isFloat(dt))
      a.setDouble(i, 2 * u - 1);
    else
      a.setInt(i, static_cast<int64_t>(u * (dt == DType::I1 ? 2 : 4)));
  }
  return a;
}

/// Reads the --input files and makes random arrays for the other parameters.
Expected<std::vector<Array>> makeInputs(const ir::Function &f, const RunOptions &o,
                                        ir::DimBindings &dims) {
  std::set<std::string> names;
  for (size_t i = 0; i < f.numParams(); ++i)
    names.insert(f.param(i)->name());
  for (const auto &[name, path] : o.inputs)
    if (!names.count(name))
      return err(fmt::format("function @{} has no parameter %{}", f.name(), name));
  std::vector<Array> inputs(f.numParams());
  // Files first: their shapes bind the plain symbols of their parameter types.
  for (size_t i = 0; i < f.numParams(); ++i) {
    auto it = o.inputs.find(f.param(i)->name());
    if (it == o.inputs.end())
      continue;
    auto a = readNpy(it->second);
    WEFT_TRY(a.status());
    const ir::Type &t = f.param(i)->type();
    for (int64_t d = 0; d < t.rank() && d < a->rank(); ++d) {
      const ir::Dim &dim = t.dim(d);
      if (dim.coeff() == 1 && dim.symbols().size() == 1)
        dims.emplace(dim.symbols()[0], a->shape()[d]);
    }
    inputs[i] = std::move(*a);
  }
  for (size_t i = 0; i < f.numParams(); ++i) {
    if (o.inputs.count(f.param(i)->name()))
      continue;
    const ir::Type &t = f.param(i)->type();
    for (const ir::Dim &d : t.dims())
      for (const std::string &s : d.symbols())
        if (!dims.count(s))
          return err(fmt::format("dim {} is not bound: pass --bind {}=N (needed for the random "
                                 "input %{})",
                                 s, s, f.param(i)->name()));
    inputs[i] = randomArray(t.dtype(), *t.evaluateShape(dims), o.seed, i);
  }
  return inputs;
}

/// File-safe, unique names for the results: the returned values' names where possible.
std::vector<std::string> resultNames(const ir::Function &f) {
  std::vector<std::string> names;
  std::set<std::string> used;
  const ir::Op *ret = f.returnOp();
  for (size_t i = 0; ret && i < ret->numOperands(); ++i) {
    std::string n = ret->operand(i)->name();
    if (n.empty() || n[0] == '.' || used.count(n))
      n = fmt::format("result{}", i);
    used.insert(n);
    names.push_back(n);
  }
  return names;
}

Status runTool(const RunOptions &o) {
  auto backend = backends::findBackend(o.backend);
  WEFT_TRY(backend.status());
  auto text = readFile(o.file);
  WEFT_TRY(text.status());
  auto m = ir::parseModule(*text, o.file);
  WEFT_TRY(m.status());
  WEFT_TRY(ir::verify(**m));
  if ((*m)->functions().empty())
    return err(fmt::format("{} has no functions", o.file));
  const ir::Function *f = o.func.empty() ? (*m)->functions()[0].get() : (*m)->function(o.func);
  if (!f)
    return err(fmt::format("{} has no function @{}", o.file, o.func));
  ir::DimBindings dims = o.binds;
  auto inputs = makeInputs(*f, o, dims);
  WEFT_TRY(inputs.status());
  auto exe = (*backend)->compile(**m);
  WEFT_TRY(exe.status());
  auto results = (*exe)->run(f->name(), *inputs, {.dims = o.binds});
  WEFT_TRY(results.status());
  std::vector<std::string> names = resultNames(*f);
  std::vector<ir::Type> types = f->resultTypes();
  for (size_t i = 0; i < results->size(); ++i) {
    const Array &r = (*results)[i];
    if (o.print)
      std::printf("%%%s: %s = %s\n%s\n", names[i].c_str(), types[i].str().c_str(),
                  r.typeStr().c_str(), formatArray(r).c_str());
    if (!o.saveDir.empty())
      WEFT_TRY(writeNpy(o.saveDir + "/" + names[i] + ".npy", r));
  }
  return {};
}

} // namespace
} // namespace weft::tool

int main(int argc, char **argv) {
  using namespace weft;
  try {
    auto opts = tool::parseArgs(argc - 1, argv + 1);
    if (!opts) {
      std::fprintf(stderr, "weft-run: %s\n", opts.diag().str().c_str());
      return 1;
    }
    if (opts->help) {
      std::fputs(tool::kUsage, stdout);
      return 0;
    }
    Status s = tool::runTool(*opts);
    if (!s) {
      std::fprintf(stderr, "weft-run: %s\n", s.message().c_str());
      return 1;
    }
    return 0;
  } catch (const std::exception &e) {
    std::fprintf(stderr, "weft-run: %s\n", e.what());
    return 1;
  }
}
