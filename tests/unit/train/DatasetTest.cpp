#include "runtime/train/Dataset.h"

#include "tests/unit/RequireOk.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <numeric>

using namespace weft;
using namespace weft::train;

namespace {

Array iotaArray(std::vector<int64_t> shape) {
  Array a(DType::I64, shape);
  for (int64_t i = 0; i < a.numel(); ++i)
    a.setInt(i, i);
  return a;
}

} // namespace

TEST_CASE("a dataset gathers the rows of a batch along each array's example axis") {
  Dataset d;
  REQUIRE_OK(d.add("x", iotaArray({4, 2})));      // examples on axis 0
  REQUIRE_OK(d.add("seq", iotaArray({3, 4}), 1)); // time-major: examples on axis 1
  std::vector<Array> b = d.gather({2, 0});
  REQUIRE(b.size() == 2);
  CHECK(b[0].shape() == std::vector<int64_t>{2, 2});
  CHECK(std::vector<int64_t>{b[0].getInt(0), b[0].getInt(1), b[0].getInt(2), b[0].getInt(3)} ==
        std::vector<int64_t>{4, 5, 0, 1});
  CHECK(b[1].shape() == std::vector<int64_t>{3, 2});
  CHECK(b[1].getInt(0) == 2);
  CHECK(b[1].getInt(1) == 0);
  CHECK(b[1].getInt(2) == 6);
  CHECK(b[1].getInt(5) == 8);
}

TEST_CASE("a dataset refuses arrays that disagree on the number of examples") {
  Dataset d;
  REQUIRE_OK(d.add("x", iotaArray({4, 2})));
  Status s = d.add("y", iotaArray({5}));
  REQUIRE_FALSE(s);
  CHECK(s.message() == "dataset array 'y' holds 5 examples (axis 0 of i64[5]), but 'x' "
                       "holds 4");
  CHECK_FALSE(d.add("x", iotaArray({4})));
  CHECK_FALSE(d.add("z", iotaArray({4}), 1));
  auto missing = d.find("labels");
  REQUIRE_FALSE(missing);
  CHECK(missing.diag().message == "dataset has no array named 'labels' (it has: x)");
}

TEST_CASE("a held-out split keeps the last examples in order") {
  Dataset d;
  REQUIRE_OK(d.add("x", iotaArray({10})));
  auto parts = d.split(0.3);
  REQUIRE_OK(parts);
  CHECK(parts->first.size() == 7);
  CHECK(parts->second.size() == 3);
  CHECK(parts->second.array(0).getInt(0) == 7);
  CHECK_FALSE(d.split(1.0));
  CHECK_FALSE(d.split(0.01));
}

TEST_CASE("batches cover every example once per epoch, the last one partial") {
  auto b = Batcher::make(10, {.batchSize = 4, .shuffle = true, .dropLast = false, .seed = 7});
  REQUIRE_OK(b);
  CHECK(b->batchesPerEpoch() == 3);
  std::vector<int64_t> order = b->order(0), seen;
  for (int64_t k = 0; k < 3; ++k) {
    std::vector<int64_t> rows = b->batch(order, k);
    CHECK(rows.size() == (k < 2 ? 4u : 2u));
    seen.insert(seen.end(), rows.begin(), rows.end());
  }
  std::sort(seen.begin(), seen.end());
  std::vector<int64_t> all(10);
  std::iota(all.begin(), all.end(), 0);
  CHECK(seen == all);
  CHECK(order != all); // shuffled (this seed moves at least one example)
}

TEST_CASE("the shuffle is a function of the seed and the epoch") {
  auto a = Batcher::make(50, {.batchSize = 8, .shuffle = true, .dropLast = false, .seed = 1});
  auto b = Batcher::make(50, {.batchSize = 8, .shuffle = true, .dropLast = false, .seed = 1});
  auto c = Batcher::make(50, {.batchSize = 8, .shuffle = true, .dropLast = false, .seed = 2});
  REQUIRE_OK(a);
  REQUIRE_OK(b);
  REQUIRE_OK(c);
  CHECK(a->order(3) == b->order(3));
  CHECK(a->order(3) != a->order(4));
  CHECK(a->order(3) != c->order(3));
}

TEST_CASE("dropLast leaves out the partial batch; bad batch options are refused") {
  auto b = Batcher::make(10, {.batchSize = 4, .shuffle = false, .dropLast = true, .seed = 0});
  REQUIRE_OK(b);
  CHECK(b->batchesPerEpoch() == 2);
  CHECK(b->batch(b->order(0), 1) == std::vector<int64_t>{4, 5, 6, 7});
  auto zero = Batcher::make(10, {.batchSize = 0});
  REQUIRE_FALSE(zero);
  CHECK(zero.diag().message == "batch size must be at least 1, got 0");
  CHECK_FALSE(Batcher::make(0, {}));
  CHECK_FALSE(Batcher::make(3, {.batchSize = 4, .shuffle = false, .dropLast = true}));
}
