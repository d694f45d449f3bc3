//===- backends/cpu/Emitter.h - weft IR to LLVM IR, one function at a time ===//
//
// Internal to the CPU backend (the only LLVM-facing header besides the .cpp
// files). An Emitter writes one `void @weft_<name>(ptr bufs, ptr dims, ptr
// status)` and fills its FunctionPlan. EmitCore.cpp holds the function
// skeleton, loops, elementwise ops and scan/while; EmitOps.cpp the shape ops,
// reductions, matmul and producers; EmitMatmul.cpp the packed GEMM for float matmul and
// EmitSmallMatmul.cpp its kernel for a few rows.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "analysis/BufferPlan.h"
#include "backends/cpu/MatmulBlocks.h"
#include "backends/cpu/Plan.h"

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Module.h>
#include <llvm/Target/TargetMachine.h>

#include <functional>
#include <map>
#include <optional>
#include <span>
#include <unordered_map>
#include <unordered_set>

namespace weft::cpu {

/// Emits `f` into `m` as `@<plan.symbol>` for `tm` and records its slots and fault sites in
/// `plan`.
Status emitFunction(llvm::Module &m, const ir::Function &f, FunctionPlan &plan,
                    const llvm::TargetMachine &tm);
/// The target's widest usable vector register, in bytes (64 with AVX-512F, 32 with AVX, else
/// 16), which sizes the matmul kernels' tiles. EmitMatmul.cpp.
int targetVectorBytes(const llvm::TargetMachine &tm);

/// LLVM's optimization pipeline at `level` (0-3) for `m`; with `vectorMath`, the vectorizer may
/// call glibc's libmvec (exp, log, sin, cos, pow over vectors). Jit.cpp.
void optimizeModule(llvm::Module &m, llvm::TargetMachine &tm, int level, bool vectorMath);
/// Folds the module's identical internal functions into one (LLVM's MergeFunctions), before
/// anything is optimized: the outlined kernels of ops with the same shapes and attributes (two
/// layers of one width, a gradient's repeated elementwise steps) are emitted alike, and each
/// copy would cost the optimizer and code generator again. Returns how many it removed. Jit.cpp.
unsigned mergeIdenticalFunctions(llvm::Module &m);
/// Loads libmvec into the process (once); whether it is there for JIT-compiled code.
bool vectorMathLibraryLoaded();
/// Whether LLVM knows `cpu` for `target` and `triple` (CompileOptions::cpu, weftc --cpu). Jit.cpp.
bool isKnownCpu(const llvm::Target &target, const std::string &triple, const std::string &cpu);

namespace detail {

using Values = std::vector<llvm::Value *>;

class Emitter {
public:
  Emitter(llvm::Module &m, FunctionPlan &plan);
  Status emit(const ir::Function &f);

