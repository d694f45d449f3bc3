//===- runtime/Aot.cpp - binding and checking calls of AOT-compiled code --===//
//
// The C entry of ahead-of-time compiled functions (see Aot.h). Mirrors
// backends/cpu/Executable.cpp without the IR: shapes come from the generated
// tables in the model's header.
//
//===----------------------------------------------------------------------===//
#include "runtime/Aot.h"

#include "runtime/Collective.h"
#include "runtime/DType.h"
#include "runtime/MemoryPlan.h"
#include "runtime/SymbolBinder.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using weft::Expected;
using weft::MemoryPlan;
using weft::PlanSlot;
using weft::SymbolBinder;

constexpr int64_t kUnbound = SymbolBinder::kUnbound;

struct Failure {
  int code;
  std::string message;
};

// The C ABI's dtype codes are the rows of runtime/DTypes.def (else update runtime/Aot.h).
#define DTYPE(Id, Name, Bytes, Npy, Element, CType, Llvm, Kind)                                    \
  static_assert(static_cast<int>(weft::DType::Id) == WEFT_AOT_##Id);
#include "runtime/DTypes.def"

bool isDType(int32_t t) { return t >= 0 && static_cast<size_t>(t) < weft::kAllDTypes.size(); }

std::string_view dtypeStr(int32_t t) {
  return isDType(t) ? weft::dtypeName(static_cast<weft::DType>(t)) : "?";
}

int64_t elementBytes(int32_t t) {
  return isDType(t) ? weft::dtypeBytes(static_cast<weft::DType>(t)) : 4;
}

/// The slots the caller provides: parameters and results.
std::vector<bool> providedSlots(const weft_aot_function &f) {
  std::vector<bool> provided(f.n_slots, false);
  for (size_t i = 0; i < f.n_params; ++i)
    provided[f.param_slots[i]] = true;
  for (size_t r = 0; r < f.n_results; ++r)
    provided[f.result_slots[r]] = true;
  return provided;
}

/// Where the slots the caller does not provide go in the arena (runtime/MemoryPlan.h).
Expected<MemoryPlan> arenaPlan(const weft_aot_function &f, const std::vector<int64_t> &slotBytes,
                               const std::vector<bool> &provided) {
  std::vector<PlanSlot> slots(f.n_slots);
  for (size_t s = 0; s < f.n_slots; ++s)
    slots[s] = {static_cast<size_t>(slotBytes[s]),
                {f.slots[s].live_first, f.slots[s].live_last},
                !provided[s]};
  return weft::planMemory(slots);
}

/// The scratch allocator weft_aot_set_allocator installs (null functions: the default).
struct Allocator {
  weft_aot_alloc_fn alloc = nullptr;
  weft_aot_release_fn release = nullptr;
  void *ctx = nullptr;

  void *allocate(size_t bytes) const {
    if (alloc)
      return alloc(bytes, ctx);
    return new (std::align_val_t(64), std::nothrow) std::byte[bytes];
  }
  void free(void *p) const {
    if (release)
      release(p, ctx);
    else
      ::operator delete[](p, std::align_val_t(64), std::nothrow);
  }
};

std::mutex allocatorMutex;
Allocator installedAllocator;

Allocator currentAllocator() {
  std::lock_guard<std::mutex> lock(allocatorMutex);
  return installedAllocator;
}

} // namespace

/// A caller's arena kept across calls (Aot.h): its bytes, the allocator they came from, and
/// whether a call is using it now.
struct weft_aot_workspace {
  std::byte *data = nullptr;
  size_t bytes = 0;
  Allocator allocator;
  std::atomic<bool> busy{false};

