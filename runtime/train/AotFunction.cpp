//===- runtime/train/AotFunction.cpp --------------------------------------===//
#include "runtime/train/AotFunction.h"

#include "runtime/train/StepLayout.h"

#include <fmt/format.h>

#include <memory>
#include <mutex>
#include <string>

namespace weft::train {
namespace {

constexpr size_t kErrLen = 1024;

/// One compiled function and the workspace its calls reuse.
class AotRunner {
public:
  explicit AotRunner(const weft_aot_function &fn) : fn_(fn), ws_(weft_aot_workspace_create()) {}

  /// Runs the function on `args`. A declared in-place update (an optimizer step's new parameter
  /// or state) is computed straight into its argument's buffer, and that array, moved out of
  /// `args`, is the result: no parameter is copied per call.
  Expected<std::vector<Array>> operator()(std::span<Array> args) {
    std::vector<weft_aot_input> in(args.size());
    for (size_t i = 0; i < args.size(); ++i)
      in[i] = {args[i].data(), static_cast<int32_t>(args[i].dtype()),
               static_cast<int32_t>(args[i].rank()), args[i].shape().data()};
    std::vector<int64_t> dims(fn_.n_symbols);
    char msg[kErrLen];
    if (weft_aot_bind_symbols(&fn_, nullptr, in.data(), in.size(), dims.data(), msg, kErrLen))
      return err(msg);

    std::vector<Array> results;
    std::vector<weft_aot_output> out(fn_.n_results);
    results.reserve(fn_.n_results);
    std::vector<int32_t> aliasOf(fn_.n_results, -1);
    for (size_t a = 0; a < fn_.n_aliases; ++a)
      aliasOf[static_cast<size_t>(fn_.alias_results[a])] = fn_.alias_params[a];
    for (size_t r = 0; r < fn_.n_results; ++r) {
      if (aliasOf[r] >= 0) {
        Array &arg = args[static_cast<size_t>(aliasOf[r])];
        results.emplace_back();
        out[r] = {arg.data(), arg.nbytes(), nullptr};
        continue;
      }
      const weft_aot_slot &slot = fn_.slots[fn_.result_slots[r]];
      std::vector<int64_t> shape(static_cast<size_t>(slot.rank));
      if (weft_aot_slot_shape(&fn_, fn_.result_slots[r], dims.data(), shape.data()))
        return err(fmt::format("@{}: result {} has an invalid size", fn_.name, r));
      results.push_back(Array::uninitialized(static_cast<DType>(slot.dtype), std::move(shape)));
      out[r] = {results.back().data(), results.back().nbytes(), nullptr};
    }

    // A concurrent call gets a fresh arena (a null workspace) rather than waiting for this one.
    std::unique_lock<std::mutex> lock(mutex_, std::try_to_lock);
    weft_aot_workspace *ws = lock.owns_lock() ? ws_.get() : nullptr;
    if (weft_aot_call_with_workspace(&fn_, ws, dims.data(), in.data(), in.size(), out.data(),
                                     out.size(), msg, kErrLen))
      return err(msg);
    for (size_t r = 0; r < fn_.n_results; ++r)
      if (aliasOf[r] >= 0)
        results[r] = std::move(args[static_cast<size_t>(aliasOf[r])]);
    return results;
  }

private:
  struct Destroy {
    void operator()(weft_aot_workspace *ws) const { weft_aot_workspace_destroy(ws); }
  };
  const weft_aot_function &fn_;
  /// Null when it could not be created: calls then take fresh arenas.
  std::unique_ptr<weft_aot_workspace, Destroy> ws_;
  std::mutex mutex_;
};

std::vector<std::string> names(const char *const *list, size_t n) {
  std::vector<std::string> v;
  for (size_t i = 0; i < n; ++i)
    v.emplace_back(list[i] ? list[i] : "");
  return v;
}

} // namespace

Function aotFunction(const weft_aot_function &fn) {
  auto runner = std::make_shared<AotRunner>(fn);
  return [runner](std::span<Array> args) { return (*runner)(args); };
}

Expected<StepLayout> aotStepLayout(const weft_aot_function &fn) {
  auto layout =
      stepLayoutFromNames(names(fn.param_names, fn.n_params), names(fn.result_names, fn.n_results));
  if (!layout)
    return err(fmt::format("@{}: {}", fn.name, layout.diag().message));
  return layout;
}

Expected<std::vector<Array>> aotZeroState(const weft_aot_function &fn, const StepLayout &layout) {
  std::vector<Array> state;
  for (const Carried &s : layout.state) {
    if (s.arg >= fn.n_params)
      return err(fmt::format("@{}: state '{}' is argument {}, but the function takes {}", fn.name,
                             s.name, s.arg, fn.n_params));
    const weft_aot_slot &slot = fn.slots[fn.param_slots[s.arg]];
    std::vector<int64_t> shape(static_cast<size_t>(slot.rank));
    for (int32_t a = 0; a < slot.rank; ++a) {
      const weft_aot_dim &d = fn.dims[slot.first_dim + a];
      if (d.n_syms)
        return err(fmt::format("@{}: state '{}' has symbolic dims; give its initial value", fn.name,
                               s.name));
      shape[a] = d.coeff;
    }
    state.emplace_back(static_cast<DType>(slot.dtype), std::move(shape));
  }
  return state;
}

} // namespace weft::train
