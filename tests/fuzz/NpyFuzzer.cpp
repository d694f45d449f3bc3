// libFuzzer target for the .npy reader: no input may crash it, and any array it accepts
// must encode to bytes that decode back to the same dtype, shape and data.
#include "runtime/Npy.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string bytes(reinterpret_cast<const char *>(data), size);
  auto a = weft::decodeNpy(bytes, "fuzz.npy");
  if (!a)
    return 0;
  auto again = weft::decodeNpy(weft::encodeNpy(*a), "encoded.npy");
  if (!again) {
    std::fprintf(stderr, "encoded array does not decode: %s\n", again.diag().str().c_str());
    std::abort();
  }
  if (again->dtype() != a->dtype() || again->shape() != a->shape() ||
      std::memcmp(again->data(), a->data(), a->nbytes()) != 0) {
    std::fprintf(stderr, "decode(encode(a)) != a: %s vs %s\n", a->typeStr().c_str(),
                 again->typeStr().c_str());
    std::abort();
  }
  return 0;
}
