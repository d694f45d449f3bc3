//===- backends/cuda/HostDevice.cpp - the CUDA backend's kernels on this CPU ===//
//
// The Device that runs kernels built for KernelTarget::Host: memory is host
// memory (an address is a pointer), copies are memcpy, and a launch calls the
// JIT-compiled kernel once per thread of a small grid, one thread after
// another. Kernels stride over their elements, so an odd grid of three
// threads exercises the striding a GPU launch relies on.
//
//===----------------------------------------------------------------------===//
#include "backends/cuda/Device.h"
#include "backends/cuda/Kernels.h"

#include <fmt/format.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/TargetSelect.h>

#include <cstring>
#include <mutex>
#include <new>

namespace weft::cuda {
namespace {

constexpr int64_t kThreads = 3;
constexpr size_t kAlign = 256; // cudaMalloc's alignment

/// How a launch calls a kernel: its buffers as an array, the element count, this thread's
/// first element and the grid's stride.
using Entry = void (*)(void *const *buffers, int64_t n, int64_t first, int64_t stride);

class HostKernels : public LoadedKernels {
public:
  std::unique_ptr<llvm::orc::LLJIT> jit;
  std::vector<Entry> entries;
};

/// Adds `<name>.launch(ptr buffers, i64 n, i64 first, i64 stride)`, which calls kernel `f`
/// (`(ptr..., i64 n, i64 first, i64 stride)`) with its buffers taken from the array.
void addLaunchWrapper(llvm::Module &m, llvm::Function &f) {
  llvm::LLVMContext &ctx = m.getContext();
  llvm::IRBuilder<> b(ctx);
  auto *ptr = llvm::PointerType::get(ctx, 0);
  auto *i64 = b.getInt64Ty();
  auto *w =
      llvm::Function::Create(llvm::FunctionType::get(b.getVoidTy(), {ptr, i64, i64, i64}, false),
                             llvm::Function::ExternalLinkage, f.getName() + ".launch", m);
  b.SetInsertPoint(llvm::BasicBlock::Create(ctx, "entry", w));
  std::vector<llvm::Value *> args;
  const unsigned numBuffers = f.arg_size() - 3;
  for (unsigned k = 0; k < numBuffers; ++k)
    args.push_back(b.CreateLoad(ptr, b.CreateConstInBoundsGEP1_64(ptr, w->getArg(0), k)));
  args.insert(args.end(), {w->getArg(1), w->getArg(2), w->getArg(3)});
  b.CreateCall(&f, args);
  b.CreateRetVoid();
}

class HostDevice final : public Device {
public:
  std::string describe() const override { return "host simulation"; }
  KernelTarget target() const override { return KernelTarget::Host; }

  Expected<std::unique_ptr<LoadedKernels>> load(KernelModule km,
                                                const std::vector<std::string> &names) override {
    static std::once_flag once;
    std::call_once(once, [] {
      llvm::InitializeNativeTarget();
      llvm::InitializeNativeTargetAsmPrinter();
    });
    for (const std::string &name : names) {
      llvm::Function *f = km.module->getFunction(name);
      if (!f)
        return err(fmt::format("host device: no kernel '{}' in the module", name));
      addLaunchWrapper(*km.module, *f);
    }
    auto jit = llvm::orc::LLJITBuilder().create();
    if (!jit)
      return err("host device: " + llvm::toString(jit.takeError()));
    auto out = std::make_unique<HostKernels>();
    out->jit = std::move(*jit);
    if (auto e = out->jit->addIRModule(
            llvm::orc::ThreadSafeModule(std::move(km.module), std::move(km.context))))
      return err("host device: " + llvm::toString(std::move(e)));
    for (const std::string &name : names) {
      auto sym = out->jit->lookup(name + ".launch");
      if (!sym)
        return err("host device: " + llvm::toString(sym.takeError()));
      out->entries.push_back(sym->toPtr<Entry>());
    }
    return std::unique_ptr<LoadedKernels>(std::move(out));
  }

  Expected<DeviceAddress> allocate(size_t bytes) override {
    void *p = ::operator new[](std::max<size_t>(bytes, 1), std::align_val_t(kAlign), std::nothrow);
    if (!p)
      return err(fmt::format("host device: out of memory allocating {} bytes", bytes));
    return reinterpret_cast<DeviceAddress>(p);
  }
  void release(DeviceAddress p) override {
    ::operator delete[](reinterpret_cast<void *>(p), std::align_val_t(kAlign));
  }
  Status upload(DeviceAddress dst, const void *src, size_t bytes) override {
    if (bytes)
      std::memcpy(reinterpret_cast<void *>(dst), src, bytes);
    return Status::ok();
  }
  Status download(void *dst, DeviceAddress src, size_t bytes) override {
    if (bytes)
      std::memcpy(dst, reinterpret_cast<const void *>(src), bytes);
    return Status::ok();
  }
  Status copy(DeviceAddress dst, DeviceAddress src, size_t bytes) override {
    if (bytes && dst != src)
      std::memmove(reinterpret_cast<void *>(dst), reinterpret_cast<const void *>(src), bytes);
    return Status::ok();
  }
  Status launch(const LoadedKernels &kernels, size_t index, std::span<const DeviceAddress> buffers,
                int64_t n, const std::string &op) override {
    const auto &k = static_cast<const HostKernels &>(kernels);
    if (index >= k.entries.size())
      return err(fmt::format("host device: no kernel {} for {}", index, op));
    std::vector<void *> ptrs;
    for (DeviceAddress a : buffers)
      ptrs.push_back(reinterpret_cast<void *>(a));
    for (int64_t t = 0; t < kThreads; ++t)
      k.entries[index](ptrs.data(), n, t, kThreads);
    return Status::ok();
  }
  Status synchronize() override { return Status::ok(); }
};

} // namespace

std::shared_ptr<Device> hostDevice() { return std::make_shared<HostDevice>(); }

} // namespace weft::cuda
