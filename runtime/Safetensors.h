//===- runtime/Safetensors.h - the safetensors file format ----------------===//
//
// https://huggingface.co/docs/safetensors: an 8-byte little-endian header
// length N, N bytes of a JSON object
//   {"__metadata__": {"k": "v"}, "name": {"dtype": "F32", "shape": [2, 3],
//    "data_offsets": [begin, end]}, ...}
// then the data buffer; offsets are relative to the buffer's start. Reading is
// strict, as the reference (Rust) implementation: the tensors cover the buffer
// exactly (no holes, no overlaps), each tensor's byte range matches its dtype
// and shape, names are unique, the header is at most 100 MB. Writing produces
// byte for byte what the reference writer produces: the header padded with
// spaces to a multiple of 8 bytes, tensors ordered largest dtype first (so
// every tensor is aligned to its element size), then by name.
//
// dtypes: F32, F64, I32, I64 and BOOL (weft's f32, f64, i32, i64, i1); other
// dtypes of the format (F16, BF16, U8, ...) are an error that names them.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/Array.h"
#include "runtime/Support.h"

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace weft {

struct NamedArray {
  std::string name;
  Array array;
};

/// The contents of a safetensors file.
struct Safetensors {
  /// In file order when read; any order when written.
  std::vector<NamedArray> tensors;
  /// The "__metadata__" map (string to string).
  std::map<std::string, std::string> metadata;

  /// The tensor called `name`, or nullptr.
  const Array *find(std::string_view name) const;
};

/// The largest header the reader accepts, as the reference implementation (100 MB).
constexpr uint64_t kSafetensorsMaxHeaderBytes = 100'000'000;

/// The file's bytes. Fails for duplicate names, the reserved name "__metadata__", or a name
/// or metadata string that is not valid UTF-8.
Expected<std::string> encodeSafetensors(const Safetensors &st);
/// Decodes a file's bytes; `what` names the source in error messages. Truncated, corrupt or
/// hostile bytes give an error that names the problem, never a crash.
Expected<Safetensors> decodeSafetensors(std::string_view bytes, const std::string &what);

/// Reads the safetensors file at `path`; errors name the file.
Expected<Safetensors> readSafetensors(const std::string &path);
/// Writes `st` to `path` atomically (runtime/AtomicFile.h).
Status writeSafetensors(const std::string &path, const Safetensors &st);

} // namespace weft
