//===- passes/optim/StepPipeline.cpp - the `train` pipeline around optimize-step ===//
#include "passes/optim/StepPipeline.h"

#include "passes/Passes.h"

#include <fmt/format.h>

#include <algorithm>
#include <cassert>

namespace weft::optim {

std::string trainStepPipeline(std::string_view optimizeStepOptions) {
  // Derived from the alias, not copied, so that a pass added to `train` reaches every step.
  std::optional<std::string_view> train = passes::expandPipelineAlias("train");
  assert(train && "passes/Passes.def defines the train pipeline");
  std::string out;
  int autodiffs = 0;
  size_t pos = 0;
  while (pos <= train->size()) {
    size_t comma = std::min(train->find(',', pos), train->size());
    std::string_view entry = train->substr(pos, comma - pos);
    out += out.empty() ? "" : ",";
    if (entry == "autodiff") {
      out += fmt::format("optimize-step{{{}}}", optimizeStepOptions);
      ++autodiffs;
    } else {
      out += entry;
    }
    pos = comma + 1;
  }
  assert(autodiffs == 1 && "the train pipeline runs autodiff once, where optimize-step goes");
  (void)autodiffs;
  return out;
}

} // namespace weft::optim