  ~weft_aot_workspace() { release(); }
  void release() {
    if (data)
      allocator.free(data);
    data = nullptr;
    bytes = 0;
  }
  /// At least `need` bytes, from the allocator installed now when the arena grows; null when
  /// they cannot be allocated (the old arena is gone then too).
  std::byte *reserve(size_t need) {
    if (need <= bytes)
      return data;
    release();
    allocator = currentAllocator();
    data = static_cast<std::byte *>(allocator.allocate(need));
    if (data)
      bytes = need;
    return data;
  }
};

namespace {

/// Whether `dims` is null where `f` needs one value per symbol. A function without symbols
/// needs none, so every entry point accepts a null `dims` for it.
bool dimsMissing(const weft_aot_function &f, const int64_t *dims) { return !dims && f.n_symbols; }

/// The names of `f`'s symbols, in the order of its dims arrays.
std::vector<std::string> symbolNames(const weft_aot_function &f) {
  return std::vector<std::string>(f.symbols, f.symbols + f.n_symbols);
}

/// Whether [a, a + na) and [b, b + nb) share a byte; empty ranges share none.
bool overlaps(const void *a, uint64_t na, const void *b, uint64_t nb) {
  auto pa = reinterpret_cast<uintptr_t>(a), pb = reinterpret_cast<uintptr_t>(b);
  return na && nb && pa < pb + nb && pb < pa + na;
}

class Call {
public:
  explicit Call(const weft_aot_function &f) : f_(f), binder_(symbolNames(f)) {}

  /// The value of each symbol (SymbolBinder::kUnbound where unbound).
  const std::vector<int64_t> &values() const { return binder_.values(); }

  const weft_aot_dim &dimOf(int32_t slot, int i) const {
    return f_.dims[f_.slots[slot].first_dim + i];
  }
  /// "B*T", "2*B", "64".
  std::string dimStr(const weft_aot_dim &d) const {
    std::vector<std::string> parts;
    if (d.coeff != 1 || d.n_syms == 0)
      parts.push_back(std::to_string(d.coeff));
    for (int32_t s = 0; s < d.n_syms; ++s)
      parts.emplace_back(f_.symbols[f_.dim_syms[d.first_sym + s]]);
    return fmt::format("{}", fmt::join(parts, "*"));
  }
  /// "tensor<T x B x 4 x f32>".
  std::string typeStr(int32_t slot) const {
    std::string s = "tensor<";
    for (int i = 0; i < f_.slots[slot].rank; ++i)
      s += dimStr(dimOf(slot, i)) + " x ";
    return s + std::string(dtypeStr(f_.slots[slot].dtype)) + ">";
  }
  /// The value of `d`, or -1 when a symbol is unbound or the product overflows.
  int64_t eval(const weft_aot_dim &d) const {
    int64_t v = d.coeff;
    for (int32_t s = 0; s < d.n_syms; ++s) {
      int64_t x = binder_.values()[f_.dim_syms[d.first_sym + s]];
      if (x < 0 || __builtin_mul_overflow(v, x, &v))
        return -1;
    }
    return v;
  }
  /// Sizes of `slot` (false when one is negative or unbound).
  bool shape(int32_t slot, std::vector<int64_t> &out) const {
    out.clear();
    for (int i = 0; i < f_.slots[slot].rank; ++i) {
      out.push_back(eval(dimOf(slot, i)));
      if (out.back() < 0)
        return false;
    }
    return true;
  }
  /// Bytes of `slot`, or -1 for an invalid size.
  int64_t bytes(int32_t slot) const {
    std::vector<int64_t> s;
    if (!shape(slot, s))
      return -1;
    int64_t n = elementBytes(f_.slots[slot].dtype);
    for (int64_t d : s)
      if (__builtin_mul_overflow(n, d, &n) || n > (int64_t(1) << 62))
        return -1;
    return n;
  }

  std::string inputName(size_t i) const { return weft::inputLabel(i, f_.param_names[i]); }
  std::string outputName(size_t i) const {
    return fmt::format("output {} (%{})", i, f_.result_names[i]);
  }

