//===- runtime/Checkpoint.h - training state in one safetensors file ------===//
//
// A checkpoint holds what resuming a training run needs to continue it bit for
// bit: the parameters, the optimizer's state, the step, and the state of the
// counter-based generator (runtime/Random.h: a seed and the next counter).
//
// The file is plain safetensors (runtime/Safetensors.h), readable by PyTorch's
// safetensors.torch.load_file:
//   - parameters under their own names ("encoder.lstm.weight_ih_l0"), so the
//     file is also a state dict;
//   - optimizer state under "optimizer/<name>" ("optimizer/fc.weight.momentum");
//   - "__metadata__" (strings only): "weft.format" = "checkpoint-1",
//     "weft.step", "weft.rng.seed", "weft.rng.counter" in decimal, and the
//     user's own keys, which may not start with "weft.".
// Writing is atomic (runtime/AtomicFile.h): after a crash at any moment the
// file is the previous checkpoint or the new one.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/AtomicFile.h"
#include "runtime/Safetensors.h"

#include <map>
#include <string>
#include <vector>

namespace weft {

/// The state of a counter-based random stream: draw i of the next batch uses counter + i.
struct RngState {
  int64_t seed = 0;
  uint64_t counter = 0;
  bool operator==(const RngState &) const = default;
};

struct Checkpoint {
  int64_t step = 0;
  RngState rng;
  std::vector<NamedArray> params;
  std::vector<NamedArray> optimizerState;
  /// The user's own metadata; keys may not start with "weft.".
  std::map<std::string, std::string> metadata;
};

/// What a model expects of one tensor.
struct TensorSpec {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
};

/// The names, dtypes and shapes of `arrays`.
std::vector<TensorSpec> specsOf(const std::vector<NamedArray> &arrays);

/// What a model expects of a checkpoint.
struct CheckpointSpec {
  std::vector<TensorSpec> params;
  std::vector<TensorSpec> optimizerState;
};

/// Saves `c` to `path` atomically; `observer` watches the write (runtime/AtomicFile.h).
Status saveCheckpoint(const std::string &path, const Checkpoint &c,
                      const AtomicWriteObserver &observer = {});

/// Loads the checkpoint at `path`. Errors name the file; a safetensors file that is not a weft
/// checkpoint (no "weft.format") says so.
Expected<Checkpoint> loadCheckpoint(const std::string &path);

/// Loads the checkpoint at `path` and checks it against `expected`: every missing, unexpected,
/// wrongly shaped or wrongly typed tensor is one line of the error. A checkpoint that shares no
/// parameter name with the model (one of another model) is one line that says so.
Expected<Checkpoint> loadCheckpoint(const std::string &path, const CheckpointSpec &expected);

/// The checkpoint files of `dir` ("<prefix>-<step>.safetensors", steps in 10 digits) are kept
/// in order of their step: saveCheckpointIn writes c's file and then removes all but the
/// newest `keepLast` (0 keeps all). Returns the path written.
Expected<std::string> saveCheckpointIn(const std::string &dir, const std::string &prefix,
                                       const Checkpoint &c, size_t keepLast,
                                       const AtomicWriteObserver &observer = {});
/// The path of the newest checkpoint file of `dir` with `prefix`, or "" when there is none.
/// Temporary files of interrupted writes are not checkpoints and are ignored.
Expected<std::string> newestCheckpointIn(const std::string &dir, const std::string &prefix);

} // namespace weft
