//===- backends/cpu/Executable.cpp - binding inputs and calling native code ===//
//
// Free of LLVM. Binds symbols from input shapes (as the interpreter does),
// sizes every buffer slot, allocates a per-call arena and calls the entry
// point, then turns a fault in the status record into a message.
//
//===----------------------------------------------------------------------===//
#include "backends/cpu/Plan.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstring>
#include <limits>
#include <map>
#include <new>

namespace weft::cpu {
namespace {

std::string shapeStr(const std::vector<int64_t> &s) {
  return fmt::format("[{}]", fmt::join(s, ", "));
}

std::string inputName(const FunctionPlan &p, size_t i) {
  const std::string &n = p.paramNames[i];
  return n.empty() ? fmt::format("input {}", i) : fmt::format("input {} (%{})", i, n);
}

/// Binds every parameter dim that is a plain symbol from the input shapes, on top of `dims`,
/// then checks every input against its parameter type.
Expected<ir::DimBindings> bindInputs(const FunctionPlan &p, std::span<const Array> inputs,
                                     ir::DimBindings dims) {
  if (inputs.size() != p.paramTypes.size())
    return err(fmt::format("function @{} expected {} inputs, got {}", p.name, p.paramTypes.size(),
                           inputs.size()));
  std::map<std::string, std::string, std::less<>> boundBy;
  for (const auto &[sym, n] : dims)
    boundBy[sym] = "the caller";
  for (size_t i = 0; i < inputs.size(); ++i) {
    const ir::Type &t = p.paramTypes[i];
    const Array &in = inputs[i];
    if (in.dtype() != t.dtype())
      return err(fmt::format("{} has dtype {} but the function expects {}", inputName(p, i),
                             dtypeName(in.dtype()), dtypeName(t.dtype())));
    if (in.rank() != t.rank())
      return err(fmt::format("{} has shape {} but the function expects {}", inputName(p, i),
                             shapeStr(in.shape()), t.shapeStr()));
    for (int64_t a = 0; a < t.rank(); ++a) {
      const ir::Dim &d = t.dim(a);
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
                               inputName(p, i), sym, it->second, boundBy[sym], i, n, a));
      }
    }
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    auto want = p.paramTypes[i].evaluateShape(dims);
    if (!want)
      return err(fmt::format("{}: {}", inputName(p, i), want.diag().message));
    if (*want != inputs[i].shape())
      return err(fmt::format("{} has shape {} but the function expects {}", inputName(p, i),
                             shapeStr(inputs[i].shape()), shapeStr(*want)));
  }
  return dims;
}

/// Bytes of a buffer of type `t` under `dims`, or an error for an unbound symbol, a negative
/// size or one that overflows.
Expected<size_t> slotBytes(const ir::Type &t, const ir::DimBindings &dims) {
  auto shape = t.evaluateShape(dims);
  WEFT_TRY(shape.status());
  int64_t n = dtypeBytes(t.dtype());
  for (int64_t d : *shape) {
    if (d < 0 || (d != 0 && n > std::numeric_limits<int64_t>::max() / 2 / d))
      return err(
          fmt::format("a buffer of type {} has an invalid size {}", t.str(), shapeStr(*shape)));
    n *= d;
  }
  return static_cast<size_t>(n);
}

/// The arena layout of one call: a byte offset per slot (or none for slots the caller
/// provides). Every slot gets its own 64-byte-aligned range; this is the seam for a memory plan
/// that reuses space between buffers whose lifetimes do not overlap.
struct BufferPlan {
  std::vector<size_t> offsets;
  size_t total = 0;
};

constexpr size_t kNoOffset = std::numeric_limits<size_t>::max();

Expected<BufferPlan> planBuffers(const FunctionPlan &p, const std::vector<bool> &provided,
                                 const ir::DimBindings &dims) {
  BufferPlan plan;
  for (size_t s = 0; s < p.slots.size(); ++s) {
    if (provided[s]) {
      plan.offsets.push_back(kNoOffset);
      continue;
    }
    auto bytes = slotBytes(p.slots[s], dims);
    WEFT_TRY(bytes.status());
    plan.offsets.push_back(plan.total);
    plan.total += (*bytes + 63) / 64 * 64;
  }
  return plan;
}

