// libFuzzer target for the safetensors reader: no input may crash it, and any file it accepts
// must encode to bytes that decode back to the same tensors and metadata.
#include "runtime/Safetensors.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace {

bool same(const weft::Safetensors &a, const weft::Safetensors &b) {
  if (a.metadata != b.metadata || a.tensors.size() != b.tensors.size())
    return false;
  for (const weft::NamedArray &t : a.tensors) {
    const weft::Array *other = b.find(t.name);
    if (!other || other->dtype() != t.array.dtype() || other->shape() != t.array.shape() ||
        std::memcmp(other->data(), t.array.data(), t.array.nbytes()) != 0)
      return false;
  }
  return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char *>(data), size);
  auto st = weft::decodeSafetensors(bytes, "fuzz.safetensors");
  if (!st)
    return 0;
  auto encoded = weft::encodeSafetensors(*st);
  if (!encoded) {
    std::fprintf(stderr, "a decoded file does not encode: %s\n", encoded.diag().str().c_str());
    std::abort();
  }
  auto again = weft::decodeSafetensors(*encoded, "encoded.safetensors");
  if (!again) {
    std::fprintf(stderr, "encoded file does not decode: %s\n", again.diag().str().c_str());
    std::abort();
  }
  if (!same(*st, *again)) {
    std::fprintf(stderr, "decode(encode(st)) != st\n");
    std::abort();
  }
  return 0;
}
