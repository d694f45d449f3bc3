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

/// Bytes of a buffer of type `t` under `dims`, or an error for an unbound symbol, a negative
/// size or one that overflows.
Expected<size_t> slotBytes(const ir::Type &t, const ir::DimBindings &dims) {
  auto shape = t.evaluateShape(dims);
  WEFT_TRY(shape.status());
  int64_t n = dtypeBytes(t.dtype());
  for (int64_t d : *shape) {
    if (d < 0 || (d != 0 && n > std::numeric_limits<int64_t>::max() / 2 / d))
      return err(
          fmt::format("a buffer of type {} has an invalid size {}", t.str(), formatShape(*shape)));
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
    if (f.signature.name == function)
      p = &f;
  if (!p)
    return err(fmt::format("no function @{} in the compiled module", function));
  auto bound = ir::bindInputs(p->signature, inputs, dims);
  WEFT_TRY(bound.status());
  std::vector<int64_t> dimValues;
  for (const std::string &sym : p->symbols) {
    auto it = bound->find(sym);
    if (it == bound->end())
      return err(
          fmt::format("function @{}: symbolic dim '{}' is not bound", p->signature.name, sym));
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
