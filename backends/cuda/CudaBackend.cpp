//===- backends/cuda/CudaBackend.cpp --------------------------------------===//
#include "backends/cuda/CudaBackend.h"

#include "backends/cuda/Kernels.h"
#include "backends/cuda/Lowering.h"
#include "backends/cuda/Ptx.h"
#include "runtime/MemoryPlan.h"

#include <fmt/format.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>

#include <cstring>
#include <mutex>

namespace weft::cuda {
namespace {

using ir::OpKind;

using detail::FunctionCode;
using detail::lowerFunction;

class CudaExecutable final : public backends::Executable {
public:
  CudaExecutable(std::vector<ir::Signature> sigs, std::shared_ptr<Device> device,
                 std::unique_ptr<LoadedKernels> kernels, std::vector<FunctionCode> functions)
      : Executable(std::move(sigs)), device_(std::move(device)), kernels_(std::move(kernels)),
        functions_(std::move(functions)) {}

protected:
  Expected<std::vector<Array>> runChecked(const ir::Signature &sig, std::span<const Array> inputs,
                                          const ir::DimBindings &dims) const override {
    const FunctionCode *code = nullptr;
    for (const FunctionCode &c : functions_)
      if (c.signature.name == sig.name)
        code = &c;
    if (!code)
      return err(fmt::format("no function '{}' was compiled", sig.name));

    std::vector<PlanSlot> slots(code->slotTypes.size());
    std::vector<size_t> bytes(slots.size());
    for (size_t s = 0; s < slots.size(); ++s) {
      auto b = code->slotTypes[s].evaluateBytes(dims);
      WEFT_TRY(b.status());
      bytes[s] = *b;
      slots[s] = {*b, code->lives[s], true};
    }
    auto memory = planMemory(slots);
    WEFT_TRY(memory.status());

    // One stream per executable: calls take turns.
    std::lock_guard<std::mutex> lock(mutex_);
    auto base = device_->allocate(memory->total);
    WEFT_TRY(base.status());
    struct Release {
      Device &d;
      DeviceAddress p;
      ~Release() { d.release(p); }
    } release{*device_, *base};
    detail::CallState call{*device_, *kernels_, dims, {}, bytes};
    call.addresses.resize(slots.size() + static_cast<size_t>(code->numViews));
    for (size_t s = 0; s < slots.size(); ++s)
      call.addresses[s] = *base + memory->offsets[s];
    auto at = [&](int slot) { return call.addresses[static_cast<size_t>(slot)]; };

    for (size_t i = 0; i < inputs.size(); ++i)
      WEFT_TRY(device_->upload(at(code->paramSlots[i]), inputs[i].data(), inputs[i].nbytes()));
    WEFT_TRY(detail::runSteps(code->steps, call));
    for (auto [from, to] : code->aliasCopies)
      WEFT_TRY(device_->copy(at(to), at(from), bytes[static_cast<size_t>(from)]));

    std::vector<Array> results;
    for (size_t r = 0; r < code->resultSlots.size(); ++r) {
      auto shape = code->resultTypes[r].evaluateShape(dims);
      WEFT_TRY(shape.status());
      Array out(code->resultTypes[r].dtype(), *shape);
      WEFT_TRY(device_->download(out.data(), at(code->resultSlots[r]), out.nbytes()));
      results.push_back(std::move(out));
    }
    WEFT_TRY(device_->synchronize());
    // Parameters updated in place: the caller's arrays are inputs, so the new values are
    // results (as on the other backends); nothing else to copy back.
    return results;
  }

private:
  std::shared_ptr<Device> device_; // outlives the kernels loaded on it
  std::unique_ptr<LoadedKernels> kernels_;
  std::vector<FunctionCode> functions_;
  mutable std::mutex mutex_;
};

} // namespace

CudaBackend::CudaBackend() : source_([] { return openGpu(0); }) {}

CudaBackend::CudaBackend(std::shared_ptr<Device> device)
    : source_([device]() -> Expected<std::shared_ptr<Device>> { return device; }) {}

std::string_view CudaBackend::description() const {
  return "NVIDIA GPUs: kernels as LLVM IR compiled to PTX (sm_80, sm_90), the driver opened at "
         "run time";
}

Status CudaBackend::available() const { return source_().status(); }

Expected<std::unique_ptr<backends::Executable>>
CudaBackend::compile(const ir::Module &module, const backends::CompileOptions &options) const {
  auto lowering = detail::loweringOptions(options.features);
  WEFT_TRY(lowering.status());
  auto device = source_();
  WEFT_TRY(device.status());
  KernelModule km = makeKernelModule((*device)->target(), "weft_cuda_kernels");
  std::vector<std::string> names;
  std::vector<FunctionCode> functions;
  for (const auto &f : module.functions()) {
    auto code = lowerFunction(*f, km, (*device)->target(), names, *lowering);
    WEFT_TRY(code.status());
    functions.push_back(std::move(*code));
  }
  auto kernels = (*device)->load(std::move(km), names);
  WEFT_TRY(kernels.status());
  return std::unique_ptr<backends::Executable>(
      new CudaExecutable(backends::signaturesOf(module), std::move(*device), std::move(*kernels),
                         std::move(functions)));
}

Expected<std::string> modulePtx(const ir::Module &module, const std::string &sm,
                                const backends::CompileOptions &options) {
  if (!isSupportedSm(sm))
    return err(fmt::format("'{}' is not a GPU generation weft compiles for (sm_80, sm_90)", sm));
  auto lowering = detail::loweringOptions(options.features);
  WEFT_TRY(lowering.status());
  KernelModule km = makeKernelModule(KernelTarget::Nvptx, "weft_cuda_kernels");
  std::vector<std::string> names;
  for (const auto &f : module.functions())
    WEFT_TRY(lowerFunction(*f, km, KernelTarget::Nvptx, names, *lowering).status());
  return compileToPtx(*km.module, sm);
}

const CudaBackend &backend() {
  static const CudaBackend gpu;
  return gpu;
}

} // namespace weft::cuda
