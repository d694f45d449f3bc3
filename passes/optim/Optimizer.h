//===- passes/optim/Optimizer.h - the optimizer update as a graph transform ===//
//
// buildTrainStep turns a function with a scalar loss into one training step:
// the forward pass, the gradient (passes/autodiff) of the trained parameters,
// optional clipping by global norm, a learning rate computed from the step
// number, and the update rule, all in one function:
//
//   @<f>_step(params..., state..., batch..., %step: tensor<i64>)
//       -> (loss, new params..., new state...)
//
// Result 1 + k is the new value of parameter k for every parameter k before the
// batch, so each may be declared an in-place alias of its parameter. The rules
// follow torch.optim's formulas and defaults (docs/Optimizers.md).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Module.h"
#include "passes/GradientBuckets.h"

#include <string>
#include <string_view>
#include <vector>

namespace weft::optim {

enum class Rule { Sgd, Momentum, Nesterov, RmsProp, Adagrad, Adam, AdamW };
enum class Schedule { Constant, Step, Exponential, Cosine };

/// What one training step does. Defaults are torch.optim's; a negative value stands for the
/// rule's own default, which `resolved` fills in.
struct OptimOptions {
  Rule rule = Rule::Sgd;
  double lr = -1; ///< < 0: the rule's default (sgd family 1e-3, rmsprop/adagrad 1e-2, adam 1e-3)
  double momentum = -1;    ///< sgd, rmsprop: 0; momentum, nesterov: 0.9 (sgd with it = momentum)
  double dampening = 0;    ///< sgd family
  double weightDecay = -1; ///< L2 added to the gradient; adamw: decoupled, default 1e-2
  double alpha = 0.99;     ///< rmsprop smoothing
  double eps = -1;         ///< rmsprop 1e-8, adagrad 1e-10, adam/adamw 1e-8
  bool centered = false;   ///< rmsprop
  double lrDecay = 0;      ///< adagrad
  double beta1 = 0.9, beta2 = 0.999;

  Schedule schedule = Schedule::Constant;
  int64_t stepSize = 0; ///< step: the lr is multiplied by gamma every stepSize steps
  double gamma = 0.1;   ///< step, exponential
  int64_t tMax = 0;     ///< cosine: half a period, in steps
  double etaMin = 0;    ///< cosine: the lowest lr
  /// Linear warm-up over the first `warmup` steps from warmupStart * lr to lr; the schedule
  /// then starts from its own step 0 (torch's SequentialLR of LinearLR and the schedule).
  int64_t warmup = 0;
  double warmupStart = 1.0 / 3.0;

  /// Clip the gradients to this global 2-norm first; 0 means no clipping.
  double clipNorm = 0;

  /// Data parallelism (data_parallel=1): the loss and the gradients are averaged over the
  /// processes of buckets.group, in all_reduce buckets, before clipping and the update
  /// (passes/GradientBuckets.h), so every process takes the same step.
  bool dataParallel = false;
  passes::BucketOptions buckets;

  /// The trained parameters, by name, in the order the step function takes them; empty means
  /// every float parameter. The other parameters are the batch.
  std::vector<std::string> params;

  /// Untrained parameters (BatchNorm's running statistics) whose new values the function
  /// returns as its results 1, 2, ... in this order: the step carries them like the optimizer
  /// state, returning them as <name>.new, updated in place.
  std::vector<std::string> carry;
};

/// Sets the option `key` (as written in a pipeline: kind, lr, momentum, dampening,
/// weight_decay, alpha, eps, centered, lr_decay, beta1, beta2, schedule, step_size, gamma,
/// t_max, eta_min, warmup, warmup_start, clip_norm, params, carry, data_parallel, bucket_bytes,
/// group) from its text, or says what is
/// wrong with it.
Status setOption(OptimOptions &o, std::string_view key, std::string_view value);

/// The option names setOption knows, for error messages.
std::string_view optionNames();

/// Resolves the rule's defaults (negative fields) and checks the options fit together.
Expected<OptimOptions> resolved(const OptimOptions &o);

/// The names of the state tensors of one parameter for this rule, as suffixes in torch's
/// state names: "momentum_buffer", "exp_avg", "exp_avg_sq", "sum", "square_avg", "grad_avg".
std::vector<std::string> stateSlots(const OptimOptions &resolvedOptions);

/// Adds @<name> (default "<f>_step") to `m`: one training step of `f`, whose result 0 must be
/// a float scalar. State tensors are named <param>.<slot> and ordered parameter by parameter;
/// their initial values are zeros (adagrad's sum: its initial_accumulator_value). %step counts
/// the steps already taken, 0 on the first call. The gradient maxima are named
/// <param>.grad_absmax.
Expected<ir::Function *> buildTrainStep(ir::Module &m, const ir::Function &f,
                                        const OptimOptions &options, std::string name = {});

} // namespace weft::optim
