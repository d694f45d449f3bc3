//===- runtime/train/AotDevice.cpp ----------------------------------------===//
#include "runtime/train/AotDevice.h"

#include "runtime/CudaAot.h"
#include "runtime/train/AotFunction.h"

#include <fmt/format.h>

#include <memory>
#include <mutex>

namespace weft::train {

Expected<Function> aotFunctionOn(const weft_aot_function &fn, std::string_view device) {
  if (device == "cpu")
    return aotFunction(fn);
  if (device != "cuda")
    return err(fmt::format("unknown device '{}' (choose {})", device, kAotDevices));
  auto loaded = cuda::AotGpuFunction::load(fn);
  WEFT_TRY(loaded.status());
  std::shared_ptr<cuda::AotGpuFunction> gpu = std::move(*loaded);
  // The symbols' values the GPU code was specialized to, in fn's order.
  std::vector<int64_t> dims;
  for (size_t i = 0; i < fn.n_symbols; ++i) {
    const cuda::AotPlan &plan = gpu->plan();
    size_t k = 0;
    while (k < plan.symbols.size() && plan.symbols[k] != fn.symbols[i])
      ++k;
    if (k == plan.symbols.size())
      return err(fmt::format("@{}'s GPU code does not bind symbol {}", fn.name, fn.symbols[i]));
    dims.push_back(plan.symbolValues[k]);
  }
  dims.push_back(0); // never empty: data() is passed even for a function without symbols
  auto mutex = std::make_shared<std::mutex>();
  const weft_aot_function *f = &fn;
  return Function([gpu, mutex, f, dims](std::span<Array> args) -> Expected<std::vector<Array>> {
    const cuda::AotPlan &plan = gpu->plan();
    if (args.size() != plan.params.size())
      return err(
          fmt::format("@{} takes {} arguments, not {}", f->name, plan.params.size(), args.size()));
    std::vector<const void *> in;
    for (size_t i = 0; i < args.size(); ++i) {
      const weft_aot_slot &slot = f->slots[f->param_slots[i]];
      std::vector<int64_t> want(static_cast<size_t>(slot.rank));
      if (weft_aot_slot_shape(f, f->param_slots[i], dims.data(), want.data()) != 0)
        return err(
            fmt::format("parameter {} of @{} has no shape under its GPU code's dims", i, f->name));
      if (static_cast<int>(args[i].dtype()) != slot.dtype || args[i].shape() != want ||
          args[i].nbytes() != plan.params[i].bytes)
        return err(fmt::format("argument {} ('{}') of @{} is {}{}; its GPU code takes {}{}", i,
                               f->param_names[i], f->name, dtypeName(args[i].dtype()),
                               formatShape(args[i].shape()),
                               dtypeName(static_cast<DType>(slot.dtype)), formatShape(want)));
      in.push_back(args[i].data());
    }
    std::vector<Array> results;
    std::vector<void *> out;
    for (size_t r = 0; r < plan.results.size(); ++r) {
      const weft_aot_slot &slot = f->slots[f->result_slots[r]];
      std::vector<int64_t> shape(static_cast<size_t>(slot.rank));
      if (weft_aot_slot_shape(f, f->result_slots[r], dims.data(), shape.data()) != 0)
        return err(fmt::format("result {} of @{} has no static shape", r, f->name));
      results.emplace_back(static_cast<DType>(slot.dtype), shape);
      if (results.back().nbytes() != plan.results[r].bytes)
        return err(fmt::format("result {} of @{} has {} bytes; its GPU code gives {}", r, f->name,
                               results.back().nbytes(), plan.results[r].bytes));
      out.push_back(results.back().data());
    }
    std::lock_guard<std::mutex> lock(*mutex);
    WEFT_TRY(gpu->call(in, out));
    return results;
  });
}

} // namespace weft::train
