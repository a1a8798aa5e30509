/* A deployed program: the MLP's AOT object and header (prefix mlp), no
   MLIR, no tape library. Runs train steps on one batch and moves its state
   through checkpoints with the header's functions.

     deploy x.bin labels.bin [actions...]
       --load FILE      load a checkpoint; on failure print the code and
                        exit 1
       --try-load FILE  load a checkpoint; on failure print the code and go
                        on (the state must be unchanged)
       --save FILE      save a checkpoint; on failure print the code, exit 1
       --try-save FILE  save; on failure print the code and go on
       --steps N        run N steps, printing "Loss: %.9g" (what
                        tape-run --precision 9 prints: 9 digits tell every
                        float apart, so equal text is an equal loss)

   The step count goes to stderr after each action. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlp.h"

static int readFloats(const char *path, float *out, size_t count) {
  FILE *f = fopen(path, "rb");
  size_t n;
  if (!f)
    return 0;
  n = fread(out, sizeof(float), count, f);
  fclose(f);
  return n == count;
}

int main(int argc, char **argv) {
  static float x[64 * 784], labels[64 * 10];
  mlp_state *s;
  int i, rc = 0;
  if (argc < 3 || !readFloats(argv[1], x, 64 * 784) ||
      !readFloats(argv[2], labels, 64 * 10)) {
    fprintf(stderr, "usage: deploy x.bin labels.bin [actions...]\n");
    return 2;
  }
  s = mlp_state_create();
  if (!s)
    return 2;
  for (i = 3; i + 1 < argc && rc == 0; i += 2) {
    const char *action = argv[i], *arg = argv[i + 1];
    if (!strcmp(action, "--load") || !strcmp(action, "--try-load")) {
      int code = mlp_state_load_checkpoint(s, arg);
      if (code != MLP_CHECKPOINT_OK) {
        printf("load: %d %s\n", code, mlp_checkpoint_error_message(code));
        if (!strcmp(action, "--load"))
          rc = 1;
      }
    } else if (!strcmp(action, "--save") || !strcmp(action, "--try-save")) {
      int code = mlp_state_save_checkpoint(s, arg);
      if (code != MLP_CHECKPOINT_OK) {
        printf("save: %d %s\n", code, mlp_checkpoint_error_message(code));
        if (!strcmp(action, "--save"))
          rc = 1;
      }
    } else if (!strcmp(action, "--steps")) {
      int k, n = atoi(arg);
      for (k = 0; k < n; ++k) {
        float loss;
        mlp_train_step(s, x, labels, &loss);
        printf("Loss: %.9g\n", loss);
      }
    } else {
      fprintf(stderr, "unknown action %s\n", action);
      rc = 2;
    }
    fflush(stdout);
    fprintf(stderr, "%s: step_count %llu\n", action,
            (unsigned long long)s->step_count);
  }
  mlp_state_free(s);
  return rc;
}
