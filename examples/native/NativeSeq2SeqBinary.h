//===- examples/native/NativeSeq2SeqBinary.h - a trained seq2seq as a program ===//
//
// After training, a seq2seq example turns its greedy decoder into a standalone program that
// answers stdin lines (runtime/text/NativeSeq2Seq.h):
//
//   1. backends/cpu's compileToObject compiles the decoding function (a module that has been
//      through its passes) into model.o and model.h, with its GPU code (or the reason there is
//      none) where this build has the CUDA backend, for the program's --device cuda;
//   2. the vocabulary's JSON and the weights' safetensors bytes are embedded in an object by
//      an assembler file (.incbin), so the program needs no file beside it;
//   3. a generated main.cpp fills a text::NativeSeq2Seq and calls nativeSeq2SeqMain;
//   4. the system C++ compiler compiles main.cpp and the blobs and links them with model.o,
//      weft_native_text and weft's runtime (no LLVM), with the flags this build used
//      (weft_native_compile.rsp and weft_native_link.rsp, written by runtime/CMakeLists.txt);
//   5. the program is linked under a temporary name in the destination's folder and renamed
//      over the destination, so a reader sees the old program or the new one, never a part.
//
// The compiler is $WEFT_CXX when set, else the one CMake built weft with, else `c++` on the
// PATH; when none runs, the error says so and how to name one.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Module.h"
#include "runtime/Support.h"

#include <cstdint>
#include <string>

namespace weft::examples {

struct NativeSeq2SeqBinary {
  /// Where the program goes (e.g. OUT/sort_letters); its name starts the program's messages.
  std::string path;
  /// The module that holds the decoding function, and its name.
  const ir::Module *module = nullptr;
  std::string function;
  /// Vocabulary::toJson(), and the weights as a safetensors file's bytes.
  std::string vocabularyJson, weights;
  /// The most characters (or words) of a line the model reads; longer lines are truncated.
  int64_t maxSourceLength = 0;
  /// The CPU the code is compiled for (backends/cpu/Aot.h).
  std::string cpu = "native";
  /// The GPU generation whose code goes beside it (backends/cuda/AotPlan.h), for the program's
  /// --device cuda, where this build has the CUDA backend; empty: none. That code is built for
  /// a fixed shape: dim B bound to the program's batch (text::NativeSeq2Seq::batch) and S to
  /// maxSourceLength; the program pads each batch to it.
  std::string gpu = "sm_80";
};

/// Builds the program as the file comment says. Errors name the step that failed, with the
/// compiler's messages.
Status buildNativeSeq2Seq(const NativeSeq2SeqBinary &binary);

} // namespace weft::examples