  Failure bad(std::string msg) const {
    return {WEFT_AOT_BAD_ARGUMENT, fmt::format("@{}: {}", f_.name, msg)};
  }

  /// Binds the symbols from `dims` alone, for callers that pass no inputs: afterwards
  /// shape() and bytes() answer for every slot.
  bool bindDims(const int64_t *dims, Failure &fail) {
    return bindSymbols(dims, fail) && check(binder_.checkAllBound(), fail);
  }

  /// Binds the symbols from `dims` and the inputs and checks every input.
  bool bind(const int64_t *dims, const weft_aot_input *in, size_t n, Failure &fail) {
    if (n != f_.n_params) {
      fail = bad(fmt::format("expected {} inputs, got {}", f_.n_params, n));
      return false;
    }
    if (n && !in) {
      fail = bad("the inputs array is null");
      return false;
    }
    if (!bindSymbols(dims, fail))
      return false;
    for (size_t i = 0; i < n; ++i) {
      int32_t slot = f_.param_slots[i];
      if (in[i].rank != f_.slots[slot].rank || (in[i].rank && !in[i].shape)) {
        fail = bad(
            fmt::format("{} has rank {}, expected {}", inputName(i), in[i].rank, typeStr(slot)));
        return false;
      }
      for (int a = 0; a < in[i].rank; ++a) {
        const weft_aot_dim &d = dimOf(slot, a);
        if (d.coeff != 1 || d.n_syms != 1 || in[i].shape[a] < 0)
          continue;
        if (!check(binder_.bindFromInput(f_.dim_syms[d.first_sym], in[i].shape[a], inputName(i), a),
                   fail))
          return false;
      }
    }
    if (!check(binder_.checkAllBound(), fail))
      return false;
    std::vector<int64_t> want;
    for (size_t i = 0; i < n; ++i) {
      int32_t slot = f_.param_slots[i];
      std::vector<int64_t> got(in[i].shape, in[i].shape + in[i].rank);
      if (!shape(slot, want) || want != got) {
        fail = bad(fmt::format("{} has shape [{}], expected [{}] ({})", inputName(i),
                               fmt::join(got, ", "), fmt::join(want, ", "), typeStr(slot)));
        return false;
      }
      if (in[i].dtype != f_.slots[slot].dtype) {
        fail = bad(fmt::format("{} has dtype {}, expected {}", inputName(i), dtypeStr(in[i].dtype),
                               typeStr(slot)));
        return false;
      }
      if (!in[i].data && bytes(slot) > 0) {
        fail = bad(fmt::format("{} is a null pointer", inputName(i)));
        return false;
      }
    }
    return true;
  }

