//===- ir/Op.h - SSA values, ops, blocks and attributes -------------------===//
//
// An Op has operands (Values defined earlier), results (Values it owns),
// named attributes, and for scan/while one region: a Block whose arguments
// are the loop's per-step values and which ends in `yield`. Region bodies may
// use values defined outside them (weights, say); they are loop-invariant.
// Ownership is a tree: Module -> Function -> Block -> Op -> (results, Blocks).
// Use lists are not stored; passes that need them build an ir::Uses (ir/Uses.h).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/OpKind.h"
#include "ir/Type.h"

#include <list>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

namespace weft::ir {

class Op;
class Block;

/// An attribute value: an integer, a float, a list of either, or a string. Lists are never
/// mixed; an empty list is an integer list.
using Attr = std::variant<int64_t, double, std::vector<int64_t>, std::vector<double>, std::string>;
/// Attributes by name; printed in name order.
using Attrs = std::map<std::string, Attr, std::less<>>;

/// How a typed accessor (Op::axis(), ...) stores and returns an attribute of each AttrKind.
template <AttrKind K> struct AttrTypes;
template <> struct AttrTypes<AttrKind::Int> {
  using Stored = int64_t;
  using Ref = int64_t;
};
template <> struct AttrTypes<AttrKind::Ints> {
  using Stored = std::vector<int64_t>;
  using Ref = const std::vector<int64_t> &;
};
template <> struct AttrTypes<AttrKind::Float> {
  using Stored = double;
  using Ref = double;
};
template <> struct AttrTypes<AttrKind::Numbers> {
  using Stored = Attr; // a list of floats or of integers
  using Ref = const Attr &;
};
template <> struct AttrTypes<AttrKind::Flag> {
  using Stored = int64_t;
  using Ref = bool;
};

/// An SSA value: an op result or a block argument.
class Value {
public:
  Value(Type type, Op *def, Block *owner, unsigned index)
      : type_(std::move(type)), def_(def), owner_(owner), index_(index) {}
  Value(const Value &) = delete;
  Value &operator=(const Value &) = delete;

  const Type &type() const { return type_; }
  void setType(Type t) { type_ = std::move(t); }
  /// The op that produces this value, or nullptr for a block argument.
  Op *definingOp() const { return def_; }
  /// The block this value is an argument of, or nullptr for an op result.
  Block *ownerBlock() const { return owner_; }
  bool isBlockArg() const { return def_ == nullptr; }
  /// Position among the op's results or the block's arguments.
  unsigned index() const { return index_; }
  /// The name hint used when printing ("xs" prints as %xs); may be empty.
  const std::string &name() const { return name_; }
  void setName(std::string n) { name_ = std::move(n); }

private:
  Type type_;
  Op *def_;
  Block *owner_;
  unsigned index_;
  std::string name_;
};

/// One operation. Create ops through OpBuilder (ir/Builder.h), which checks them.
class Op {
public:
  Op(OpKind kind, std::vector<Value *> operands, Attrs attrs, Loc loc);
  Op(const Op &) = delete;
  Op &operator=(const Op &) = delete;

  OpKind kind() const { return kind_; }
  std::string_view name() const { return opName(kind_); }
  const Loc &loc() const { return loc_; }
  void setLoc(Loc l) { loc_ = std::move(l); }

  size_t numOperands() const { return operands_.size(); }
  Value *operand(size_t i) const { return operands_.at(i); }
  const std::vector<Value *> &operands() const { return operands_; }
  void setOperand(size_t i, Value *v) { operands_.at(i) = v; }
  void setOperands(std::vector<Value *> vs) { operands_ = std::move(vs); }

  size_t numResults() const { return results_.size(); }
  Value *result(size_t i = 0) const { return results_.at(i).get(); }
  std::vector<Value *> results() const;
  Value *addResult(Type t);
  /// Replaces the result types (all results are re-created only if the count changes).
  void setResultTypes(const std::vector<Type> &types);

  const Attrs &attrs() const { return attrs_; }
  Attrs &attrs() { return attrs_; }
  bool hasAttr(std::string_view key) const { return attrs_.find(key) != attrs_.end(); }
  /// Attribute access by key; these abort on a missing or mistyped attribute, which the
  /// verifier rules out for verified IR. Use tryAttr for unverified IR. Compiler code uses
  /// the typed accessors below instead (op.axis()), which name no string.
  int64_t intAttr(std::string_view key) const;
  double floatAttr(std::string_view key) const;
  const std::vector<int64_t> &intsAttr(std::string_view key) const;
  const std::vector<double> &floatsAttr(std::string_view key) const;
  const std::string &stringAttr(std::string_view key) const;
  /// The attribute if present and of type T.
  template <typename T> const T *tryAttr(std::string_view key) const {
    auto it = attrs_.find(key);
    return it == attrs_.end() ? nullptr : std::get_if<T>(&it->second);
  }
  void setAttr(std::string key, Attr a) { attrs_[std::move(key)] = std::move(a); }

