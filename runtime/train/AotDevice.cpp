//===- runtime/train/AotDevice.cpp ----------------------------------------===//
#include "runtime/train/AotDevice.h"

#include "runtime/CudaAot.h"
#include "runtime/train/AotFunction.h"

#include <fmt/format.h>

#include <memory>
#include <mutex>

namespace weft::train {
namespace {

/// One function's GPU code, called on arrays; one call (or copy) at a time.
class GpuRunner {
public:
  static Expected<std::shared_ptr<GpuRunner>> load(const weft_aot_function &fn,
                                                   const cuda::Driver *driver) {
    auto loaded = cuda::AotGpuFunction::load(fn, 0, driver);
    WEFT_TRY(loaded.status());
    auto r = std::shared_ptr<GpuRunner>(new GpuRunner(fn, std::move(*loaded)));
    // The symbols' values the GPU code was specialized to, in fn's order.
    const cuda::AotPlan &plan = r->gpu_->plan();
    for (size_t i = 0; i < fn.n_symbols; ++i) {
      size_t k = 0;
      while (k < plan.symbols.size() && plan.symbols[k] != fn.symbols[i])
        ++k;
      if (k == plan.symbols.size())
        return err(fmt::format("@{}'s GPU code does not bind symbol {}", fn.name, fn.symbols[i]));
      r->dims_.push_back(plan.symbolValues[k]);
    }
    r->dims_.push_back(0); // never empty: data() is passed even for a function without symbols
    return r;
  }

  /// Runs one call. An argument marked in `kept` lives on the device: its array is only checked
  /// for type, but uploaded first when `*upload` is set (which is then cleared), and a result
  /// that updates it in place is that array, moved out of `args`.
  Expected<std::vector<Array>> run(std::span<Array> args, const std::vector<bool> &kept,
                                   bool *upload) {
    const cuda::AotPlan &plan = gpu_->plan();
    if (args.size() != plan.params.size())
      return err(
          fmt::format("@{} takes {} arguments, not {}", f_.name, plan.params.size(), args.size()));
    std::vector<const void *> in;
    for (size_t i = 0; i < args.size(); ++i) {
      WEFT_TRY(checkArgument(i, args[i]));
      in.push_back(kept[i] ? nullptr : args[i].data());
    }
    std::vector<int32_t> keptUpdate(plan.results.size(), -1);
    for (size_t a = 0; a < f_.n_aliases; ++a)
      if (kept[static_cast<size_t>(f_.alias_params[a])])
        keptUpdate[static_cast<size_t>(f_.alias_results[a])] = f_.alias_params[a];
    std::vector<Array> results;
    std::vector<void *> out;
    for (size_t r = 0; r < plan.results.size(); ++r) {
      if (keptUpdate[r] >= 0) { // stays on the device
        results.emplace_back();
        out.push_back(nullptr);
        continue;
      }
      const weft_aot_slot &slot = f_.slots[f_.result_slots[r]];
      std::vector<int64_t> shape(static_cast<size_t>(slot.rank));
      if (weft_aot_slot_shape(&f_, f_.result_slots[r], dims_.data(), shape.data()) != 0)
        return err(fmt::format("result {} of @{} has no static shape", r, f_.name));
      results.emplace_back(static_cast<DType>(slot.dtype), shape);
      if (results.back().nbytes() != plan.results[r].bytes)
        return err(fmt::format("result {} of @{} has {} bytes; its GPU code gives {}", r, f_.name,
                               results.back().nbytes(), plan.results[r].bytes));
      out.push_back(results.back().data());
    }
    std::lock_guard<std::mutex> lock(mutex_);
    for (size_t i = 0; *upload && i < args.size(); ++i)
      if (kept[i])
        WEFT_TRY(gpu_->keepOnDevice(i, args[i].data()));
    *upload = false;
    WEFT_TRY(gpu_->call(in, out));
    for (size_t r = 0; r < results.size(); ++r)
      if (keptUpdate[r] >= 0)
        results[r] = std::move(args[static_cast<size_t>(keptUpdate[r])]);
    return results;
  }

  /// The device's value of kept argument `i`, into `host` (an array of its type).
  Status read(size_t i, Array &host) {
    WEFT_TRY(checkArgument(i, host));
    std::lock_guard<std::mutex> lock(mutex_);
    return gpu_->readFromDevice(i, host.data());
  }

  const weft_aot_function &function() const { return f_; }

private:
  GpuRunner(const weft_aot_function &fn, std::unique_ptr<cuda::AotGpuFunction> gpu)
      : f_(fn), gpu_(std::move(gpu)) {}

