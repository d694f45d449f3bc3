//===- backends/cpu/AotHeader.cpp - the C header of an AOT-compiled module -===//
//
// Free of LLVM. Writes, per function, the static tables runtime/Aot.h reads
// (slots with their live ranges, dims, symbols, fault sites) and a typed wrapper over
// weft_aot_call_dims whose comment gives every buffer's size.
//
//===----------------------------------------------------------------------===//
#include "backends/cpu/Aot.h"

#include <fmt/format.h>

#include <set>

namespace weft::cpu {
namespace {

/// A C string literal for `s`.
std::string quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\')
      out += fmt::format("\\{}", c);
    else if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f)
      out += fmt::format("\\{:03o}", static_cast<unsigned char>(c));
    else
      out += c;
  }
  return out + "\"";
}

/// "B x 32 f32, 128*B bytes".
std::string sizeDoc(const ir::Type &t) {
  std::string dims;
  for (const ir::Dim &d : t.dims())
    dims += d.str() + " x ";
  ir::Dim bytes = t.numElements() * ir::Dim(dtypeBytes(t.dtype()));
  return fmt::format("{}{}, {} bytes", dims, dtypeName(t.dtype()), bytes.str());
}

/// Whether `name` is a keyword of C (up to C23) or C++ (up to C++20), or a name the C
/// standard headers define: the header is read by both languages, so a wrapper parameter
/// named after an IR value like %int or %class would not compile.
bool isReservedWord(const std::string &name) {
  // clang-format off
  static const std::set<std::string> words = {
      "alignas", "alignof", "and", "and_eq", "asm", "auto", "bitand", "bitor", "bool", "break",
      "case", "catch", "char", "char8_t", "char16_t", "char32_t", "class", "compl", "complex",
      "concept", "const", "const_cast", "consteval", "constexpr", "constinit", "continue",
      "co_await", "co_return", "co_yield", "decltype", "default", "delete", "do", "double",
      "dynamic_cast", "else", "enum", "explicit", "export", "extern", "false", "float", "for",
      "friend", "goto", "if", "imaginary", "inline", "int", "long", "mutable", "namespace", "new",
      "noexcept", "not", "not_eq", "nullptr", "operator", "or", "or_eq", "private", "protected",
      "public", "register", "reinterpret_cast", "requires", "restrict", "return", "short",
      "signed", "sizeof", "static", "static_assert", "static_cast", "struct", "switch",
      "template", "this", "thread_local", "throw", "true", "try", "typedef", "typeid", "typename",
      "typeof", "typeof_unqual", "union", "unsigned", "using", "virtual", "void", "volatile",
      "wchar_t", "while", "xor", "xor_eq", "NULL", "errno", "assert", "offsetof", "int64_t",
      "size_t", "int32_t", "uint8_t"};
  // clang-format on
  return words.count(name) > 0;
}

/// A name unused so far in the wrapper's parameter list, and not a reserved word.
std::string fresh(std::string name, std::set<std::string> &used) {
  while (used.count(name) || isReservedWord(name))
    name += "_";
  used.insert(name);
  return name;
}

/// Joins `items` as a C array initializer, or writes nothing when empty.
std::string array(const std::string &decl, const std::vector<std::string> &items) {
  if (items.empty())
    return "";
  std::string s = decl + " = {\n";
  for (const std::string &i : items)
    s += "    " + i + ",\n";
  return s + "};\n";
}

