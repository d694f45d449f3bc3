//===- ir/OpKind.cpp - tables expanded from Ops.def -----------------------===//
#include "ir/OpKind.h"

#include <array>

namespace weft::ir {
namespace {

struct OpInfo {
  std::string_view name;
  OpCategory category;
  OperandDTypes operands;
};

constexpr OpInfo kOpInfo[] = {
#define OP(Enum, Name, Category, Operands) {Name, OpCategory::Category, OperandDTypes::Operands},
#include "ir/Ops.def"
};

constexpr OpKind kAllKinds[] = {
#define OP(Enum, Name, Category, Operands) OpKind::Enum,
#include "ir/Ops.def"
};

constexpr auto kOpFaults = [] {
  std::array<OpFault, std::size(kAllKinds)> faults{};
#define OP(Enum, Name, Category, Operands)
#define FAULT(Enum, Fault) faults[static_cast<size_t>(OpKind::Enum)] = OpFault::Fault;
#include "ir/Ops.def"
  return faults;
}();

static_assert(std::size(kOpInfo) == std::size(kAllKinds), "update ir/Ops.def tables");

} // namespace

std::string_view opName(OpKind k) { return kOpInfo[static_cast<size_t>(k)].name; }
OpCategory opCategory(OpKind k) { return kOpInfo[static_cast<size_t>(k)].category; }
OperandDTypes opOperandDTypes(OpKind k) { return kOpInfo[static_cast<size_t>(k)].operands; }
OpFault opFault(OpKind k) { return kOpFaults[static_cast<size_t>(k)]; }
std::span<const OpKind> allOpKinds() { return kAllKinds; }

std::optional<OpKind> parseOpKind(std::string_view name) {
  for (OpKind k : kAllKinds)
    if (opName(k) == name)
      return k;
  return std::nullopt;
}

bool hasDeclaredResultType(OpKind k) {
  switch (k) {
  case OpKind::Broadcast:
  case OpKind::Reshape:
  case OpKind::Constant:
  case OpKind::Iota:
  case OpKind::Cast:
  case OpKind::RandomUniform:
  case OpKind::RandomNormal:
    return true;
  default:
    return false;
  }
}

} // namespace weft::ir
