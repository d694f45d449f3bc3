//===- ir/Printer.cpp -----------------------------------------------------===//
#include "ir/Printer.h"

#include "ir/Infer.h"
#include "ir/Walk.h"

#include <fmt/format.h>

#include <cctype>
#include <cmath>
#include <unordered_map>
#include <unordered_set>

namespace weft::ir {
namespace {

bool isValidName(const std::string &s) {
  if (s.empty())
    return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.'))
      return false;
  return true;
}

/// Assigns each value of a function a unique printed name: its hint where that is valid and
/// free, else the hint with a numeric suffix, else a number.
class Namer {
public:
  explicit Namer(const Function &f) {
    std::vector<Value *> all = f.body().args();
    walk(const_cast<Block &>(f.body()), [&](Op &op) {
      // Text order: an op's results, then its region's arguments, then the region's ops.
      for (Value *v : op.results())
        all.push_back(v);
      for (size_t r = 0; r < op.numRegions(); ++r)
        for (Value *a : op.region(r).args())
          all.push_back(a);
    });
    std::vector<Value *> pending;
    for (Value *v : all) {
      if (isValidName(v->name()) && used_.insert(v->name()).second)
        names_[v] = v->name();
      else
        pending.push_back(v);
    }
    for (Value *v : pending) {
      std::string base = isValidName(v->name()) ? v->name() + "_" : "";
      std::string n;
      do
        n = base + std::to_string(next_[base]++);
      while (!used_.insert(n).second);
      names_[v] = n;
    }
  }

  std::string operator()(const Value *v) const {
    auto it = names_.find(v);
    return it == names_.end() ? "<<unknown value>>" : "%" + it->second;
  }

private:
  std::unordered_map<const Value *, std::string> names_;
  std::unordered_set<std::string> used_;
  std::unordered_map<std::string, int> next_;
};

class Printer {
public:
  explicit Printer(const Function &f) : name_(f) {}

  std::string function(const Function &f) {
    out_ += fmt::format("func @{}(", f.name());
    params(f.body().args());
    out_ += ") -> (";
    std::vector<Type> rts = f.resultTypes();
    for (size_t i = 0; i < rts.size(); ++i)
      out_ += (i ? ", " : "") + rts[i].str();
    out_ += ")";
    for (size_t i = 0; i < f.aliases().size(); ++i) {
      const OutputAlias &a = f.aliases()[i];
      out_ += fmt::format("{}{} = {}", i ? ", " : " aliases(", a.result,
                          a.param < f.numParams() ? name_(f.param(a.param)) : "%?");
    }
    out_ += f.aliases().empty() ? " {\n" : ") {\n";
    block(f.body(), 1);
    out_ += "}\n";
    return std::move(out_);
  }

private:
  void params(const std::vector<Value *> &args) {
    for (size_t i = 0; i < args.size(); ++i)
      out_ += fmt::format("{}{}: {}", i ? ", " : "", name_(args[i]), args[i]->type().str());
  }

  void operandList(const Op &op, size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i)
      out_ += (i > begin ? ", " : "") + name_(op.operand(i));
  }

  void attrs(const Op &op) {
    bool first = true;
    for (const auto &[key, value] : op.attrs()) {
      // scan's operand grouping is spelled by its keywords, not by attributes.
      if (op.kind() == OpKind::Scan &&
          (key == attrKey(AttrId::NumCarry) || key == attrKey(AttrId::NumSeq)))
        continue;
      out_ += fmt::format("{}{} = {}", first ? " {" : ", ", key, formatAttr(value));
      first = false;
    }
    if (!first)
      out_ += "}";
  }

  void block(const Block &b, int depth) {
    for (const auto &op : b.ops())
      this->op(*op, depth);
  }

  void op(const Op &op, int depth) {
    std::string indent(2 * depth, ' ');
    out_ += indent;
    for (size_t i = 0; i < op.numResults(); ++i)
      out_ += (i ? ", " : "") + name_(op.result(i));
    if (op.numResults())
      out_ += " = ";
    out_ += op.name();
    if (op.kind() == OpKind::Scan) {
      auto g = scanOperands(op.numOperands(), op.attrs());
      WEFT_CHECK(g.isOk(), "printing a scan with malformed operand groups");
      out_ += " carry(";
      operandList(op, 0, g->numCarry);
      out_ += ") over(";
      operandList(op, g->numCarry, g->numCarry + g->numSeq);
      out_ += ")";
      if (g->hasLengths)
        out_ += " lengths(" + name_(op.operand(op.numOperands() - 1)) + ")";
    } else if (op.kind() == OpKind::While) {
      out_ += " finished(" + name_(op.operand(0)) + ") carry(";
      operandList(op, 1, op.numOperands());
      out_ += ")";
    } else if (op.numOperands()) {
      out_ += " ";
      operandList(op, 0, op.numOperands());
    }
    attrs(op);
    for (size_t r = 0; r < op.numRegions(); ++r) {
      out_ += " {\n" + indent + "^body(";
      params(op.region(r).args());
      out_ += "):\n";
      block(op.region(r), depth + 1);
      out_ += indent + "}";
    }
    if (op.numResults()) {
      out_ += " : ";
      for (size_t i = 0; i < op.numResults(); ++i)
        out_ += (i ? ", " : "") + op.result(i)->type().str();
    }
    out_ += "\n";
  }

  Namer name_;
  std::string out_;
};

std::string escape(const std::string &s) {
  std::string r = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\')
      r += '\\';
    if (c == '\n') {
      r += "\\n";
      continue;
    }
    r += c;
  }
  return r + "\"";
}

} // namespace

std::string formatFloat(double d) {
  if (std::isnan(d))
    return "nan";
  if (std::isinf(d))
    return d < 0 ? "-inf" : "inf";
  std::string s = fmt::format("{}", d);
  if (s.find_first_of(".e") == std::string::npos)
    s += ".0";
  return s;
}

std::string formatAttr(const Attr &a) {
  if (auto *i = std::get_if<int64_t>(&a))
    return std::to_string(*i);
  if (auto *d = std::get_if<double>(&a))
    return formatFloat(*d);
  if (auto *is = std::get_if<std::vector<int64_t>>(&a)) {
    std::string s = "[";
    for (size_t k = 0; k < is->size(); ++k)
      s += (k ? ", " : "") + std::to_string((*is)[k]);
    return s + "]";
  }
  if (auto *ds = std::get_if<std::vector<double>>(&a)) {
    std::string s = "[";
    for (size_t k = 0; k < ds->size(); ++k)
      s += (k ? ", " : "") + formatFloat((*ds)[k]);
    return s + "]";
  }
  return escape(std::get<std::string>(a));
}

std::string print(const Function &f) { return Printer(f).function(f); }

std::string print(const Module &m) {
  std::string s;
  for (size_t i = 0; i < m.functions().size(); ++i)
    s += (i ? "\n" : "") + print(*m.functions()[i]);
  return s;
}

} // namespace weft::ir
