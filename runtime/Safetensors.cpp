//===- runtime/Safetensors.cpp - safetensors reading and writing ----------===//
//
// Reading, in order: the 8-byte header length (bounded, inside the file); a
// scan of the header that bounds its nesting (nlohmann's parser keeps a stack
// per level, so hostile nesting costs memory, not just time); the JSON parse,
// with a callback that catches duplicate keys (JSON allows them, the format
// does not, and a map would silently keep the last); the fields of each entry;
// then the tensors sorted by offset must tile the data buffer exactly.
// nlohmann's exceptions never leave this file: parsing and dumping catch them.
//
//===----------------------------------------------------------------------===//
#include "runtime/Safetensors.h"

#include "runtime/AtomicFile.h"
#include "runtime/ReadFile.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>

namespace weft {
namespace {

static_assert(std::endian::native == std::endian::little,
              "safetensors I/O assumes a little-endian host");

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

constexpr std::string_view kMetadataKey = "__metadata__";
/// A valid header nests three levels ({"t": {"shape": [..]}}); more is corrupt or hostile.
constexpr int kMaxHeaderDepth = 8;

struct DTypeName {
  DType dtype;
  std::string_view name;
  /// The reference writer stores larger dtypes first, in this order (its enum's, reversed).
  int writeRank;
};
constexpr DTypeName kDTypeNames[] = {
    {DType::I64, "I64", 4}, {DType::F64, "F64", 3}, {DType::F32, "F32", 2},
    {DType::I32, "I32", 1}, {DType::I1, "BOOL", 0},
};
/// dtypes of the format that weft has no element type for.
constexpr std::string_view kOtherFormatDTypes[] = {
    "F16",     "BF16",    "I8",      "U8", "I16",     "U16",     "U32", "U64",
    "F8_E4M3", "F8_E5M2", "F8_E8M0", "F4", "F6_E2M3", "F6_E3M2", "C64"};

const DTypeName &nameOf(DType t) {
  for (const DTypeName &d : kDTypeNames)
    if (d.dtype == t)
      return d;
  WEFT_UNREACHABLE("unhandled DType in safetensors");
}

/// One tensor entry of the header, checked on its own.
struct Entry {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;
};

std::string shapeStr(const std::vector<int64_t> &shape) { return formatShape(shape); }

/// The deepest nesting of objects and arrays in `json`, strings skipped.
int nestingDepth(std::string_view json) {
  int depth = 0, deepest = 0;
  bool inString = false;
  for (size_t i = 0; i < json.size(); ++i) {
    char c = json[i];
    if (inString) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        inString = false;
      continue;
    }
    if (c == '"')
      inString = true;
    else if (c == '{' || c == '[')
      deepest = std::max(deepest, ++depth);
    else if (c == '}' || c == ']')
      --depth;
  }
  return deepest;
}

/// Parses the header, rejecting duplicate keys at any level.
Expected<Json> parseHeader(std::string_view text) {
  std::vector<std::set<std::string>> keys; // one set per open object
  std::string duplicate;
  auto callback = [&](int, Json::parse_event_t event, Json &parsed) {
    switch (event) {
    case Json::parse_event_t::object_start:
      keys.emplace_back();
      break;
    case Json::parse_event_t::object_end:
      if (!keys.empty())
        keys.pop_back();
      break;
    case Json::parse_event_t::key:
      if (!keys.empty() && parsed.is_string() &&
          !keys.back().insert(parsed.get_ref<const std::string &>()).second && duplicate.empty())
        duplicate = parsed.get_ref<const std::string &>();
      break;
    default:
      break;
    }
    return true;
  };
  Json header;
  try {
    header = Json::parse(text.begin(), text.end(), callback);
  } catch (const Json::exception &e) {
    // "[json.exception.parse_error.101] parse error at ..." without the bracketed id.
    std::string what = e.what();
    size_t close = what.find("] ");
    return err("the header is not valid JSON: " +
               (close == std::string::npos ? what : what.substr(close + 2)));
  }
  if (!duplicate.empty())
    return err(fmt::format("the header has the key '{}' twice", duplicate));
  return header;
}

Expected<DType> parseDType(const Json &j, const std::string &name) {
  if (!j.is_string())
    return err(fmt::format("tensor '{}': \"dtype\" is not a string", name));
  const std::string &s = j.get_ref<const std::string &>();
  for (const DTypeName &d : kDTypeNames)
    if (d.name == s)
      return d.dtype;
  for (std::string_view other : kOtherFormatDTypes)
    if (other == s)
      return err(fmt::format("tensor '{}': dtype {} is not supported (weft reads F32, F64, I32, "
                             "I64 and BOOL)",
                             name, s));
  return err(fmt::format("tensor '{}': unknown dtype '{}'", name, s));
}

/// A JSON array of non-negative integers, each at most `max`.
Expected<std::vector<uint64_t>> parseUInts(const Json &j, const std::string &name,
                                           const char *field, uint64_t max) {
  if (!j.is_array())
    return err(fmt::format("tensor '{}': \"{}\" is not an array", name, field));
  std::vector<uint64_t> out;
  out.reserve(j.size());
  for (const Json &v : j) {
    if (!v.is_number_unsigned() || v.get<uint64_t>() > max)
      return err(fmt::format("tensor '{}': \"{}\" holds {}, not an integer in [0, {}]", name, field,
                             v.dump(-1, ' ', false, Json::error_handler_t::replace), max));
    out.push_back(v.get<uint64_t>());
  }
  return out;
}

Expected<Entry> parseEntry(const std::string &name, const Json &j) {
  if (!j.is_object())
    return err(fmt::format("tensor '{}': its entry is not an object", name));
  for (auto it = j.begin(); it != j.end(); ++it)
    if (it.key() != "dtype" && it.key() != "shape" && it.key() != "data_offsets")
      return err(fmt::format("tensor '{}': unknown field '{}'", name, it.key()));
  for (const char *field : {"dtype", "shape", "data_offsets"})
    if (!j.contains(field))
      return err(fmt::format("tensor '{}': no \"{}\"", name, field));
  Entry e;
  e.name = name;
  auto dtype = parseDType(j["dtype"], name);
  WEFT_TRY(dtype.status());
  e.dtype = *dtype;
  auto dims = parseUInts(j["shape"], name, "shape", INT64_MAX);
  WEFT_TRY(dims.status());
  int64_t numel = 1;
  for (uint64_t d : *dims) {
    e.shape.push_back(static_cast<int64_t>(d));
    if (__builtin_mul_overflow(numel, static_cast<int64_t>(d), &numel))
      return err(fmt::format("tensor '{}': shape {} has more elements than fit in 64 bits", name,
                             shapeStr(e.shape)));
  }
  int64_t nbytes = 0;
  if (__builtin_mul_overflow(numel, dtypeBytes(e.dtype), &nbytes))
    return err(fmt::format("tensor '{}': shape {} has more bytes than fit in 64 bits", name,
                           shapeStr(e.shape)));
  auto offsets = parseUInts(j["data_offsets"], name, "data_offsets", UINT64_MAX);
  WEFT_TRY(offsets.status());
  if (offsets->size() != 2)
    return err(
        fmt::format("tensor '{}': \"data_offsets\" has {} entries, not 2", name, offsets->size()));
  e.begin = (*offsets)[0];
  e.end = (*offsets)[1];
  if (e.end < e.begin)
    return err(fmt::format("tensor '{}': data_offsets [{}, {}] end before they begin", name,
                           e.begin, e.end));
  if (e.end - e.begin != static_cast<uint64_t>(nbytes))
    return err(fmt::format("tensor '{}': {} {} takes {} bytes, but data_offsets [{}, {}] hold {}",
                           name, nameOf(e.dtype).name, shapeStr(e.shape), nbytes, e.begin, e.end,
                           e.end - e.begin));
  return e;
}

Expected<std::map<std::string, std::string>> parseMetadata(const Json &j) {
  std::map<std::string, std::string> out;
  if (j.is_null())
    return out;
  if (!j.is_object())
    return err("\"__metadata__\" is not an object");
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!it.value().is_string())
      return err(fmt::format("\"__metadata__\": the value of '{}' is not a string", it.key()));
    out[it.key()] = it.value().get<std::string>();
  }
  return out;
}

