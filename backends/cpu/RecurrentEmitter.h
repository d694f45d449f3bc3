//===- backends/cpu/RecurrentEmitter.h - what the recurrent kernels share -===//
//
// Internal to the CPU backend: the parts of the lstm_sequence, gru_sequence and rnn_sequence
// kernels (EmitLstm.cpp, EmitGru.cpp, EmitRnn.cpp) that do not depend on the cell, in the
// layout of RecurrentKernel.h:
//   - the prologue every recurrent kernel opens with, the gradients' too (RecurrentBase): the
//     results bound to their buffers, the lengths checked as a scan checks them, the scratch
//     taken; and the scalar helpers;
//   - wh packed in gate-interleaved strips of U hidden units;
//   - the time loop: chunks of steps, each chunk's input projection as one GEMM (wx packed
//     once), then the cell's step for each of its steps with h in a scratch pair;
//   - inside a step's outlined body, the micro-tiles: for each strip and panel of MR rows, the
//     GEMM's micro-kernel h[rows] . strip into an L1 tile, then the cell's update of the
//     strip's units of those rows.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "backends/cpu/Emitter.h"
#include "backends/cpu/RecurrentKernel.h"

namespace weft::cpu::detail {

/// What every recurrent kernel, forward or gradient, starts with: the op's dtype and hidden
/// size (operand 1 is h0 [B, H]), the prologue and the scalar helpers.
class RecurrentBase {
public:
  RecurrentBase(Emitter &e, const ir::Op &op);

protected:
  using Value = llvm::Value;

  /// What the prologue hands the kernel.
  struct Prologue {
    Values results;                   // the results' buffers, bound to the results
    Value *T = nullptr, *B = nullptr; // xs's time and batch dims
    Value *len = nullptr;             // the lengths operand, or null without one
    DType lenType = DType::I64;
    Values scratch; // the op's scratch buffers, taken in order
  };
  /// The prologue of a kernel: the 512-bit vector attribute where vectors are that wide, each
  /// result bound to its buffer, the optional lengths (operand `lenOperand` where the op has
  /// it) checked as a scan checks them, and the buffers of `scratch` taken.
  Prologue beginKernel(size_t lenOperand, const std::vector<ir::Type> &scratch);
  /// The scan's check: every len[b] in [0, T].
  void checkLengths(Value *len, DType lenType, Value *B, Value *T);
  /// dst (cols x rows) = src (rows x cols, its rows `stride` elements apart) transposed, in
  /// parallel over blocks of source columns (each task writes that many rows of dst at once,
  /// reading its source rows in short contiguous runs).
  void transposeStrided(Value *src, Value *rows, Value *cols, Value *stride, Value *dst);
  void transpose(Value *src, Value *rows, Value *cols, Value *dst) {
    transposeStrided(src, rows, cols, cols, dst);
  }
  /// out[q] = the sum over the rows of m (rows x cols) of column q, in parallel over blocks of
  /// columns; each column is summed in row order, so the result does not depend on the thread
  /// count (a bias gradient: a few MB of reads that one thread would take ms over).
  void columnSums(Value *m, Value *rows, int64_t cols, Value *out);

  Value *c64(int64_t v) { return e.c64(v); }
  Value *add(Value *x, Value *y) { return b.CreateAdd(x, y, "", true, true); }
  Value *mul(Value *x, Value *y) { return b.CreateMul(x, y, "", true, true); }
  Value *min(Value *x, Value *y) { return b.CreateSelect(b.CreateICmpSLT(x, y), x, y); }
  Value *at(Value *p, Value *i) { return b.CreateInBoundsGEP(elt, p, i); }
  Value *ld(Value *p, Value *i) {
    return b.CreateAlignedLoad(elt, at(p, i), llvm::Align(static_cast<uint64_t>(esz)));
  }
  void st(Value *v, Value *p) {
    b.CreateAlignedStore(v, p, llvm::Align(static_cast<uint64_t>(esz)));
  }
  /// A pointer-or-null field value for an optional operand.
  Value *orNull(Value *p) { return p ? p : llvm::ConstantPointerNull::get(b.getPtrTy()); }

