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
#include <limits>
#include <tuple>

namespace weft::cuda {
namespace {

using detail::LoopCode;
using detail::LoopCopy;
using detail::LoopLaunch;
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
  // As many as the grid wants: the loader launches a co-resident grid on at most the GPU's
  // multiprocessors (AotPlan::Step::coResident).
  int64_t coResidentBlocks() const override { return std::numeric_limits<int32_t>::max(); }
  Status synchronize() override { return Status::ok(); }
};

AotPlan unavailable(const ir::Function &f, std::string why) {
  AotPlan p;
  p.function = f.name();
  p.unavailable = std::move(why);
  return p;
}

/// Writes lowered steps out as a plan's, loops unrolled (runtime/CudaAotPlan.h). A step the
/// plan cannot hold ends the writing with the reason, which the plan then carries.
class PlanWriter {
public:
  /// Past this many steps a plan stops being worth embedding (an LSTM of 100 steps is a few
  /// thousand).
  static constexpr size_t kMaxSteps = 1 << 20;

  PlanWriter(AotPlan &plan, const ir::DimBindings &dims, std::vector<uint64_t> &offsets,
             const std::vector<size_t> &bytes)
      : p_(plan), dims_(dims), at_(offsets), bytes_(bytes) {}

  /// Appends `steps`; the reason the plan cannot hold them, or empty.
  Expected<std::string> steps(const std::vector<Step> &steps) {
    for (const Step &step : steps) {
      auto why = this->step(step);
      if (!why || !why->empty())
        return why;
    }
    return std::string();
  }

private:
  uint64_t at(int ref) const { return at_[static_cast<size_t>(ref)]; }

  Expected<std::string> step(const Step &step) {
    AotPlan::Step out;
    out.op = step.what;
    switch (step.kind) {
    case Step::Kind::Kernel: {
      auto launch = step.launch(dims_, gpu_);
      if (!launch) // the op's fault at these shapes (a max over an empty axis)
        return fmt::format("{}: {}", step.what, launch.diag().message);
      if (launch->grid.blocks <= 0 || launch->grid.threads <= 0)
        return std::string(); // nothing to launch (an empty tensor)
      add(LoopLaunch{step.kernel, step.slots, std::move(*launch)}, step.what);
      return std::string();
    }
    case Step::Kind::Copy:
      out.kind = AotPlan::Step::Kind::Copy;
      out.dst = at(step.slots[0]);
      out.src = at(step.slots[1]);
      out.bytes = bytes_[static_cast<size_t>(step.slots[0])];
      break;
    case Step::Kind::Upload: {
      out.kind = AotPlan::Step::Kind::Constant;
      out.dst = at(step.slots[0]);
      size_t total = bytes_[static_cast<size_t>(step.slots[0])];
      out.data.resize(total);
      size_t element = step.splat ? static_cast<size_t>(dtypeBytes(step.constant->dtype())) : total;
      for (size_t pos = 0; pos + element <= total && element > 0; pos += element)
        std::memcpy(out.data.data() + pos, step.constant->data(), element);
      break;
    }
    case Step::Kind::Check:
      if (step.lengths) {
        auto T = step.lengths->sequence.evaluateShape(dims_);
        WEFT_TRY(T.status());
        return lengthsCheck(step.what, step.lengths->slot, step.lengths->type, T->at(0));
      }
      if (step.statusSlot < 0) // every check lowers a status word or checks lengths
        return fmt::format("{}: its run-time check has no form in code built ahead of time yet",
                           step.what);
      out.kind = AotPlan::Step::Kind::StatusCheck;
      out.src = at(step.statusSlot);
      if (step.divided) {
        auto shape = step.divided->evaluateShape(dims_);
        WEFT_TRY(shape.status());
        out.kind = AotPlan::Step::Kind::DivisionCheck;
        out.data = std::string(dtypeName(step.divided->dtype())) + formatShape(*shape);
      } else if (step.indexed) {
        const Step::Indexed &g = *step.indexed;
        auto table = g.table.evaluateShape(dims_);
        WEFT_TRY(table.status());
        auto indices = g.indices.evaluateShape(dims_);
        WEFT_TRY(indices.status());
        const auto axis = static_cast<size_t>(g.axis);
        int64_t inner = 1;
        for (size_t a = axis + 1; a < table->size(); ++a)
          inner *= (*table)[a];
        out.dst = at(g.indicesSlot);
        out.scalars = {static_cast<int64_t>(g.indices.dtype()), inner, table->at(axis), g.axis};
        out.scalars.insert(out.scalars.end(), indices->begin(), indices->end());
        out.data = std::string(dtypeName(g.table.dtype())) + formatShape(*table);
      }
      break;
    case Step::Kind::Loop:
      return loop(step);
    case Step::Kind::Host: {
      if (!step.allReduce) // all_reduce is the only host step so far
        return fmt::format("{}: work on the host between kernels has no form in code built "
                           "ahead of time yet",
                           step.what);
      const Step::AllReduce &r = *step.allReduce;
      auto bytes = r.type.evaluateBytes(dims_);
      WEFT_TRY(bytes.status());
      out.kind = AotPlan::Step::Kind::AllReduce;
      out.dst = at(step.slots[0]);
      out.src = at(step.slots[1]);
      out.bytes = *bytes;
      out.scalars = {static_cast<int64_t>(r.type.dtype()), r.group, r.mean ? 1 : 0};
      break;
    }
    }
    p_.steps.push_back(std::move(out));
    return std::string();
  }

