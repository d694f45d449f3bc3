//===- passes/GradientBuckets.cpp - all_reduce of gradients, in buckets ----===//
//
// Buckets are formed in the order of `values` (the step's parameter order): a
// value joins the open bucket when it has the bucket's dtype, a static size,
// and fits; otherwise it opens the next one. A bucket of one value is reduced
// as it is, without reshapes.
//
//===----------------------------------------------------------------------===//
#include "passes/GradientBuckets.h"

#include <fmt/format.h>

#include <charconv>

namespace weft::passes {
namespace {

using ir::OpKind;
using ir::Value;

/// The bytes of `v`, or -1 when its shape is symbolic.
int64_t staticBytes(const Value *v) {
  const ir::Type &t = v->type();
  int64_t n = dtypeBytes(t.dtype());
  for (int64_t a = 0; a < t.rank(); ++a) {
    if (!t.dim(a).isStatic())
      return -1;
    n *= t.dim(a).size();
  }
  return n;
}

/// Names `derived` after `from` (the printer makes names unique).
void nameAfter(Value *derived, const Value *from, std::string_view suffix) {
  if (!from->name().empty() && derived->definingOp())
    derived->setName(fmt::format("{}.{}", from->name(), suffix));
}

ir::Attrs reduceAttrs(const BucketOptions &o) { return {{"group", o.group}, {"mean", int64_t{1}}}; }

/// One all_reduce over the concatenation of `bucket`, sliced back into its pieces.
Status reduceBucket(ir::OpBuilder &b, std::span<Value *const> bucket, const BucketOptions &o,
                    Loc loc, std::vector<Value *> &out) {
  if (bucket.size() == 1) {
    auto r = b.create1(OpKind::AllReduce, {bucket[0]}, reduceAttrs(o), {}, loc);
    WEFT_TRY(r.status());
    nameAfter(*r, bucket[0], "mean");
    out.push_back(*r);
    return {};
  }
  ir::DType dt = bucket[0]->type().dtype();
  std::vector<Value *> flat;
  std::vector<int64_t> sizes;
  for (Value *v : bucket) {
    int64_t n = staticBytes(v) / dtypeBytes(dt);
    sizes.push_back(n);
    if (v->type().rank() == 1) {
      flat.push_back(v);
      continue;
    }
    auto f = b.create1(OpKind::Reshape, {v}, {}, {ir::Type({n}, dt)}, loc);
    WEFT_TRY(f.status());
    flat.push_back(*f);
  }
  auto cat = b.create1(OpKind::Concat, flat, {{"axis", int64_t{0}}}, {}, loc);
  WEFT_TRY(cat.status());
  (*cat)->setName("bucket");
  auto sum = b.create1(OpKind::AllReduce, {*cat}, reduceAttrs(o), {}, loc);
  WEFT_TRY(sum.status());
  (*sum)->setName("bucket.mean");
  int64_t start = 0;
  for (size_t i = 0; i < bucket.size(); ++i) {
    auto piece =
        b.create1(OpKind::Slice, {*sum},
                  {{"axis", int64_t{0}}, {"start", start}, {"limit", start + sizes[i]}}, {}, loc);
    WEFT_TRY(piece.status());
    Value *shaped = *piece;
    if (bucket[i]->type().rank() != 1) {
      auto r = b.create1(OpKind::Reshape, {*piece}, {}, {bucket[i]->type()}, loc);
      WEFT_TRY(r.status());
      shaped = *r;
    }
    nameAfter(shaped, bucket[i], "mean");
    out.push_back(shaped);
    start += sizes[i];
  }
  return {};
}

} // namespace

Status setBucketOption(BucketOptions &o, std::string_view pass, std::string_view key,
                       std::string_view value) {
  int64_t *field = key == "bucket_bytes" ? &o.bucketBytes : key == "group" ? &o.group : nullptr;
  if (!field)
    return err(fmt::format("{}: unknown option '{}' (bucket_bytes, group)", pass, key));
  int64_t n = 0;
  auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (ec != std::errc() || ptr != value.data() + value.size() || n < 0)
    return err(
        fmt::format("{} option '{}' needs a non-negative integer, got '{}'", pass, key, value));
  *field = n;
  return {};
}

Expected<std::vector<Value *>> allReduceMeanInBuckets(ir::OpBuilder &b,
                                                      std::span<Value *const> values,
                                                      const BucketOptions &o, Loc loc) {
  std::vector<Value *> out, bucket;
  int64_t bytes = 0; // of the open bucket; -1 when its only tensor has a symbolic shape
  auto close = [&]() -> Status {
    if (!bucket.empty())
      WEFT_TRY(reduceBucket(b, bucket, o, loc, out));
    bucket.clear();
    return {};
  };
  for (Value *v : values) {
    int64_t n = staticBytes(v);
    bool fits = !bucket.empty() && o.bucketBytes > 0 && n >= 0 && bytes >= 0 &&
                bytes + n <= o.bucketBytes && v->type().dtype() == bucket[0]->type().dtype();
    if (!fits)
      WEFT_TRY(close());
    bytes = bucket.empty() ? n : bytes + n;
    bucket.push_back(v);
  }
  WEFT_TRY(close());
  return out;
}

} // namespace weft::passes
