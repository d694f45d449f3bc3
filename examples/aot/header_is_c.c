/* Compiles the generated header as C: its ABI must be plain C. */
#include "rnn_model.h"

/* The typed entry point, as a C program would take its address. */
int (*const weft_example_rnn_from_c)(const float *, const float *, const float *, const float *,
                                     const float *, int64_t, int64_t, float *, float *, float *,
                                     char *, size_t) = weft_rnn;
