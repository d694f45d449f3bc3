/*===- runtime/Aot.h - the C ABI of ahead-of-time compiled functions ------===//
//
// weftc (tools/weftc) compiles a weft module into an object file and a C
// header. The header describes each function as a static weft_aot_function
// (its buffer slots, with shapes as monomials over the symbols, and its fault
// sites) and declares typed wrappers that call weft_aot_call. The object holds
// the generated entry points. A program links the object and weft_runtime,
// nothing of LLVM.
//
// weft_aot_call binds symbolic dims from the input shapes, checks every input
// and output (null pointers, dtypes, shapes, buffer sizes), allocates one
// scratch arena in which buffers with disjoint live ranges share bytes (the
// JIT's memory plan, runtime/MemoryPlan.h, computed per call; 64-byte
// aligned; weft_aot_arena_bytes gives its size; weft_aot_call_with_workspace
// reuses one the caller keeps across calls), calls the generated code and
// turns a run-time fault into a message. It returns 0 on success; otherwise a
// WEFT_AOT_* code and a message in `err` (truncated to err_len, always
// terminated when err_len > 0).
//
// Plain C: usable from C and C++; no C++ types cross this interface.
//
//===----------------------------------------------------------------------===*/
#ifndef WEFT_RUNTIME_AOT_H
#define WEFT_RUNTIME_AOT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Element types; the values match weft::DType. */
#define WEFT_AOT_F32 0
#define WEFT_AOT_F64 1
#define WEFT_AOT_I32 2
#define WEFT_AOT_I64 3
#define WEFT_AOT_I1 4 /* stored as one byte */

/* Return codes of weft_aot_call. */
#define WEFT_AOT_OK 0
#define WEFT_AOT_BAD_ARGUMENT 1 /* a null pointer, a wrong count, dtype, shape or buffer size */
#define WEFT_AOT_FAULT 2        /* the generated code reported a fault (index out of range...) */
#define WEFT_AOT_NO_MEMORY 3

/* Fault codes of the status record; they match weft::cpu::Fault. */
#define WEFT_AOT_FAULT_INDEX_OUT_OF_RANGE 1  /* details: index, flat position, axis size */
#define WEFT_AOT_FAULT_DIVISION_BY_ZERO 2    /* details: element */
#define WEFT_AOT_FAULT_LENGTH_OUT_OF_RANGE 3 /* details: length, example, T */
#define WEFT_AOT_FAULT_EMPTY_REDUCE 4
#define WEFT_AOT_FAULT_CONSTANT_COUNT 5 /* details: values, elements */
#define WEFT_AOT_FAULT_COLLECTIVE 6     /* all_reduce failed (runtime/Collective.h) */

/* `void weft_<name>_entry(void *const *bufs, const int64_t *dims, int64_t *status)`:
   bufs holds one pointer per slot, dims the value of each symbol, status five words
   (fault code, fault site, three details). */
typedef void (*weft_aot_entry)(void *const *bufs, const int64_t *dims, int64_t *status);

/* One dim: coeff times the product of symbols dim_syms[first_sym .. first_sym + n_syms). */
typedef struct weft_aot_dim {
  int64_t coeff;
  int32_t first_sym;
  int32_t n_syms;
} weft_aot_dim;

/* One buffer slot: a tensor of `rank` dims dims[first_dim ..] with elements of `dtype`,
   holding a value from program position live_first to live_last (both included). */
typedef struct weft_aot_slot {
  int32_t dtype;
  int32_t rank;
  int32_t first_dim;
  int32_t live_first;
  int32_t live_last;
} weft_aot_slot;

/* An op that can fault: its name, its source location ("" when unknown), what it indexes. */
typedef struct weft_aot_fault_site {
  const char *op;
  const char *loc;
  const char *what;
} weft_aot_fault_site;

/* Everything weft_aot_call needs to know about one compiled function (generated). */
typedef struct weft_aot_function {
  const char *name;
  weft_aot_entry entry;
  size_t n_symbols;
  /* The entry's dims[i] is the value of symbols[i]; symbols come in the order the parameter
     types (then the result types) first name them, left to right. */
  const char *const *symbols;
  size_t n_slots;
  const weft_aot_slot *slots;
  const weft_aot_dim *dims;
  const int32_t *dim_syms; /* indices into symbols */
  size_t n_params;
  const int32_t *param_slots;
  const char *const *param_names;
  size_t n_results;
  const int32_t *result_slots;
  const char *const *result_names;
  size_t n_fault_sites;
  const weft_aot_fault_site *fault_sites;
  /* Declared in-place updates (IR `aliases(RESULT = %param)`): output alias_results[i] may be
     the very buffer of input alias_params[i], which the call then updates. */
  size_t n_aliases;
  const int32_t *alias_results;
  const int32_t *alias_params;
  /* The function's GPU code (runtime/CudaAotPlan.h: PTX and the plan of a call, or why it has
     none), or NULL when it was compiled without; run by runtime/CudaAot.h. */
  const unsigned char *gpu_code;
} weft_aot_function;

/* A caller's input: data of `dtype` with `rank` sizes in `shape`, row-major. */
typedef struct weft_aot_input {
  const void *data;
  int32_t dtype;
  int32_t rank;
  const int64_t *shape;
} weft_aot_input;

