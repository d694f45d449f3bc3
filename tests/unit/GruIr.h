//===- tests/unit/GruIr.h - one GRU step as IR text -----------------------===//
//
// A GRU step in PyTorch's form (nn.GRU), for a scan body; the GRU companion of
// LstmIr.h. Each test keeps its own function signature, scan and loss.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <string>

namespace weft::testing {

struct GruStep {
  int64_t input;  // I
  int64_t hidden; // H
  const char *dtype = "f32";
};

/// The ops of one GRU step for a scan body whose block arguments are %h (B x H) and %x (B x I),
/// without the yield. The weights are values the body can see: %Wi (I x 3H), %Wh (H x 3H),
/// %bi and %bh (3H), their column blocks in the order r, z, n. It defines
///   r = sigmoid(x Wi_r + bi_r + h Wh_r + bh_r)
///   z = sigmoid(x Wi_z + bi_z + h Wh_z + bh_z)
///   n = tanh(x Wi_n + bi_n + r * (h Wh_n + bh_n))
///   %h2 = (1 - z) * n + z * h
/// one op per line, each indented by four spaces and ending in a newline.
inline std::string gruStep(const GruStep &s) {
  const int64_t h = s.hidden;
  return fmt::format("    %xw = matmul %x, %Wi : {1}\n"
                     "    %bib = broadcast %bi {{dims = [1]}} : {1}\n"
                     "    %xa = add %xw, %bib : {1}\n"
                     "    %hw = matmul %h, %Wh : {1}\n"
                     "    %bhb = broadcast %bh {{dims = [1]}} : {1}\n"
                     "    %ha = add %hw, %bhb : {1}\n"
                     "    %xr = slice %xa {{axis = 1, limit = {2}, start = 0}} : {0}\n"
                     "    %xz = slice %xa {{axis = 1, limit = {3}, start = {2}}} : {0}\n"
                     "    %xn = slice %xa {{axis = 1, limit = {4}, start = {3}}} : {0}\n"
                     "    %hr = slice %ha {{axis = 1, limit = {2}, start = 0}} : {0}\n"
                     "    %hz = slice %ha {{axis = 1, limit = {3}, start = {2}}} : {0}\n"
                     "    %hn = slice %ha {{axis = 1, limit = {4}, start = {3}}} : {0}\n"
                     "    %sr = add %xr, %hr : {0}\n"
                     "    %r = sigmoid %sr : {0}\n"
                     "    %sz = add %xz, %hz : {0}\n"
                     "    %z = sigmoid %sz : {0}\n"
                     "    %rhn = mul %r, %hn : {0}\n"
                     "    %sn = add %xn, %rhn : {0}\n"
                     "    %n = tanh %sn : {0}\n"
                     "    %one = constant {{value = [1.0]}} : {0}\n"
                     "    %omz = sub %one, %z : {0}\n"
                     "    %zn = mul %omz, %n : {0}\n"
                     "    %zh = mul %z, %h : {0}\n"
                     "    %h2 = add %zn, %zh : {0}\n",
                     fmt::format("tensor<B x {} x {}>", h, s.dtype),
                     fmt::format("tensor<B x {} x {}>", 3 * h, s.dtype), h, 2 * h, 3 * h);
}

} // namespace weft::testing
