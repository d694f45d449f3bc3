//===- backends/cuda/AotPlan.h - a function's GPU code for an object file -===//
//
// What weftc embeds beside a function's CPU code (runtime/CudaAotPlan.h):
// the function lowered as for a GPU device, its kernels compiled to PTX for
// one SM, and its steps evaluated once, as a call on a GPU would evaluate
// them: the buffer plan's offsets, each launch's scalars and grid (with a
// GPU's block sizes), the constants' bytes. Only a function whose shapes are
// all static, once `dims` (weftc --bind) are bound, has such a plan; for any
// other, and for one with an op the
// backend cannot run yet, the plan says why there is none, and a program
// asked to run it on the GPU prints that.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "backends/Backend.h"
#include "ir/Module.h"
#include "runtime/CudaAotPlan.h"

#include <map>
#include <string>

namespace weft::cuda {

/// The plan of `f` for `sm` ("sm_80", "sm_90") with the symbols in `dims` bound;
/// `unavailable` set when there is none. An error is reserved for a bad `sm`, bad features or
/// a bug.
Expected<AotPlan> aotGpuPlan(const ir::Function &f, const std::string &sm,
                             const ir::DimBindings &dims = {},
                             const backends::CompileOptions &options = {});

/// encodeAotPlan(aotGpuPlan(f)) for every function of `module`, by name.
Expected<std::map<std::string, std::string>>
aotGpuCode(const ir::Module &module, const std::string &sm, const ir::DimBindings &dims = {},
           const backends::CompileOptions &options = {});

} // namespace weft::cuda
