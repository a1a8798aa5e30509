/* Two instances of one compiled model coexist: stepping one leaves the
   other untouched (the state is passed in, nothing is global). Runs the
   seed's third program, whose host loop applies the update. */
#include <stdio.h>

#include "seed3.h"

int main(void) {
  seed3_state *a = seed3_state_create(), *b = seed3_state_create();
  float loss;
  for (int i = 0; i < 3; ++i)
    seed3_host_iteration(a, &loss);
  printf("a: Loss: %g, Weight: %g, Bias: %g\n", loss,
         *(float *)a->variables[0], *(float *)a->variables[1]);
  seed3_host_iteration(b, &loss);
  printf("b: Loss: %g, Weight: %g, Bias: %g\n", loss,
         *(float *)b->variables[0], *(float *)b->variables[1]);
  seed3_state_free(a);
  seed3_state_free(b);
  return 0;
}
