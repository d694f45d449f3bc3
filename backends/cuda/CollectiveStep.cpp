//===- backends/cuda/CollectiveStep.cpp - all_reduce through the host -----===//
//
// all_reduce on the GPU is staged through the host: the operand is copied to host memory,
// reduced there by runtime/Collective.h (the call the CPU backend's generated code makes, so
// a world of one is the identity and an MPI world reduces over its processes as on the CPU),
// and copied back into the result. The copies cost two transfers per all_reduce; a direct
// GPU-to-GPU collective (NCCL) would avoid them. Code built ahead of time does the same in its
// plan's AllReduce step (runtime/CudaAotSteps.h), through the same allReduceOnHost.
//
//===----------------------------------------------------------------------===//
#include "backends/cuda/Lowering.h"
#include "runtime/CudaAotSteps.h"

namespace weft::cuda::detail {

Step allReduceStep(const ir::Op &op, int from, int to, std::string what) {
  Step s;
  s.kind = Step::Kind::Host;
  s.what = std::move(what);
  s.slots = {to, from};
  const ir::Type type = op.operand(0)->type();
  const int64_t group = op.group();
  const bool mean = op.mean() != 0;
  s.allReduce = Step::AllReduce{type, group, mean};
  s.host = [type, group, mean, from, to](Device &d,
                                         const std::function<DeviceAddress(int)> &address,
                                         const ir::DimBindings &dims) -> Status {
    auto shape = type.evaluateShape(dims);
    WEFT_TRY(shape.status());
    Array data(type.dtype(), *shape);
    if (data.nbytes() > 0) {
      WEFT_TRY(d.download(data.data(), address(from), data.nbytes()));
      WEFT_TRY(d.synchronize());
    }
    WEFT_TRY(allReduceOnHost(data, group, mean)); // the step's error names the op
    if (data.nbytes() > 0) // (an upload from pageable memory has read it when it returns)
      WEFT_TRY(d.upload(address(to), data.data(), data.nbytes()));
    return Status::ok();
  };
  return s;
}

} // namespace weft::cuda::detail
