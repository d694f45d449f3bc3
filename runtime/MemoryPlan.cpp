//===- runtime/MemoryPlan.cpp - greedy-by-size offset assignment ----------===//
//
// The heuristic is "greedy by size" for shared objects with offsets
// (Pisarchyk and Lee, "Efficient Memory Management for Deep Neural Net
// Inference", 2020; TensorFlow Lite's ArenaPlanner places tensors the same
// way): slots go in by decreasing size, each at the smallest gap between the
// already placed slots whose live ranges overlap its own that fits it (best
// fit), else above the highest of them. O(n^2) in the number of slots; plans
// are cached per bound dims (MemoryPlanCache), so this runs once per shape.
//
//===----------------------------------------------------------------------===//
#include "runtime/MemoryPlan.h"

#include <algorithm>

namespace weft {
namespace {

constexpr size_t kMaxArena = SIZE_MAX / 2;

struct Placed {
  size_t offset, size;
  LiveRange live;
};

} // namespace

Expected<MemoryPlan> planMemory(std::span<const PlanSlot> slots) {
  MemoryPlan plan;
  plan.offsets.assign(slots.size(), kNotInArena);
  std::vector<size_t> aligned(slots.size(), 0);
  std::vector<size_t> order;
  for (size_t s = 0; s < slots.size(); ++s) {
    if (!slots[s].inArena)
      continue;
    if (slots[s].bytes > kMaxArena)
      return err("a buffer needs more than SIZE_MAX / 2 bytes");
    aligned[s] = (slots[s].bytes + kArenaAlign - 1) / kArenaAlign * kArenaAlign;
    if (plan.unplanned > kMaxArena - aligned[s])
      return err("the buffers of one call need more than SIZE_MAX / 2 bytes");
    plan.unplanned += aligned[s];
    order.push_back(s);
  }
  // Largest first; ties by start, then slot, so the plan does not depend on the sort.
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (aligned[a] != aligned[b])
      return aligned[a] > aligned[b];
    if (slots[a].live.first != slots[b].live.first)
      return slots[a].live.first < slots[b].live.first;
    return a < b;
  });
  std::vector<Placed> placed; // by offset
  std::vector<const Placed *> conflicts;
  for (size_t s : order) {
    if (aligned[s] == 0) { // empty buffers are never read or written
      plan.offsets[s] = 0;
      continue;
    }
    conflicts.clear();
    for (const Placed &p : placed)
      if (p.live.overlaps(slots[s].live))
        conflicts.push_back(&p);
    size_t best = kNotInArena, bestGap = kNotInArena, top = 0;
    for (const Placed *p : conflicts) {
      if (p->offset >= top && p->offset - top >= aligned[s] && p->offset - top < bestGap) {
        best = top;
        bestGap = p->offset - top;
      }
      top = std::max(top, p->offset + p->size);
    }
    if (best == kNotInArena)
      best = top;
    plan.offsets[s] = best;
    plan.total = std::max(plan.total, best + aligned[s]);
    Placed p{best, aligned[s], slots[s].live};
    auto at = std::upper_bound(placed.begin(), placed.end(), best,
                               [](size_t off, const Placed &q) { return off < q.offset; });
    placed.insert(at, p);
  }
  return plan;
}

Expected<std::shared_ptr<const MemoryPlan>>
MemoryPlanCache::get(const std::vector<int64_t> &key,
                     const std::function<Expected<MemoryPlan>()> &compute) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const Entry &e : entries_)
      if (e.key == key)
        return e.plan;
  }
  auto plan = compute();
  WEFT_TRY(plan.status());
  auto shared = std::make_shared<const MemoryPlan>(std::move(*plan));
  std::lock_guard<std::mutex> lock(mu_);
  for (const Entry &e : entries_)
    if (e.key == key) // another thread got here first; keep one plan per key
      return e.plan;
  if (entries_.size() == capacity_)
    entries_.erase(entries_.begin());
  entries_.push_back({key, shared});
  return std::shared_ptr<const MemoryPlan>(shared);
}

size_t MemoryPlanCache::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

} // namespace weft
