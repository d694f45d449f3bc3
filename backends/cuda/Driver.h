//===- backends/cuda/Driver.h - the CUDA driver, opened at run time -------===//
//
// The driver lives in the runtime (runtime/CudaDriver.h), so that programs
// built ahead of time load their PTX through it without linking the backend.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/CudaDriver.h"