  /// Runs the call with its scratch in `ws`, or in an arena of its own when `ws` is null.
  int run(const int64_t *dims, const weft_aot_input *in, size_t nIn, weft_aot_output *out,
          size_t nOut, weft_aot_workspace *ws, Failure &fail) {
    if (!bind(dims, in, nIn, fail))
      return fail.code;
    if (nOut != f_.n_results) {
      fail = bad(fmt::format("expected {} outputs, got {}", f_.n_results, nOut));
      return fail.code;
    }
    if (nOut && !out) {
      fail = bad("the outputs array is null");
      return fail.code;
    }
    std::vector<void *> bufs(f_.n_slots, nullptr);
    std::vector<bool> provided(f_.n_slots, false);
    std::vector<int64_t> slotBytes(f_.n_slots);
    for (size_t s = 0; s < f_.n_slots; ++s) {
      slotBytes[s] = bytes(static_cast<int32_t>(s));
      if (slotBytes[s] < 0) {
        fail = bad(fmt::format("a buffer of type {} has an invalid size",
                               typeStr(static_cast<int32_t>(s))));
        return fail.code;
      }
    }
    for (size_t i = 0; i < nIn; ++i) {
      bufs[f_.param_slots[i]] = const_cast<void *>(in[i].data); // generated code only reads
      provided[f_.param_slots[i]] = true;
    }
    std::vector<int> copyFrom(nOut, -1);
    for (size_t r = 0; r < nOut; ++r) {
      int32_t s = f_.result_slots[r];
      auto need = static_cast<uint64_t>(slotBytes[s]);
      if (need > 0 && !out[r].data) {
        fail = bad(fmt::format("{} is a null pointer; it needs {} bytes ({})", outputName(r), need,
                               typeStr(s)));
        return fail.code;
      }
      if (out[r].capacity < need) {
        std::vector<int64_t> sh;
        shape(s, sh);
        fail =
            bad(fmt::format("{} holds {} bytes, but the result [{}] ({}) needs {}", outputName(r),
                            out[r].capacity, fmt::join(sh, ", "), typeStr(s), need));
        return fail.code;
      }
      int32_t alias = aliasedInput(r);
      if (alias >= 0 && out[r].data == in[alias].data) { // updated in place, as declared
        bufs[s] = out[r].data;
        continue;
      }
      if (!checkNoOverlap(in, nIn, out, r, slotBytes, fail))
        return fail.code;
      if (alias >= 0) { // the code updates the output, a copy of the input
        if (need > 0)
          std::memcpy(out[r].data, in[alias].data, static_cast<size_t>(need));
        bufs[s] = out[r].data;
        continue;
      }
      if (provided[s]) {
        copyFrom[r] = s;
        continue;
      }
      bufs[s] = out[r].data;
      provided[s] = true;
    }
    auto plan = arenaPlan(f_, slotBytes, provided);
    if (!plan) {
      fail = bad(plan.diag().message);
      return fail.code;
    }
    size_t total = plan->total;
    const std::vector<size_t> &offsets = plan->offsets;
    Allocator allocator = ws ? Allocator{} : currentAllocator(); // ws has its own
    std::byte *arena = nullptr;
    if (total) {
      arena = ws ? ws->reserve(total) : static_cast<std::byte *>(allocator.allocate(total));
      if (!arena) {
        fail = {WEFT_AOT_NO_MEMORY,
                fmt::format("@{}: cannot allocate {} bytes of scratch", f_.name, total)};
        return fail.code;
      }
    }
    for (size_t s = 0; s < f_.n_slots; ++s)
      if (!provided[s])
        bufs[s] = arena + offsets[s];
    int64_t status[5] = {};
    f_.entry(bufs.data(), binder_.values().data(), status);
    for (size_t r = 0; r < nOut && status[0] == 0; ++r)
      if (copyFrom[r] >= 0 && slotBytes[copyFrom[r]] > 0)
        std::memcpy(out[r].data, bufs[copyFrom[r]], static_cast<size_t>(slotBytes[copyFrom[r]]));
    if (arena && !ws)
      allocator.free(arena);
    if (status[0] != 0) {
      fail = {WEFT_AOT_FAULT, faultMessage(status)};
      return fail.code;
    }
    std::vector<int64_t> sh;
    for (size_t r = 0; r < nOut; ++r)
      if (out[r].shape && shape(f_.result_slots[r], sh))
        std::copy(sh.begin(), sh.end(), out[r].shape);
    return WEFT_AOT_OK;
  }

  /// The input that output `r` updates in place (a declared alias), or -1.
  int32_t aliasedInput(size_t r) const {
    for (size_t a = 0; a < f_.n_aliases; ++a)
      if (f_.alias_results[a] == static_cast<int32_t>(r))
        return f_.alias_params[a];
    return -1;
  }