void writeFunction(std::string &h, const ir::Function &f, const FunctionPlan &p, bool gpuCode) {
  std::string id = aotIdentifier(f.name());
  std::string pre = "weft_" + id + "_";
  std::vector<std::string> slots, dims, dimSyms, symbols, params, paramNames, results, resultNames,
      sites, aliasResults, aliasParams;
  for (size_t s = 0; s < p.slots.size(); ++s) {
    const ir::Type &t = p.slots[s];
    slots.push_back(fmt::format("{{{}, {}, {}, {}, {}}}", static_cast<int>(t.dtype()), t.rank(),
                                dims.size(), p.lives[s].first, p.lives[s].last));
    for (const ir::Dim &d : t.dims()) {
      dims.push_back(fmt::format("{{{}, {}, {}}}", d.coeff(), dimSyms.size(), d.symbols().size()));
      for (const std::string &s : d.symbols()) {
        size_t i = 0;
        while (i < p.symbols.size() && p.symbols[i] != s)
          ++i;
        dimSyms.push_back(std::to_string(i));
      }
    }
  }
  for (const std::string &s : p.symbols)
    symbols.push_back(quote(s));
  for (size_t i = 0; i < p.paramSlots.size(); ++i) {
    params.push_back(std::to_string(p.paramSlots[i]));
    paramNames.push_back(quote(p.signature.paramNames[i]));
  }
  const ir::Op *ret = f.returnOp();
  for (size_t r = 0; r < p.resultSlots.size(); ++r) {
    results.push_back(std::to_string(p.resultSlots[r]));
    std::string n = ret ? ret->operand(r)->name() : std::string();
    resultNames.push_back(quote(n.empty() ? fmt::format("result{}", r) : n));
  }
  for (const ir::OutputAlias &a : p.aliases) {
    aliasResults.push_back(std::to_string(a.result));
    aliasParams.push_back(std::to_string(a.param));
  }
  for (const FaultSite &s : p.faultSites)
    sites.push_back(
        fmt::format("{{{}, {}, {}}}", quote(s.opName), quote(s.loc.str()), quote(s.what)));

  h += fmt::format("/* ---- @{} ---- */\n\n", f.name());
  h += fmt::format("void {}(void *const *bufs, const int64_t *dims, int64_t *status);\n\n",
                   p.symbol);
  h += array("static const weft_aot_slot " + pre + "slots[]", slots);
  h += array("static const weft_aot_dim " + pre + "dims[]", dims);
  h += array("static const int32_t " + pre + "dim_syms[]", dimSyms);
  h += array("static const char *const " + pre + "symbols[]", symbols);
  h += array("static const int32_t " + pre + "param_slots[]", params);
  h += array("static const char *const " + pre + "param_names[]", paramNames);
  h += array("static const int32_t " + pre + "result_slots[]", results);
  h += array("static const char *const " + pre + "result_names[]", resultNames);
  h += array("static const weft_aot_fault_site " + pre + "fault_sites[]", sites);
  h += array("static const int32_t " + pre + "alias_results[]", aliasResults);
  h += array("static const int32_t " + pre + "alias_params[]", aliasParams);
  if (gpuCode)
    h += fmt::format("/* The GPU code of @{} (runtime/CudaAotPlan.h), in the object. */\n"
                     "extern const unsigned char {}gpu[];\n",
                     f.name(), pre);
  auto ref = [&](const char *table, bool nonEmpty) {
    return nonEmpty ? pre + table : std::string("NULL");
  };
  h += fmt::format("\n/* Describes @{} to weft_aot_call. weft_aot_arena_bytes(&{}fn, dims) gives "
                   "the bytes of scratch a call allocates. */\n",
                   f.name(), pre);
  h += fmt::format("static const weft_aot_function {}fn = {{\n", pre);
  h += fmt::format("    {}, {},\n", quote(f.name()), p.symbol);
  h += fmt::format("    {}, {},\n", symbols.size(), ref("symbols", !symbols.empty()));
  h += fmt::format("    {}, {}, {}, {},\n", slots.size(), ref("slots", !slots.empty()),
                   ref("dims", !dims.empty()), ref("dim_syms", !dimSyms.empty()));
  h += fmt::format("    {}, {}, {},\n", params.size(), ref("param_slots", !params.empty()),
                   ref("param_names", !params.empty()));
  h += fmt::format("    {}, {}, {},\n", results.size(), ref("result_slots", !results.empty()),
                   ref("result_names", !results.empty()));
  h += fmt::format("    {}, {},\n", sites.size(), ref("fault_sites", !sites.empty()));
  h += fmt::format("    {}, {}, {},\n", aliasResults.size(),
                   ref("alias_results", !aliasResults.empty()),
                   ref("alias_params", !aliasParams.empty()));
  h += fmt::format("    {}}};\n\n", gpuCode ? pre + "gpu" : "NULL");

  // The typed wrapper: inputs, then symbols, then outputs.
  std::set<std::string> used = {"err", "err_len", "weft_in", "weft_out", "weft_dims"};
  std::vector<std::string> args, inNames, symNames, outNames;
  std::string doc = fmt::format("/* Runs @{}; returns 0, or a WEFT_AOT_* code with a message in "
                                "err. Buffers are row-major:\n",
                                f.name());
  for (size_t i = 0; i < p.paramSlots.size(); ++i) {
    const ir::Type &t = p.slots[p.paramSlots[i]];
    std::string n = fresh(aotIdentifier(p.signature.paramNames[i]), used);
    args.push_back(fmt::format("const {} *{}", dtypeCType(t.dtype()), n));
    inNames.push_back(n);
    doc += fmt::format("     {}: {} (input)\n", n, sizeDoc(t));
  }
  for (const std::string &s : p.symbols) {
    std::string n = fresh(aotIdentifier(s), used);
    args.push_back("int64_t " + n);
    symNames.push_back(n);
    doc += fmt::format("     {}: the value of symbol {}\n", n, s);
  }
  for (size_t r = 0; r < p.resultSlots.size(); ++r) {
    const ir::Type &t = p.slots[p.resultSlots[r]];
    std::string base = ret ? ret->operand(r)->name() : std::string();
    std::string n = fresh(base.empty() ? fmt::format("result{}", r) : aotIdentifier(base), used);
    args.push_back(fmt::format("{} *{}", dtypeCType(t.dtype()), n));
    outNames.push_back(n);
    doc += fmt::format("     {}: {} (output)\n", n, sizeDoc(t));
  }
  args.push_back("char *err");
  args.push_back("size_t err_len");
  h += doc + "*/\n";
  h += fmt::format("static inline int weft_{}({}) {{\n", id, fmt::join(args, ", "));
  auto list = [](const std::vector<std::string> &v, const char *cast) {
    std::string s;
    for (const std::string &x : v)
      s += fmt::format("{}{}, ", cast, x);
    return s.empty() ? std::string("0") : s;
  };
  h += fmt::format("  const void *weft_in[] = {{{}}};\n", list(inNames, "(const void *)"));
  h += fmt::format("  void *weft_out[] = {{{}}};\n", list(outNames, "(void *)"));
  h += fmt::format("  const int64_t weft_dims[] = {{{}}};\n", list(symNames, ""));
  h += fmt::format("  return weft_aot_call_dims(&{}fn, weft_dims, weft_in, weft_out, err, "
                   "err_len);\n}}\n\n",
                   pre);
}

} // namespace

std::string aotIdentifier(const std::string &name) {
  std::string id;
  for (char c : name)
    id += (std::isalnum(static_cast<unsigned char>(c)) || c == '_') ? c : '_';
  if (id.empty() || std::isdigit(static_cast<unsigned char>(id[0])))
    id = "_" + id;
  return id;
}

std::string aotHeader(const ir::Module &module, const std::vector<FunctionPlan> &plans,
                      const std::string &runtimeInclude,
                      const std::set<std::string> &gpuFunctions) {
  std::string h = "/* Generated by weftc: do not edit. Link the matching object file and "
                  "weft_runtime. */\n"
                  "#pragma once\n\n";
  h += fmt::format("#include {}\n\n", quote(runtimeInclude));
  h += "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n";
  for (size_t i = 0; i < plans.size(); ++i)
    writeFunction(h, *module.functions()[i], plans[i],
                  gpuFunctions.count(module.functions()[i]->name()) > 0);
  h += "#ifdef __cplusplus\n}\n#endif\n";
  return h;
}

} // namespace weft::cpu
