//===- runtime/text/NativeSeq2Seq.cpp -------------------------------------===//
#include "runtime/text/NativeSeq2Seq.h"

#include "runtime/Safetensors.h"
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

/// Element `i` of an integer array (the decoder's ids and lengths are i64 or i32).
int64_t integerAt(const Array &a, int64_t i) {
  return a.dtype() == DType::I64 ? a.data<int64_t>()[i] : a.data<int32_t>()[i];
}

bool isIdArray(const Array &a, size_t rank) {
  return (a.dtype() == DType::I64 || a.dtype() == DType::I32) && a.shape().size() == rank;
}

} // namespace

Expected<DecodeBatch> aotDecodeBatch(const NativeSeq2Seq &model, std::string_view device) {
  if (!model.decode)
    return err("no decoding function");
  Expected<DecodeArgs> bound = bindWeights(model);
  if (!bound)
    return bound.diag();
  auto args = std::make_shared<DecodeArgs>(std::move(*bound));
  Expected<train::Function> loaded = train::aotFunctionOn(*model.decode, device);
  if (!loaded)
    return loaded.diag();
  return DecodeBatch([args,
                      run = std::move(*loaded)](const std::vector<std::vector<int32_t>> &lines)
                         -> Expected<std::vector<std::vector<int32_t>>> {
    int64_t B = static_cast<int64_t>(lines.size()), S = 1;
    for (const auto &l : lines)
      S = std::max(S, static_cast<int64_t>(l.size()));
    // Time-major ids, <PAD> (0) past each line's end.
    Array ids(DType::I32, {S, B}), lengths(DType::I32, {B});
    std::fill_n(ids.data<int32_t>(), ids.numel(), kPad);
    for (int64_t b = 0; b < B; ++b) {
      const std::vector<int32_t> &l = lines[static_cast<size_t>(b)];
      lengths.data<int32_t>()[b] = static_cast<int32_t>(l.size());
      for (size_t t = 0; t < l.size(); ++t)
        ids.data<int32_t>()[static_cast<int64_t>(t) * B + b] = l[t];
    }
    args->args[args->source] = std::move(ids);
    args->args[args->lengths] = std::move(lengths);
    Expected<std::vector<Array>> r = run(args->args);
    if (!r)
      return r.diag();
    const Array &out = (*r)[0], &outLengths = (*r)[1];
    if (!isIdArray(out, 2) || out.shape()[1] != B || !isIdArray(outLengths, 1) ||
        outLengths.shape()[0] != B)
      return err("the decoder's results are not ids [T, B] and lengths [B]");
    int64_t T = out.shape()[0];
    std::vector<std::vector<int32_t>> answers(lines.size());
    for (int64_t b = 0; b < B; ++b) {
      int64_t n = std::clamp<int64_t>(integerAt(outLengths, b), 0, T);
      for (int64_t t = 0; t < n; ++t)
        answers[static_cast<size_t>(b)].push_back(static_cast<int32_t>(integerAt(out, t * B + b)));
    }
    return answers;
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