  // --- infrastructure (EmitCore.cpp) ---
  llvm::Type *i64Ty() { return b.getInt64Ty(); }
  llvm::Value *c64(int64_t v) { return b.getInt64(static_cast<uint64_t>(v)); }
  /// The storage type of one element (i1 is stored as a byte).
  llvm::Type *storageTy(DType t);
  /// The type of a computed scalar (i1 for i1).
  llvm::Type *scalarTy(DType t);
  /// The size of `d` under the bound symbols, as i64.
  llvm::Value *dim(const ir::Dim &d);
  Values shape(const ir::Type &t);
  llvm::Value *numel(const ir::Type &t);
  /// The data pointer of the slot the buffer plan gives `v` (a parameter or op result).
  llvm::Value *bufferOf(const ir::Value *v);
  /// The next scratch slot of the op being emitted, which the plan's scratch model
  /// (Scratch.h) lists with type `t`; its data pointer.
  llvm::Value *scratchBuffer(const ir::Type &t);
  /// The data pointer of `v`.
  llvm::Value *ptr(const ir::Value *v);
  /// A new entry-block stack slot of type `t` (promoted to a register by mem2reg).
  llvm::Value *local(llvm::Type *t, llvm::Value *init);
  llvm::Value *gep(llvm::Value *p, DType t, llvm::Value *i);
  llvm::Value *load(llvm::Value *p, DType t, llvm::Value *i);
  void store(llvm::Value *v, llvm::Value *p, DType t, llvm::Value *i);
  void memCopy(llvm::Value *dst, llvm::Value *src, llvm::Value *bytes);
  void memZero(llvm::Value *dst, llvm::Value *bytes);
  llvm::Value *bytes(const ir::Type &t) {
    return b.CreateMul(numel(t), c64(dtypeBytes(t.dtype())));
  }
  /// for (i = 0; i < n; ++i) body(i); its header block is `name` (the body's `name`.body).
  void forLoop(llvm::Value *n, const std::function<void(llvm::Value *)> &body,
               const char *name = "loop");
  /// A loop k = 0 .. n-1 carrying values in registers: acc starts as `init`, each trip sets it to
  /// step(k, acc); returns its final value (`init` when n <= 0). The k loops of the matmul
  /// kernels.
  Values accumulate(llvm::Value *n, const Values &init,
                    const std::function<Values(llvm::Value *, const Values &)> &step);
  /// Nested loops over `extents`, the last innermost.
  void loopNest(const Values &extents, const std::function<void(const Values &)> &body);
  /// if (cond) then().
  void ifThen(llvm::Value *cond, const std::function<void()> &then);
  /// Row-major flat index of `idx` in `shape`.
  llvm::Value *flatIndex(const Values &idx, const Values &shape);
  /// Registers a fault site for `op`; its id.
  int faultSite(const ir::Op &op, std::string what);
  /// When `cond`, records fault `f` at `site` unless an earlier fault was recorded.
  void fault(llvm::Value *cond, Fault f, int site, llvm::Value *a, llvm::Value *b2, llvm::Value *c);
  llvm::Value *callLibm(const char *name, llvm::Value *x);
  /// callLibm of a scalar, or of each lane of a vector.
  llvm::Value *callLibmLanes(const char *name, llvm::Value *x);
  /// exp of a double, inline (no call, so loops of it vectorize at any width), accurate to
  /// about 1 ulp of a double; for f32 tanh and sigmoid, which round it to f32.
  llvm::Value *expDouble(llvm::Value *x);
  /// exp of a float, inline, within 2 ulps of a float (Cephes' expf); for the gate functions.
  llvm::Value *expFloat(llvm::Value *x);
  llvm::Value *intrinsic(llvm::Intrinsic::ID id, Values args);