/// Checks that the entries, in offset order, tile the `bufferSize` data bytes exactly.
Status checkTiling(std::vector<Entry> &entries, uint64_t bufferSize) {
  std::sort(entries.begin(), entries.end(), [](const Entry &a, const Entry &b) {
    return std::tie(a.begin, a.end) < std::tie(b.begin, b.end);
  });
  uint64_t covered = 0;
  for (const Entry &e : entries) {
    if (e.end > bufferSize)
      return err(fmt::format("tensor '{}': data_offsets [{}, {}] run past the {} bytes of data "
                             "(truncated file?)",
                             e.name, e.begin, e.end, bufferSize));
    if (e.begin < covered)
      return err(fmt::format("tensor '{}': data_offsets [{}, {}] overlap the tensor before it, "
                             "which ends at {}",
                             e.name, e.begin, e.end, covered));
    if (e.begin > covered)
      return err(fmt::format("tensor '{}': data_offsets [{}, {}] leave bytes [{}, {}) of the data "
                             "unused",
                             e.name, e.begin, e.end, covered, e.begin));
    covered = e.end;
  }
  if (covered != bufferSize)
    return err(fmt::format("the tensors end at byte {} of the data, but there are {} bytes of "
                           "data after the header",
                           covered, bufferSize));
  return {};
}

