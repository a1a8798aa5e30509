/* The C API's cost per tapeStateRun, and what the compiled code does with
   the caller's memory (not a test: timings never go in tests).

     cc -std=c11 -O2 -I include -I /usr/lib/llvm-22/include \
        benchmarks/capi/call_overhead.c -L build/lib -ltape \
        -Wl,-rpath,$PWD/build/lib -o /tmp/call_overhead
     /tmp/call_overhead examples/mlp/mlp_sgd.mlir

   Prints the time per call (median of 7 rounds) of a function that adds 1
   to 16 floats, and of the MLP's @evaluate (64x784 input, 201 KB), with
   the buffers in place and with the input passed through a strided view
   (gathered into a temporary); checks that the MLP's outputs are bitwise
   the same for an in-place input, an input 4 bytes past a 64-byte
   boundary (aligned for float only) and a copied one. */
#define _POSIX_C_SOURCE 200809L

#include "tape-c/Tape.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void check(TapeStatus st) {
  if (!tapeStatusIsOk(st)) {
    fprintf(stderr, "%s\n", tapeStatusGetMessage(st));
    exit(1);
  }
}

/* Median seconds per call over 7 rounds of `calls` runs. */
static double perCall(TapeState state, const char *fn, const TapeBuffer *in,
                      size_t nin, const TapeBuffer *out, size_t nout,
                      int calls) {
  double rounds[7];
  for (int r = 0; r < 7; ++r) {
    double start = now();
    for (int k = 0; k < calls; ++k)
      check(tapeStateRun(state, fn, in, nin, out, nout));
    rounds[r] = (now() - start) / calls;
  }
  qsort(rounds, 7, sizeof rounds[0], cmp);
  return rounds[3];
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s examples/mlp/mlp_sgd.mlir\n", argv[0]);
    return 2;
  }
  TapeCompileOptions defaults = {NULL};
  const char *tiny = "func.func @add_one(%x: tensor<16xf32>) -> tensor<16xf32> {\n"
                     "  %one = arith.constant dense<1.0> : tensor<16xf32>\n"
                     "  %y = arith.addf %x, %one : tensor<16xf32>\n"
                     "  return %y : tensor<16xf32>\n}\n";
  TapeModel small;
  check(tapeModelCompileString(tiny, strlen(tiny), defaults, &small));
  TapeState s = tapeStateCreate(small);
  static const int64_t n16[1] = {16}, stride2[1] = {2};
  static float x16[32], y16[16];
  TapeBuffer in = {.data = x16, .dtype = TapeDTypeF32, .rank = 1, .shape = n16};
  TapeBuffer out = {.data = y16, .dtype = TapeDTypeF32, .rank = 1, .shape = n16};
  double tinyInPlace = perCall(s, "add_one", &in, 1, &out, 1, 200000);
  uint64_t copied = tapeStateGetLastRunCopiedBytes(s);
  in.strides = stride2;
  double tinyStrided = perCall(s, "add_one", &in, 1, &out, 1, 200000);
  printf("add_one (16 floats): %.0f ns per call in place (%llu bytes "
         "copied), %.0f ns with a strided input\n",
         tinyInPlace * 1e9, (unsigned long long)copied, tinyStrided * 1e9);
  tapeStateDestroy(s);
  tapeModelDestroy(small);

  TapeModel mlp;
  check(tapeModelCompileFile(argv[1], defaults, &mlp));
  s = tapeStateCreate(mlp);
  static const int64_t xs[2] = {64, 784}, ls[2] = {64, 10}, wide[2] = {785, 1};
  size_t xBytes = 64 * 784 * sizeof(float);
  float *x = aligned_alloc(64, xBytes);
  /* The same values 4 bytes past a 64-byte boundary, and with rows 785
     floats apart. */
  char *shifted = aligned_alloc(64, xBytes + 64);
  float *offset = (float *)(shifted + 4);
  float *strided = aligned_alloc(64, 64 * 785 * sizeof(float));
  static float labels[64][10], loss[3], probs[3][64][10];
  srand(1);
  for (size_t i = 0; i < 64 * 784; ++i)
    x[i] = (float)rand() / (float)RAND_MAX;
  memcpy(offset, x, xBytes);
  for (int i = 0; i < 64; ++i)
    memcpy(strided + i * 785, x + i * 784, 784 * sizeof(float));
  for (int i = 0; i < 64; ++i)
    labels[i][i % 10] = 1;
  TapeBuffer ins[2] = {
      {.data = x, .dtype = TapeDTypeF32, .rank = 2, .shape = xs},
      {.data = labels, .dtype = TapeDTypeF32, .rank = 2, .shape = ls}};
  TapeBuffer outs[2] = {
      {.data = &loss[0], .dtype = TapeDTypeF32},
      {.data = probs[0], .dtype = TapeDTypeF32, .rank = 2, .shape = ls}};
  double mlpInPlace = perCall(s, "evaluate", ins, 2, outs, 2, 200);
  copied = tapeStateGetLastRunCopiedBytes(s);
  ins[0].data = offset;
  outs[0].data = &loss[1];
  outs[1].data = probs[1];
  check(tapeStateRun(s, "evaluate", ins, 2, outs, 2));
  uint64_t offsetCopied = tapeStateGetLastRunCopiedBytes(s);
  ins[0].data = strided;
  ins[0].strides = wide;
  outs[0].data = &loss[2];
  outs[1].data = probs[2];
  double mlpStrided = perCall(s, "evaluate", ins, 2, outs, 2, 200);
  uint64_t stridedCopied = tapeStateGetLastRunCopiedBytes(s);
  int same = !memcmp(&loss[0], &loss[1], 4) && !memcmp(&loss[0], &loss[2], 4) &&
             !memcmp(probs[0], probs[1], sizeof probs[0]) &&
             !memcmp(probs[0], probs[2], sizeof probs[0]);
  printf("mlp @evaluate (64x784 input): %.1f us per call in place (%llu "
         "bytes copied), %.1f us with a strided input (%llu bytes copied); "
         "input at +4 bytes: %llu bytes copied; outputs %s\n",
         mlpInPlace * 1e6, (unsigned long long)copied, mlpStrided * 1e6,
         (unsigned long long)stridedCopied, (unsigned long long)offsetCopied,
         same ? "bitwise identical" : "DIFFER");
  free(x);
  free(shifted);
  free(strided);
  tapeStateDestroy(s);
  tapeModelDestroy(mlp);
  return same ? 0 : 1;
}
