//===- ir/OpKind.h - op kinds and their static properties -----------------===//
//
// Everything here is expanded from ir/Ops.def, the single op vocabulary.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace weft::ir {

enum class OpKind : uint8_t {
#define OP(Enum, Name, Category, Operands, Arity, Traits) Enum,
#include "ir/Ops.def"
};

enum class OpCategory : uint8_t { Unary, Binary, Compare, Logical, Structural, Reduce, Special };
/// Which dtypes an op's (data) operands may have.
enum class OperandDTypes : uint8_t { Float, Numeric, Bool, Any };

/// Properties of an op kind (Ops.def documents each), or-ed together into an OpTraits set.
namespace trait {
enum : uint16_t {
  Elementwise = 1u << 0,
  Reduction = 1u << 1,
  Shape = 1u << 2,
  Producer = 1u << 3,
  Region = 1u << 4,
  Loop = 1u << 5,
  Pure = 1u << 6,
  Terminator = 1u << 7,
  DeclaredResult = 1u << 8,
};
} // namespace trait
using OpTraits = uint16_t;

/// A run-time error an op can stop a run with on some inputs (verifier errors aside).
enum class OpFault : uint8_t {
  None,
  DivisionByZero,  // integer div by 0
  IndexOutOfRange, // gather / scatter_add index outside the axis
  EmptyReduce,     // reduce_max/min or argmax over an axis of size 0
};

/// The attributes ops carry (ATTRIBUTE in Ops.def).
enum class AttrId : uint8_t {
#define ATTRIBUTE(Enum, Accessor, Key, Kind) Enum,
#include "ir/Ops.def"
};
/// What an attribute's value is (Ops.def documents each kind).
enum class AttrKind : uint8_t { Int, Ints, Float, Numbers, Flag };
/// One entry of an op kind's attribute schema (ATTR in Ops.def).
struct AttrSpec {
  AttrId id;
  bool required;
};

/// The text name of an op kind ("add", "scan", ...).
std::string_view opName(OpKind k);
std::optional<OpKind> parseOpKind(std::string_view name);
OpCategory opCategory(OpKind k);
OperandDTypes opOperandDTypes(OpKind k);
/// The number of operands ops of kind `k` take, or nullopt for variadic ops.
std::optional<size_t> opArity(OpKind k);
OpTraits opTraits(OpKind k);
/// Whether kind `k` has every trait in `t`.
inline bool hasTrait(OpKind k, OpTraits t) { return (opTraits(k) & t) == t; }
/// The fault ops of kind `k` can raise (FAULT in Ops.def); ir::mayFault refines it per op.
OpFault opFault(OpKind k);
/// Every op kind, in Ops.def order.
std::span<const OpKind> allOpKinds();

/// The key an attribute is spelled with in the IR text and in Attrs ("axis", "num_carry").
std::string_view attrKey(AttrId a);
AttrKind attrKind(AttrId a);
/// The attribute schema of op kind `k`, in Ops.def order.
std::span<const AttrSpec> opAttrs(OpKind k);
/// The schema entry of `k` spelled `key`, or nullopt if `k` has no such attribute.
std::optional<AttrSpec> findOpAttr(OpKind k, std::string_view key);

/// One output element per input element: unary, binary, compare and logical ops, select, cast.
inline bool isElementwise(OpKind k) { return hasTrait(k, trait::Elementwise); }
/// Ops whose result type is written in the IR rather than inferred from operands.
inline bool hasDeclaredResultType(OpKind k) { return hasTrait(k, trait::DeclaredResult); }
/// yield and return.
inline bool isTerminator(OpKind k) { return hasTrait(k, trait::Terminator); }
/// Ops with a body region (scan, while, fusion).
inline bool hasRegion(OpKind k) { return hasTrait(k, trait::Region); }
/// Region ops whose body runs once per trip (scan, while); a fusion body runs once.
inline bool isLoop(OpKind k) { return hasTrait(k, trait::Loop); }
/// Ops without side effects whose results depend only on operands and attributes, so that
/// identical ones may be merged and unused ones removed. (random_* is pure: it is a function
/// of its seed operand.) A pure op may still fault on some inputs (ir::mayFault).
inline bool isPure(OpKind k) { return hasTrait(k, trait::Pure); }

} // namespace weft::ir