  /// Fails when output `r` shares a byte with an input or an earlier output.
  bool checkNoOverlap(const weft_aot_input *in, size_t nIn, const weft_aot_output *out, size_t r,
                      const std::vector<int64_t> &slotBytes, Failure &fail) const {
    auto need = [&](int32_t slot) { return static_cast<uint64_t>(slotBytes[slot]); };
    uint64_t n = need(f_.result_slots[r]);
    for (size_t i = 0; i < nIn; ++i)
      if (overlaps(out[r].data, n, in[i].data, need(f_.param_slots[i]))) {
        fail = bad(fmt::format("{} overlaps {}: outputs must not share memory with inputs",
                               outputName(r), inputName(i)));
        return false;
      }
    for (size_t q = 0; q < r; ++q)
      if (overlaps(out[r].data, n, out[q].data, need(f_.result_slots[q]))) {
        fail = bad(fmt::format("{} overlaps {}: outputs must not share memory", outputName(r),
                               outputName(q)));
        return false;
      }
    return true;
  }

  std::string faultMessage(const int64_t *st) const {
    auto id = static_cast<uint64_t>(st[1]);
    if (id >= f_.n_fault_sites)
      return fmt::format("@{}: generated code reported fault {} at an unknown op", f_.name, st[0]);
    const weft_aot_fault_site &site = f_.fault_sites[id];
    std::string msg;
    switch (st[0]) {
    case WEFT_AOT_FAULT_INDEX_OUT_OF_RANGE:
      msg =
          fmt::format("index {} at flat position {} of the indices is out of range [0, {}) for {}",
                      st[2], st[3], st[4], site.what);
      break;
    case WEFT_AOT_FAULT_DIVISION_BY_ZERO:
      msg = fmt::format("integer division by zero at element {} of {}", st[2], site.what);
      break;
    case WEFT_AOT_FAULT_LENGTH_OUT_OF_RANGE:
      msg = fmt::format("length {} of example {} is outside [0, {}]", st[2], st[3], st[4]);
      break;
    case WEFT_AOT_FAULT_EMPTY_REDUCE:
      msg = fmt::format("cannot reduce {} over an empty axis", site.what);
      break;
    case WEFT_AOT_FAULT_CONSTANT_COUNT:
      msg = fmt::format("value has {} entries but the result has {} elements", st[2], st[3]);
      break;
    case WEFT_AOT_FAULT_COLLECTIVE:
      msg = weft::collective::lastErrorOf(site.op);
      break;
    default:
      msg = fmt::format("unknown fault {}", st[0]);
    }
    std::string loc = site.loc && *site.loc ? std::string(site.loc) + ": " : std::string();
    return fmt::format("{}@{}: {}: {}", loc, f_.name, site.op, msg);
  }

private:
  /// Binds the symbols that `dims` (may be null) gives a value; kUnbound entries are left for
  /// the inputs.
  bool bindSymbols(const int64_t *dims, Failure &fail) {
    for (size_t s = 0; dims && s < f_.n_symbols; ++s)
      if (dims[s] != kUnbound && !check(binder_.bindGiven(s, dims[s]), fail))
        return false;
    return true;
  }

  /// Whether `s` succeeded; otherwise `fail` says why.
  bool check(const weft::Status &s, Failure &fail) const {
    if (!s)
      fail = bad(s.diag().message);
    return s.isOk();
  }

  const weft_aot_function &f_;
  SymbolBinder binder_;
};

int report(const Failure &f, char *err, size_t len) {
  if (err && len) {
    size_t n = std::min(len - 1, f.message.size());
    std::memcpy(err, f.message.data(), n);
    err[n] = '\0';
  }
  return f.code;
}

int outOfMemory(char *err, size_t len) {
  return report({WEFT_AOT_NO_MEMORY, "out of memory"}, err, len);
}

/// `size` of a call of `f` with its symbols bound from `dims` alone, or -1 when they do not
/// bind or memory runs out (the size queries return no message).
template <typename Size>
int64_t sizeFromDims(const weft_aot_function &f, const int64_t *dims, Size size) {
  try {
    Call call(f);
    Failure fail{WEFT_AOT_OK, {}};
    if (!call.bindDims(dims, fail))
      return -1;
    return size(call);
  } catch (const std::bad_alloc &) {
    return -1;
  } catch (const std::length_error &) {
    return -1;
  }
}

} // namespace

