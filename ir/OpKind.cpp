//===- ir/OpKind.cpp - tables expanded from Ops.def -----------------------===//
#include "ir/OpKind.h"

#include <array>
#include <vector>

namespace weft::ir {
namespace {

/// Spelled in Ops.def's arity column.
constexpr int Variadic = -1;

struct OpInfo {
  std::string_view name;
  OpCategory category;
  OperandDTypes operands;
  int arity;
  OpTraits traits;
};

using namespace trait;
constexpr OpInfo kOpInfo[] = {
#define OP(Enum, Name, Category, Operands, Arity, Traits)                                          \
  {#Name, OpCategory::Category, OperandDTypes::Operands, Arity, Traits},
#include "ir/Ops.def"
};

constexpr OpKind kAllKinds[] = {
#define OP(Enum, Name, Category, Operands, Arity, Traits) OpKind::Enum,
#include "ir/Ops.def"
};

constexpr auto kOpFaults = [] {
  std::array<OpFault, std::size(kAllKinds)> faults{};
#define FAULT(Enum, Fault) faults[static_cast<size_t>(OpKind::Enum)] = OpFault::Fault;
#include "ir/Ops.def"
  return faults;
}();

struct AttrInfo {
  std::string_view key;
  AttrKind kind;
};

constexpr AttrInfo kAttrInfo[] = {
#define ATTRIBUTE(Enum, Accessor, Key, Kind) {Key, AttrKind::Kind},
#include "ir/Ops.def"
};

constexpr bool Required = true, Optional = false;

/// Each op kind's ATTR lines, in Ops.def order.
const auto kOpAttrs = [] {
  std::array<std::vector<AttrSpec>, std::size(kAllKinds)> schema;
#define ATTR(Op, Attribute, Presence)                                                              \
  schema[static_cast<size_t>(OpKind::Op)].push_back(AttrSpec{AttrId::Attribute, Presence});
#include "ir/Ops.def"
  return schema;
}();

static_assert(std::size(kOpInfo) == std::size(kAllKinds), "update ir/Ops.def tables");

} // namespace

std::string_view opName(OpKind k) { return kOpInfo[static_cast<size_t>(k)].name; }
OpCategory opCategory(OpKind k) { return kOpInfo[static_cast<size_t>(k)].category; }
OperandDTypes opOperandDTypes(OpKind k) { return kOpInfo[static_cast<size_t>(k)].operands; }
OpTraits opTraits(OpKind k) { return kOpInfo[static_cast<size_t>(k)].traits; }
OpFault opFault(OpKind k) { return kOpFaults[static_cast<size_t>(k)]; }
std::span<const OpKind> allOpKinds() { return kAllKinds; }

std::optional<size_t> opArity(OpKind k) {
  int n = kOpInfo[static_cast<size_t>(k)].arity;
  if (n == Variadic)
    return std::nullopt;
  return static_cast<size_t>(n);
}

std::optional<OpKind> parseOpKind(std::string_view name) {
  for (OpKind k : kAllKinds)
    if (opName(k) == name)
      return k;
  return std::nullopt;
}

std::string_view attrKey(AttrId a) { return kAttrInfo[static_cast<size_t>(a)].key; }
AttrKind attrKind(AttrId a) { return kAttrInfo[static_cast<size_t>(a)].kind; }
std::span<const AttrSpec> opAttrs(OpKind k) { return kOpAttrs[static_cast<size_t>(k)]; }

std::optional<AttrSpec> findOpAttr(OpKind k, std::string_view key) {
  for (const AttrSpec &s : opAttrs(k))
    if (attrKey(s.id) == key)
      return s;
  return std::nullopt;
}

} // namespace weft::ir
