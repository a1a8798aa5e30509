/* The MLP deployed: its object and header from `tape-compile --weights`
   (prefix mlp), no MLIR, no tape library. Classifies the rows of a raw
   float32 file (rows of 784 pixels in [0, 1], as numpy's tofile writes
   them) in batches of 64 through @evaluate, and prints each row's class;
   given one-hot labels too, prints the mean loss and the accuracy, as
   `tape-run --eval evaluate` does.

     cc -I. predict.c mlp.o -lm -o predict
     ./predict x.bin [labels.bin] */
#include <stdio.h>
#include <stdlib.h>

#include "mlp.h"

enum { kBatch = 64, kPixels = 784, kClasses = 10 };

/* Reads the next `count` floats of `f`; 0 at the end of the file. */
static int readBatch(FILE *f, float *out, size_t count) {
  return f && fread(out, sizeof(float), count, f) == count;
}

static int argmax(const float *row) {
  int best = 0;
  for (int j = 1; j < kClasses; ++j)
    if (row[j] > row[best])
      best = j;
  return best;
}

int main(int argc, char **argv) {
  static float x[kBatch * kPixels], labels[kBatch * kClasses],
      logits[kBatch * kClasses];
  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: predict x.bin [labels.bin]\n");
    return 2;
  }
  FILE *xs = fopen(argv[1], "rb");
  FILE *ys = argc == 3 ? fopen(argv[2], "rb") : NULL;
  if (!xs || (argc == 3 && !ys)) {
    fprintf(stderr, "predict: cannot open the input files\n");
    return 2;
  }
  mlp_state *s = mlp_state_create();
  if (!s)
    return 2;
  double lossSum = 0;
  long batches = 0, correct = 0, rows = 0;
  while (readBatch(xs, x, kBatch * kPixels)) {
    int haveLabels = readBatch(ys, labels, kBatch * kClasses);
    float loss;
    mlp_evaluate(s, x, labels, &loss, logits);
    for (int r = 0; r < kBatch; ++r) {
      int predicted = argmax(logits + r * kClasses);
      if (!haveLabels)
        printf("%d\n", predicted);
      correct += haveLabels && predicted == argmax(labels + r * kClasses);
    }
    lossSum += loss;
    rows += kBatch;
    ++batches;
  }
  if (ys && batches)
    printf("Deployed @evaluate: loss %.6g, accuracy %.6g (%ld rows in %ld "
           "batches)\n",
           lossSum / batches, (double)correct / rows, rows, batches);
  mlp_state_free(s);
  fclose(xs);
  if (ys)
    fclose(ys);
  return 0;
}
