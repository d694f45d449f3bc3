// The attribute schema of ir/Ops.def: the parser, the builder and the verifier reject a missing,
// unknown or mistyped attribute with a message naming the op, its location and the attribute;
// the typed accessors read what the schema lists.
#include "ir/Builder.h"
#include "ir/Parser.h"
#include "ir/Verifier.h"

#include <doctest/doctest.h>

#include <set>
#include <string>

namespace ir_AttrSchemaTest {

using namespace weft::ir;

namespace {

/// The error of parsing a function whose body is `body` as t.wir, or "ok".
std::string parseError(const std::string &body) {
  auto m = parseModule("func @f(%a: tensor<4 x 6 x f32>) -> (tensor<4 x 2 x f32>) {\n" + body +
                           "  return %b\n}\n",
                       "t.wir");
  return m.isOk() ? "ok" : m.diag().str();
}

/// A verified function `%b = slice %a {axis = 1, start = 2, limit = 4}` whose slice a test may
/// then break.
struct SliceFixture {
  std::unique_ptr<Module> m;
  Op *slice = nullptr;
  SliceFixture() {
    auto parsed =
        parseModule("func @f(%a: tensor<4 x 6 x f32>) -> (tensor<4 x 2 x f32>) {\n"
                    "  %b = slice %a {axis = 1, limit = 4, start = 2} : tensor<4 x 2 x f32>\n"
                    "  return %b\n}\n",
                    "t.wir");
    REQUIRE(parsed.isOk());
    m = std::move(*parsed);
    slice = m->functions()[0]->body().ops().front().get();
  }
  std::string verifyError() const {
    weft::Status s = verify(*m);
    return s.isOk() ? "ok" : s.diag().str();
  }
};

} // namespace

TEST_CASE("a parsed op missing a required attribute is an error at the op") {
  CHECK(parseError("  %b = slice %a {axis = 1, start = 2} : tensor<4 x 2 x f32>\n") ==
        "t.wir:2:3: slice: missing attribute 'limit'");
}

TEST_CASE("a parsed op with an attribute its kind does not list is an error") {
  CHECK(parseError("  %b = slice %a {axis = 1, start = 2, limit = 4, stride = 1} : "
                   "tensor<4 x 2 x f32>\n") ==
        "t.wir:2:3: slice: unknown attribute 'stride' (slice takes axis, start, limit)");
  CHECK(parseError("  %c = neg %a {axis = 0} : tensor<4 x 6 x f32>\n"
                   "  %b = slice %c {axis = 1, start = 2, limit = 4} : tensor<4 x 2 x f32>\n") ==
        "t.wir:2:3: neg: unknown attribute 'axis' (neg takes no attributes)");
}

TEST_CASE("a parsed attribute of the wrong kind is an error naming the kind") {
  CHECK(parseError("  %b = slice %a {axis = [1], start = 2, limit = 4} : tensor<4 x 2 x f32>\n") ==
        "t.wir:2:3: slice: attribute 'axis' must be an integer");
  CHECK(parseError("  %b = slice %a {axis = 1, start = 2.0, limit = 4} : tensor<4 x 2 x f32>\n") ==
        "t.wir:2:3: slice: attribute 'start' must be an integer");
  CHECK(parseError("  %c = transpose %a {perm = 1} : tensor<6 x 4 x f32>\n"
                   "  %b = slice %a {axis = 1, start = 2, limit = 4} : tensor<4 x 2 x f32>\n") ==
        "t.wir:2:3: transpose: attribute 'perm' must be a list of integers");
  CHECK(parseError("  %c = pad %a {low = [0, 0], high = [0, 1], value = 0} : tensor<4 x 7 x f32>\n"
                   "  %b = slice %a {axis = 1, start = 2, limit = 4} : tensor<4 x 2 x f32>\n") ==
        "t.wir:2:3: pad: attribute 'value' must be a float");
  CHECK(parseError("  %c = constant {value = 1.0} : tensor<f32>\n"
                   "  %b = slice %a {axis = 1, start = 2, limit = 4} : tensor<4 x 2 x f32>\n") ==
        "t.wir:2:3: constant: attribute 'value' must be a list of numbers");
}

TEST_CASE("a flag attribute must be 0 or 1") {
  auto m = parseModule("func @f(%xs: tensor<3 x 2 x f32>) -> (tensor<3 x 2 x f32>) {\n"
                       "  %ys = scan carry() over(%xs) {reverse = 2} {\n"
                       "  ^body(%x: tensor<2 x f32>):\n"
                       "    yield %x\n"
                       "  } : tensor<3 x 2 x f32>\n"
                       "  return %ys\n}\n",
                       "t.wir");
  REQUIRE_FALSE(m.isOk());
  CHECK(m.diag().str() == "t.wir:2:3: scan: attribute 'reverse' must be 0 or 1");
}

TEST_CASE("a string under a key the op does not list is a note, not an error") {
  CHECK(parseError("  %b = slice %a {axis = 1, limit = 4, note = \"why\", start = 2} : "
                   "tensor<4 x 2 x f32>\n") == "ok");
}

TEST_CASE("the verifier names the function, the op, its location and the attribute") {
  SliceFixture t;
  REQUIRE(t.verifyError() == "ok");
  SUBCASE("missing") {
    t.slice->attrs().erase("start");
    CHECK(t.verifyError() == "t.wir:2:3: function @f in 'slice': slice: missing attribute 'start'");
  }
  SUBCASE("unknown") {
    t.slice->setAttr("stride", int64_t{2});
    CHECK(t.verifyError() == "t.wir:2:3: function @f in 'slice': slice: unknown attribute "
                             "'stride' (slice takes axis, start, limit)");
  }
  SUBCASE("wrong kind") {
    t.slice->setAttr("limit", std::vector<int64_t>{4});
    CHECK(t.verifyError() ==
          "t.wir:2:3: function @f in 'slice': slice: attribute 'limit' must be an integer");
  }
}

TEST_CASE("typed accessors read the attributes the schema lists") {
  SliceFixture t;
  CHECK(t.slice->axis() == 1);
  CHECK(t.slice->start() == 2);
  CHECK(t.slice->limit() == 4);
  t.slice->setAttr(AttrId::Limit, int64_t{5});
  CHECK(t.slice->limit() == 5);
  CHECK(t.slice->intAttr("limit") == 5);
}

TEST_CASE("an absent flag reads as false") {
  auto m = parseModule("func @f(%xs: tensor<3 x 2 x f32>) -> (tensor<3 x 2 x f32>) {\n"
                       "  %ys = scan carry() over(%xs) {\n"
                       "  ^body(%x: tensor<2 x f32>):\n"
                       "    yield %x\n"
                       "  } : tensor<3 x 2 x f32>\n"
                       "  return %ys\n}\n");
  REQUIRE(m.isOk());
  Op &scan = *(*m)->functions()[0]->body().ops().front();
  CHECK_FALSE(scan.reverse());
  CHECK(scan.numCarry() == 0);
  CHECK(scan.numSeq() == 1);
  scan.setAttr(AttrId::Reverse, int64_t{1});
  CHECK(scan.reverse());
}

TEST_CASE("every attribute is listed by some op, and no op lists two with one key") {
  std::set<AttrId> used;
  for (OpKind k : allOpKinds()) {
    CAPTURE(opName(k));
    std::set<std::string_view> keys;
    for (const AttrSpec &s : opAttrs(k)) {
      used.insert(s.id);
      CHECK(keys.insert(attrKey(s.id)).second);
      CHECK(findOpAttr(k, attrKey(s.id))->id == s.id);
    }
  }
  for (AttrId a : {
#define ATTRIBUTE(Enum, Accessor, Key, Kind) AttrId::Enum,
#include "ir/Ops.def"
       }) {
    CAPTURE(attrKey(a));
    CHECK(used.count(a) == 1);
  }
}

} // namespace ir_AttrSchemaTest