  Emitter &e;
  llvm::IRBuilder<> &b;
  const ir::Op &op;
  DType dt = DType::F32;
  int64_t H = 0;
  int esz = 4;
  llvm::Type *elt = nullptr;
};

class RecurrentEmitter : public RecurrentBase {
public:
  RecurrentEmitter(Emitter &e, const ir::Op &op);

protected:
  /// One step of the time loop.
  struct Step {
    Value *t;     // its time index (T-1 down to 0 with reverse)
    Value *s;     // its position in the loop, 0 up to T-1
    Value *hPrev; // h before the step, [B, H]: one of the scratch pair
    Value *hNext; // h after it: the other
    Value *Pt;    // xs[t] . wx, [B, GH], in the chunk's projection buffer
  };
  /// One micro-tile inside a step's body: rows r0 ... r0 + mr - 1 of B, units u0 ... u0 + nu - 1
  /// of H; gate q of unit u0 + l of row r0 + i is tile[i * NR + q * U + l] (NR = NV * W).
  struct Tile {
    Value *r0, *mr, *u0, *nu, *tile;
    int NR;
  };

  /// Packs the column blocks `gates` of wh (H x G*H) into `dst` in strips: strip s, row k holds
  /// gates.size() blocks of U elements, [wh[k, gates[q]*H + s*U ...]], zero past unit H - 1.
  void packStrips(Value *wh, const std::vector<int> &gates, Value *dst);
  /// The time loop over xs (operand 0) with the input projection P = xs . wx chunk by chunk,
  /// wx packed first into Wxp (scratch as RecurrentKernel.h lists it); `step` emits one step,
  /// which reads h from one half of the pair `hbuf` (h0 copied there by the caller) and writes
  /// the other. Returns the half that holds h after the last step.
  Value *timeLoop(Value *xs, Value *wx, Value *P, Value *Wxp, Value *hbuf,
                  const std::function<void(const Step &)> &step, const char *label);
  /// Inside an outlined body over strips [begin, end): for each strip of `packed` (H rows of
  /// NV vectors each) and panel of MR rows of `a` (B rows of H), the micro-tile a . strip,
  /// then update(tile).
  void forEachTile(Value *begin, Value *end, Value *B, Value *a, Value *packed, int NV,
                   const std::function<void(const Tile &)> &update);
  /// Whether row `row` is inside its sequence at step `t` (always, without lengths).
  Value *activeRow(Value *len, DType lenType, Value *row, Value *t);
  /// The row of a masked-out step: h kept, its row of hs zero, for units [u0, u0 + nu).
  void keepRow(Value *hPrev, Value *hNext, Value *hst, Value *stateRow, Value *u0, Value *nu);

  /// Units of strip s: U, or fewer in the last strip.
  Value *unitsOf(Value *u0) {
    return H % ks.U == 0 ? c64(ks.U) : min(c64(ks.U), b.CreateSub(c64(H), u0));
  }
  /// The lanes of vector v of a strip (units v*W ... v*W + W - 1 of it) that are below nu.
  Value *laneMask(Value *nu, int v);
  /// W elements from p; lanes off `mask` read 0 and touch no memory.
  Value *vld(Value *p, Value *mask) {
    return b.CreateMaskedLoad(vecTy, p, llvm::Align(static_cast<uint64_t>(esz)), mask,
                              llvm::Constant::getNullValue(vecTy));
  }
  /// W elements to p, the lanes of `mask` only.
  void vst(Value *x, Value *p, Value *mask) {
    b.CreateMaskedStore(x, p, llvm::Align(static_cast<uint64_t>(esz)), mask);
  }
  /// W elements of a micro-tile (whole, aligned) from element `offset` of `tileRow`.
  Value *tileVector(Value *tileRow, int64_t offset) {
    return b.CreateAlignedLoad(vecTy, at(tileRow, c64(offset)),
                               llvm::Align(static_cast<uint64_t>(W * esz)));
  }

  RecurrentKernelShape ks;
  int W = 8;
  llvm::FixedVectorType *vecTy = nullptr; // W elements
};

} // namespace weft::cpu::detail
