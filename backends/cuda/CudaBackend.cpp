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
#include <functional>
#include <map>
#include <mutex>

namespace weft::cuda {
namespace {

using ir::OpKind;

using detail::FunctionCode;
using detail::lowerFunction;
using detail::Step;

class CudaExecutable final : public backends::Executable {
public:
  CudaExecutable(std::vector<ir::Signature> sigs, std::shared_ptr<Device> device,
                 std::unique_ptr<LoadedKernels> kernels, std::vector<FunctionCode> functions)
      : Executable(std::move(sigs)), device_(std::move(device)), kernels_(std::move(kernels)),
        functions_(std::move(functions)) {}

protected:
  Expected<std::vector<Array>> runChecked(const ir::Signature &sig, std::span<const Array> inputs,
                                          const ir::DimBindings &dims) const override {
    const FunctionCode *code = find(sig.name);
    if (!code)
      return err(fmt::format("no function '{}' was compiled", sig.name));

    // One stream per executable: calls take turns.
    std::lock_guard<std::mutex> lock(mutex_);
    // Parameters kept on the device (keepOnDevice) live outside the call's allocation.
    std::map<int, DeviceAddress> kept;
    for (const auto &[key, buffer] : resident_)
      if (key.first == sig.name)
        kept[code->paramSlots[key.second]] = buffer.address;

    std::vector<PlanSlot> slots(code->slotTypes.size());
    std::vector<size_t> bytes(slots.size());
    for (size_t s = 0; s < slots.size(); ++s) {
      auto b = code->slotTypes[s].evaluateBytes(dims);
      WEFT_TRY(b.status());
      bytes[s] = *b;
      slots[s] = {*b, code->lives[s], !kept.count(static_cast<int>(s))};
    }
    auto memory = planMemory(slots);
    WEFT_TRY(memory.status());

    auto base = device_->allocate(memory->total);
    WEFT_TRY(base.status());
    struct Release {
      Device &d;
      DeviceAddress p;
      ~Release() { d.release(p); }
    } release{*device_, *base};
    detail::CallState call{*device_, *kernels_, dims, {}, bytes, {}};
    call.addresses.resize(slots.size() + static_cast<size_t>(code->numViews));
    for (size_t s = 0; s < slots.size(); ++s) {
      auto k = kept.find(static_cast<int>(s));
      call.addresses[s] = k != kept.end() ? k->second : *base + memory->offsets[s];
    }
    call.constantAddress = [this](const Step &step, size_t total) {
      return constantAddress(step, total);
    };
    auto at = [&](int slot) { return call.addresses[static_cast<size_t>(slot)]; };

    for (size_t i = 0; i < inputs.size(); ++i)
      if (!kept.count(code->paramSlots[i]))
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
    // results (as on the other backends); a parameter kept on the device holds its new value
    // there for the next call.
    return results;
  }

public:
  ~CudaExecutable() override {
    for (auto &[key, buffer] : resident_)
      device_->release(buffer.address);
    for (auto &[key, buffer] : constants_)
      device_->release(buffer.address);
  }

  Status keepOnDevice(std::string_view function, size_t param, const Array &value) {
    const FunctionCode *code = find(function);
    if (!code)
      return err(fmt::format("no function '{}' was compiled", function));
    if (param >= code->paramSlots.size())
      return err(fmt::format("@{} has {} parameters; there is no parameter {}", function,
                             code->paramSlots.size(), param));
    const ir::Type &type = code->signature.paramTypes[param];
    if (!type.isStatic())
      return err(fmt::format("parameter '{}' of @{} has a symbolic shape; only a parameter of a "
                             "static shape stays on the device",
                             code->signature.paramNames[param], function));
    auto want = type.evaluateShape({});
    WEFT_TRY(want.status());
    if (value.dtype() != type.dtype() || value.shape() != *want)
      return err(fmt::format("parameter '{}' of @{} is {}{}, not {}{}",
                             code->signature.paramNames[param], function, dtypeName(type.dtype()),
                             formatShape(*want), dtypeName(value.dtype()),
                             formatShape(value.shape())));
    std::lock_guard<std::mutex> lock(mutex_);
    auto key = std::pair{std::string(function), param};
    auto found = resident_.find(key);
    if (found == resident_.end()) {
      auto address = device_->allocate(value.nbytes());
      WEFT_TRY(address.status());
      found = resident_.emplace(key, DeviceBuffer{*address, value.nbytes()}).first;
    }
    WEFT_TRY(device_->upload(found->second.address, value.data(), value.nbytes()));
    return device_->synchronize();
  }

