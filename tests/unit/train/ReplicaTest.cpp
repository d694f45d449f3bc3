//===- tests/unit/train/ReplicaTest.cpp - the trainer as one of N replicas -===//
//
// Without mpirun: TrainOptions::replica places the trainer among replicas that do not exist,
// which is all sharding and rank 0's privileges need. tests/mpi runs real processes.
//
//===----------------------------------------------------------------------===//
#include "runtime/train/Trainer.h"
#include "tests/unit/RequireOk.h"

#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <unistd.h>

namespace train_ReplicaTest {

using namespace weft;
using namespace weft::train;

namespace {

/// Example i has x = i.
Dataset numbered(int64_t n) {
  Array x(DType::F32, {n});
  for (int64_t i = 0; i < n; ++i)
    x.data<float>()[i] = float(i);
  Dataset d;
  d.add("x", std::move(x)).check();
  return d;
}

/// A step (w, x) -> (loss, w) that records the examples of each call.
Function recording(std::vector<std::vector<int64_t>> *calls) {
  return [calls](std::span<const Array> a) -> Expected<std::vector<Array>> {
    std::vector<int64_t> rows;
    for (int64_t i = 0; i < a[1].numel(); ++i)
      rows.push_back(static_cast<int64_t>(a[1].data<float>()[i]));
    calls->push_back(rows);
    return std::vector<Array>{Array::of<float>({}, {1.0f}), a[0]};
  };
}

StepLayout layout() {
  StepLayout l;
  l.numArgs = 2;
  l.params = {{"w", 0, 1, std::nullopt}};
  l.batch = {{"x", 1}};
  return l;
}

TrainOptions options(Replica r, int64_t batch) {
  TrainOptions o;
  o.epochs = 2;
  o.batching = {.batchSize = batch, .shuffle = true, .dropLast = false, .seed = 3};
  o.progress = Progress::Off;
  o.replica = r;
  return o;
}

std::vector<std::vector<int64_t>> run(Replica r, int64_t batch, int64_t examples) {
  std::vector<std::vector<int64_t>> calls;
  auto t =
      Trainer::make(recording(&calls), layout(), {Array(DType::F32, {1})}, {}, options(r, batch));
  REQUIRE_OK(t);
  REQUIRE_OK(t->fit(numbered(examples)));
  return calls;
}

} // namespace

TEST_CASE("each of 3 replicas feeds its step its contiguous third of every global batch") {
  auto whole = run({0, 1}, 6, 24);
  std::vector<std::vector<std::vector<int64_t>>> parts;
  for (int r = 0; r < 3; ++r)
    parts.push_back(run({r, 3}, 6, 24));
  REQUIRE(whole.size() == 8);
  for (size_t s = 0; s < whole.size(); ++s) {
    CAPTURE(s);
    std::vector<int64_t> joined;
    for (int r = 0; r < 3; ++r) {
      REQUIRE(parts[r].size() == whole.size());
      CHECK(parts[r][s].size() == 2);
      joined.insert(joined.end(), parts[r][s].begin(), parts[r][s].end());
    }
    CHECK(joined == whole[s]); // the same shuffle on every replica, cut in rank order
  }
}

TEST_CASE("a global batch that does not split evenly between the replicas is an error") {
  std::vector<std::vector<int64_t>> calls;
  auto t =
      Trainer::make(recording(&calls), layout(), {Array(DType::F32, {1})}, {}, options({1, 2}, 5));
  REQUIRE_OK(t);
  auto h = t->fit(numbered(10));
  REQUIRE_FALSE(h.isOk());
  CHECK(h.diag().message.find("a global batch of 5 examples does not split evenly between 2 "
                              "replicas") != std::string::npos);
  CHECK(calls.empty());
}

TEST_CASE("a replica other than 0 prints nothing and writes no metrics or checkpoints") {
  auto dir =
      std::filesystem::temp_directory_path() / ("weft-replica-" + std::to_string(::getpid()));
  for (int r : {0, 1}) {
    CAPTURE(r);
    std::filesystem::remove_all(dir);
    char *buf = nullptr;
    size_t len = 0;
    std::FILE *out = open_memstream(&buf, &len);
    REQUIRE(out != nullptr);
    std::vector<std::vector<int64_t>> calls;
    TrainOptions o = options({r, 2}, 4);
    o.progress = Progress::Lines;
    o.out = out;
    o.metricsCsv = (dir / "metrics.csv").string();
    o.checkpointDir = (dir / "ckpt").string();
    o.checkpointEvery = 1;
    auto t = Trainer::make(recording(&calls), layout(), {Array(DType::F32, {1})}, {}, o);
    REQUIRE_OK(t);
    std::filesystem::create_directories(dir);
    REQUIRE_OK(t->fit(numbered(8)));
    std::fclose(out);
    std::string text(buf, len);
    std::free(buf);
    CHECK(text.empty() == (r == 1));
    CHECK(std::filesystem::exists(o.metricsCsv) == (r == 0));
    CHECK(std::filesystem::exists(o.checkpointDir) == (r == 0));
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("with shards, each replica runs its step once per shard of its share, on threads") {
  // Replica 1 of 2 with 4 shards: shards 2 and 3 of every global batch of 8, two rows each,
  // run at once (the step records under a lock).
  std::mutex m;
  std::vector<std::vector<int64_t>> calls, whole = run({0, 1}, 8, 16);
  Function record = recording(&calls);
  Function locked = [&](std::span<Array> a) {
    std::lock_guard<std::mutex> lock(m);
    return record(a);
  };
  TrainOptions o = options({1, 2}, 8);
  o.shards = 4;
  auto t = Trainer::make(locked, layout(), {Array(DType::F32, {1})}, {}, o);
  REQUIRE_OK(t);
  REQUIRE_OK(t->fit(numbered(16)));
  REQUIRE(calls.size() == 2 * whole.size());
  for (size_t s = 0; s < whole.size(); ++s) {
    CAPTURE(s);
    const std::vector<int64_t> &a = calls[2 * s], &b = calls[2 * s + 1];
    std::vector<int64_t> two(whole[s].begin() + 4, whole[s].begin() + 6),
        three(whole[s].begin() + 6, whole[s].end());
    // The two threads of a step record in either order.
    CHECK(((a == two && b == three) || (a == three && b == two)));
  }
}

TEST_CASE("shards that do not split between the replicas, or a batch into shards, are errors") {
  TrainOptions o = options({0, 2}, 8);
  o.shards = 3;
  auto t = Trainer::make(recording(nullptr), layout(), {Array(DType::F32, {1})}, {}, o);
  REQUIRE_FALSE(t.isOk());
  CHECK(t.diag().message == "3 shards do not split evenly between 2 replicas: choose a multiple "
                            "of the number of processes");
  std::vector<std::vector<int64_t>> calls;
  o.shards = 4;
  o.batching.batchSize = 6; // 3 rows for each replica: not 2 shards
  auto u = Trainer::make(recording(&calls), layout(), {Array(DType::F32, {1})}, {}, o);
  REQUIRE_OK(u);
  auto h = u->fit(numbered(12));
  REQUIRE_FALSE(h.isOk());
  CHECK(h.diag().message == "step 0: a global batch of 6 examples does not split into 4 shards: "
                            "choose a batch size that is a multiple of it");
}

} // namespace train_ReplicaTest
