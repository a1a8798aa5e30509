/* Embedding tape from C: compile a train step from a file, run it and print
   the loss and the variables, like the seed's Python loop.

     embed-c examples/seed/2_apply_gradients.mlir host_iteration 3 */
#include "tape-c/Tape.h"

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s MODULE.mlir FUNCTION STEPS\n", argv[0]);
    return 2;
  }
  TapeModel model;
  TapeCompileOptions defaults = {NULL}; /* the null handle: every default */
  TapeStatus status = tapeModelCompileFile(argv[1], defaults, &model);
  if (!tapeStatusIsOk(status)) {
    fprintf(stderr, "%s: %s\n",
            tapeStatusCodeGetName(tapeStatusGetCode(status)),
            tapeStatusGetMessage(status));
    for (size_t i = 0; i < tapeStatusGetNumDiagnostics(status); ++i) {
      const char *loc, *msg;
      tapeStatusGetDiagnostic(status, i, NULL, &loc, &msg);
      fprintf(stderr, "  %s: %s\n", loc, msg);
    }
    tapeStatusDestroy(status);
    return 1;
  }
  TapeState state = tapeStateCreate(model);
  int steps = atoi(argv[3]);
  for (int k = 0; k < steps; ++k) {
    float loss;
    TapeBuffer out = {.data = &loss, .dtype = TapeDTypeF32};
    status = tapeStateRun(state, argv[2], NULL, 0, &out, 1);
    if (!tapeStatusIsOk(status)) {
      fprintf(stderr, "%s\n", tapeStatusGetMessage(status));
      tapeStatusDestroy(status);
      return 1;
    }
    printf("Loss: %g", loss);
    for (size_t i = 0; i < tapeModelGetNumVariables(model); ++i) {
      if (tapeModelGetVariableRank(model, i) != 0)
        continue;
      float v;
      TapeBuffer b = {.data = &v, .dtype = TapeDTypeF32};
      tapeStatusDestroy(
          tapeStateGetVariable(state, tapeModelGetVariableName(model, i), b));
      printf(", %s: %g", tapeModelGetVariableName(model, i), v);
    }
    printf("\n");
  }
  tapeStateDestroy(state);
  tapeModelDestroy(model);
  return 0;
}
