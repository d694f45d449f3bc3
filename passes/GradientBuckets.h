//===- passes/GradientBuckets.h - all_reduce of gradients, in buckets ------===//
//
// Data parallelism: every process runs the same step on its own shard of the
// batch, then the gradients are averaged over the processes before the update.
// Small tensors are not sent one by one: consecutive gradients of one dtype are
// packed into buckets of about `bucketBytes` (flattened, concatenated), each
// bucket is one all_reduce, and the pieces are sliced back out:
//
//   %0 = reshape %W.grad : tensor<6 x f32>                (rank 1 values go as they are)
//   %bucket = concat %0, %b.grad {axis = 0} : tensor<9 x f32>
//   %bucket.mean = all_reduce %bucket {group = 0, mean = 1}
//   %1 = slice %bucket.mean {axis = 0, limit = 6, start = 0}
//   %W.grad.mean = reshape %1 : tensor<2 x 3 x f32>
//   %b.grad.mean = slice %bucket.mean {axis = 0, limit = 9, start = 6}
//
// so the IR dump shows exactly what crosses the network, and in which order.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Builder.h"

#include <span>
#include <string_view>

namespace weft::passes {

struct BucketOptions {
  /// The most bytes one all_reduce carries (PyTorch DDP's default, 25 MiB); a tensor larger
  /// than this goes alone. 0: one all_reduce per tensor, never concatenated.
  int64_t bucketBytes = 25 << 20;
  /// The replica group (docs/IR.md): 0 is every process.
  int64_t group = 0;
};

/// Sets `bucket_bytes` or `group` from a pipeline option (the data-parallel pass's and
/// optimize-step's), or says what is wrong with it; `pass` names the pass in the message.
Status setBucketOption(BucketOptions &o, std::string_view pass, std::string_view key,
                       std::string_view value);

/// Emits at `b` the mean over the processes of `group` of each of `values` (float tensors),
/// bucketed as above; returns the averaged values in the same order.
Expected<std::vector<ir::Value *>> allReduceMeanInBuckets(ir::OpBuilder &b,
                                                          std::span<ir::Value *const> values,
                                                          const BucketOptions &o, Loc loc);

} // namespace weft::passes
