// Lines to a decoder's tensors and back (runtime/text/BatchPacking.h): a batch in its own shape
// and padded to the fixed shape of GPU code, answers of the padding rows dropped, and batches
// larger than that shape decoded in chunks, in order.
#include "runtime/text/BatchPacking.h"

#include "runtime/text/Vocabulary.h"
#include "tests/unit/RequireOk.h"

#include <doctest/doctest.h>

namespace runtime_text_BatchPackingTest {

using namespace weft;
using namespace weft::text;

namespace {

std::vector<int32_t> column(const Array &ids, int64_t b) {
  std::vector<int32_t> c;
  for (int64_t t = 0; t < ids.shape()[0]; ++t)
    c.push_back(ids.data<int32_t>()[t * ids.shape()[1] + b]);
  return c;
}

} // namespace

TEST_CASE("lines pack time-major in their own shape, or padded to a fixed one") {
  const std::vector<std::vector<int32_t>> lines = {{5, 6, 7}, {8}};
  auto own = packLines(lines);
  REQUIRE_OK(own);
  CHECK(own->ids.shape() == std::vector<int64_t>{3, 2});
  CHECK(column(own->ids, 0) == std::vector<int32_t>{5, 6, 7});
  CHECK(column(own->ids, 1) == std::vector<int32_t>{8, kPad, kPad});
  CHECK(std::vector<int32_t>(own->lengths.data<int32_t>(), own->lengths.data<int32_t>() + 2) ==
        std::vector<int32_t>{3, 1});

  auto fixed = packLines(lines, /*batch=*/4, /*sourceLength=*/5);
  REQUIRE_OK(fixed);
  CHECK(fixed->ids.shape() == std::vector<int64_t>{5, 4});
  CHECK(column(fixed->ids, 0) == std::vector<int32_t>{5, 6, 7, kPad, kPad});
  CHECK(column(fixed->ids, 3) == std::vector<int32_t>(5, kPad));
  // Rows past the lines read one <PAD>: a length of 0 is not every model's to take.
  CHECK(std::vector<int32_t>(fixed->lengths.data<int32_t>(), fixed->lengths.data<int32_t>() + 4) ==
        std::vector<int32_t>{3, 1, 1, 1});

  auto tooMany = packLines(lines, 1, 5);
  REQUIRE_FALSE(tooMany);
  CHECK(tooMany.diag().message == "2 lines do not fit a batch of 1");
  auto tooLong = packLines(lines, 4, 2);
  REQUIRE_FALSE(tooLong);
  CHECK(tooLong.diag().message == "a line of 3 units is longer than the 2 the model reads");
}

TEST_CASE("answers come from the first rows only, each up to its length") {
  Array ids(DType::I64, {3, 4}), lengths(DType::I32, {4});
  for (int64_t i = 0; i < 12; ++i)
    ids.setInt(i, 10 + i);
  for (int64_t b = 0; b < 4; ++b)
    lengths.setInt(b, std::vector<int64_t>{2, 9, 0, 3}[static_cast<size_t>(b)]);
  auto answers = unpackAnswers(ids, lengths, 3);
  REQUIRE_OK(answers);
  CHECK(*answers == std::vector<std::vector<int32_t>>{{10, 14}, {11, 15, 19}, {}});
  auto short_ = unpackAnswers(ids, lengths, 5);
  REQUIRE_FALSE(short_);
  CHECK(short_.diag().message == "the decoder's results are not ids [T, B] and lengths [B]");
}

TEST_CASE("a batch larger than the fixed shape is decoded in chunks, in order") {
  std::vector<size_t> sizes;
  LineDecoder reverse = [&](std::span<const std::vector<int32_t>> lines)
      -> Expected<std::vector<std::vector<int32_t>>> {
    sizes.push_back(lines.size());
    std::vector<std::vector<int32_t>> out;
    for (const auto &l : lines)
      out.emplace_back(l.rbegin(), l.rend());
    return out;
  };
  const std::vector<std::vector<int32_t>> lines = {{1, 2}, {3}, {4, 5, 6}, {7}, {8, 9}};
  auto answers = decodeInChunks(reverse, lines, 2);
  REQUIRE_OK(answers);
  CHECK(*answers == std::vector<std::vector<int32_t>>{{2, 1}, {3}, {6, 5, 4}, {7}, {9, 8}});
  CHECK(sizes == std::vector<size_t>{2, 2, 1});
  sizes.clear();
  REQUIRE_OK(decodeInChunks(reverse, lines, 0));
  CHECK(sizes == std::vector<size_t>{5});
}

} // namespace runtime_text_BatchPackingTest
