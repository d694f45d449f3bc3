#include "passes/PassManager.h"

#include <doctest/doctest.h>

#include <sstream>

namespace passes_PassOptionsTest {

using namespace weft;
using passes::PassManager;

TEST_CASE("pass options are written name{key=value ...} and checked when the pipeline is read") {
  std::ostringstream out;
  PassManager pm(out);
  CHECK(pm.addPipeline("cse, autodiff{residuals=recompute checkpoint=4}, dce").isOk());
  CHECK(pm.size() == 3);
  CHECK(pm.addPipeline("cse{x=1}").message() == "pass 'cse' has no option 'x'");
  CHECK(pm.addPipeline("autodiff{truncate=-1}").message() ==
        "autodiff option 'truncate' needs a non-negative integer, got '-1'");
  CHECK(pm.addPipeline("autodiff{residuals}").message() ==
        "pass option 'residuals' of 'autodiff' must be key=value");
  CHECK(pm.addPipeline("autodiff{residuals=both}").message() ==
        "autodiff option residuals is stash or recompute, got 'both'");
  CHECK(pm.size() == 3);
}

} // namespace passes_PassOptionsTest
