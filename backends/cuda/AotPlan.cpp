//===- backends/cuda/AotPlan.cpp ------------------------------------------===//
#include "backends/cuda/AotPlan.h"

#include "backends/cuda/Kernels.h"
#include "backends/cuda/Lowering.h"
#include "backends/cuda/Ptx.h"
#include "runtime/MemoryPlan.h"

#include <fmt/format.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>

#include <cstring>

namespace weft::cuda {
namespace {

using detail::Step;

/// A GPU as the launch plans see it: its block sizes, nothing else (nothing runs on it).
class PlanningDevice final : public Device {
public:
  std::string describe() const override { return "a GPU, for code built ahead of time"; }
  KernelTarget target() const override { return KernelTarget::Nvptx; }
  Expected<std::unique_ptr<LoadedKernels>> load(KernelModule,
                                                const std::vector<std::string> &) override {
    return err("nothing runs while planning");
  }
  Expected<DeviceAddress> allocate(size_t) override { return err("nothing runs while planning"); }
  void release(DeviceAddress) override {}
  Status upload(DeviceAddress, const void *, size_t) override {
    return err("nothing runs while planning");
  }
  Status download(void *, DeviceAddress, size_t) override {
    return err("nothing runs while planning");
  }
  Status copy(DeviceAddress, DeviceAddress, size_t) override {
    return err("nothing runs while planning");
  }
  Status launch(const LoadedKernels &, size_t, std::span<const DeviceAddress>,
                std::span<const int64_t>, Grid, const std::string &) override {
    return err("nothing runs while planning");
  }
  int64_t blockThreads() const override { return kMaxBlockThreads; }
  int64_t maxBlocks() const override { return kGpuMaxBlocks; }
  /// Unknown: the GPU the code will run on is not known yet.
  int64_t coResidentBlocks() const override { return 0; }
  Status synchronize() override { return Status::ok(); }
};

AotPlan unavailable(const ir::Function &f, std::string why) {
  AotPlan p;
  p.function = f.name();
  p.unavailable = std::move(why);
  return p;
}

} // namespace

Expected<AotPlan> aotGpuPlan(const ir::Function &f, const std::string &sm,
                             const ir::DimBindings &dims, const backends::CompileOptions &options) {
  if (!isSupportedSm(sm))
    return err(fmt::format("'{}' is not a GPU generation weft compiles for (sm_80, sm_90)", sm));
  auto lowering = detail::loweringOptions(options.features);
  WEFT_TRY(lowering.status());
  KernelModule km = makeKernelModule(KernelTarget::Nvptx, "weft_" + f.name() + "_kernels");
  std::vector<std::string> names;
  auto code = detail::lowerFunction(f, km, KernelTarget::Nvptx, names, *lowering);
  if (!code)
    return unavailable(f, code.diag().str());

  // Every slot's size now: the plan is fixed at compile time.
  std::vector<PlanSlot> slots;
  std::vector<size_t> bytes;
  for (size_t s = 0; s < code->slotTypes.size(); ++s) {
    auto b = code->slotTypes[s].evaluateBytes(dims);
    if (!b)
      return unavailable(f, fmt::format("its shapes are not all static (a value of type {}); "
                                        "GPU code built ahead of time needs every dim bound "
                                        "(weftc --bind NAME=N)",
                                        code->slotTypes[s].str()));
    bytes.push_back(*b);
    slots.push_back({*b, code->lives[s], true});
  }
  auto memory = planMemory(slots);
  WEFT_TRY(memory.status());

  AotPlan p;
  p.function = f.name();
  p.sm = sm;
  p.kernels = names;
  for (const auto &[name, value] : dims) {
    p.symbols.push_back(name);
    p.symbolValues.push_back(value);
  }
  p.arenaBytes = memory->total;
  auto at = [&](int slot) -> uint64_t { return memory->offsets[static_cast<size_t>(slot)]; };
  for (int s : code->paramSlots)
    p.params.push_back({at(s), bytes[static_cast<size_t>(s)]});
  for (int s : code->resultSlots)
    p.results.push_back({at(s), bytes[static_cast<size_t>(s)]});

  PlanningDevice gpu;
  for (const Step &step : code->steps) {
    AotPlan::Step out;
    out.op = step.what;
    switch (step.kind) {
    case Step::Kind::Kernel: {
      auto launch = step.launch(dims, gpu);
      if (!launch) // the op's fault at these shapes (a max over an empty axis)
        return unavailable(f, fmt::format("{}: {}", step.what, launch.diag().message));
      out.kind = AotPlan::Step::Kind::Launch;
      out.kernel = step.kernel;
      for (int s : step.slots)
        out.buffers.push_back(at(s));
      out.scalars = launch->scalars;
      out.blocks = launch->grid.blocks;
      out.threads = launch->grid.threads;
      if (out.blocks <= 0 || out.threads <= 0)
        continue; // nothing to launch (an empty tensor)
      break;
    }
    case Step::Kind::Copy:
      out.kind = AotPlan::Step::Kind::Copy;
      out.dst = at(step.slots[0]);
      out.src = at(step.slots[1]);
      out.bytes = bytes[static_cast<size_t>(step.slots[0])];
      break;
    case Step::Kind::Upload: {
      out.kind = AotPlan::Step::Kind::Constant;
      out.dst = at(step.slots[0]);
      size_t total = bytes[static_cast<size_t>(step.slots[0])];
      out.data.resize(total);
      size_t element = step.splat ? static_cast<size_t>(dtypeBytes(step.constant->dtype())) : total;
      for (size_t pos = 0; pos + element <= total && element > 0; pos += element)
        std::memcpy(out.data.data() + pos, step.constant->data(), element);
      break;
    }
    case Step::Kind::Check:
      if (step.statusSlot < 0)
        return unavailable(f, fmt::format("{}: its run-time check has no form in code built "
                                          "ahead of time yet",
                                          step.what));
      out.kind = AotPlan::Step::Kind::StatusCheck;
      out.src = at(step.statusSlot);
      break;
    default:
      return unavailable(f, fmt::format("{}: a step of this kind has no form in code built ahead "
                                        "of time yet",
                                        step.what));
    }
    p.steps.push_back(std::move(out));
  }
  for (auto [from, to] : code->aliasCopies) {
    AotPlan::Step copy;
    copy.kind = AotPlan::Step::Kind::Copy;
    copy.dst = at(to);
    copy.src = at(from);
    copy.bytes = bytes[static_cast<size_t>(from)];
    copy.op = fmt::format("the in-place update of @{}", f.name());
    p.steps.push_back(std::move(copy));
  }
  auto ptx = compileToPtx(*km.module, sm);
  WEFT_TRY(ptx.status());
  p.ptx = std::move(*ptx);
  return p;
}

Expected<std::map<std::string, std::string>> aotGpuCode(const ir::Module &module,
                                                        const std::string &sm,
                                                        const ir::DimBindings &dims,
                                                        const backends::CompileOptions &options) {
  std::map<std::string, std::string> out;
  for (const auto &f : module.functions()) {
    auto plan = aotGpuPlan(*f, sm, dims, options);
    WEFT_TRY(plan.status());
    out[f->name()] = encodeAotPlan(*plan);
  }
  return out;
}

} // namespace weft::cuda
