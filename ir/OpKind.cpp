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

static_assert(std::size(kOpInfo) == std::size(kAllKinds), "update ir/Ops.def tables");

} // namespace

std::string_view opName(OpKind k) { return kOpInfo[static_cast<size_t>(k)].name; }
OpCategory opCategory(OpKind k) { return kOpInfo[static_cast<size_t>(k)].category; }
OperandDTypes opOperandDTypes(OpKind k) { return kOpInfo[static_cast<size_t>(k)].operands; }
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
