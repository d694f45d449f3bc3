// Calls the model weft_add_model compiled; prints the result, one row per line.
#include "scale_model.h"

#include <cstdio>

int main() {
  const float x[2 * 3] = {1, 0, 0, 0, 1, 2};
  const float W[3 * 2] = {0.5f, -0.5f, 0.25f, 0, 0, 0.125f};
  const float b[2] = {1, 2};
  float y[2 * 2] = {};
  char error[256];
  if (weft_affine(x, W, b, /*B=*/2, y, error, sizeof error) != 0) {
    std::fprintf(stderr, "aot_consumer: %s\n", error);
    return 1;
  }
  for (int r = 0; r < 2; ++r)
    std::printf("%.6f %.6f\n", y[2 * r], y[2 * r + 1]);
  return 0;
}
