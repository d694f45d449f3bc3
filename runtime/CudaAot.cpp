//===- runtime/CudaAot.cpp ------------------------------------------------===//
#include "runtime/CudaAot.h"

#include "runtime/CudaAotSteps.h"
#include "runtime/CudaDriver.h"

#include <fmt/format.h>

#include <limits>
#include <map>

namespace weft::cuda {
namespace {

/// Every offset of `p` within its arena, and every launch's grid positive: bytes that say
/// otherwise are refused before anything runs.
Status checkBounds(const AotPlan &p) {
  auto within = [&](uint64_t offset, uint64_t bytes) {
    return offset <= p.arenaBytes && bytes <= p.arenaBytes - offset;
  };
  for (const auto *buffers : {&p.params, &p.results})
    for (const AotPlan::Buffer &b : *buffers)
      if (!within(b.offset, b.bytes))
        return err("the GPU code places a parameter or result outside its allocation");
  for (const AotPlan::Step &s : p.steps) {
    bool ok = true;
    switch (s.kind) {
    case AotPlan::Step::Kind::Launch:
      for (uint64_t b : s.buffers)
        ok = ok && b <= p.arenaBytes;
      ok = ok && s.blocks > 0 && s.threads > 0 && s.blocks <= std::numeric_limits<int32_t>::max() &&
           s.threads <= 1024;
      break;
    case AotPlan::Step::Kind::Copy:
      ok = within(s.dst, s.bytes) && within(s.src, s.bytes);
      break;
    case AotPlan::Step::Kind::Constant:
      ok = within(s.dst, s.data.size());
      break;
    case AotPlan::Step::Kind::StatusCheck:
    case AotPlan::Step::Kind::DivisionCheck:
      ok = within(s.src, sizeof(int64_t));
      break;
    case AotPlan::Step::Kind::LengthsCheck:
      ok = within(s.src, s.bytes);
      break;
    case AotPlan::Step::Kind::WhileCheck:
      ok = within(s.src, s.bytes) && within(s.dst, sizeof(int64_t));
      break;
    case AotPlan::Step::Kind::AllReduce:
      ok = within(s.src, s.bytes) && within(s.dst, s.bytes);
      break;
    }
    if (!ok)
      return err(fmt::format("the GPU code's step for {} reaches outside its allocation", s.op));
  }
  return Status::ok();
}

} // namespace

Status aotGpuCodeOf(const weft_aot_function &fn, AotPlan *out) {
  if (!fn.gpu_code)
    return err(
        fmt::format("@{} was compiled without GPU code (weftc --gpu=sm_90 adds it)", fn.name));
  uint64_t size = encodedAotPlanSize(fn.gpu_code);
  if (size == 0)
    return err(fmt::format("@{}'s GPU code is not weft's (it lacks WEFTGPU1)", fn.name));
  auto plan = decodeAotPlan(
      std::string_view(reinterpret_cast<const char *>(fn.gpu_code), static_cast<size_t>(size)));
  if (!plan)
    return err(fmt::format("@{}: {}", fn.name, plan.diag().message));
  if (!plan->unavailable.empty())
    return err(fmt::format("@{} has no GPU code: {}", fn.name, plan->unavailable));
  WEFT_TRY(checkBounds(*plan));
  if (plan->params.size() != fn.n_params || plan->results.size() != fn.n_results)
    return err(fmt::format("@{}'s GPU code takes {} inputs and gives {} results; the function "
                           "{} and {}",
                           fn.name, plan->params.size(), plan->results.size(), fn.n_params,
                           fn.n_results));
  if (out)
    *out = std::move(*plan);
  return Status::ok();
}

struct AotGpuFunction::State {
  const Driver *driver = nullptr;
  int ordinal = 0;
  int64_t multiprocessors = 1;
  CUcontext context = nullptr;
  CUstream stream = nullptr;
  CUmodule module = nullptr;
  std::vector<CUfunction> kernels;
  /// The constants, uploaded at load, by step.
  std::map<size_t, CUdeviceptr> constants;
  /// The kept parameters' device copies, by parameter.
  std::map<size_t, CUdeviceptr> kept;