  void add(const LoopLaunch &l, const std::string &what) {
    AotPlan::Step out;
    out.kind = AotPlan::Step::Kind::Launch;
    out.op = what;
    out.kernel = l.kernel;
    for (int ref : l.refs)
      out.buffers.push_back(at(ref));
    out.scalars = l.launch.scalars;
    out.blocks = l.launch.grid.blocks;
    out.threads = l.launch.grid.threads;
    out.coResident = l.launch.grid.coResident;
    p_.steps.push_back(std::move(out));
  }

  /// The check that the lengths at `ref` (of `type`) lie in [0, steps].
  Expected<std::string> lengthsCheck(const std::string &what, int ref, const ir::Type &type,
                                     int64_t steps) {
    AotPlan::Step check;
    check.kind = AotPlan::Step::Kind::LengthsCheck;
    check.op = what;
    check.src = at(ref);
    auto bytes = type.evaluateBytes(dims_);
    WEFT_TRY(bytes.status());
    check.bytes = *bytes;
    check.scalars = {static_cast<int64_t>(type.dtype()), steps};
    p_.steps.push_back(std::move(check));
    return std::string();
  }

  /// A scan's or while's trips, one after another, as RunSteps.cpp runs them.
  Expected<std::string> loop(const Step &step) {
    const LoopCode &l = *step.loop;
    for (auto [to, from] : l.init) {
      AotPlan::Step copy;
      copy.kind = AotPlan::Step::Kind::Copy;
      copy.op = step.what;
      copy.dst = at(to);
      copy.src = at(from);
      copy.bytes = bytes_[static_cast<size_t>(to)];
      p_.steps.push_back(std::move(copy));
    }
    for (const LoopCopy &z : l.zeroed) {
      auto zero = detail::loopZeroLaunch(z, dims_, gpu_);
      WEFT_TRY(zero.status());
      add(*zero, step.what);
    }
    int64_t trips = l.maxTrips;
    if (!l.isWhile) {
      auto n = detail::scanTrips(l, dims_);
      WEFT_TRY(n.status());
      trips = *n;
      if (l.lengthsType) {
        auto why = lengthsCheck(step.what, l.maskRef, *l.lengthsType, trips);
        if (!why || !why->empty())
          return why;
      }
    }
    const uint64_t flags = l.isWhile ? bytes_[static_cast<size_t>(l.finishedSlot)] : 0;
    std::vector<size_t> whileChecks; // their jumps are set once the loop's end is known
    for (int64_t trip = 0; trip < trips; ++trip) {
      if (l.isWhile) {
        AotPlan::Step check;
        check.kind = AotPlan::Step::Kind::WhileCheck;
        check.op = step.what;
        check.src = at(l.finishedSlot);
        check.bytes = flags;
        check.dst = at(l.tripsSlot);
        check.scalars = {trip, 0};
        whileChecks.push_back(p_.steps.size());
        p_.steps.push_back(std::move(check));
      }
      const int64_t t = l.reverse ? trips - 1 - trip : trip;
      for (const LoopCode::View &v : l.views) {
        auto offset = detail::viewOffset(v, dims_, t);
        WEFT_TRY(offset.status());
        at_[static_cast<size_t>(v.ref)] = at(v.sequence) + *offset;
      }
      auto why = steps(l.body);
      if (!why || !why->empty())
        return why;
      for (const auto &[copies, row, zero] : {std::tuple{&l.emits, t, true},
                                              {&l.staged, int64_t(0), false},
                                              {&l.carries, int64_t(0), false}})
        for (const LoopCopy &c : *copies) {
          auto copy = detail::loopCopyLaunch(l, c, dims_, gpu_, t, row, zero);
          WEFT_TRY(copy.status());
          if (*copy)
            add(**copy, step.what);
        }
      if (l.isWhile)
        add(whileOrLaunch(l, static_cast<int64_t>(flags), gpu_), step.what);
      if (p_.steps.size() > kMaxSteps)
        return fmt::format("{}: its loops unrolled take more than {} steps", step.what, kMaxSteps);
    }
    if (l.isWhile) { // all max_trips ran
      AotPlan::Step count;
      count.kind = AotPlan::Step::Kind::Constant;
      count.op = step.what;
      count.dst = at(l.tripsSlot);
      count.data.assign(reinterpret_cast<const char *>(&trips), sizeof trips);
      p_.steps.push_back(std::move(count));
      for (size_t i : whileChecks)
        p_.steps[i].scalars[1] = static_cast<int64_t>(p_.steps.size());
    }
    return std::string();
  }

  AotPlan &p_;
  const ir::DimBindings &dims_;
  /// The slots' offsets, then the views', which each trip moves.
  std::vector<uint64_t> &at_;
  const std::vector<size_t> &bytes_;
  PlanningDevice gpu_;
};

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

  std::vector<uint64_t> offsets(memory->offsets.begin(), memory->offsets.end());
  offsets.resize(offsets.size() + static_cast<size_t>(code->numViews), 0);
  PlanWriter writer{p, dims, offsets, bytes};
  auto why = writer.steps(code->steps);
  WEFT_TRY(why.status());
  if (!why->empty())
    return unavailable(f, std::move(*why));
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