  // Typed attributes, one accessor per ATTRIBUTE in ir/Ops.def: op.axis(), op.perm(),
  // op.numSeq(), ... Asking an op for an attribute its kind does not have is our bug and
  // aborts; so does a missing or mistyped one, which the verifier rules out. An absent Flag
  // reads as false.
#define ATTRIBUTE(Enum, Accessor, Key, Kind)                                                       \
  AttrTypes<AttrKind::Kind>::Ref Accessor() const {                                                \
    return typedAttr<AttrKind::Kind>(AttrId::Enum);                                                \
  }
#include "ir/Ops.def"
  /// The attribute if present (its kind must have it), for IR not yet verified.
  const Attr *findAttr(AttrId a) const;
  /// Sets attribute `a` (its kind must have it) under its key.
  void setAttr(AttrId a, Attr v);

  size_t numRegions() const { return regions_.size(); }
  Block &region(size_t i = 0) const { return *regions_.at(i); }
  /// Adds an empty region (a block with no arguments) and returns it.
  Block &addRegion();

  /// The block this op is in, or nullptr while detached.
  Block *parentBlock() const { return parent_; }
  /// The op whose region contains this op, or nullptr at function level.
  Op *parentOp() const;

private:
  template <AttrKind K> typename AttrTypes<K>::Ref typedAttr(AttrId a) const {
    const Attr *v = findAttr(a);
    if constexpr (K == AttrKind::Flag) {
      const int64_t *flag = v ? std::get_if<int64_t>(v) : nullptr;
      WEFT_CHECK(!v || flag, "flag attribute is not an integer (IR not verified?)");
      return flag && *flag == 1;
    } else if constexpr (K == AttrKind::Numbers) {
      WEFT_CHECK(v != nullptr, "missing attribute (IR not verified?)");
      return *v;
    } else {
      WEFT_CHECK(v != nullptr, "missing attribute (IR not verified?)");
      const auto *typed = std::get_if<typename AttrTypes<K>::Stored>(v);
      WEFT_CHECK(typed != nullptr, "attribute of the wrong kind (IR not verified?)");
      return *typed;
    }
  }

  friend class Block;
  OpKind kind_;
  std::vector<Value *> operands_;
  std::vector<std::unique_ptr<Value>> results_;
  Attrs attrs_;
  std::vector<std::unique_ptr<Block>> regions_;
  Block *parent_ = nullptr;
  std::list<std::unique_ptr<Op>>::iterator self_;
  Loc loc_;
};

/// Whether `op` can stop a run with its kind's fault (opFault) on some inputs, given its
/// types and attributes: an integer div, any gather or scatter_add, a reduce_max/min or argmax
/// over an axis that is not statically nonempty.
bool mayFault(const Op &op);

/// A straight-line list of ops with typed arguments: a function body or an op's region.
class Block {
public:
  using OpList = std::list<std::unique_ptr<Op>>;
  using iterator = OpList::iterator;

  explicit Block(Op *parentOp = nullptr) : parentOp_(parentOp) {}
  Block(const Block &) = delete;
  Block &operator=(const Block &) = delete;

  size_t numArgs() const { return args_.size(); }
  Value *arg(size_t i) const { return args_.at(i).get(); }
  std::vector<Value *> args() const;
  Value *addArg(Type t, std::string name = {});

  OpList &ops() { return ops_; }
  const OpList &ops() const { return ops_; }
  bool empty() const { return ops_.empty(); }
  /// The last op (the terminator in a finished block), or nullptr.
  Op *back() const { return ops_.empty() ? nullptr : ops_.back().get(); }

  /// Inserts `op` before `pos` and returns it.
  Op *insert(iterator pos, std::unique_ptr<Op> op);
  Op *append(std::unique_ptr<Op> op) { return insert(ops_.end(), std::move(op)); }
  /// An iterator to `op`, which must be in this block.
  iterator iteratorOf(Op *op);
  /// Removes and destroys `op`; its results must have no remaining uses.
  void erase(Op *op);
  /// Removes `op` from this block and hands it back.
  std::unique_ptr<Op> detach(Op *op);

  /// The op owning this block as a region, or nullptr for a function body.
  Op *parentOp() const { return parentOp_; }

private:
  friend class Op;
  std::vector<std::unique_ptr<Value>> args_;
  OpList ops_;
  Op *parentOp_;
};

} // namespace weft::ir
