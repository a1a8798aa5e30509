/* The same through the C API (libtape.so, the JIT):
   checkpoint_capi MODEL.mlir LOAD STEPS SAVE: compiles MODEL, loads LOAD
   with tapeStateLoadCheckpoint, runs STEPS host iterations printing each
   loss with 9 digits, saves to SAVE with tapeStateSaveCheckpoint. */
#include "tape-c/Tape.h"

#include <stdio.h>
#include <stdlib.h>

static int failed(TapeStatus st, const char *what) {
  if (tapeStatusIsOk(st))
    return 0;
  printf("%s: %s\n", what, tapeStatusGetMessage(st));
  tapeStatusDestroy(st);
  return 1;
}

int main(int argc, char **argv) {
  TapeModel model;
  TapeState state;
  int k;
  TapeCompileOptions defaults = {NULL};
  if (argc != 5)
    return 2;
  if (failed(tapeModelCompileFile(argv[1], defaults, &model), "compile"))
    return 1;
  state = tapeStateCreate(model);
  if (failed(tapeStateLoadCheckpoint(state, argv[2]), "load"))
    return 1;
  for (k = 0; k < atoi(argv[3]); ++k) {
    float loss;
    TapeBuffer out = {.data = &loss, .dtype = TapeDTypeF32};
    if (failed(tapeStateRun(state, "host_iteration", NULL, 0, &out, 1), "run"))
      return 1;
    printf("Loss: %.9g\n", loss);
  }
  if (failed(tapeStateSaveCheckpoint(state, argv[4]), "save"))
    return 1;
  fprintf(stderr, "step_count %llu\n",
          (unsigned long long)tapeStateGetStepCount(state));
  tapeStateDestroy(state);
  tapeModelDestroy(model);
  return 0;
}
