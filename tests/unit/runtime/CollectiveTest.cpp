//===- tests/unit/runtime/CollectiveTest.cpp - all_reduce in a world of one ===//
//
// The unit tests run outside mpirun: a world of one process, where every group is a group of
// one. tests/mpi runs all_reduce across real processes.
//
//===----------------------------------------------------------------------===//
#include "runtime/Collective.h"

#include <doctest/doctest.h>

#include <vector>

namespace runtime_CollectiveTest {

using namespace weft;

TEST_CASE("in a world of one, all_reduce leaves the data as it is, for any group") {
  REQUIRE(collective::worldSize() == 1);
  CHECK(collective::rank() == 0);
  std::vector<float> f{1.5f, -2.0f, 0.25f};
  std::vector<double> d{3.0, -0.5};
  for (int64_t group : {0, 7})
    for (bool mean : {false, true}) {
      CAPTURE(group);
      CAPTURE(mean);
      CHECK(collective::allReduce(f.data(), 3, DType::F32, group, mean).isOk());
      CHECK(collective::allReduce(d.data(), 2, DType::F64, group, mean).isOk());
    }
  CHECK(f == std::vector<float>{1.5f, -2.0f, 0.25f});
  CHECK(d == std::vector<double>{3.0, -0.5});
  CHECK(collective::broadcast(f.data(), 12, 0).isOk());
}

TEST_CASE("all_reduce refuses what it cannot reduce, and the C entry point says why") {
  std::vector<int32_t> ints{1, 2};
  Status s = collective::allReduce(ints.data(), 2, DType::I32, 0, false);
  REQUIRE_FALSE(s.isOk());
  CHECK(s.diag().message == "all_reduce: dtype i32 is not f32 or f64");
  CHECK(weft_all_reduce(ints.data(), 2, static_cast<int32_t>(DType::I32), 0, 0) != 0);
  CHECK(collective::lastError() == "all_reduce: dtype i32 is not f32 or f64");
  CHECK(weft_all_reduce(ints.data(), 2, static_cast<int32_t>(DType::F32), -1, 0) != 0);
  CHECK(collective::lastError() == "all_reduce: group -1 is negative");
  // A fault report names the op itself, so it takes the message without the op's name.
  CHECK(collective::lastErrorOf("all_reduce") == "group -1 is negative");
  CHECK(collective::lastErrorOf("all_gather") == "all_reduce: group -1 is negative");
  Status b = collective::broadcast(ints.data(), 8, 1);
  REQUIRE_FALSE(b.isOk());
  CHECK(b.diag().message == "broadcast from rank 1: the world has 1 processes");
}

TEST_CASE("a started all_reduce is waited for once, on the buffer it started on") {
  std::vector<float> f{1.5f, -2.0f};
  REQUIRE(weft_all_reduce_start(f.data(), 2, static_cast<int32_t>(DType::F32), 0, 1) == 0);
  weft_all_reduce_progress();
  // A second start on a buffer in flight is refused; the first reduction stays in flight.
  CHECK(weft_all_reduce_start(f.data(), 2, static_cast<int32_t>(DType::F32), 0, 1) != 0);
  CHECK(collective::lastError() ==
        "all_reduce: started again on a buffer whose reduction is still in flight");
  CHECK(weft_all_reduce_wait(f.data()) == 0);
  CHECK(f == std::vector<float>{1.5f, -2.0f});
  CHECK(weft_all_reduce_wait(f.data()) != 0);
  CHECK(collective::lastError() == "all_reduce: waited on a buffer with no reduction in flight");
}

TEST_CASE("the wait of an all_reduce that could not start fails with the start's reason") {
  std::vector<int32_t> ints{1, 2};
  CHECK(weft_all_reduce_start(ints.data(), 2, static_cast<int32_t>(DType::I32), 0, 0) != 0);
  CHECK(weft_all_reduce_wait(ints.data()) != 0);
  CHECK(collective::lastError() == "all_reduce: dtype i32 is not f32 or f64");
  // Nothing is left in flight: the buffer can start again.
  std::vector<float> f{3.0f};
  CHECK(weft_all_reduce_start(f.data(), 1, static_cast<int32_t>(DType::F32), 0, 0) == 0);
  CHECK(weft_all_reduce_wait(f.data()) == 0);
}

} // namespace runtime_CollectiveTest