  Status emitBlockOps(const ir::Block &block);
  Status emitOp(const ir::Op &op);
  // --- op families ---
  Status emitElementwise(const ir::Op &op); // EmitCore.cpp
  /// One element of an elementwise op on scalars `xs` at flat index `i` (for fault details).
  llvm::Value *elementwiseScalar(const ir::Op &op, const Values &xs, llvm::Value *i, int site);
  /// The fault site of an elementwise op that can fault (integer div), else -1.
  int elementwiseFaultSite(const ir::Op &op);
  Status emitFusion(const ir::Op &op); // EmitFusion.cpp
  /// `void weft_parallel_for(ptr body, ptr ctx, i64 n, i64 grain)` (runtime/Parallel.h).
  llvm::FunctionCallee parallelFor();
  /// The target's vector register width in bytes (targetVectorBytes).
  int vectorBytes = 32;
  /// Runs `rows(captured, begin, end)` over chunks of rows [0, n): through weft_parallel_for
  /// where `work` (about the elements touched) is large, else in one call on this thread. The
  /// body is outlined (OutlinedBody): it sees the outer values `captured` (pointers or i64) as
  /// the values it is given, and the dims and status through its own context. Chunks depend
  /// only on n and work, and each row must write only its own outputs, so results do not
  /// depend on the thread count.
  void parallelRows(llvm::Value *n, llvm::Value *work, const Values &captured,
                    const std::function<void(const Values &, llvm::Value *, llvm::Value *)> &rows);
  /// Calls `kernel(ctxPtr, begin, end)` over rows [0, rows): through weft_parallel_for in
  /// chunks of about `grainWork` work when `work` (the whole call's) is at least `minWork` and
  /// there is more than one chunk, else once on this thread. Blocks are named `label`.parallel,
  /// .serial, .done. EmitParallel.cpp, with parallelFor and parallelRows.
  void dispatchRows(llvm::Function *kernel, llvm::Value *ctxPtr, llvm::Value *rows,
                    llvm::Value *work, int64_t minWork, int64_t grainWork, const char *label);
  /// Nested loops over `extents` with axis `axis` running over [begin, end) only.
  void loopNestRows(const Values &extents, size_t axis, llvm::Value *begin, llvm::Value *end,
                    const std::function<void(const Values &)> &body);
  /// A call of `i64 weft_num_threads()` (runtime/Parallel.h): the pool's size now.
  llvm::Value *numThreads();
  llvm::Value *scalarOp(const ir::Op &op, DType in, Values xs, llvm::Value *i, int site);
  llvm::Value *convert(llvm::Value *x, DType from, DType to);
  Status emitScan(const ir::Op &op);    // EmitCore.cpp
  Status emitWhile(const ir::Op &op);   // EmitCore.cpp
  Status emitShapeOp(const ir::Op &op); // EmitOps.cpp
  Status emitReduce(const ir::Op &op);  // EmitOps.cpp
  // One reduction's arithmetic, shared by reduce ops and fused kernels (EmitOps.cpp): the
  // accumulator's dtype (double for float sums), its start, one step, and the final value
  // (mean divided by `count`, rounded to f32); reduce_max/min over no elements is a fault.
  DType reduceAccType(const ir::Op &r);
  llvm::Value *reduceInit(const ir::Op &r);
  llvm::Value *reduceStep(const ir::Op &r, llvm::Value *acc, llvm::Value *v);
  llvm::Value *reduceResult(const ir::Op &r, llvm::Value *acc, llvm::Value *count);
  void checkReduceNotEmpty(const ir::Op &r, llvm::Value *count, llvm::Value *outN);
  Status emitArgmax(const ir::Op &op); // EmitOps.cpp
  Status emitMatmul(const ir::Op &op); // EmitOps.cpp
  /// A float matmul into `out` (every element written): a packed, cache-blocked GEMM, or the
  /// small-M kernel where A has at most kSmallMatmulRows rows; EmitMatmul.cpp.
  void emitPackedMatmul(const ir::Op &op, llvm::Value *out);
  /// C[batch] = A[batch] (rows x K) x B[batch] (K x N), reading B in place (rows at most
  /// kSmallMatmulRows); EmitSmallMatmul.cpp.
  void emitSmallMatmul(int rows, DType dt, llvm::Value *A, llvm::Value *B, llvm::Value *C,
                       llvm::Value *batch, llvm::Value *K, llvm::Value *N);
  /// The MR x NR tile product of the GEMM's micro-kernel, as MR * NV vector accumulators (row
  /// i's vector v at i * NV + v; NR = NV * the vector's lanes): sum over k < kc of A(i, k) times
  /// row k of `bs`, a packed strip of kc rows of NR (vector-aligned). Row i of A starts at
  /// `aRow(i)`, its k-th element `aKStride` elements on (1 in place, MR when packed).
  /// `bKStride`, where not 0, is the strip's row length when it is wider than NR (a tile over
  /// the first NV vectors of a wider strip). EmitMatmul.cpp.
  Values gemmTileProduct(DType dt, int MR, int NV, llvm::Value *kc,
                         const std::function<llvm::Value *(int)> &aRow, int64_t aKStride,
                         llvm::Value *bs, int64_t bKStride = 0);
  /// C (M x K times K x N, row-major) through the packed GEMM; the dims size its blocks as
  /// gemmBlocks does. B is read from `packedB` (emitPackB's, same dims) where given; else it is
  /// packed block by block into `blockScratch` (KC * NC elements), or where that is null into the
  /// op's next scratch slot. EmitMatmul.cpp.
  void emitGemm(DType dt, const ir::Dim &Md, const ir::Dim &Kd, const ir::Dim &Nd, llvm::Value *A,
                llvm::Value *B, llvm::Value *C, llvm::Value *M, llvm::Value *K, llvm::Value *N,
                llvm::Value *packedB, llvm::Value *blockScratch);
  /// Packs all of B (K x N, both static) into `dst` in Prepack.h's layout, for emitGemm.
  void emitPackB(DType dt, const ir::Dim &Md, const ir::Dim &Kd, const ir::Dim &Nd, llvm::Value *B,
                 llvm::Value *dst);
  /// lstm_sequence, gru_sequence and rnn_sequence as kernels of their own: EmitLstm.cpp,
  /// EmitGru.cpp, EmitRnn.cpp (RecurrentEmitter.h has what they share).
  Status emitLstmSequence(const ir::Op &op);
  Status emitGruSequence(const ir::Op &op);
  Status emitRnnSequence(const ir::Op &op);
  /// lstm_sequence_grad as one kernel: EmitLstmGrad.cpp.
  Status emitLstmSequenceGrad(const ir::Op &op);
  /// gru_sequence_grad and rnn_sequence_grad as one kernel: EmitGruRnnGrad.cpp.
  Status emitGruRnnSequenceGrad(const ir::Op &op);
  /// sigmoid and tanh of a scalar or a vector of float dtype `dt`, as the elementwise ops
  /// compute them.
  llvm::Value *sigmoidOf(llvm::Value *x, DType dt);
  llvm::Value *tanhOf(llvm::Value *x, DType dt);
  /// sigmoid and tanh for the recurrent kernels' gates: in f32 itself for f32 (16 lanes, a
  /// degree-5 exp), within 3 ulps (2^-126 absolute where the result is subnormal: the exp
  /// makes none); as above for f64.
  llvm::Value *gateSigmoidOf(llvm::Value *x, DType dt);
  llvm::Value *gateTanhOf(llvm::Value *x, DType dt);
  Status emitProducer(const ir::Op &op); // EmitOps.cpp
  /// Packs, before `loop`'s first trip, the B of each matmul of its body that Prepack.h picks,
  /// into a scratch slot of `loop` (the first ones it takes), then the weights of each
  /// lstm_attention_step it picks; records them in `packedB` and `packedStepWeights`.
  /// EmitMatmul.cpp.
  void packBsBeforeLoop(const ir::Op &loop);
  /// Starts an all_reduce (weft_all_reduce_start) and records its result as in flight; the
  /// wait comes from emitCollectiveWaits. Either may fail (Fault::Collective). EmitOps.cpp.
  Status emitAllReduce(const ir::Op &op);
  /// Before `op` (nullptr: the block's end): waits for the all_reduces in `inFlight` whose
  /// results `op` or its regions read (all at the end), and drops them from `inFlight`.
  void emitCollectiveWaits(const ir::Op *op, std::vector<const ir::Op *> &inFlight);
  /// After an op, while all_reduces are in flight: lets MPI move them forward.
  void emitCollectiveProgress();
  /// attention and attention_grad: online-softmax kernels over rows; EmitAttention.cpp.
  Status emitAttention(const ir::Op &op);
  /// additive_attention: one pass over the keys per batch row; EmitAdditiveAttention.cpp.
  Status emitAdditiveAttention(const ir::Op &op);
  /// lstm_attention_step: the whole decoder step per block of batch rows;
  /// EmitLstmAttentionStep.cpp.
  Status emitLstmAttentionStep(const ir::Op &op);
  /// Packs lstm_attention_step `step`'s weights into strips (LstmAttentionStepKernel.h), each
  /// into the next scratch slot of the op being emitted; where they are, in the kernel's order.
  /// EmitLstmAttentionStep.cpp.
  Values packLstmAttentionWeights(const ir::Op &step);

