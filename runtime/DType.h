//===- runtime/DType.h - element types ------------------------------------===//
//
// Everything here is expanded from runtime/DTypes.def, the one table of
// per-dtype facts.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <type_traits>

namespace weft {

enum class DType : uint8_t {
#define DTYPE(Id, Name, Bytes, Npy, Element, CType, Llvm, Kind) Id,
#include "runtime/DTypes.def"
};

/// Every dtype, in enum order.
inline constexpr std::array kAllDTypes = {
#define DTYPE(Id, Name, Bytes, Npy, Element, CType, Llvm, Kind) DType::Id,
#include "runtime/DTypes.def"
};

/// What arithmetic a dtype does.
enum class DTypeKind : uint8_t { Float, Integer, Bool };

namespace detail {
struct DTypeInfo {
  std::string_view name;
  int64_t bytes;
  std::string_view npyDescr;
  std::string_view cType;
  DTypeKind kind;
};
inline constexpr DTypeInfo kDTypeInfo[] = {
#define DTYPE(Id, Name, Bytes, Npy, Element, CType, Llvm, Kind)                                    \
  {Name, Bytes, Npy, CType, DTypeKind::Kind},
#include "runtime/DTypes.def"
};
static_assert(std::size(kDTypeInfo) == kAllDTypes.size(), "update runtime/DTypes.def");
constexpr const DTypeInfo &info(DType t) { return kDTypeInfo[static_cast<size_t>(t)]; }
} // namespace detail

/// "f32", "f64", "i32", "i64", "i1".
constexpr std::string_view dtypeName(DType t) { return detail::info(t).name; }

constexpr std::optional<DType> parseDType(std::string_view s) {
  for (DType t : kAllDTypes)
    if (dtypeName(t) == s)
      return t;
  return std::nullopt;
}

constexpr DTypeKind dtypeKind(DType t) { return detail::info(t).kind; }
constexpr bool isFloat(DType t) { return dtypeKind(t) == DTypeKind::Float; }
constexpr bool isInteger(DType t) { return dtypeKind(t) == DTypeKind::Integer; }

/// Size in bytes of one element (i1 is stored as one byte).
constexpr int64_t dtypeBytes(DType t) { return detail::info(t).bytes; }

/// The .npy header's descr ("<f4"): little-endian, i1 as numpy's bool.
constexpr std::string_view dtypeNpyDescr(DType t) { return detail::info(t).npyDescr; }

/// The C type of one element in AOT headers ("float"; "uint8_t" for i1).
constexpr std::string_view dtypeCType(DType t) { return detail::info(t).cType; }

/// Whether T is the C++ element type of a dtype (Array::data<T>).
template <typename T> constexpr bool isElementType() {
  bool found = false;
#define DTYPE(Id, Name, Bytes, Npy, Element, CType, Llvm, Kind)                                    \
  found = found || std::is_same_v<T, Element>;
#include "runtime/DTypes.def"
  return found;
}

/// The dtype whose C++ element type is T.
template <typename T> constexpr DType dtypeOf() {
  static_assert(isElementType<T>(), "unsupported element type");
#define DTYPE(Id, Name, Bytes, Npy, Element, CType, Llvm, Kind)                                    \
  if constexpr (std::is_same_v<T, Element>)                                                        \
    return DType::Id;
#include "runtime/DTypes.def"
  return DType::F32; // unreachable: the static_assert holds
}

} // namespace weft
