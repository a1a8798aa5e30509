/* The seed's second program (with Adam) from its AOT object (prefix seed):
   checkpoint_aot [LOAD|-] STEPS [SAVE]: loads checkpoint LOAD with the
   header's function ('-': the object's initial values), runs STEPS host
   iterations printing each loss with 9 digits, saves to SAVE. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seed.h"

int main(int argc, char **argv) {
  seed_state *s;
  int k, rc;
  if (argc < 3)
    return 2;
  s = seed_state_create();
  if (!s)
    return 2;
  if (strcmp(argv[1], "-") &&
      (rc = seed_state_load_checkpoint(s, argv[1])) != SEED_CHECKPOINT_OK) {
    printf("load: %s\n", seed_checkpoint_error_message(rc));
    seed_state_free(s);
    return 1;
  }
  for (k = 0; k < atoi(argv[2]); ++k) {
    float loss;
    seed_host_iteration(s, &loss);
    printf("Loss: %.9g\n", loss);
  }
  if (argc > 3 &&
      (rc = seed_state_save_checkpoint(s, argv[3])) != SEED_CHECKPOINT_OK) {
    printf("save: %s\n", seed_checkpoint_error_message(rc));
    seed_state_free(s);
    return 1;
  }
  fprintf(stderr, "step_count %llu\n", (unsigned long long)s->step_count);
  seed_state_free(s);
  return 0;
}
