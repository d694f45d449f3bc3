//===- bench/Stream.h - the memory-bandwidth peer of the fusion bench -----===//
//
// STREAM-like loops in plain C++ (compiled with the project's flags, no
// intrinsics): what this machine's memory delivers to ordinary code, measured
// in the same run as the weft kernels they are compared with. `threads`
// std::threads each take one contiguous slice of [0, n); with 1 the caller
// runs the loop itself. Bytes are counted as STREAM does: each array read
// once, each written once (no write-allocate traffic).
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>

namespace weft::bench {

/// y[i] = x[i] * s + z[i]: reads 8 bytes and writes 4 per element.
void streamTriad(float *y, const float *x, const float *z, float s, int64_t n, int threads);

/// memcpy of n floats, in `threads` slices: reads 4 bytes and writes 4 per element.
void streamCopy(float *y, const float *x, int64_t n, int threads);

} // namespace weft::bench
