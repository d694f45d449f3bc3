//===- runtime/text/NativeSeq2Seq.cpp -------------------------------------===//
#include "runtime/text/NativeSeq2Seq.h"

#include "runtime/CudaAot.h"
#include "runtime/Safetensors.h"
#include "runtime/text/BatchPacking.h"
#include "runtime/text/LineCodec.h"
#include "runtime/text/LineReader.h"
#include "runtime/train/AotDevice.h"
#include "runtime/train/AotFunction.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <exception>
#include <memory>
#include <optional>
#include <span>
#include <unistd.h>

namespace weft::text {
namespace {

/// The arguments of a decoding call: the weights in place, the two inputs set per call.
struct DecodeArgs {
  std::vector<Array> args;
  size_t source = 0, lengths = 0;
};

Expected<DecodeArgs> bindWeights(const NativeSeq2Seq &model) {
  const weft_aot_function &fn = *model.decode;
  Expected<Safetensors> weights = decodeSafetensors(model.weights, "the embedded weights");
  if (!weights)
    return weights.diag();
  DecodeArgs a;
  std::optional<size_t> source, lengths;
  a.args.resize(fn.n_params);
  for (size_t i = 0; i < fn.n_params; ++i) {
    std::string_view name = fn.param_names[i];
    if (name == model.sourceName) {
      source = i;
    } else if (name == model.lengthsName) {
      lengths = i;
    } else if (const Array *w = weights->find(name)) {
      a.args[i] = *w;
    } else {
      return err(
          fmt::format("the embedded weights have no tensor '{}', which @{} takes", name, fn.name));
    }
  }
  if (!source || !lengths)
    return err(fmt::format("@{} takes no parameter '{}'", fn.name,
                           source ? model.lengthsName : model.sourceName));
  if (fn.n_results < 2)
    return err(fmt::format("@{} returns {} values; a decoder returns its ids and lengths", fn.name,
                           fn.n_results));
  a.source = *source;
  a.lengths = *lengths;
  return a;
}

} // namespace

Expected<DecodeBatch> aotDecodeBatch(const NativeSeq2Seq &model, std::string_view device) {
  if (!model.decode)
    return err("no decoding function");
  Expected<DecodeArgs> bound = bindWeights(model);
  if (!bound)
    return bound.diag();
  auto args = std::make_shared<DecodeArgs>(std::move(*bound));
  // The weights never change: on the GPU they go up with the first batch and stay there.
  std::vector<size_t> weights;
  for (size_t i = 0; i < args->args.size(); ++i)
    if (i != args->source && i != args->lengths)
      weights.push_back(i);
  Expected<train::Function> loaded = train::aotFunctionOn(*model.decode, device, weights);
  if (!loaded)
    return loaded.diag();
  // GPU code is built for one shape (examples/native/NativeSeq2SeqBinary.h): B lines of at
  // most S units. Batches are padded to it; on the CPU they take their own shape.
  int64_t fixedB = 0, fixedS = 0;
  if (device == "cuda") {
    cuda::AotPlan plan;
    WEFT_TRY(cuda::aotGpuCodeOf(*model.decode, &plan));
    for (size_t k = 0; k < plan.symbols.size(); ++k) {
      if (plan.symbols[k] == "B")
        fixedB = plan.symbolValues[k];
      if (plan.symbols[k] == "S")
        fixedS = plan.symbolValues[k];
    }
  }
  LineDecoder decodeChunk = [args, run = std::move(*loaded), fixedB,
                             fixedS](std::span<const std::vector<int32_t>> lines)
      -> Expected<std::vector<std::vector<int32_t>>> {
    Expected<PackedBatch> packed = packLines(lines, fixedB, fixedS);
    if (!packed)
      return packed.diag();
    args->args[args->source] = std::move(packed->ids);
    args->args[args->lengths] = std::move(packed->lengths);
    Expected<std::vector<Array>> r = run(args->args);
    if (!r)
      return r.diag();
    return unpackAnswers((*r)[0], (*r)[1], lines.size());
  };
  return DecodeBatch([decodeChunk, fixedB](const std::vector<std::vector<int32_t>> &lines) {
    return decodeInChunks(decodeChunk, lines, static_cast<size_t>(fixedB));
  });
}

Status serveLines(int inFd, std::FILE *out, std::FILE *err, const Vocabulary &vocabulary,
                  const DecodeBatch &decode, const ServeOptions &options) {
  if (options.maxSourceLength < 1 || options.batch < 1)
    return weft::err("serveLines: maxSourceLength and batch must be at least 1");
  const char *unit = vocabulary.kind() == Vocabulary::Kind::Char ? "characters" : "words";
  LineReader reader(inFd, bytesToKeep(vocabulary, options.maxSourceLength));
  int64_t lineNumber = 0;
  while (!reader.atEnd()) {
    Expected<std::vector<Line>> read = reader.next();
    if (!read)
      return read.diag();
    std::vector<Line> &lines = *read;
    for (size_t first = 0; first < lines.size(); first += static_cast<size_t>(options.batch)) {
      size_t end = std::min(lines.size(), first + static_cast<size_t>(options.batch));
      // The non-empty lines go to the model; empty ones are answered by empty lines.
      std::vector<std::vector<int32_t>> batch;
      std::vector<std::optional<size_t>> slot;
      for (size_t i = first; i < end; ++i) {
        ++lineNumber;
        EncodedLine e = encodeLine(vocabulary, lines[i].bytes, options.maxSourceLength);
        if (e.truncated || lines[i].cut())
          std::fprintf(err,
                       "%s: line %lld has more than %lld %s, the most the model reads; "
                       "answering for its first %lld\n",
                       options.program.c_str(), static_cast<long long>(lineNumber),
                       static_cast<long long>(options.maxSourceLength), unit,
                       static_cast<long long>(options.maxSourceLength));
        if (e.ids.empty()) {
          slot.push_back(std::nullopt);
          continue;
        }
        slot.push_back(batch.size());
        batch.push_back(std::move(e.ids));
      }
      std::vector<std::vector<int32_t>> answers;
      if (!batch.empty()) {
        Expected<std::vector<std::vector<int32_t>>> decoded = decode(batch);
        if (!decoded)
          return decoded.diag();
        answers = std::move(*decoded);
        if (answers.size() != batch.size())
          return weft::err("the decoder answered a different number of lines than it was given");
      }
      for (const std::optional<size_t> &s : slot) {
        std::string text = s ? vocabulary.decode(answers[*s]) : std::string();
        text += '\n';
        std::fwrite(text.data(), 1, text.size(), out);
      }
      std::fflush(err);
      if (std::fflush(out) != 0 || std::ferror(out))
        return weft::err(fmt::format("cannot write the answers: {}", std::strerror(errno)));
    }
  }
  return Status::ok();
}

int nativeSeq2SeqMain(const NativeSeq2Seq &model, int argc, char **argv) try {
  const char *program = model.program.c_str();
  auto fail = [&](const std::string &message) {
    std::fprintf(stderr, "%s: %s\n", program, message.c_str());
    return 1;
  };
  Expected<Vocabulary> vocabulary = Vocabulary::fromJson(model.vocabularyJson);
  if (!vocabulary)
    return fail("the embedded vocabulary: " + vocabulary.diag().str());
  const char *unit = vocabulary->kind() == Vocabulary::Kind::Char ? "characters" : "words";
  std::string device = "cpu";
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--device") == 0 && i + 1 < argc) {
      device = argv[++i];
      continue;
    }
    if (std::strncmp(argv[i], "--device=", 9) == 0) {
      device = argv[i] + 9;
      continue;
    }
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      std::printf("usage: %s [--device cpu|cuda] < input\n\n"
                  "Reads one input per line on stdin and writes one answer per line on stdout.\n"
                  "A line longer than %lld %s is truncated to its first %lld, with a warning on\n"
                  "stderr; an empty line gets an empty answer; a character the model does not\n"
                  "know, or a byte that is not UTF-8, reads as <UNK>. --device cuda runs the\n"
                  "model on GPU 0 (the program's embedded GPU code), cpu (the default) here.\n",
                  program, static_cast<long long>(model.maxSourceLength), unit,
                  static_cast<long long>(model.maxSourceLength));
      return 0;
    }
    std::fprintf(stderr, "%s: unknown argument '%s' (it reads stdin; --help says more)\n", program,
                 argv[i]);
    return 2;
  }
  Expected<DecodeBatch> decode = aotDecodeBatch(model, device);
  if (!decode)
    return fail(decode.diag().str());
  Status s = serveLines(
      STDIN_FILENO, stdout, stderr, *vocabulary, *decode,
      {.program = model.program, .maxSourceLength = model.maxSourceLength, .batch = model.batch});
  if (!s)
    return fail(s.diag().str());
  return 0;
} catch (const std::exception &e) {
  std::fprintf(stderr, "%s: %s\n", model.program.c_str(), e.what());
  return 1;
}

} // namespace weft::text
