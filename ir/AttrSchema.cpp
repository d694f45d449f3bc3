//===- ir/AttrSchema.cpp - checking an op's attributes against Ops.def ----===//
//
// Every op kind lists its attributes in ir/Ops.def (ATTR lines). An op must carry each
// required one, no other, and each with a value of its kind; besides them it may carry string
// notes under any other key, which nothing reads. The typing rules run this
// first, so the builder, the parser and the verifier all report the same error.
//
//===----------------------------------------------------------------------===//
#include "ir/Infer.h"

#include <fmt/format.h>

namespace weft::ir {
namespace {

const char *kindStr(AttrKind k) {
  switch (k) {
  case AttrKind::Int:
    return "an integer";
  case AttrKind::Ints:
    return "a list of integers";
  case AttrKind::Float:
    return "a float";
  case AttrKind::Numbers:
    return "a list of numbers";
  case AttrKind::Flag:
    return "0 or 1";
  }
  WEFT_UNREACHABLE("unhandled AttrKind");
}

bool hasKind(const Attr &a, AttrKind k) {
  switch (k) {
  case AttrKind::Int:
    return std::holds_alternative<int64_t>(a);
  case AttrKind::Ints:
    return std::holds_alternative<std::vector<int64_t>>(a);
  case AttrKind::Float:
    return std::holds_alternative<double>(a);
  case AttrKind::Numbers:
    return std::holds_alternative<std::vector<int64_t>>(a) ||
           std::holds_alternative<std::vector<double>>(a);
  case AttrKind::Flag: {
    const int64_t *v = std::get_if<int64_t>(&a);
    return v && (*v == 0 || *v == 1);
  }
  }
  WEFT_UNREACHABLE("unhandled AttrKind");
}

/// "axis, start, limit", or "no attributes".
std::string schemaStr(OpKind k) {
  std::string s;
  for (const AttrSpec &spec : opAttrs(k))
    s += fmt::format("{}{}", s.empty() ? "" : ", ", attrKey(spec.id));
  return s.empty() ? "no attributes" : s;
}

} // namespace

Status checkAttrs(OpKind k, const Attrs &attrs) {
  for (const auto &[key, value] : attrs) {
    auto spec = findOpAttr(k, key);
    // A string under a key the op does not list is a note for the reader: no op reads one.
    if (!spec && std::holds_alternative<std::string>(value))
      continue;
    if (!spec)
      return err(fmt::format("{}: unknown attribute '{}' ({} takes {})", opName(k), key, opName(k),
                             schemaStr(k)));
    if (!hasKind(value, attrKind(spec->id)))
      return err(fmt::format("{}: attribute '{}' must be {}", opName(k), key,
                             kindStr(attrKind(spec->id))));
  }
  for (const AttrSpec &spec : opAttrs(k))
    if (spec.required && attrs.find(attrKey(spec.id)) == attrs.end())
      return err(fmt::format("{}: missing attribute '{}'", opName(k), attrKey(spec.id)));
  return {};
}

} // namespace weft::ir
