//===- backends/cuda/Math.h - transcendental functions in LLVM IR ---------===//
//
// PTX has no libm, and libdevice comes with the CUDA toolkit, which a user's
// machine does not have; so weft writes the math its kernels need in plain
// LLVM IR: arithmetic, fma, rint and bit operations, which every target
// lowers. Each function works in double, like the reference interpreter, and
// f32 ops round its result once (so they agree with the interpreter to about
// an ulp of f32). The same IR runs on the host, where tests check it against
// libm over many inputs.
//
//===----------------------------------------------------------------------===//
#pragma once

namespace llvm {
class Function;
class Module;
} // namespace llvm

namespace weft::cuda {

enum class MathFn { Exp, Expm1, Log, Tanh, Sigmoid, Sin, Cos, Erf };

/// The function `double weft_<fn>(double)` in `m`, defined (internal, always inlined) on first
/// request. exp: exp(x) (x > 709.78 gives inf, x < -745.14 gives 0); expm1: exp(x) - 1,
/// accurate near 0; log: ln(x) (NaN below 0, -inf at +-0); tanh; sigmoid: 1 / (1 + exp(-x)).
/// sin, cos: for every double (MathTrig.cpp); erf (MathErf.cpp). NaN gives NaN.
llvm::Function *mathFunction(llvm::Module &m, MathFn fn);

/// "exp", "expm1", "log", "tanh", "sigmoid", "sin", "cos", "erf".
const char *mathFnName(MathFn fn);

/// The function `double weft_pow(double x, double y)` in `m` (MathPow.cpp): C's pow, special
/// cases included.
llvm::Function *powFunction(llvm::Module &m);

} // namespace weft::cuda