  llvm::LLVMContext &ctx;
  llvm::Module &mod;
  llvm::IRBuilder<> b;
  FunctionPlan &plan;
  llvm::Function *fn = nullptr;
  llvm::BasicBlock *entry = nullptr;
  llvm::Value *bufsArg = nullptr, *dimsArg = nullptr, *statusArg = nullptr;
  std::unordered_map<const ir::Value *, llvm::Value *> ptrs;
  std::map<std::string, llvm::Value *, std::less<>> symValues;
  // The buffer plan (analysis/BufferPlan.h) of the function, the data pointer of each of its
  // slots (loaded in the entry block), the op being emitted and how many of each op's scratch
  // slots were taken.
  std::optional<analysis::BufferPlan> buffers;
  std::vector<llvm::Value *> slotPtrs;
  const ir::Op *currentOp = nullptr;
  std::unordered_map<const ir::Op *, size_t> scratchTaken;
  /// The matmuls whose B their loop packed before its first trip, and where.
  std::unordered_map<const ir::Op *, llvm::Value *> packedB;
  /// The lstm_attention_steps whose weights their loop packed before its first trip, and where.
  std::unordered_map<const ir::Op *, Values> packedStepWeights;

private:
  /// Copies `rows` rows of `rowBytes` from `src` to `dst` where `active(row)` holds.
  void maskedCopy(llvm::Value *dst, llvm::Value *src, llvm::Value *rowBytes, llvm::Value *rows,
                  const std::function<llvm::Value *(llvm::Value *)> &active);
  /// Stores the yielded values of one loop trip: emits (yield operands [firstEmit, ...)) at row
  /// `t` of `emits`, then carries (operands [firstCarry, firstCarry + carries.size())) into
  /// `carries`, through staging buffers where a yielded value is itself a carry buffer. Only
  /// rows where `active(row)` holds are written when `active` is set (`rows` rows each).
  void storeLoopYields(const ir::Op &yield, size_t firstCarry, const Values &carries,
                       size_t firstEmit, const Values &emits, llvm::Value *t, llvm::Value *rows,
                       const std::function<llvm::Value *(llvm::Value *)> &active);
};

/// While alive, the emitter writes an outlined `void (ptr ctx, i64 begin, i64 end)` named
/// `<function>.<suffix>` (internal), the body weft_parallel_for runs over chunks [begin, end).
/// The emitter's per-function state (function, entry block, insertion point, dims and status
/// pointers, loaded symbols) is the outer function's again when it ends. The body must finish
/// with a return; outer values reach it only through `ctx`, and `dimsArg`/`statusArg` are null
/// until the body sets them from its context.
class OutlinedBody {
public:
  OutlinedBody(Emitter &e, const char *suffix);
  ~OutlinedBody();
  OutlinedBody(const OutlinedBody &) = delete;
  OutlinedBody &operator=(const OutlinedBody &) = delete;

  llvm::Function *function = nullptr;
  llvm::Value *ctx = nullptr, *begin = nullptr, *end = nullptr;

private:
  Emitter &e_;
  llvm::IRBuilderBase::InsertPoint savedIp_;
  llvm::Function *savedFn_;
  llvm::BasicBlock *savedEntry_;
  llvm::Value *savedDims_, *savedStatus_;
  std::map<std::string, llvm::Value *, std::less<>> savedSyms_;
};

} // namespace detail
} // namespace weft::cpu