extern "C" int weft_aot_call(const weft_aot_function *fn, const int64_t *dims,
                             const weft_aot_input *inputs, size_t n_in, weft_aot_output *outputs,
                             size_t n_out, char *err, size_t err_len) {
  return weft_aot_call_with_workspace(fn, nullptr, dims, inputs, n_in, outputs, n_out, err,
                                      err_len);
}

extern "C" weft_aot_workspace *weft_aot_workspace_create(void) {
  return new (std::nothrow) weft_aot_workspace;
}

extern "C" void weft_aot_workspace_destroy(weft_aot_workspace *ws) { delete ws; }

extern "C" size_t weft_aot_workspace_bytes(const weft_aot_workspace *ws) {
  return ws ? ws->bytes : 0;
}

extern "C" int weft_aot_call_with_workspace(const weft_aot_function *fn, weft_aot_workspace *ws,
                                            const int64_t *dims, const weft_aot_input *inputs,
                                            size_t n_in, weft_aot_output *outputs, size_t n_out,
                                            char *err, size_t err_len) {
  if (!fn)
    return report({WEFT_AOT_BAD_ARGUMENT, "the function is null"}, err, err_len);
  if (ws && ws->busy.exchange(true, std::memory_order_acquire))
    return report({WEFT_AOT_BAD_ARGUMENT,
                   fmt::format("@{}: the workspace is in use by another call", fn->name)},
                  err, err_len);
  struct Unbusy {
    weft_aot_workspace *ws;
    ~Unbusy() {
      if (ws)
        ws->busy.store(false, std::memory_order_release);
    }
  } unbusy{ws};
  try {
    Call call(*fn);
    Failure fail{WEFT_AOT_OK, {}};
    int code = call.run(dims, inputs, n_in, outputs, n_out, ws, fail);
    if (code != WEFT_AOT_OK)
      return report(fail, err, err_len);
    if (err && err_len)
      err[0] = '\0';
    return WEFT_AOT_OK;
  } catch (const std::bad_alloc &) {
    return outOfMemory(err, err_len);
  } catch (const std::length_error &) { // a table too large for a std::vector
    return outOfMemory(err, err_len);
  }
}

extern "C" int weft_aot_set_allocator(weft_aot_alloc_fn alloc, weft_aot_release_fn release,
                                      void *ctx) {
  if (!alloc != !release)
    return WEFT_AOT_BAD_ARGUMENT;
  std::lock_guard<std::mutex> lock(allocatorMutex);
  installedAllocator = {alloc, release, alloc ? ctx : nullptr};
  return WEFT_AOT_OK;
}

extern "C" int64_t weft_aot_slot_bytes(const weft_aot_function *fn, int32_t slot,
                                       const int64_t *dims) {
  if (!fn || dimsMissing(*fn, dims) || slot < 0 || static_cast<size_t>(slot) >= fn->n_slots)
    return -1;
  return sizeFromDims(*fn, dims, [&](const Call &call) { return call.bytes(slot); });
}

extern "C" int64_t weft_aot_arena_bytes(const weft_aot_function *fn, const int64_t *dims) {
  if (!fn || dimsMissing(*fn, dims))
    return -1;
  return sizeFromDims(*fn, dims, [&](const Call &call) -> int64_t {
    std::vector<int64_t> slotBytes(fn->n_slots);
    for (size_t s = 0; s < fn->n_slots; ++s)
      if ((slotBytes[s] = call.bytes(static_cast<int32_t>(s))) < 0)
        return -1;
    auto plan = arenaPlan(*fn, slotBytes, providedSlots(*fn));
    if (!plan || plan->total > static_cast<size_t>(INT64_MAX))
      return -1;
    return static_cast<int64_t>(plan->total);
  });
}