  Status current() const {
    return driver->check(driver->api().cuCtxSetCurrent(context), "cuCtxSetCurrent");
  }
};

namespace {

/// A plan's steps on the driver, in the function's stream, within the call's allocation at
/// `base`.
class DriverSteps final : public AotStepTarget {
public:
  DriverSteps(const Driver &d, CUstream stream, const std::vector<CUfunction> &kernels,
              const std::map<size_t, CUdeviceptr> &constants, CUdeviceptr base,
              int64_t multiprocessors)
      : d_(d), api_(d.api()), stream_(stream), kernels_(kernels), constants_(constants),
        base_(base), multiprocessors_(std::max<int64_t>(1, multiprocessors)) {}

  Status launch(const AotPlan::Step &s) override {
    addresses_.clear();
    for (uint64_t offset : s.buffers)
      addresses_.push_back(base_ + offset);
    scalars_.assign(s.scalars.begin(), s.scalars.end());
    params_.clear();
    for (CUdeviceptr &a : addresses_)
      params_.push_back(&a);
    for (int64_t &v : scalars_)
      params_.push_back(&v);
    const int64_t blocks = s.coResident ? std::min<int64_t>(s.blocks, multiprocessors_) : s.blocks;
    return d_.check(api_.cuLaunchKernel(kernels_[s.kernel], static_cast<unsigned>(blocks), 1, 1,
                                        static_cast<unsigned>(s.threads), 1, 1, 0, stream_,
                                        params_.data(), nullptr),
                    "cuLaunchKernel", s.op);
  }
  Status copy(uint64_t dst, uint64_t src, uint64_t bytes, const std::string &op) override {
    return d_.check(api_.cuMemcpyDtoDAsync(base_ + dst, base_ + src, bytes, stream_),
                    "cuMemcpyDtoDAsync", op);
  }
  Status constant(size_t index, const AotPlan::Step &s) override {
    return d_.check(
        api_.cuMemcpyDtoDAsync(base_ + s.dst, constants_.at(index), s.data.size(), stream_),
        "cuMemcpyDtoDAsync", s.op);
  }
  Status read(void *to, uint64_t offset, uint64_t bytes, const std::string &op) override {
    WEFT_TRY(d_.check(api_.cuMemcpyDtoHAsync(to, base_ + offset, bytes, stream_),
                      "cuMemcpyDtoHAsync", op));
    return d_.check(api_.cuStreamSynchronize(stream_), "cuStreamSynchronize", op);
  }
  Status write(uint64_t offset, const void *from, uint64_t bytes, const std::string &op) override {
    // Waited for: `from` may be gone when an asynchronous copy would read it.
    WEFT_TRY(d_.check(api_.cuMemcpyHtoDAsync(base_ + offset, from, bytes, stream_),
                      "cuMemcpyHtoDAsync", op));
    return d_.check(api_.cuStreamSynchronize(stream_), "cuStreamSynchronize", op);
  }

private:
  const Driver &d_;
  const DriverApi &api_;
  CUstream stream_;
  const std::vector<CUfunction> &kernels_;
  const std::map<size_t, CUdeviceptr> &constants_;
  CUdeviceptr base_;
  int64_t multiprocessors_;
  std::vector<void *> params_;
  std::vector<CUdeviceptr> addresses_;
  std::vector<int64_t> scalars_;
};

} // namespace

AotGpuFunction::~AotGpuFunction() {
  if (!state_ || !state_->context)
    return;
  const DriverApi &api = state_->driver->api();
  api.cuCtxSetCurrent(state_->context);
  for (auto &[step, p] : state_->constants)
    api.cuMemFree(p);
  for (auto &[param, p] : state_->kept)
    api.cuMemFree(p);
  if (state_->module)
    api.cuModuleUnload(state_->module);
  if (state_->stream)
    api.cuStreamDestroy(state_->stream);
  api.cuDevicePrimaryCtxRelease(state_->ordinal);
}

Expected<std::unique_ptr<AotGpuFunction>> AotGpuFunction::load(const weft_aot_function &fn,
                                                               int ordinal, const Driver *system) {
  // The device first: on a machine without one, that is what the user needs to hear.
  const Driver *driver = system;
  if (!driver) {
    auto opened = Driver::get();
    WEFT_TRY(opened.status());
    driver = *opened;
  }
  auto info = driver->device(ordinal);
  WEFT_TRY(info.status());
  std::unique_ptr<AotGpuFunction> f(new AotGpuFunction);
  WEFT_TRY(aotGpuCodeOf(fn, &f->plan_));
  int planSm = 0;
  for (char c : f->plan_.sm.substr(std::min<size_t>(3, f->plan_.sm.size())))
    planSm = c >= '0' && c <= '9' && planSm < 1000 ? planSm * 10 + (c - '0') : 1000;
  if (f->plan_.sm.rfind("sm_", 0) != 0 || planSm == 0 || planSm >= 1000)
    return err(fmt::format("@{}'s GPU code names no GPU generation ('{}')", fn.name, f->plan_.sm));
  if (info->smMajor * 10 + info->smMinor < planSm)
    return err(fmt::format("@{}'s GPU code is for {}; {} is {}", fn.name, f->plan_.sm, info->name,
                           info->smName()));
  f->device_ = fmt::format("{} ({})", info->name, info->smName());
  f->name_ = fn.name;
  for (size_t a = 0; a < fn.n_aliases; ++a)
    f->aliases_.emplace_back(fn.alias_results[a], fn.alias_params[a]);
  f->state_ = std::make_unique<State>();
  State &s = *f->state_;
  s.driver = driver;
  s.multiprocessors = info->multiprocessors;
  s.ordinal = ordinal;
  const Driver &d = *driver;
  const DriverApi &api = d.api();
  WEFT_TRY(d.check(api.cuDevicePrimaryCtxRetain(&s.context, ordinal), "cuDevicePrimaryCtxRetain"));
  WEFT_TRY(s.current());
  WEFT_TRY(d.check(api.cuStreamCreate(&s.stream, 0), "cuStreamCreate"));
  WEFT_TRY(d.check(api.cuModuleLoadDataEx(&s.module, f->plan_.ptx.c_str(), 0, nullptr, nullptr),
                   "cuModuleLoadDataEx", fmt::format("the PTX of @{}", fn.name)));
  for (const std::string &name : f->plan_.kernels) {
    CUfunction k = nullptr;
    WEFT_TRY(
        d.check(api.cuModuleGetFunction(&k, s.module, name.c_str()), "cuModuleGetFunction", name));
    s.kernels.push_back(k);
  }
  for (size_t i = 0; i < f->plan_.steps.size(); ++i) {
    const AotPlan::Step &step = f->plan_.steps[i];
    if (step.kind != AotPlan::Step::Kind::Constant)
      continue;
    CUdeviceptr p = 0;
    WEFT_TRY(
        d.check(api.cuMemAlloc(&p, std::max<size_t>(step.data.size(), 1)), "cuMemAlloc", step.op));
    s.constants[i] = p;
    WEFT_TRY(d.check(api.cuMemcpyHtoDAsync(p, step.data.data(), step.data.size(), s.stream),
                     "cuMemcpyHtoDAsync", step.op));
  }
  WEFT_TRY(d.check(api.cuStreamSynchronize(s.stream), "cuStreamSynchronize"));
  return f;
}

Status AotGpuFunction::call(std::span<const void *const> inputs, std::span<void *const> outputs) {
  if (inputs.size() != plan_.params.size() || outputs.size() != plan_.results.size())
    return err(fmt::format("@{} takes {} inputs and {} outputs, not {} and {}", plan_.function,
                           plan_.params.size(), plan_.results.size(), inputs.size(),
                           outputs.size()));
  State &s = *state_;
  const Driver &d = *s.driver;
  const DriverApi &api = d.api();
  WEFT_TRY(s.current());
  CUdeviceptr base = 0;
  WEFT_TRY(d.check(api.cuMemAlloc(&base, std::max<uint64_t>(plan_.arenaBytes, 1)), "cuMemAlloc",
                   fmt::format("{} bytes for @{}", plan_.arenaBytes, plan_.function)));
  struct Release {
    const DriverApi &api;
    CUdeviceptr p;
    ~Release() { api.cuMemFree(p); }
  } release{api, base};

  for (size_t i = 0; i < inputs.size(); ++i) {
    const std::string what = fmt::format("input {} of @{}", i, plan_.function);
    const AotPlan::Buffer &in = plan_.params[i];
    if (auto kept = s.kept.find(i); kept != s.kept.end())
      WEFT_TRY(d.check(api.cuMemcpyDtoDAsync(base + in.offset, kept->second, in.bytes, s.stream),
                       "cuMemcpyDtoDAsync", what));
    else if (!inputs[i])
      return err(fmt::format("{} is missing (null, and not kept on the device)", what));
    else
      WEFT_TRY(d.check(api.cuMemcpyHtoDAsync(base + in.offset, inputs[i], in.bytes, s.stream),
                       "cuMemcpyHtoDAsync", what));
  }
  DriverSteps target(d, s.stream, s.kernels, s.constants, base, s.multiprocessors);
  WEFT_TRY(runAotSteps(plan_, target));
  for (size_t r = 0; r < outputs.size(); ++r) {
    const std::string what = fmt::format("result {} of @{}", r, plan_.function);
    const AotPlan::Buffer &out = plan_.results[r];
    bool stays = false;
    for (auto [result, param] : aliases_)
      if (result == r && s.kept.count(param)) {
        WEFT_TRY(
            d.check(api.cuMemcpyDtoDAsync(s.kept[param], base + out.offset, out.bytes, s.stream),
                    "cuMemcpyDtoDAsync", what));
        stays = true;
      }
    if (outputs[r])
      WEFT_TRY(d.check(api.cuMemcpyDtoHAsync(outputs[r], base + out.offset, out.bytes, s.stream),
                       "cuMemcpyDtoHAsync", what));
    else if (!stays)
      return err(
          fmt::format("{} has nowhere to go (null, and not an update of a kept parameter)", what));
  }
  return d.check(api.cuStreamSynchronize(s.stream), "cuStreamSynchronize",
                 fmt::format("@{}", plan_.function));
}

Status AotGpuFunction::keepOnDevice(size_t param, const void *data) {
  if (param >= plan_.params.size())
    return err(fmt::format("@{} has {} parameters; it cannot keep parameter {}", name_,
                           plan_.params.size(), param));
  State &s = *state_;
  const Driver &d = *s.driver;
  const DriverApi &api = d.api();
  WEFT_TRY(s.current());
  const std::string what = fmt::format("kept parameter {} of @{}", param, name_);
  // Kept only once its value is there: a failed call keeps nothing.
  auto kept = s.kept.find(param);
  CUdeviceptr p = kept != s.kept.end() ? kept->second : 0;
  if (!p)
    WEFT_TRY(d.check(api.cuMemAlloc(&p, std::max<uint64_t>(plan_.params[param].bytes, 1)),
                     "cuMemAlloc", what));
  Status copied = d.check(api.cuMemcpyHtoDAsync(p, data, plan_.params[param].bytes, s.stream),
                          "cuMemcpyHtoDAsync", what);
  if (copied)
    copied = d.check(api.cuStreamSynchronize(s.stream), "cuStreamSynchronize", what);
  if (!copied) { // an old value may be half overwritten: not kept any more
    api.cuMemFree(p);
    if (kept != s.kept.end())
      s.kept.erase(kept);
    return copied;
  }
  s.kept[param] = p;
  return Status::ok();
}

Status AotGpuFunction::readFromDevice(size_t param, void *out) const {
  const State &s = *state_;
  auto kept = s.kept.find(param);
  if (kept == s.kept.end())
    return err(fmt::format("parameter {} of @{} is not kept on the device", param, name_));
  const Driver &d = *s.driver;
  const DriverApi &api = d.api();
  WEFT_TRY(s.current());
  const std::string what = fmt::format("kept parameter {} of @{}", param, name_);
  WEFT_TRY(d.check(api.cuMemcpyDtoHAsync(out, kept->second, plan_.params[param].bytes, s.stream),
                   "cuMemcpyDtoHAsync", what));
  return d.check(api.cuStreamSynchronize(s.stream), "cuStreamSynchronize", what);
}

} // namespace weft::cuda
