#include "runtime/train/Dataset.h"

#include "tests/unit/RequireOk.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <numeric>

namespace train_DatasetTest {

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

TEST_CASE("token sequences are padded to the batch's longest, with their lengths") {
  Dataset d;
  REQUIRE_OK(d.addSequences("src", {{5, 6, 7}, {8}, {9, 10}}));
  REQUIRE_OK(d.addSequences("dec_in", {{5}, {6, 7}, {}}, {.timeMajor = false, .prepend = 2}));
  REQUIRE_OK(d.addSequences("dec_out", {{5}, {6, 7}, {}}, {.timeMajor = true, .append = 3}));
  REQUIRE(d.numArrays() == 6);
  CHECK(d.name(1) == "src_lengths");
  std::vector<Array> b = d.gather({1, 2});
  // src, time-major [T=2, B=2]: [8, 9; 0, 10].
  CHECK(b[0].shape() == std::vector<int64_t>{2, 2});
  CHECK(std::vector<int32_t>(b[0].data<int32_t>(), b[0].data<int32_t>() + 4) ==
        std::vector<int32_t>{8, 9, 0, 10});
  CHECK(std::vector<int32_t>(b[1].data<int32_t>(), b[1].data<int32_t>() + 2) ==
        std::vector<int32_t>{1, 2});
  // dec_in, batch-major [B=2, T=3]: [2 6 7; 2 0 0], lengths 3 and 1.
  CHECK(b[2].shape() == std::vector<int64_t>{2, 3});
  CHECK(std::vector<int32_t>(b[2].data<int32_t>(), b[2].data<int32_t>() + 6) ==
        std::vector<int32_t>{2, 6, 7, 2, 0, 0});
  CHECK(std::vector<int32_t>(b[3].data<int32_t>(), b[3].data<int32_t>() + 2) ==
        std::vector<int32_t>{3, 1});
  // dec_out, time-major [T=3, B=2]: [6 3; 7 0; 3 0].
  CHECK(std::vector<int32_t>(b[4].data<int32_t>(), b[4].data<int32_t>() + 6) ==
        std::vector<int32_t>{6, 3, 7, 0, 3, 0});
  CHECK(d.lengths() == std::vector<int64_t>{3, 3, 2});
  CHECK_FALSE(d.addSequences("more", {{1}}));                // 1 example, not 3
  CHECK_FALSE(d.add("src_lengths", Array(DType::I32, {3}))); // the name is taken
}

TEST_CASE("bucketing batches examples of similar length, still shuffled per epoch") {
  Dataset d;
  std::vector<std::vector<int32_t>> seqs;
  for (int i = 0; i < 64; ++i)
    seqs.push_back(std::vector<int32_t>(static_cast<size_t>(1 + (i * 37) % 16), 4));
  REQUIRE_OK(d.addSequences("x", seqs));
  BatchOptions o{.batchSize = 8, .shuffle = true, .dropLast = false, .seed = 3};
  o.bucketByLength = true;
  o.bucketWindow = 8; // the whole epoch is one window
  auto b = Batcher::make(d.size(), o, d.lengths());
  REQUIRE_OK(b);
  auto padding = [&](const std::vector<int64_t> &order) {
    int64_t pad = 0;
    for (int64_t k = 0; k < b->batchesPerEpoch(); ++k) {
      std::vector<int64_t> rows = b->batch(order, k);
      int64_t longest = 0;
      for (int64_t r : rows)
        longest = std::max(longest, d.lengths()[static_cast<size_t>(r)]);
      for (int64_t r : rows)
        pad += longest - d.lengths()[static_cast<size_t>(r)];
    }
    return pad;
  };
  std::vector<int64_t> e0 = b->order(0), e1 = b->order(1);
  std::vector<int64_t> sorted0 = e0;
  std::sort(sorted0.begin(), sorted0.end());
  std::vector<int64_t> all(64);
  std::iota(all.begin(), all.end(), 0);
  CHECK(sorted0 == all);
  CHECK(e0 != e1);
  // Lengths 1..16, 4 examples each, in batches of 8: two lengths per batch, 4 pads each.
  CHECK(padding(e0) == 8 * 4);
  o.bucketByLength = false;
  auto plain = Batcher::make(d.size(), o);
  REQUIRE_OK(plain);
  CHECK(padding(plain->order(0)) > 4 * padding(e0));
  o.bucketByLength = true;
  auto noLengths = Batcher::make(d.size(), o);
  REQUIRE_FALSE(noLengths);
  CHECK(noLengths.diag().message.find("needs the examples' lengths") != std::string::npos);
}

} // namespace train_DatasetTest
