//===- tests/unit/runtime/MemoryPlanTest.cpp - the arena planner -----------===//
#include "runtime/MemoryPlan.h"

#include "tests/unit/RequireOk.h"

#include <doctest/doctest.h>

#include <atomic>
#include <random>
#include <thread>

namespace runtime_MemoryPlanTest {

using namespace weft;

namespace {

MemoryPlan plan(const std::vector<PlanSlot> &slots) {
  auto p = planMemory(slots);
  REQUIRE_OK(p);
  return *p;
}

size_t aligned(size_t n) { return (n + kArenaAlign - 1) / kArenaAlign * kArenaAlign; }

/// No two arena slots with overlapping live ranges overlap in bytes; all fit in the total.
void checkValid(const std::vector<PlanSlot> &slots, const MemoryPlan &p) {
  REQUIRE(p.offsets.size() == slots.size());
  for (size_t a = 0; a < slots.size(); ++a) {
    CAPTURE(a);
    if (!slots[a].inArena) {
      CHECK(p.offsets[a] == kNotInArena);
      continue;
    }
    CHECK(p.offsets[a] % kArenaAlign == 0);
    CHECK(p.offsets[a] + slots[a].bytes <= p.total);
    for (size_t b = a + 1; b < slots.size(); ++b) {
      if (!slots[b].inArena || !slots[a].bytes || !slots[b].bytes ||
          !slots[a].live.overlaps(slots[b].live))
        continue;
      CAPTURE(b);
      bool disjoint = p.offsets[a] + slots[a].bytes <= p.offsets[b] ||
                      p.offsets[b] + slots[b].bytes <= p.offsets[a];
      CHECK(disjoint);
    }
  }
}

} // namespace

TEST_CASE("memory plan: slots with disjoint live ranges share bytes") {
  std::vector<PlanSlot> slots = {{1000, {0, 2}}, {1000, {3, 5}}, {1000, {6, 9}}};
  MemoryPlan p = plan(slots);
  checkValid(slots, p);
  CHECK(p.offsets[0] == 0);
  CHECK(p.offsets[1] == 0);
  CHECK(p.offsets[2] == 0);
  CHECK(p.total == aligned(1000));
  CHECK(p.unplanned == 3 * aligned(1000));
}

TEST_CASE("memory plan: slots whose live ranges overlap, even at one position, never share") {
  std::vector<PlanSlot> slots = {{100, {0, 3}}, {100, {3, 4}}, {100, {1, 3}}};
  MemoryPlan p = plan(slots);
  checkValid(slots, p);
  CHECK(p.total == 3 * aligned(100));
  CHECK(p.offsets[0] != p.offsets[1]);
}

TEST_CASE("memory plan: offsets are 64-byte aligned and the total covers the largest") {
  std::vector<PlanSlot> slots = {{1, {0, 0}}, {65, {0, 0}}, {130, {0, 0}}};
  MemoryPlan p = plan(slots);
  checkValid(slots, p);
  CHECK(p.total == 64 + 128 + 192);
  CHECK(p.unplanned == p.total);
  CHECK(p.offsets[2] == 0); // the largest goes first
}

TEST_CASE("memory plan: a small slot takes the tightest gap it fits, not the first") {
  // Largest first: 0 at 0, 1 at 1024, 2 at 1536, 3 at 1792. At positions 5-6 only 1 and 3
  // live, leaving gaps [0, 1024) and [1536, 1792); slot 4 fits both and takes the smaller.
  std::vector<PlanSlot> slots = {
      {1024, {0, 1}}, {512, {0, 9}}, {256, {0, 1}}, {256, {0, 9}}, {192, {5, 6}}};
  MemoryPlan p = plan(slots);
  checkValid(slots, p);
  CHECK(p.offsets == std::vector<size_t>{0, 1024, 1536, 1792, 1536});
  CHECK(p.total == 2048);
}

TEST_CASE("memory plan: slots the caller provides are not in the arena") {
  std::vector<PlanSlot> slots = {{4096, {0, 9}, false}, {64, {0, 9}}, {0, {0, 9}}};
  MemoryPlan p = plan(slots);
  checkValid(slots, p);
  CHECK(p.offsets[0] == kNotInArena);
  CHECK(p.total == 64);
  CHECK(p.unplanned == 64);
}

TEST_CASE("memory plan: random slots never overlap where their live ranges do") {
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 50; ++trial) {
    CAPTURE(trial);
    std::vector<PlanSlot> slots(std::uniform_int_distribution<int>(1, 60)(rng));
    size_t peakBound = 0;
    for (PlanSlot &s : slots) {
      int32_t a = std::uniform_int_distribution<int32_t>(0, 40)(rng);
      int32_t len = std::uniform_int_distribution<int32_t>(0, 10)(rng);
      s = {std::uniform_int_distribution<size_t>(0, 5000)(rng),
           {a, a + len},
           std::uniform_int_distribution<int>(0, 9)(rng) != 0};
      peakBound += s.inArena ? aligned(s.bytes) : 0;
    }
    MemoryPlan p = plan(slots);
    checkValid(slots, p);
    CHECK(p.total <= p.unplanned);
    CHECK(p.unplanned == peakBound);
  }
}

TEST_CASE("memory plan: sizes that overflow are an error, not a wrapped offset") {
  std::vector<PlanSlot> slots = {
      {SIZE_MAX / 4, {0, 1}}, {SIZE_MAX / 4, {0, 1}}, {SIZE_MAX / 4, {0, 1}}};
  auto p = planMemory(slots);
  REQUIRE_FALSE(p);
  CHECK(p.diag().message.find("SIZE_MAX") != std::string::npos);
}

TEST_CASE("memory plan cache: one plan per key, bounded, shared by threads") {
  MemoryPlanCache cache(4);
  std::atomic<int> computed{0};
  auto planFor = [&](int64_t n) {
    return [&computed, n]() -> Expected<MemoryPlan> {
      ++computed;
      std::vector<PlanSlot> slots = {{static_cast<size_t>(n) * 64, {0, 1}},
                                     {static_cast<size_t>(n) * 128, {2, 3}}};
      return planMemory(slots);
    };
  };
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int rep = 0; rep < 200; ++rep) {
        int64_t n = (rep + t) % 6 + 1;
        auto p = cache.get({n}, planFor(n));
        if (!p || (*p)->total != static_cast<size_t>(n) * 128)
          ++wrong;
      }
    });
  for (std::thread &t : threads)
    t.join();
  CHECK(wrong == 0);
  CHECK(cache.size() == 4);
  int before = computed;
  auto again = cache.get({99}, planFor(99));
  REQUIRE(again);
  auto hit = cache.get({99}, planFor(99));
  REQUIRE(hit);
  CHECK(computed == before + 1);
  CHECK(hit->get() == again->get());
}

TEST_CASE("memory plan cache: an error is returned and not cached") {
  MemoryPlanCache cache;
  int calls = 0;
  auto failing = [&]() -> Expected<MemoryPlan> {
    ++calls;
    return err("unbound symbol");
  };
  CHECK_FALSE(cache.get({1}, failing));
  CHECK_FALSE(cache.get({1}, failing));
  CHECK(calls == 2);
  CHECK(cache.size() == 0);
}

} // namespace runtime_MemoryPlanTest