  Expected<Array> readFromDevice(std::string_view function, size_t param) const {
    const FunctionCode *code = find(function);
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = resident_.find(std::pair{std::string(function), param});
    if (!code || found == resident_.end())
      return err(fmt::format("parameter {} of @{} is not kept on the device", param, function));
    const ir::Type &type = code->signature.paramTypes[param];
    auto shape = type.evaluateShape({});
    WEFT_TRY(shape.status());
    Array out(type.dtype(), *shape);
    WEFT_TRY(device_->download(out.data(), found->second.address, out.nbytes()));
    WEFT_TRY(device_->synchronize());
    return out;
  }

private:
  struct DeviceBuffer {
    DeviceAddress address = 0;
    size_t bytes = 0;
  };

  const FunctionCode *find(std::string_view name) const {
    for (const FunctionCode &c : functions_)
      if (c.signature.name == name)
        return &c;
    return nullptr;
  }

  /// Where constant step `step` lives on the device at `total` bytes: uploaded on the first
  /// call that needs it at this size, then copied on the device (no host transfer in a call).
  Expected<DeviceAddress> constantAddress(const Step &step, size_t total) const {
    std::lock_guard<std::mutex> lock(constantsMutex_);
    auto found = constants_.find(&step);
    if (found == constants_.end() || found->second.bytes != total) {
      std::vector<std::byte> filled = detail::filledConstant(step, total);
      if (found != constants_.end()) {
        device_->release(found->second.address);
        constants_.erase(found);
      }
      auto address = device_->allocate(total);
      WEFT_TRY(address.status());
      found = constants_.emplace(&step, DeviceBuffer{*address, total}).first;
      WEFT_TRY(device_->upload(*address, filled.data(), total));
    }
    return found->second.address;
  }

private:
  std::shared_ptr<Device> device_; // outlives the kernels loaded on it
  std::unique_ptr<LoadedKernels> kernels_;
  std::vector<FunctionCode> functions_;
  mutable std::mutex mutex_;
  /// Parameters kept on the device, by function and parameter index.
  std::map<std::pair<std::string, size_t>, DeviceBuffer> resident_;
  /// Constants uploaded once, by step.
  mutable std::mutex constantsMutex_;
  mutable std::map<const Step *, DeviceBuffer> constants_;
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

namespace {
Expected<CudaExecutable *> cudaExecutable(const backends::Executable &executable) {
  auto *e = dynamic_cast<const CudaExecutable *>(&executable);
  if (!e)
    return err("the executable was not compiled by the cuda backend");
  return const_cast<CudaExecutable *>(e);
}
} // namespace

Status keepOnDevice(const backends::Executable &executable, std::string_view function, size_t param,
                    const Array &value) {
  auto e = cudaExecutable(executable);
  WEFT_TRY(e.status());
  return (*e)->keepOnDevice(function, param, value);
}

Expected<Array> readFromDevice(const backends::Executable &executable, std::string_view function,
                               size_t param) {
  auto e = cudaExecutable(executable);
  WEFT_TRY(e.status());
  return (*e)->readFromDevice(function, param);
}

const CudaBackend &backend() {
  static const CudaBackend gpu;
  return gpu;
}

} // namespace weft::cuda
