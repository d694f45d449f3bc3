//===- bench/Stream.cpp - STREAM-like triad and copy ----------------------===//
#include "bench/Stream.h"

#include <algorithm>
#include <cstring>
#include <thread>
#include <vector>

namespace weft::bench {

namespace {

/// Runs body(begin, end) on `threads` contiguous slices of [0, n), the first on the caller.
template <typename Body> void inSlices(int64_t n, int threads, Body body) {
  if (threads <= 1) {
    body(int64_t{0}, n);
    return;
  }
  std::vector<std::thread> workers;
  int64_t per = (n + threads - 1) / threads;
  for (int t = 1; t < threads; ++t) {
    int64_t b = std::min(n, t * per), e = std::min(n, b + per);
    workers.emplace_back(body, b, e);
  }
  body(int64_t{0}, std::min(n, per));
  for (std::thread &w : workers)
    w.join();
}

} // namespace

void streamTriad(float *y, const float *x, const float *z, float s, int64_t n, int threads) {
  inSlices(n, threads, [=](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i)
      y[i] = x[i] * s + z[i];
  });
}

void streamCopy(float *y, const float *x, int64_t n, int threads) {
  inSlices(n, threads, [=](int64_t b, int64_t e) {
    std::memcpy(y + b, x + b, static_cast<size_t>(e - b) * sizeof(float));
  });
}

} // namespace weft::bench
