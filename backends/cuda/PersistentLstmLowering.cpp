//===- backends/cuda/PersistentLstmLowering.cpp - the steps of a persistent LSTM ===//
//
//   %hs, %hT, %cT = lstm_sequence %xs, %h0, %c0, %wx, %wh, %b [, %len] [{reverse = 1}]
//
// becomes, over the buffer plan's slots and the op's scratch (proj, hbuf, counter):
//
//   check        len[b] in [0, T] (the interpreter's words), when there are lengths
//   matmul       proj [T*B, 4H] = reshape(xs, [T*B, I]) . wx      (MatmulKernel.cpp)
//   upload       counter = 0                                      (the grid barrier's)
//   kernel       the persistent kernel, a co-resident grid        (PersistentLstmKernel.cpp)
//
//===----------------------------------------------------------------------===//
#include "backends/cuda/PersistentLstm.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

namespace weft::cuda::detail {
std::vector<ir::Type> persistentLstmScratch(const ir::Op &op) {
  const ir::Type xs = op.operand(0)->type(), h0 = op.operand(1)->type();
  const int64_t hidden = h0.dim(1).size();
  return {ir::Type({xs.dim(0) * xs.dim(1), ir::Dim(4 * hidden)}, xs.dtype()),
          ir::Type({ir::Dim(2), h0.dim(0), ir::Dim(hidden)}, xs.dtype()),
          ir::Type({ir::Dim(1)}, DType::I64)};
}

Expected<std::vector<Step>> lowerPersistentLstm(const ir::Op &op, const LstmSlots &slots,
                                                KernelModule &km, KernelTarget target,
                                                std::vector<std::string> &names,
                                                const std::string &name, const std::string &what,
                                                bool tf32) {
  const ir::Type xs = op.operand(0)->type();
  const DType t = xs.dtype();
  const int64_t hidden = op.operand(1)->type().dim(1).size();
  const bool hasLengths = slots.len >= 0;
  const std::optional<ir::Type> lenType =
      hasLengths ? std::optional<ir::Type>(op.operand(6)->type()) : std::nullopt;
  const LstmLengths lengths = !hasLengths                      ? LstmLengths::None
                              : lenType->dtype() == DType::I32 ? LstmLengths::I32
                                                               : LstmLengths::I64;
  std::vector<Step> steps;
  auto newStep = [&](Step::Kind kind) {
    Step s;
    s.kind = kind;
    s.what = what;
    return s;
  };
  auto addKernel = [&](const std::string &kernel, std::vector<int> buffers, LaunchPlan launch) {
    Step s = newStep(Step::Kind::Kernel);
    s.kernel = names.size();
    names.push_back(kernel);
    s.slots = std::move(buffers);
    s.launch = std::move(launch);
    steps.push_back(std::move(s));
  };

  if (hasLengths) { // as a scan checks its lengths, before the first step
    Step check = newStep(Step::Kind::Check);
    checkLengths(check, slots.len, *lenType, xs);
    steps.push_back(std::move(check));
  }

  const bool tensorCores = tf32 && t == DType::F32;
  const std::string proj = name + "_proj";
  WEFT_TRY((tensorCores ? emitMatmulTf32Kernel(*km.module, proj, target)
                        : emitMatmulKernel(*km.module, proj, target, t))
               .status());
  const int64_t matmulThreads = tensorCores ? kMmaThreads : kMatmulThreads;
  addKernel(proj, {slots.proj, slots.xs, slots.wx},
            [xs, hidden, matmulThreads](const ir::DimBindings &dims,
                                        const Device &d) -> Expected<Launch> {
              auto s = xs.evaluateShape(dims);
              WEFT_TRY(s.status());
              const int64_t M = (*s)[0] * (*s)[1], K = (*s)[2], N = 4 * hidden;
              const int64_t tiles = ((M + kTileM - 1) / kTileM) * ((N + kTileN - 1) / kTileN);
              return Launch{{1, M, K, N}, {std::min(tiles, d.maxBlocks()), matmulThreads}};
            });

  Step reset = newStep(Step::Kind::Upload);
  Array none(DType::I64, {1});
  none.setInt(0, 0);
  reset.constant = std::make_shared<const Array>(std::move(none));
  reset.slots = {slots.counter};
  steps.push_back(std::move(reset));

  WEFT_TRY(emitPersistentLstmKernel(*km.module, name, target, t, hidden, lengths, op.reverse())
               .status());
  const int64_t sliceCount = persistentLstmSliceCount(hidden);
  addKernel(name,
            {slots.hs, slots.hT, slots.cT, slots.proj, slots.h0, slots.c0, slots.wh, slots.bias,
             hasLengths ? slots.len : slots.hs, slots.hbuf, slots.counter},
            [xs, sliceCount](const ir::DimBindings &dims, const Device &d) -> Expected<Launch> {
              auto s = xs.evaluateShape(dims);
              WEFT_TRY(s.status());
              const int64_t resident = d.coResidentBlocks();
              if (resident <= 0)
                return err("the persistent lstm_sequence kernel needs to know how many blocks "
                           "run at once on the device, which does not say");
              Grid grid{std::min(sliceCount, resident), d.blockThreads(), /*coResident=*/true};
              return Launch{{(*s)[0], (*s)[1]}, grid};
            });
  return steps;
}

} // namespace weft::cuda::detail