struct ArenaFree {
  void operator()(std::byte *p) const { ::operator delete[](p, std::align_val_t(64)); }
};

Diag faultMessage(const FunctionPlan &p, const int64_t *st) {
  auto id = static_cast<size_t>(st[1]);
  if (id >= p.faultSites.size())
    return err(fmt::format("generated code reported fault {} at an unknown op", st[0]));
  const FaultSite &site = p.faultSites[id];
  std::string msg;
  switch (static_cast<Fault>(st[0])) {
  case Fault::IndexOutOfRange:
    msg = fmt::format("index {} at flat position {} of the indices is out of range [0, {}) for {}",
                      st[2], st[3], st[4], site.what);
    break;
  case Fault::DivisionByZero:
    msg = fmt::format("integer division by zero at element {} of {}", st[2], site.what);
    break;
  case Fault::LengthOutOfRange:
    msg = fmt::format("length {} of example {} is outside [0, {}]", st[2], st[3], st[4]);
    break;
  case Fault::EmptyReduce:
    msg = fmt::format("cannot reduce {} over an empty axis", site.what);
    break;
  case Fault::ConstantCount:
    msg = fmt::format("value has {} entries but the result has {} elements", st[2], st[3]);
    break;
  default:
    msg = fmt::format("unknown fault {}", st[0]);
  }
  return err(fmt::format("{}: {}", site.opName, msg), site.loc);
}

} // namespace

Executable::Executable(std::unique_ptr<CompiledFunctions> impl) : impl_(std::move(impl)) {}
Executable::~Executable() = default;

double Executable::compileMillis() const { return impl_->compileMillis; }

Expected<std::vector<Array>> Executable::run(std::string_view function,
                                             std::span<const Array> inputs,
                                             const ir::DimBindings &dims) const {
  const FunctionPlan *p = nullptr;
  for (const FunctionPlan &f : impl_->functions)
    if (f.name == function)
      p = &f;
  if (!p)
    return err(fmt::format("no function @{} in the compiled module", function));
  auto bound = bindInputs(*p, inputs, dims);
  WEFT_TRY(bound.status());
  std::vector<int64_t> dimValues;
  for (const std::string &sym : p->symbols) {
    auto it = bound->find(sym);
    if (it == bound->end())
      return err(fmt::format("function @{}: symbolic dim '{}' is not bound", p->name, sym));
    dimValues.push_back(it->second);
  }

  std::vector<void *> bufs(p->slots.size(), nullptr);
  std::vector<bool> provided(p->slots.size(), false);
  for (size_t i = 0; i < inputs.size(); ++i) {
    bufs[p->paramSlots[i]] = const_cast<void *>(inputs[i].data()); // generated code only reads
    provided[p->paramSlots[i]] = true;
  }
  // Returned values are computed straight into the result arrays; a parameter or a value
  // returned twice is copied afterwards.
  std::vector<Array> results;
  std::vector<int> copyFrom(p->resultSlots.size(), -1);
  for (size_t r = 0; r < p->resultSlots.size(); ++r) {
    int s = p->resultSlots[r];
    auto shape = p->slots[s].evaluateShape(*bound);
    WEFT_TRY(shape.status());
    WEFT_TRY(slotBytes(p->slots[s], *bound).status());
    results.emplace_back(p->slots[s].dtype(), *shape);
    if (provided[s]) {
      copyFrom[r] = s;
      continue;
    }
    bufs[s] = results.back().data();
    provided[s] = true;
  }
  auto plan = planBuffers(*p, provided, *bound);
  WEFT_TRY(plan.status());
  std::unique_ptr<std::byte[], ArenaFree> arena(
      plan->total ? new (std::align_val_t(64)) std::byte[plan->total] : nullptr);
  for (size_t s = 0; s < bufs.size(); ++s)
    if (plan->offsets[s] != kNoOffset)
      bufs[s] = arena.get() + plan->offsets[s];

  int64_t status[kStatusWords] = {};
  p->entry(bufs.data(), dimValues.data(), status);
  if (status[0] != 0)
    return faultMessage(*p, status);
  for (size_t r = 0; r < results.size(); ++r)
    if (copyFrom[r] >= 0 && results[r].nbytes())
      std::memcpy(results[r].data(), bufs[copyFrom[r]], results[r].nbytes());
  return results;
}

} // namespace weft::cpu