/* A caller's output buffer of `capacity` bytes. When `shape` is not null, the result's
   sizes are written there (as many as the result's rank). */
typedef struct weft_aot_output {
  void *data;
  size_t capacity;
  int64_t *shape;
} weft_aot_output;

/* Runs `fn`. `dims` (may be null) holds a value per fn->symbols entry, or -1 for a symbol
   to bind from the input shapes; every other symbol that a parameter dim names on its own
   is bound from the inputs, and inputs that disagree are an error. A null data pointer is
   accepted only for an empty tensor.
   Aliasing: no output may share a byte with an input or another output (the generated code
   may write an output before it has read every input); such a call fails with
   WEFT_AOT_BAD_ARGUMENT and runs nothing. The one exception is a declared in-place update
   (fn->alias_results/alias_params): that output may be exactly its parameter's input buffer
   (the same pointer), which the call then updates; given another buffer, the input is copied
   there first and the input is left as it was. Results are always distinct arrays: a function that
   returns one of its parameters, or one value twice, has that value copied into each of those
   output buffers. Inputs may alias one another (they are only read). */
int weft_aot_call(const weft_aot_function *fn, const int64_t *dims, const weft_aot_input *inputs,
                  size_t n_in, weft_aot_output *outputs, size_t n_out, char *err, size_t err_len);

/* The typed wrappers' form: `dims` gives every symbol (fn->n_symbols values), inputs are
   taken to have the shapes their types give under `dims`, and outputs to be exactly as large
   as their results need. */
int weft_aot_call_dims(const weft_aot_function *fn, const int64_t *dims, const void *const *inputs,
                       void *const *outputs, char *err, size_t err_len);

/* Where weft_aot_call gets each call's scratch arena: `alloc` returns `bytes` bytes aligned to
   64, or NULL when it cannot (the call then fails with WEFT_AOT_NO_MEMORY, "cannot allocate N
   bytes of scratch"), and `release` takes back what `alloc` returned. `ctx` is passed to both.
   Both null restores the default (the C++ runtime's aligned operator new). A call uses the pair
   that was set when it started, so this may be called at any time from any thread. Returns
   WEFT_AOT_OK, or WEFT_AOT_BAD_ARGUMENT (and changes nothing) when only one of them is null. */
typedef void *(*weft_aot_alloc_fn)(size_t bytes, void *ctx);
typedef void (*weft_aot_release_fn)(void *ptr, void *ctx);
int weft_aot_set_allocator(weft_aot_alloc_fn alloc, weft_aot_release_fn release, void *ctx);

/* A scratch arena that a caller keeps across calls, so that repeated calls skip allocating
   one and faulting its pages in: weft_aot_call_with_workspace takes its scratch from `ws`,
   which the first call allocates and a call that needs more (larger bound dims) grows, freeing
   the old one. Its bytes come from the allocator installed when it grows
   (weft_aot_set_allocator) and go back to that same one. One call at a time: a call on a
   workspace that another call is using fails with WEFT_AOT_BAD_ARGUMENT (keep one per thread).
   A null `ws` makes the call weft_aot_call. create returns NULL when out of memory; destroy
   frees the arena (NULL: nothing); bytes gives the arena's size now (0 for NULL). */
typedef struct weft_aot_workspace weft_aot_workspace;
weft_aot_workspace *weft_aot_workspace_create(void);
void weft_aot_workspace_destroy(weft_aot_workspace *ws);
size_t weft_aot_workspace_bytes(const weft_aot_workspace *ws);
int weft_aot_call_with_workspace(const weft_aot_function *fn, weft_aot_workspace *ws,
                                 const int64_t *dims, const weft_aot_input *inputs, size_t n_in,
                                 weft_aot_output *outputs, size_t n_out, char *err, size_t err_len);

/* Binds the symbols of `fn` as weft_aot_call would (from `dims`, which may be null, and the
   inputs' shapes) and checks the inputs, running nothing; writes the value of each symbol to
   bound[0 .. fn->n_symbols). With them, weft_aot_slot_shape gives each result's shape, so a
   caller can size its outputs. Returns 0, or WEFT_AOT_BAD_ARGUMENT with weft_aot_call's
   message. */
int weft_aot_bind_symbols(const weft_aot_function *fn, const int64_t *dims,
                          const weft_aot_input *inputs, size_t n_in, int64_t *bound, char *err,
                          size_t err_len);

/* Writes the sizes of slot `slot` of `fn` under `dims` (fn->n_symbols values) to
   shape[0 .. rank); returns 0, or -1 when a size is negative or overflows. */
int weft_aot_slot_shape(const weft_aot_function *fn, int32_t slot, const int64_t *dims,
                        int64_t *shape);

/* Bytes of slot `slot` of `fn` under `dims` (fn->n_symbols values), or -1 when a size is
   negative or overflows. */
int64_t weft_aot_slot_bytes(const weft_aot_function *fn, int32_t slot, const int64_t *dims);

/* Bytes of the scratch arena weft_aot_call allocates for `fn` under `dims` (fn->n_symbols
   values; parameters and results are the caller's, not in it), or -1 when a size is negative
   or overflows. */
int64_t weft_aot_arena_bytes(const weft_aot_function *fn, const int64_t *dims);

#ifdef __cplusplus
}
#endif

#endif /* WEFT_RUNTIME_AOT_H */
