//===- tests/unit/examples/SortLettersModelTest.cpp - where the sort-letters model drops ===//
//
// The sort-letters model with dropout (examples/models/SortLettersModel.h): the teacher-forced
// graph drops at each of its sites with masks seeded by the step number; the inference graph,
// and the model without dropout, draw nothing.
//
//===----------------------------------------------------------------------===//
#include "examples/models/SortLettersModel.h"

#include "ir/Printer.h"
#include "ir/Signature.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>

namespace examples_SortLettersModelTest {

using namespace weft;
using namespace weft::examples;

namespace {

struct Built {
  /// Random draws in the graph (one per dropout site), and whether it takes the step number.
  int64_t draws = 0;
  bool takesStep = false;
};

Built build(Decode how, const SortLettersSizes &sizes) {
  Graph g("sort_letters");
  buildSortLettersModel(g, how, sizes, /*vocab=*/30, /*maxIterations=*/8);
  auto m = g.build();
  std::string text = ir::print(*m);
  Built b;
  for (size_t at = text.find("= random_uniform"); at != std::string::npos;
       at = text.find("= random_uniform", at + 1))
    ++b.draws;
  std::vector<std::string> args = ir::Signature::of(*m->functions().front()).paramNames;
  b.takesStep = std::find(args.begin(), args.end(), "step") != args.end();
  return b;
}

} // namespace

TEST_CASE("SortLettersModel: dropout draws at every site of the training graph only") {
  SortLettersSizes sizes;
  sizes.attention = true;
  sizes.dropout = 0.2;
  sizes.dropoutSeed = 3;
  // The two embeddings' outputs, between the encoder's two layers, the attention's memory.
  Built train = build(Decode::TeacherForcing, sizes);
  CHECK(train.draws == 4);
  CHECK(train.takesStep);
  Built infer = build(Decode::Greedy, sizes);
  CHECK(infer.draws == 0);
  CHECK_FALSE(infer.takesStep);

  // Without attention nothing reads the encoder's outputs: three sites.
  sizes.attention = false;
  CHECK(build(Decode::TeacherForcing, sizes).draws == 3);

  sizes.dropout = 0.0;
  Built plain = build(Decode::TeacherForcing, sizes);
  CHECK(plain.draws == 0);
  CHECK_FALSE(plain.takesStep);
}

} // namespace examples_SortLettersModelTest
