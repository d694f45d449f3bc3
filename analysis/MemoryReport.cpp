//===- analysis/MemoryReport.cpp ------------------------------------------===//
#include "analysis/MemoryReport.h"

#include "runtime/Array.h"

#include <fmt/format.h>

#include <limits>
#include <set>

namespace weft::analysis {

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

Expected<MemoryPlan> planArena(const BufferPlan &plan, const ir::DimBindings &dims) {
  std::vector<PlanSlot> slots(plan.slots().size());
  for (size_t s = 0; s < slots.size(); ++s) {
    slots[s].live = plan.slots()[s].live;
    slots[s].inArena = !plan.callerProvided(static_cast<int>(s));
    if (!slots[s].inArena)
      continue;
    auto bytes = slotBytes(plan.slots()[s].type, dims);
    WEFT_TRY(bytes.status());
    slots[s].bytes = *bytes;
  }
  return planMemory(slots);
}

Expected<MemoryReport> reportMemory(const BufferPlan &plan, const ir::DimBindings &dims) {
  auto arena = planArena(plan, dims);
  WEFT_TRY(arena.status());
  MemoryReport r;
  r.arenaBytes = arena->total;
  r.unplannedBytes = arena->unplanned;
  for (size_t off : arena->offsets)
    r.buffers += off != kNotInArena;
  std::set<int> params(plan.paramSlots().begin(), plan.paramSlots().end());
  std::set<int> results(plan.resultSlots().begin(), plan.resultSlots().end());
  for (size_t s = 0; s < plan.slots().size(); ++s) {
    const BufferSlot &slot = plan.slots()[s];
    if (slot.role == SlotRole::Param)
      continue;
    auto bytes = slotBytes(slot.type, dims);
    WEFT_TRY(bytes.status());
    if (results.count(static_cast<int>(s)))
      r.resultBytes += *bytes;
    if (*bytes > r.largestBytes) {
      r.largestBytes = *bytes;
      r.largestName = slot.first ? slot.first->name() : "";
    }
  }
  r.peakBytes = r.arenaBytes + r.resultBytes;
  return r;
}

} // namespace weft::analysis
