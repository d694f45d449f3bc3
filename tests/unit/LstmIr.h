//===- tests/unit/LstmIr.h - one LSTM step as IR text ---------------------===//
//
// The LSTM step that several test binaries put in a scan body (cpu parity and
// gradients, the autodiff memory estimate, fuse-elementwise), written once.
// Each test keeps its own function signature, scan and loss around it.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <string>

namespace weft::testing {

/// How a step forms its gate pre-activations %z (B x 4H) from the input %x (B x I) and the
/// hidden state %h (B x H); the weights are values the scan body can see.
enum class LstmGates {
  Separate,   // %z = %x . %W + %h . %U + %bias   %W: I x 4H, %U: H x 4H, %bias: 4H
  ConcatBias, // %z = [%x, %h] . %W + %bias       %W: (I + H) x 4H, %bias: 4H
  Concat,     // %z = [%x, %h] . %W               %W: (I + H) x 4H
};

struct LstmStep {
  int64_t input;  // I
  int64_t hidden; // H
  LstmGates gates;
  const char *dtype = "f32";
};

/// The ops of one LSTM step for a scan body whose block arguments are %h, %c (B x H) and
/// %x (B x I), without the yield. With %zi, %zf, %zg, %zo the four H-wide column blocks of
/// %z, in that order, it defines
///   %c2 = sigmoid(%zf) * %c + sigmoid(%zi) * tanh(%zg)
///   %h2 = sigmoid(%zo) * tanh(%c2)
/// one op per line, each indented by four spaces and ending in a newline.
inline std::string lstmStep(const LstmStep &s) {
  const int64_t h = s.hidden;
  const std::string bh = fmt::format("tensor<B x {} x {}>", h, s.dtype);
  const std::string b4h = fmt::format("tensor<B x {} x {}>", 4 * h, s.dtype);
  const std::string bxh = fmt::format("tensor<B x {} x {}>", s.input + h, s.dtype);
  std::string z;
  switch (s.gates) {
  case LstmGates::Separate:
    z = fmt::format("    %xw = matmul %x, %W : {0}\n"
                    "    %hu = matmul %h, %U : {0}\n"
                    "    %z0 = add %xw, %hu : {0}\n"
                    "    %bb = broadcast %bias {{dims = [1]}} : {0}\n"
                    "    %z = add %z0, %bb : {0}\n",
                    b4h);
    break;
  case LstmGates::ConcatBias:
    z = fmt::format("    %xh = concat %x, %h {{axis = 1}} : {1}\n"
                    "    %zw = matmul %xh, %W : {0}\n"
                    "    %bb = broadcast %bias {{dims = [1]}} : {0}\n"
                    "    %z = add %zw, %bb : {0}\n",
                    b4h, bxh);
    break;
  case LstmGates::Concat:
    z = fmt::format("    %xh = concat %x, %h {{axis = 1}} : {1}\n"
                    "    %z = matmul %xh, %W : {0}\n",
                    b4h, bxh);
    break;
  }
  return z + fmt::format("    %zi = slice %z {{axis = 1, limit = {1}, start = 0}} : {0}\n"
                         "    %zf = slice %z {{axis = 1, limit = {2}, start = {1}}} : {0}\n"
                         "    %zg = slice %z {{axis = 1, limit = {3}, start = {2}}} : {0}\n"
                         "    %zo = slice %z {{axis = 1, limit = {4}, start = {3}}} : {0}\n"
                         "    %i = sigmoid %zi : {0}\n"
                         "    %f = sigmoid %zf : {0}\n"
                         "    %g = tanh %zg : {0}\n"
                         "    %o = sigmoid %zo : {0}\n"
                         "    %fc = mul %f, %c : {0}\n"
                         "    %ig = mul %i, %g : {0}\n"
                         "    %c2 = add %fc, %ig : {0}\n"
                         "    %tc = tanh %c2 : {0}\n"
                         "    %h2 = mul %o, %tc : {0}\n",
                         bh, h, 2 * h, 3 * h, 4 * h);
}

} // namespace weft::testing
