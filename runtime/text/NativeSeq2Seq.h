//===- runtime/text/NativeSeq2Seq.h - the main() of a native seq2seq binary ===//
//
// A sequence-to-sequence model compiled ahead of time (backends/cpu/Aot.h) becomes a program
// that reads one input per line on stdin and writes one answer per line on stdout:
//
//   $ printf 'hello\nweft\n' | ./sort_letters
//   ehllo
//   eftw
//
// The program's main() only fills a NativeSeq2Seq and calls nativeSeq2SeqMain; the greedy
// decoding function comes from the AOT header, the vocabulary (Vocabulary::toJson) and the
// weights (safetensors) from bytes embedded in the binary, so the binary stands alone. It links
// weft_native_text and weft's runtime, no LLVM.
//
// The decoding function takes `source` [S, B] i32 (time-major ids, <PAD> after each line's
// end) and `source_lengths` [B] i32 by those names (NativeSeq2Seq can rename them), and every
// other parameter by name from the weights; it returns the ids [T, B] (i64 or i32) first and
// each line's decoded length [B] second, as seq2seq::dynamicDecode's sampleIds and lengths.
//
// Each line, as serveLines answers it:
//   - its characters (or words) map to ids with the vocabulary; one it lacks is <UNK>, and so
//     is each byte that is not valid UTF-8 (runtime/text/LineCodec.h); NUL bytes are no special
//     case. Any bytes are read, none crashes the program.
//   - an empty line is answered by an empty line, without running the model;
//   - a line longer than maxSourceLength units is truncated to its first maxSourceLength, with a
//     warning on stderr naming the line; the answer is the model's for the truncated line;
//   - the answer is the decoded ids up to <EOS>, one line on stdout.
// Lines are answered in order, in batches of the lines each read of stdin completes (at most
// `batch`), and stdout is flushed after each batch, so the program answers a terminal line by
// line and a pipe in batches.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/Aot.h"
#include "runtime/Support.h"
#include "runtime/text/Vocabulary.h"

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace weft::text {

/// Everything a native seq2seq program knows about its model; the generated main() fills it.
struct NativeSeq2Seq {
  /// The program's name, which starts its messages.
  std::string program;
  /// The greedy decoding function (from the AOT header: weft_<name>_fn).
  const weft_aot_function *decode = nullptr;
  /// The vocabulary's JSON and the weights' safetensors bytes.
  std::string_view vocabularyJson, weights;
  /// The most units (characters or words) of a line the model reads; longer lines are truncated.
  int64_t maxSourceLength = 0;
  /// The most lines per call of `decode`.
  int64_t batch = 64;
  /// The decoding function's parameters for the ids and the lengths.
  std::string sourceName = "source", lengthsName = "source_lengths";
};

/// Decodes a batch: each line's ids (none empty) in, each answer's ids (up to <EOS> or the
/// decoder's limit) out.
using DecodeBatch = std::function<Expected<std::vector<std::vector<int32_t>>>(
    const std::vector<std::vector<int32_t>> &)>;

/// `model.decode` as a DecodeBatch on `device` ("cpu", or "cuda": its embedded GPU code,
/// runtime/train/AotDevice.h): the weights decoded and checked once, a scratch arena kept
/// across calls. Errors name a weight the function needs that the bytes lack, and on "cuda" a
/// machine without a GPU ("no CUDA device: ...").
Expected<DecodeBatch> aotDecodeBatch(const NativeSeq2Seq &model, std::string_view device = "cpu");

struct ServeOptions {
  std::string program;
  int64_t maxSourceLength = 0;
  int64_t batch = 64;
};

/// Answers every line read from `inFd` on `out` as the file comment says; warnings go to `err`.
/// Fails when reading, decoding or writing fails.
Status serveLines(int inFd, std::FILE *out, std::FILE *err, const Vocabulary &vocabulary,
                  const DecodeBatch &decode, const ServeOptions &options);

/// The program: `--help` prints what it does; `--device cpu|cuda` picks where the model runs
/// (cpu by default); otherwise serveLines on stdin and stdout. Returns 0, 1 on an error (its
/// message on stderr: "no CUDA device: ..." for cuda on a machine without one), or 2 for an
/// unknown argument.
int nativeSeq2SeqMain(const NativeSeq2Seq &model, int argc, char **argv);

} // namespace weft::text