  /// Whether `a` is what argument `i` of the GPU code takes.
  Status checkArgument(size_t i, const Array &a) const {
    const weft_aot_slot &slot = f_.slots[f_.param_slots[i]];
    std::vector<int64_t> want(static_cast<size_t>(slot.rank));
    if (weft_aot_slot_shape(&f_, f_.param_slots[i], dims_.data(), want.data()) != 0)
      return err(
          fmt::format("parameter {} of @{} has no shape under its GPU code's dims", i, f_.name));
    if (static_cast<int>(a.dtype()) != slot.dtype || a.shape() != want ||
        a.nbytes() != gpu_->plan().params[i].bytes)
      return err(fmt::format("argument {} ('{}') of @{} is {}{}; its GPU code takes {}{}", i,
                             f_.param_names[i], f_.name, dtypeName(a.dtype()),
                             formatShape(a.shape()), dtypeName(static_cast<DType>(slot.dtype)),
                             formatShape(want)));
    return Status::ok();
  }

  const weft_aot_function &f_;
  std::unique_ptr<cuda::AotGpuFunction> gpu_;
  std::vector<int64_t> dims_;
  std::mutex mutex_;
};

/// The arguments a step updates in place, kept on its GPU between calls.
class GpuResidency final : public Residency {
public:
  explicit GpuResidency(std::shared_ptr<GpuRunner> runner) : runner_(std::move(runner)) {
    const weft_aot_function &f = runner_->function();
    mask_.assign(f.n_params, false);
    for (size_t a = 0; a < f.n_aliases; ++a)
      mask_[static_cast<size_t>(f.alias_params[a])] = true;
    for (size_t i = 0; i < mask_.size(); ++i)
      if (mask_[i])
        kept_.push_back(i);
  }

  Expected<std::vector<Array>> call(std::span<Array> args) {
    // Whatever happens, the device may now hold values the host has not seen.
    deviceNewer_ = true;
    return runner_->run(args, mask_, &upload_);
  }

  const std::vector<size_t> &kept() const override { return kept_; }

  Status pull(std::span<Array *const> host) override {
    if (!deviceNewer_ || upload_)
      return Status::ok();
    if (host.size() != kept_.size())
      return err(fmt::format("@{} keeps {} arguments on its device; {} host arrays were given",
                             runner_->function().name, kept_.size(), host.size()));
    for (size_t k = 0; k < kept_.size(); ++k)
      WEFT_TRY(runner_->read(kept_[k], *host[k]));
    deviceNewer_ = false;
    return Status::ok();
  }

  void hostChanged() override {
    upload_ = true;
    deviceNewer_ = false;
  }

private:
  std::shared_ptr<GpuRunner> runner_;
  std::vector<bool> mask_;
  std::vector<size_t> kept_;
  bool upload_ = true, deviceNewer_ = false;
};

} // namespace

Expected<Function> aotFunctionOn(const weft_aot_function &fn, std::string_view device,
                                 const cuda::Driver *driver) {
  return aotFunctionOn(fn, device, {}, driver);
}

Expected<Function> aotFunctionOn(const weft_aot_function &fn, std::string_view device,
                                 std::span<const size_t> constants, const cuda::Driver *driver) {
  if (device == "cpu")
    return aotFunction(fn);
  if (device != "cuda")
    return err(fmt::format("unknown device '{}' (choose {})", device, kAotDevices));
  auto runner = GpuRunner::load(fn, driver);
  if (!runner)
    return runner.diag();
  std::vector<bool> kept(fn.n_params, false);
  for (size_t i : constants) {
    if (i >= fn.n_params)
      return err(fmt::format("@{} takes {} arguments; argument {} cannot stay on the GPU", fn.name,
                             fn.n_params, i));
    kept[i] = true;
  }
  for (size_t a = 0; a < fn.n_aliases; ++a)
    if (kept[static_cast<size_t>(fn.alias_params[a])])
      return err(fmt::format("@{} updates argument {} ('{}') in place: it is not a constant",
                             fn.name, fn.alias_params[a], fn.param_names[fn.alias_params[a]]));
  // Shared by the function's copies; read and cleared under the runner's lock.
  auto upload = std::make_shared<bool>(true);
  return Function([gpu = std::move(*runner), kept, upload](std::span<Array> args) {
    return gpu->run(args, kept, upload.get());
  });
}

Expected<Step> aotStepOn(const weft_aot_function &fn, std::string_view device,
                         const cuda::Driver *driver) {
  if (device != "cuda") {
    auto f = aotFunctionOn(fn, device, driver);
    if (!f)
      return f.diag();
    return Step(std::move(*f));
  }
  auto runner = GpuRunner::load(fn, driver);
  if (!runner)
    return runner.diag();
  auto residency = std::make_shared<GpuResidency>(std::move(*runner));
  return Step([residency](std::span<Array> args) { return residency->call(args); }, residency);
}

} // namespace weft::train
