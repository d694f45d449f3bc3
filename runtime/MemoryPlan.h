//===- runtime/MemoryPlan.h - packing buffers with disjoint lifetimes -----===//
//
// A compiled function's buffers (slots) each have a byte size, known when the
// function is called (sizes are formulas of the symbolic dims), and a live
// range in program positions, fixed at compile time. planMemory places them in
// one arena so that two slots share bytes only if their live ranges are
// disjoint. Both the JIT (backends/cpu/Executable.cpp) and AOT binaries
// (runtime/Aot.cpp, weft_aot_call) plan with it; it needs no compiler library.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/Support.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

namespace weft {

/// Every offset and the total are multiples of this (a cache line; what vector loads like).
inline constexpr size_t kArenaAlign = 64;
/// The offset of a slot that is not in the arena (the caller provides it).
inline constexpr size_t kNotInArena = SIZE_MAX;

/// Program positions [first, last], both included, over which a slot holds a value.
struct LiveRange {
  int32_t first = 0;
  int32_t last = 0;
  bool overlaps(const LiveRange &o) const { return first <= o.last && o.first <= last; }
  bool operator==(const LiveRange &) const = default;
};

/// One slot to place.
struct PlanSlot {
  size_t bytes = 0;
  LiveRange live;
  bool inArena = true; // false: a parameter or result the caller provides
};

struct MemoryPlan {
  std::vector<size_t> offsets; // per slot; kNotInArena for slots not in the arena
  size_t total = 0;            // the arena's size
  size_t unplanned = 0;        // what one aligned range per slot would take
};

/// Places the arena slots of `slots`: 64-byte-aligned offsets, overlapping ranges at
/// overlapping live ranges never. Errors when the arena would exceed SIZE_MAX / 2 bytes.
Expected<MemoryPlan> planMemory(std::span<const PlanSlot> slots);

/// The last plans of one function, by the values of the dims its slot sizes depend on. Safe to
/// use from several threads at once; holds at most `capacity` plans (the oldest goes first).
class MemoryPlanCache {
public:
  explicit MemoryPlanCache(size_t capacity = 8) : capacity_(capacity ? capacity : 1) {}

  /// The plan cached under `key`, else `compute()`'s, cached unless it is an error. `compute`
  /// runs without the lock held, so two threads may both compute a plan for a new key.
  Expected<std::shared_ptr<const MemoryPlan>>
  get(const std::vector<int64_t> &key, const std::function<Expected<MemoryPlan>()> &compute);

  /// How many plans are cached.
  size_t size() const;

private:
  struct Entry {
    std::vector<int64_t> key;
    std::shared_ptr<const MemoryPlan> plan;
  };
  size_t capacity_;
  mutable std::mutex mu_;
  std::vector<Entry> entries_; // oldest first
};

} // namespace weft
