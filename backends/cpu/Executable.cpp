//===- backends/cpu/Executable.cpp - binding inputs and calling native code ===//
//
// Free of LLVM. Binds symbols from input shapes (as the interpreter does),
// sizes every buffer slot, places the slots in a per-call arena by the memory
// plan for those sizes (computed once per shape and cached) and calls the
// entry point, then turns a fault in the status record into a message.
//
//===----------------------------------------------------------------------===//
#include "backends/cpu/Plan.h"
#include "runtime/Collective.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <mutex>
#include <new>
#include <set>

namespace weft::cpu {
namespace {

/// The slots the caller provides: parameters and returned values.
std::vector<bool> providedSlots(const FunctionPlan &p) {
  std::vector<bool> provided(p.slots.size(), false);
  for (int s : p.paramSlots)
    provided[s] = true;
  for (int s : p.resultSlots)
    provided[s] = true;
  return provided;
}

/// The arena layout of a call under `dims`: slots whose live ranges are disjoint share bytes
/// (runtime/MemoryPlan.h). Cached per value of the symbols the slot types name.
Expected<std::shared_ptr<const MemoryPlan>> arenaPlan(const FunctionPlan &p,
                                                      const ir::DimBindings &dims) {
  std::vector<int64_t> key;
  for (const std::string &sym : p.sizeSymbols) {
    auto it = dims.find(sym);
    key.push_back(it == dims.end() ? -1 : it->second); // unbound: evaluateBytes says which
  }
  return p.planCache->get(key, [&]() -> Expected<MemoryPlan> {
    std::vector<bool> provided = providedSlots(p);
    std::vector<PlanSlot> slots(p.slots.size());
    for (size_t s = 0; s < p.slots.size(); ++s) {
      slots[s].live = p.lives[s];
      slots[s].inArena = !provided[s];
      if (provided[s])
        continue;
      auto bytes = p.slots[s].evaluateBytes(dims);
      WEFT_TRY(bytes.status());
      slots[s].bytes = *bytes;
    }
    return planMemory(slots);
  });
}

const FunctionPlan *findFunction(const CompiledFunctions &impl, std::string_view name) {
  for (const FunctionPlan &f : impl.functions)
    if (f.signature.name == name)
      return &f;
  return nullptr;
}

struct ArenaFree {
  void operator()(std::byte *p) const { ::operator delete[](p, std::align_val_t(kArenaAlign)); }
};

struct Arena {
  std::unique_ptr<std::byte[], ArenaFree> data;
  size_t bytes = 0;
};

/// Arenas of finished calls, kept for later calls of any function: an arena above malloc's
/// mmap threshold would otherwise be a fresh mapping whose every page faults in (zeroed by the
/// kernel) on every call; a 26 MB arena cost about 10 ms a call that way. Keeps kKept at most.
class ArenaPool {
public:
  /// The smallest kept arena of at least `bytes`, or a new one.
  Arena take(size_t bytes) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto best = kept_.end();
      for (auto it = kept_.begin(); it != kept_.end(); ++it)
        if (it->bytes >= bytes && (best == kept_.end() || it->bytes < best->bytes))
          best = it;
      if (best != kept_.end()) {
        Arena a = std::move(*best);
        kept_.erase(best);
        return a;
      }
    }
    return {std::unique_ptr<std::byte[], ArenaFree>(new (std::align_val_t(kArenaAlign))
                                                        std::byte[bytes]),
            bytes};
  }
  /// Keeps `a` for a later call; with kKept kept already, the smallest goes.
  void give(Arena a) {
    std::lock_guard<std::mutex> lock(mutex_);
    kept_.push_back(std::move(a));
    if (kept_.size() > kKept)
      kept_.erase(std::min_element(kept_.begin(), kept_.end(), [](const Arena &x, const Arena &y) {
        return x.bytes < y.bytes;
      }));
  }

private:
  static constexpr size_t kKept = 4;
  std::mutex mutex_;
  std::vector<Arena> kept_;
};

ArenaPool &arenaPool() {
  static ArenaPool pool;
  return pool;
}

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
  case Fault::Collective:
    msg = collective::lastErrorOf(site.opName);
    break;
  default:
    msg = fmt::format("unknown fault {}", st[0]);
  }
  return err(fmt::format("{}: {}", site.opName, msg), site.loc);
}

} // namespace

