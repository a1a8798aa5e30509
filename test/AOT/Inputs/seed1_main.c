/* Runs the seed's first program from its AOT object and checks the exact
   output: three steps, loss before the update, weights after it. */
#include <stdio.h>
#include <string.h>

#include "seed1.h"

int main(void) {
  static const char *expected[] = {
      "Loss: 1, Weight: 1.04, Bias: 0.02",
      "Loss: 0.81, Weight: 1.076, Bias: 0.038",
      "Loss: 0.6561, Weight: 1.1084, Bias: 0.0542",
  };
  /* The layout names the variables in order. */
  if (SEED1_NUM_VARIABLES != 2 || strcmp(seed1_variables[0].name, "weight") ||
      strcmp(seed1_variables[1].name, "bias") ||
      strcmp(seed1_variables[0].dtype, "float32") ||
      seed1_variables[0].rank != 0) {
    fprintf(stderr, "unexpected state layout\n");
    return 1;
  }
  seed1_state *s = seed1_state_create();
  if (!s)
    return 1;
  int failures = 0;
  for (int i = 0; i < 3; ++i) {
    float loss, w, b;
    seed1_train_step(s, &loss, &w, &b);
    char line[128];
    snprintf(line, sizeof line, "Loss: %g, Weight: %g, Bias: %g", loss,
             *(float *)s->variables[0], *(float *)s->variables[1]);
    printf("%s\n", line);
    if (strcmp(line, expected[i]) || w != *(float *)s->variables[0]) {
      fprintf(stderr, "step %d: expected '%s'\n", i + 1, expected[i]);
      ++failures;
    }
  }
  printf("%llu steps\n", (unsigned long long)s->step_count);
  seed1_state_free(s);
  return failures != 0;
}