extern "C" int weft_aot_call_dims(const weft_aot_function *fn, const int64_t *dims,
                                  const void *const *inputs, void *const *outputs, char *err,
                                  size_t err_len) {
  if (!fn)
    return report({WEFT_AOT_BAD_ARGUMENT, "the function is null"}, err, err_len);
  if (dimsMissing(*fn, dims))
    return report({WEFT_AOT_BAD_ARGUMENT, fmt::format("@{}: the dims array is null", fn->name)},
                  err, err_len);
  if ((!inputs && fn->n_params) || (!outputs && fn->n_results))
    return report(
        {WEFT_AOT_BAD_ARGUMENT, fmt::format("@{}: the {} array is null", fn->name,
                                            !inputs && fn->n_params ? "inputs" : "outputs")},
        err, err_len);
  try {
    Call call(*fn);
    Failure fail{WEFT_AOT_OK, {}};
    if (!call.bindDims(dims, fail))
      return report(fail, err, err_len);
    std::vector<std::vector<int64_t>> shapes(fn->n_params);
    std::vector<weft_aot_input> in(fn->n_params);
    for (size_t i = 0; i < fn->n_params; ++i) {
      int32_t slot = fn->param_slots[i];
      if (!call.shape(slot, shapes[i]))
        return report(call.bad(fmt::format("{} has an invalid size ({})", call.inputName(i),
                                           call.typeStr(slot))),
                      err, err_len);
      in[i] = {inputs[i], fn->slots[slot].dtype, fn->slots[slot].rank, shapes[i].data()};
    }
    std::vector<weft_aot_output> out(fn->n_results);
    for (size_t r = 0; r < fn->n_results; ++r) {
      int64_t n = call.bytes(fn->result_slots[r]);
      out[r] = {outputs[r], n < 0 ? 0 : static_cast<size_t>(n), nullptr};
    }
    return weft_aot_call(fn, dims, in.data(), in.size(), out.data(), out.size(), err, err_len);
  } catch (const std::bad_alloc &) {
    return outOfMemory(err, err_len);
  } catch (const std::length_error &) { // a table too large for a std::vector
    return outOfMemory(err, err_len);
  }
}

extern "C" int weft_aot_bind_symbols(const weft_aot_function *fn, const int64_t *dims,
                                     const weft_aot_input *inputs, size_t n_in, int64_t *bound,
                                     char *err, size_t err_len) {
  if (!fn)
    return report({WEFT_AOT_BAD_ARGUMENT, "the function is null"}, err, err_len);
  if (!bound && fn->n_symbols)
    return report({WEFT_AOT_BAD_ARGUMENT, fmt::format("@{}: the bound array is null", fn->name)},
                  err, err_len);
  try {
    Call call(*fn);
    Failure fail{WEFT_AOT_OK, {}};
    if (!call.bind(dims, inputs, n_in, fail))
      return report(fail, err, err_len);
    std::copy(call.values().begin(), call.values().end(), bound);
    if (err && err_len)
      err[0] = '\0';
    return WEFT_AOT_OK;
  } catch (const std::bad_alloc &) {
    return outOfMemory(err, err_len);
  } catch (const std::length_error &) {
    return outOfMemory(err, err_len);
  }
}

extern "C" int weft_aot_slot_shape(const weft_aot_function *fn, int32_t slot, const int64_t *dims,
                                   int64_t *shape) {
  if (!fn || dimsMissing(*fn, dims) || slot < 0 || static_cast<size_t>(slot) >= fn->n_slots ||
      (!shape && fn->slots[slot].rank))
    return -1;
  return static_cast<int>(sizeFromDims(*fn, dims, [&](const Call &call) -> int64_t {
    std::vector<int64_t> sizes;
    if (!call.shape(slot, sizes))
      return -1;
    std::copy(sizes.begin(), sizes.end(), shape);
    return 0;
  }));
}
