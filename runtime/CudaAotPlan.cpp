//===- runtime/CudaAotPlan.cpp --------------------------------------------===//
#include "runtime/CudaAotPlan.h"

#include "runtime/DType.h"

#include <fmt/format.h>

#include <cstring>

namespace weft::cuda {
namespace {

constexpr std::string_view kMagic = "WEFTGPU1";

struct Writer {
  std::string out;
  void word(uint64_t v) {
    for (int b = 0; b < 8; ++b)
      out.push_back(static_cast<char>((v >> (8 * b)) & 0xff));
  }
  void text(std::string_view s) {
    word(s.size());
    out.append(s);
  }
};

struct Reader {
  std::string_view in;
  size_t at = 0;
  bool failed = false;
  uint64_t word() {
    if (in.size() - at < 8) {
      failed = true;
      return 0;
    }
    uint64_t v = 0;
    for (int b = 0; b < 8; ++b)
      v |= uint64_t(static_cast<unsigned char>(in[at + b])) << (8 * b);
    at += 8;
    return v;
  }
  std::string text() {
    uint64_t n = word();
    if (failed || in.size() - at < n) {
      failed = true;
      return {};
    }
    std::string s(in.substr(at, n));
    at += n;
    return s;
  }
  /// A count of elements of at least `minBytes` each that the rest of the bytes can hold.
  uint64_t count(uint64_t minBytes) {
    uint64_t n = word();
    if (!failed && n > (in.size() - at) / minBytes)
      failed = true;
    return failed ? 0 : n;
  }
};

} // namespace

std::string encodeAotPlan(const AotPlan &p) {
  Writer w;
  w.out.append(kMagic);
  w.word(0); // the total size, set below
  w.text(p.function);
  w.text(p.unavailable);
  w.text(p.sm);
  w.text(p.ptx);
  w.word(p.kernels.size());
  for (const std::string &k : p.kernels)
    w.text(k);
  w.word(p.symbols.size());
  for (size_t i = 0; i < p.symbols.size(); ++i) {
    w.text(p.symbols[i]);
    w.word(static_cast<uint64_t>(i < p.symbolValues.size() ? p.symbolValues[i] : 0));
  }
  w.word(p.arenaBytes);
  for (const auto *buffers : {&p.params, &p.results}) {
    w.word(buffers->size());
    for (const AotPlan::Buffer &b : *buffers) {
      w.word(b.offset);
      w.word(b.bytes);
    }
  }
  w.word(p.steps.size());
  for (const AotPlan::Step &s : p.steps) {
    w.word(static_cast<uint64_t>(s.kind));
    w.word(s.kernel);
    w.word(s.buffers.size());
    for (uint64_t b : s.buffers)
      w.word(b);
    w.word(s.scalars.size());
    for (int64_t v : s.scalars)
      w.word(static_cast<uint64_t>(v));
    w.word(static_cast<uint64_t>(s.blocks));
    w.word(static_cast<uint64_t>(s.threads));
    w.word(s.coResident ? 1 : 0);
    w.word(s.dst);
    w.word(s.src);
    w.word(s.bytes);
    w.text(s.data);
    w.text(s.op);
  }
  uint64_t total = w.out.size();
  for (int b = 0; b < 8; ++b)
    w.out[kMagic.size() + b] = static_cast<char>((total >> (8 * b)) & 0xff);
  return w.out;
}

uint64_t encodedAotPlanSize(const unsigned char *data) {
  if (!data || std::memcmp(data, kMagic.data(), kMagic.size()) != 0)
    return 0;
  uint64_t v = 0;
  for (int b = 0; b < 8; ++b)
    v |= uint64_t(data[kMagic.size() + b]) << (8 * b);
  return v;
}

Expected<AotPlan> decodeAotPlan(std::string_view bytes) {
  if (bytes.substr(0, kMagic.size()) != kMagic)
    return err("not GPU code (weft's GPU plans start with WEFTGPU1)");
  Reader r{bytes, kMagic.size()};
  uint64_t total = r.word();
  if (r.failed || total != bytes.size())
    return err(fmt::format("the GPU code is truncated: it says {} bytes, {} are there", total,
                           bytes.size()));
  AotPlan p;
  p.function = r.text();
  p.unavailable = r.text();
  p.sm = r.text();
  p.ptx = r.text();
  p.kernels.resize(r.count(8));
  for (std::string &k : p.kernels)
    k = r.text();
  p.symbols.resize(r.count(16));
  p.symbolValues.resize(p.symbols.size());
  for (size_t i = 0; i < p.symbols.size(); ++i) {
    p.symbols[i] = r.text();
    p.symbolValues[i] = static_cast<int64_t>(r.word());
  }
  p.arenaBytes = r.word();
  for (auto *buffers : {&p.params, &p.results}) {
    buffers->resize(r.count(16));
    for (AotPlan::Buffer &b : *buffers) {
      b.offset = r.word();
      b.bytes = r.word();
    }
  }
  p.steps.resize(r.count(8 * 14));
  for (AotPlan::Step &s : p.steps) {
    uint64_t kind = r.word();
    if (kind > static_cast<uint64_t>(AotPlan::Step::Kind::AllReduce))
      return err(fmt::format("the GPU code has a step of unknown kind {}", kind));
    s.kind = static_cast<AotPlan::Step::Kind>(kind);
    s.kernel = r.word();
    s.buffers.resize(r.count(8));
    for (uint64_t &b : s.buffers)
      b = r.word();
    s.scalars.resize(r.count(8));
    for (int64_t &v : s.scalars)
      v = static_cast<int64_t>(r.word());
    s.blocks = static_cast<int64_t>(r.word());
    s.threads = static_cast<int64_t>(r.word());
    s.coResident = r.word() != 0;
    s.dst = r.word();
    s.src = r.word();
    s.bytes = r.word();
    s.data = r.text();
    s.op = r.text();
    if (s.kind == AotPlan::Step::Kind::Launch && !r.failed && s.kernel >= p.kernels.size())
      return err(fmt::format("the GPU code launches kernel {} of {}", s.kernel, p.kernels.size()));
  }
  for (size_t i = 0; i < p.steps.size() && !r.failed; ++i) {
    const AotPlan::Step &s = p.steps[i];
    if (s.kind == AotPlan::Step::Kind::LengthsCheck) {
      bool known = s.scalars.size() == 2 && s.scalars[0] >= 0 &&
                   s.scalars[0] < static_cast<int64_t>(kAllDTypes.size());
      if (!known || !isInteger(static_cast<DType>(s.scalars[0])) ||
          s.bytes % static_cast<uint64_t>(dtypeBytes(static_cast<DType>(s.scalars[0]))) != 0)
        return err(fmt::format("the GPU code's lengths check for {} is malformed", s.op));
    }
    if (s.kind == AotPlan::Step::Kind::AllReduce) {
      bool known = s.scalars.size() == 3 && s.scalars[0] >= 0 &&
                   s.scalars[0] < static_cast<int64_t>(kAllDTypes.size());
      if (!known || !isFloat(static_cast<DType>(s.scalars[0])) ||
          s.bytes % static_cast<uint64_t>(dtypeBytes(static_cast<DType>(s.scalars[0]))) != 0)
        return err(fmt::format("the GPU code's all_reduce for {} is malformed", s.op));
    }
    if (s.kind == AotPlan::Step::Kind::WhileCheck &&
        (s.scalars.size() != 2 || s.scalars[1] <= static_cast<int64_t>(i) ||
         static_cast<uint64_t>(s.scalars[1]) > p.steps.size()))
      return err(fmt::format("the GPU code's loop check for {} jumps outside the plan", s.op));
  }
  if (r.failed || r.at != bytes.size())
    return err("the GPU code is truncated or malformed");
  return p;
}

} // namespace weft::cuda
