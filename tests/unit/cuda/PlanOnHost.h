// Runs a GPU plan built ahead of time (backends/cuda/AotPlan.h) as the runtime's loader would on
// a GPU, through the same step interpreter (runtime/CudaAotSteps.h), but on the host device: the
// kernels of the function built for this CPU under the plan's names, the plan's offsets, scalars
// and grids.
#pragma once

#include "backends/cuda/AotPlan.h"
#include "backends/cuda/Device.h"
#include "backends/cuda/Kernels.h"
#include "backends/cuda/Lowering.h"
#include "runtime/CudaAotSteps.h"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

namespace weft::testing {

class HostPlanSteps final : public cuda::AotStepTarget {
public:
  HostPlanSteps(cuda::Device &device, const cuda::LoadedKernels &kernels, cuda::DeviceAddress base)
      : device_(device), kernels_(kernels), base_(base) {}

  Status launch(const cuda::AotPlan::Step &s) override {
    std::vector<cuda::DeviceAddress> buffers;
    for (uint64_t o : s.buffers)
      buffers.push_back(base_ + o);
    // As the loader does on a GPU: a co-resident grid on at most what runs at once.
    const int64_t blocks = s.coResident ? std::min(s.blocks, device_.coResidentBlocks()) : s.blocks;
    return device_.launch(kernels_, s.kernel, buffers, s.scalars, {blocks, s.threads, s.coResident},
                          s.op);
  }
  Status copy(uint64_t dst, uint64_t src, uint64_t bytes, const std::string &) override {
    return device_.copy(base_ + dst, base_ + src, bytes);
  }
  Status constant(size_t, const cuda::AotPlan::Step &s) override {
    return device_.upload(base_ + s.dst, s.data.data(), s.data.size());
  }
  Status read(void *to, uint64_t offset, uint64_t bytes, const std::string &) override {
    WEFT_TRY(device_.download(to, base_ + offset, bytes));
    return device_.synchronize();
  }
  Status write(uint64_t offset, const void *from, uint64_t bytes, const std::string &) override {
    WEFT_TRY(device_.upload(base_ + offset, from, bytes));
    return device_.synchronize();
  }

private:
  cuda::Device &device_;
  const cuda::LoadedKernels &kernels_;
  cuda::DeviceAddress base_;
};

/// `f`'s results for `inputs` through `plan` on the host device; `dims` are the plan's.
inline Expected<std::vector<Array>> runPlanOnHost(const ir::Function &f, const cuda::AotPlan &plan,
                                                  const std::vector<Array> &inputs,
                                                  const ir::DimBindings &dims) {
  std::shared_ptr<cuda::Device> device = cuda::hostDevice();
  cuda::KernelModule km = cuda::makeKernelModule(cuda::KernelTarget::Host, "plan_on_host");
  std::vector<std::string> names;
  auto code = cuda::detail::lowerFunction(f, km, cuda::KernelTarget::Host, names);
  WEFT_TRY(code.status());
  if (names != plan.kernels)
    return err("the host build's kernels are not the plan's");
  auto kernels = device->load(std::move(km), names);
  WEFT_TRY(kernels.status());
  auto base = device->allocate(plan.arenaBytes);
  WEFT_TRY(base.status());
  struct Release {
    cuda::Device &d;
    cuda::DeviceAddress p;
    ~Release() { d.release(p); }
  } release{*device, *base};
  for (size_t i = 0; i < inputs.size(); ++i)
    WEFT_TRY(device->upload(*base + plan.params[i].offset, inputs[i].data(), inputs[i].nbytes()));
  HostPlanSteps steps(*device, **kernels, *base);
  WEFT_TRY(cuda::runAotSteps(plan, steps));
  std::vector<Array> results;
  for (size_t r = 0; r < plan.results.size(); ++r) {
    auto shape = f.resultTypes()[r].evaluateShape(dims);
    WEFT_TRY(shape.status());
    Array out(f.resultTypes()[r].dtype(), *shape);
    WEFT_TRY(device->download(out.data(), *base + plan.results[r].offset, out.nbytes()));
    results.push_back(std::move(out));
  }
  WEFT_TRY(device->synchronize());
  return results;
}

} // namespace weft::testing
