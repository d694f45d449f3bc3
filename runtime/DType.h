//===- runtime/DType.h - element types ------------------------------------===//
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace weft {

enum class DType : uint8_t { F32, F64, I32, I64, I1 };

/// "f32", "f64", "i32", "i64", "i1".
constexpr std::string_view dtypeName(DType t) {
  switch (t) {
  case DType::F32:
    return "f32";
  case DType::F64:
    return "f64";
  case DType::I32:
    return "i32";
  case DType::I64:
    return "i64";
  case DType::I1:
    return "i1";
  }
  return "?";
}

constexpr std::optional<DType> parseDType(std::string_view s) {
  for (DType t : {DType::F32, DType::F64, DType::I32, DType::I64, DType::I1})
    if (dtypeName(t) == s)
      return t;
  return std::nullopt;
}

constexpr bool isFloat(DType t) { return t == DType::F32 || t == DType::F64; }
constexpr bool isInteger(DType t) { return t == DType::I32 || t == DType::I64; }

/// Size in bytes of one element (i1 is stored as one byte).
constexpr int64_t dtypeBytes(DType t) {
  switch (t) {
  case DType::F32:
  case DType::I32:
    return 4;
  case DType::F64:
  case DType::I64:
    return 8;
  case DType::I1:
    return 1;
  }
  return 0;
}

} // namespace weft
