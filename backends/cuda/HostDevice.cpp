//===- backends/cuda/HostDevice.cpp - the CUDA backend's kernels on this CPU ===//
//
// The Device that runs kernels built for KernelTarget::Host: memory is host
// memory (an address is a pointer), copies are memcpy, and a launch runs the
// JIT-compiled kernel as a grid: the blocks one after another, each block's
// threads as threads of this process that meet at a std::barrier wherever the
// kernel has a bar.sync, sharing one area of shared memory. Threads that run
// at the same time are what makes a __syncthreads kernel (a reduction tree, a
// tiled matmul) simulable at all: run one after another, the first thread
// would wait at the barrier for the others forever. Where a kernel takes any
// block size, the grid is small and odd (2 blocks of 3 threads), so that the
// striding over elements, rows and tiles a GPU launch relies on is exercised.
// A kernel with a grid barrier (Grid::coResident) cannot run its blocks one
// after another either: there every block has its own shared memory and
// barrier, and all the grid's threads run at once; the device says that at
// most kCoResident blocks do, few enough that a persistent kernel's blocks
// take several slices of its work each.
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

#include <barrier>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <mutex>
#include <new>
#include <thread>

namespace weft::cuda {
namespace {

constexpr int64_t kThreads = 3, kBlocks = 2, kCoResident = 4;
constexpr size_t kAlign = 256; // cudaMalloc's alignment

/// How a launch calls a kernel: its buffers and scalars as arrays, and the thread.
using Entry = void (*)(void *const *buffers, const int64_t *scalars, HostThread *thread);

class HostKernels : public LoadedKernels {
public:
  std::unique_ptr<llvm::orc::LLJIT> jit;
  std::vector<Entry> entries;
};

/// Adds `<name>.launch(ptr buffers, ptr scalars, ptr thread)`, which calls kernel `f`
/// (`(ptr..., i64..., ptr thread)`) with its buffers and scalars taken from the arrays.
void addLaunchWrapper(llvm::Module &m, llvm::Function &f) {
  llvm::LLVMContext &ctx = m.getContext();
  llvm::IRBuilder<> b(ctx);
  auto *ptr = llvm::PointerType::get(ctx, 0);
  auto *i64 = b.getInt64Ty();
  auto *w = llvm::Function::Create(llvm::FunctionType::get(b.getVoidTy(), {ptr, ptr, ptr}, false),
                                   llvm::Function::ExternalLinkage, f.getName() + ".launch", m);
  b.SetInsertPoint(llvm::BasicBlock::Create(ctx, "entry", w));
  std::vector<llvm::Value *> args;
  unsigned numBuffers = 0;
  while (numBuffers < f.arg_size() && f.getArg(numBuffers)->getType()->isPointerTy())
    ++numBuffers;
  const unsigned numScalars = f.arg_size() - numBuffers - 1;
  for (unsigned k = 0; k < numBuffers; ++k)
    args.push_back(b.CreateLoad(ptr, b.CreateConstInBoundsGEP1_64(ptr, w->getArg(0), k)));
  for (unsigned k = 0; k < numScalars; ++k)
    args.push_back(b.CreateLoad(i64, b.CreateConstInBoundsGEP1_64(i64, w->getArg(1), k)));
  args.push_back(w->getArg(2));
  b.CreateCall(&f, args);
  b.CreateRetVoid();
}

void arriveAndWait(void *state) { static_cast<std::barrier<> *>(state)->arrive_and_wait(); }
void yieldThread() { std::this_thread::yield(); }

/// A thread's fragments, as it hands them to its warp for a simulated mma.sync.
struct Fragments {
  std::vector<uint32_t> a, b;
};

/// mma.sync.m16n8k8.row.col.f32.tf32.tf32.f32 for each (i, j), simulated: every thread of the
/// block posts its fragments, waits for the others, computes its part of the warp's result from
/// its warp's fragments (products in f32, summed in increasing k), and waits again before the
/// fragments may change.
void mmaTf32(HostThread *self, const uint32_t *a, const uint32_t *b, float *c, int64_t tilesM,
             int64_t tilesN) {
  auto &posted = *static_cast<std::vector<Fragments> *>(self->warpExchange);
  const auto me = static_cast<size_t>(self->tid);
  posted[me].a.assign(a, a + tilesM * 4);
  posted[me].b.assign(b, b + tilesN * 2);
  self->barrier(self->barrierState);
  const size_t warp = me / 32 * 32, lane = me % 32, g = lane / 4, t = lane % 4;
  auto word = [](uint32_t bits) { return std::bit_cast<float>(bits); };
  for (int64_t i = 0; i < tilesM; ++i)
    for (int64_t j = 0; j < tilesN; ++j)
      for (size_t r = 0; r < 4; ++r) {
        const size_t row = g + (r / 2) * 8, col = 2 * t + r % 2;
        float sum = c[(i * tilesN + j) * 4 + static_cast<int64_t>(r)];
        for (size_t k = 0; k < 8; ++k) {
          // a (row, k) is register (row >= 8) + 2 (k >= 4) of lane (row % 8) * 4 + k % 4; b (k,
          // col) register (k >= 4) of lane col * 4 + k % 4.
          const Fragments &fa = posted[warp + (row % 8) * 4 + k % 4];
          const Fragments &fb = posted[warp + col * 4 + k % 4];
          float x = word(fa.a[static_cast<size_t>(i) * 4 + (row >= 8) + 2 * (k >= 4)]);
          float y = word(fb.b[static_cast<size_t>(j) * 2 + (k >= 4)]);
          sum = std::fma(x, y, sum);
        }
        c[(i * tilesN + j) * 4 + static_cast<int64_t>(r)] = sum;
      }
  self->barrier(self->barrierState);
}

/// One block of a launch: its shared memory, barrier and warp exchange.
struct HostBlock {
  explicit HostBlock(int64_t threads)
      : shared(std::make_unique<std::max_align_t[]>(kMaxSharedBytes / sizeof(std::max_align_t))),
        barrier(threads), exchange(static_cast<size_t>(threads)) {}
  /// Thread t of this block as block c of `grid`.
  HostThread thread(int64_t t, int64_t c, Grid grid) {
    return {t,        grid.threads, c,         grid.blocks, shared.get(), arriveAndWait,
            &barrier, mmaTf32,      &exchange, yieldThread};
  }
  std::unique_ptr<std::max_align_t[]> shared;
  std::barrier<> barrier;
  std::vector<Fragments> exchange;
};

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
                std::span<const int64_t> scalars, Grid grid, const std::string &op) override {
    const auto &k = static_cast<const HostKernels &>(kernels);
    if (index >= k.entries.size())
      return err(fmt::format("host device: no kernel {} for {}", index, op));
    if (grid.blocks <= 0 || grid.threads <= 0)
      return Status::ok();
    std::vector<void *> ptrs;
    for (DeviceAddress a : buffers)
      ptrs.push_back(reinterpret_cast<void *>(a));
    std::vector<int64_t> values(scalars.begin(), scalars.end());
    values.push_back(0); // never empty
    Entry entry = k.entries[index];
    if (grid.coResident)
      return runCoResident(entry, ptrs, values, grid, op);
    HostBlock block(grid.threads);
    auto thread = [&](int64_t t) {
      for (int64_t c = 0; c < grid.blocks; ++c) {
        HostThread self = block.thread(t, c, grid);
        entry(ptrs.data(), values.data(), &self);
        block.barrier.arrive_and_wait(); // the next block gets the shared memory when all are done
      }
    };
    std::vector<std::thread> others;
    for (int64_t t = 1; t < grid.threads; ++t)
      others.emplace_back(thread, t);
    thread(0);
    for (std::thread &t : others)
      t.join();
    return Status::ok();
  }
  int64_t blockThreads() const override { return kThreads; }
  int64_t maxBlocks() const override { return kBlocks; }
  int64_t coResidentBlocks() const override { return kCoResident; }
  Status synchronize() override { return Status::ok(); }

private:
  /// Every thread of every block at once, each block with its own shared memory and barrier.
  static Status runCoResident(Entry entry, const std::vector<void *> &ptrs,
                              const std::vector<int64_t> &values, Grid grid,
                              const std::string &op) {
    if (grid.blocks > kCoResident) // the launch would wait at its grid barrier forever
      return err(fmt::format("host device: {} blocks of {} cannot all run at once (at most {})",
                             grid.blocks, op, kCoResident));
    std::vector<std::unique_ptr<HostBlock>> blocks;
    for (int64_t c = 0; c < grid.blocks; ++c)
      blocks.push_back(std::make_unique<HostBlock>(grid.threads));
    auto thread = [&](int64_t c, int64_t t) {
      HostBlock &block = *blocks[static_cast<size_t>(c)];
      HostThread self = block.thread(t, c, grid);
      entry(ptrs.data(), values.data(), &self);
    };
    std::vector<std::thread> threads;
    for (int64_t c = 0; c < grid.blocks; ++c)
      for (int64_t t = 0; t < grid.threads; ++t)
        threads.emplace_back(thread, c, t);
    for (std::thread &t : threads)
      t.join();
    return Status::ok();
  }
};

} // namespace

std::shared_ptr<Device> hostDevice() { return std::make_shared<HostDevice>(); }

} // namespace weft::cuda