Executable::Executable(std::unique_ptr<CompiledFunctions> impl) : impl_(std::move(impl)) {
  for (FunctionPlan &p : impl_->functions) {
    std::set<std::string> syms;
    for (const ir::Type &t : p.slots)
      for (const ir::Dim &d : t.dims())
        syms.insert(d.symbols().begin(), d.symbols().end());
    p.sizeSymbols.assign(syms.begin(), syms.end());
  }
}
Executable::~Executable() = default;

double Executable::compileMillis() const { return impl_->compileMillis; }

Expected<MemoryReport> Executable::memoryPlan(std::string_view function,
                                              const ir::DimBindings &dims) const {
  const FunctionPlan *p = findFunction(*impl_, function);
  if (!p)
    return err(fmt::format("no function @{} in the compiled module", function));
  auto plan = arenaPlan(*p, dims);
  WEFT_TRY(plan.status());
  MemoryReport r{(*plan)->total, (*plan)->unplanned, 0};
  for (size_t off : (*plan)->offsets)
    r.buffers += off != kNotInArena;
  return r;
}

Expected<std::vector<Array>> Executable::run(std::string_view function,
                                             std::span<const Array> inputs,
                                             const ir::DimBindings &dims) const {
  return call(function, inputs, {}, dims);
}

Expected<std::vector<Array>> Executable::runInPlace(std::string_view function,
                                                    std::span<Array> inputs,
                                                    const ir::DimBindings &dims) const {
  return call(function, inputs, inputs, dims);
}

Expected<std::vector<Array>> Executable::call(std::string_view function,
                                              std::span<const Array> inputs,
                                              std::span<Array> updatable,
                                              const ir::DimBindings &dims) const {
  const FunctionPlan *p = findFunction(*impl_, function);
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
  std::vector<int> aliasOf(p->resultSlots.size(), -1); // the parameter result r updates
  for (const ir::OutputAlias &a : p->aliases)
    aliasOf[a.result] = static_cast<int>(a.param);
  for (size_t r = 0; r < p->resultSlots.size(); ++r) {
    int s = p->resultSlots[r];
    if (aliasOf[r] >= 0 && !updatable.empty()) {
      // The parameter's slot is the caller's buffer already: the code updates it in place, and
      // the result is that array, moved out once the call succeeds.
      results.emplace_back();
      continue;
    }
    if (aliasOf[r] >= 0) {
      // A declared in-place update writes into its parameter's buffer; the caller's input is
      // const, so the code updates a copy of it that is the result.
      results.push_back(Array(inputs[static_cast<size_t>(aliasOf[r])]));
      bufs[s] = results.back().data();
      continue;
    }
    auto shape = p->slots[s].evaluateShape(*bound);
    WEFT_TRY(shape.status());
    WEFT_TRY(p->slots[s].evaluateBytes(*bound).status());
    // Generated code writes every element of a result, as of every arena buffer.
    results.push_back(Array::uninitialized(p->slots[s].dtype(), *shape));
    if (provided[s]) {
      copyFrom[r] = s;
      continue;
    }
    bufs[s] = results.back().data();
    provided[s] = true;
  }
  auto plan = arenaPlan(*p, *bound);
  WEFT_TRY(plan.status());
  const MemoryPlan &mp = **plan;
  Arena arena = mp.total ? arenaPool().take(mp.total) : Arena{};
  for (size_t s = 0; s < bufs.size(); ++s)
    if (mp.offsets[s] != kNotInArena)
      bufs[s] = arena.data.get() + mp.offsets[s];

  int64_t status[kStatusWords] = {};
  p->entry(bufs.data(), dimValues.data(), status);
  if (arena.data)
    arenaPool().give(std::move(arena));
  if (status[0] != 0)
    return faultMessage(*p, status);
  for (size_t r = 0; r < results.size(); ++r)
    if (copyFrom[r] >= 0 && results[r].nbytes())
      std::memcpy(results[r].data(), bufs[copyFrom[r]], results[r].nbytes());
  if (!updatable.empty())
    for (size_t r = 0; r < results.size(); ++r)
      if (aliasOf[r] >= 0)
        results[r] = std::move(updatable[static_cast<size_t>(aliasOf[r])]);
  return results;
}

} // namespace weft::cpu