Expected<Safetensors> decode(std::string_view bytes) {
  if (bytes.size() < 8)
    return err(fmt::format("truncated: {} bytes, but the file starts with an 8-byte header length",
                           bytes.size()));
  uint64_t headerLen = 0;
  std::memcpy(&headerLen, bytes.data(), 8);
  if (headerLen > kSafetensorsMaxHeaderBytes)
    return err(fmt::format("header length {} is over the {}-byte limit (not a safetensors file?)",
                           headerLen, kSafetensorsMaxHeaderBytes));
  if (headerLen > bytes.size() - 8)
    return err(fmt::format("truncated: the header length is {} bytes, but only {} follow it",
                           headerLen, bytes.size() - 8));
  std::string_view text = bytes.substr(8, headerLen);
  if (text.empty() || text[0] != '{')
    return err("the header does not start with '{'");
  if (nestingDepth(text) > kMaxHeaderDepth)
    return err(fmt::format("the header nests deeper than {} levels", kMaxHeaderDepth));
  auto header = parseHeader(text);
  WEFT_TRY(header.status());
  if (!header->is_object())
    return err("the header is not a JSON object");

  Safetensors st;
  std::vector<Entry> entries;
  for (auto it = header->begin(); it != header->end(); ++it) {
    if (it.key() == kMetadataKey) {
      auto metadata = parseMetadata(it.value());
      WEFT_TRY(metadata.status());
      st.metadata = std::move(*metadata);
      continue;
    }
    auto entry = parseEntry(it.key(), it.value());
    WEFT_TRY(entry.status());
    entries.push_back(std::move(*entry));
  }
  std::string_view data = bytes.substr(8 + headerLen);
  WEFT_TRY(checkTiling(entries, data.size()));

  for (Entry &e : entries) {
    const char *src = data.data() + e.begin;
    size_t n = e.end - e.begin;
    if (e.dtype == DType::I1)
      for (size_t i = 0; i < n; ++i)
        if (src[i] != 0 && src[i] != 1)
          return err(fmt::format("tensor '{}': BOOL element {} is the byte {}, not 0 or 1", e.name,
                                 i, static_cast<unsigned>(static_cast<unsigned char>(src[i]))));
    Array a(e.dtype, std::move(e.shape));
    if (n)
      std::memcpy(a.data(), src, n);
    st.tensors.push_back({std::move(e.name), std::move(a)});
  }
  return st;
}

} // namespace

const Array *Safetensors::find(std::string_view name) const {
  for (const NamedArray &t : tensors)
    if (t.name == name)
      return &t.array;
  return nullptr;
}

Expected<std::string> encodeSafetensors(const Safetensors &st) {
  std::vector<const NamedArray *> order;
  std::set<std::string_view> names;
  for (const NamedArray &t : st.tensors) {
    if (t.name == kMetadataKey)
      return err("a tensor may not be called \"__metadata__\" (the format reserves that key)");
    if (!names.insert(t.name).second)
      return err(fmt::format("two tensors are called '{}'", t.name));
    order.push_back(&t);
  }
  std::sort(order.begin(), order.end(), [](const NamedArray *a, const NamedArray *b) {
    int ra = nameOf(a->array.dtype()).writeRank, rb = nameOf(b->array.dtype()).writeRank;
    return ra != rb ? ra > rb : a->name < b->name;
  });

  OrderedJson header = OrderedJson::object();
  if (!st.metadata.empty())
    header[std::string(kMetadataKey)] = st.metadata;
  uint64_t offset = 0;
  for (const NamedArray *t : order) {
    uint64_t end = offset + t->array.nbytes();
    header[t->name] = {{"dtype", nameOf(t->array.dtype()).name},
                       {"shape", t->array.shape()},
                       {"data_offsets", {offset, end}}};
    offset = end;
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const OrderedJson::exception &) {
    return err("a tensor name or metadata string is not valid UTF-8");
  }
  text.append((8 - text.size() % 8) % 8, ' ');

  std::string out(8, '\0');
  uint64_t headerLen = text.size();
  std::memcpy(out.data(), &headerLen, 8);
  out.reserve(8 + text.size() + offset);
  out += text;
  for (const NamedArray *t : order)
    out.append(static_cast<const char *>(t->array.data()), t->array.nbytes());
  return out;
}

Expected<Safetensors> decodeSafetensors(std::string_view bytes, const std::string &what) {
  auto st = decode(bytes);
  if (!st)
    return err(what + ": " + st.diag().message);
  return st;
}

Expected<Safetensors> readSafetensors(const std::string &path) {
  auto bytes = readFile(path);
  if (!bytes)
    return bytes.diag();
  return decodeSafetensors(*bytes, path);
}

Status writeSafetensors(const std::string &path, const Safetensors &st) {
  auto bytes = encodeSafetensors(st);
  if (!bytes)
    return err(fmt::format("cannot write '{}': {}", path, bytes.diag().message));
  return writeFileAtomically(path, *bytes);
}

} // namespace weft
