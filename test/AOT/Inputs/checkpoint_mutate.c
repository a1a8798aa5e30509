/* The generated loader (prefix seed) on damaged checkpoints: every prefix
   of a good checkpoint, and the good checkpoint with each byte in turn
   changed (xor 0xFF, then xor 0x01), is written to TMP and loaded.

     checkpoint_mutate GOOD TMP

   A load that fails must leave the state exactly as it was; a load that
   succeeds (a changed byte that no reader looks at, such as a date) must
   give the state the good checkpoint gives. Prints how many loads gave
   each code. Built with AddressSanitizer and UBSan by the test: no read
   outside the file's bytes, no overflow. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seed.h"

static int same_state(const seed_state *a, const seed_state *b) {
  int i;
  if (a->step_count != b->step_count)
    return 0;
  for (i = 0; i < SEED_NUM_VARIABLES; ++i)
    if (memcmp(a->variables[i], b->variables[i], seed_variables[i].bytes))
      return 0;
  return 1;
}

static int write_file(const char *path, const unsigned char *b, size_t n) {
  FILE *f = fopen(path, "wb");
  int ok;
  if (!f)
    return 0;
  ok = fwrite(b, 1, n, f) == n;
  return fclose(f) == 0 && ok;
}

int main(int argc, char **argv) {
  static unsigned char good[1 << 20], bad[1 << 20];
  static long codes[32];
  seed_state *initial, *loaded, *s;
  size_t n, i;
  int k, flip, failures = 0;
  FILE *f;
  if (argc != 3 || !(f = fopen(argv[1], "rb")))
    return 2;
  n = fread(good, 1, sizeof good, f);
  fclose(f);
  initial = seed_state_create();
  loaded = seed_state_create();
  s = seed_state_create();
  if (!initial || !loaded || !s ||
      seed_state_load_checkpoint(loaded, argv[1]) != SEED_CHECKPOINT_OK)
    return 2;
  for (k = 0; k < 3; ++k)
    for (i = 0; i < n; ++i) {
      size_t len = n;
      int rc;
      memcpy(bad, good, n);
      if (k == 0)
        len = i; /* the first i bytes */
      else {
        flip = k == 1 ? 0xFF : 0x01;
        bad[i] ^= (unsigned char)flip;
      }
      if (!write_file(argv[2], bad, len))
        return 2;
      seed_state_free(s);
      s = seed_state_create();
      if (!s)
        return 2;
      rc = seed_state_load_checkpoint(s, argv[2]);
      if (rc > 0 || rc < -31)
        return 3;
      ++codes[-rc];
      if (rc == SEED_CHECKPOINT_OK ? !same_state(s, loaded)
                                   : !same_state(s, initial)) {
        printf("%s at byte %lu: code %d, and the state is wrong\n",
               k == 0 ? "cut" : "changed", (unsigned long)i, rc);
        ++failures;
      }
    }
  printf("%lu loads:", (unsigned long)(3 * n));
  for (k = 0; k < 32; ++k)
    if (codes[k])
      printf(" %ld x %d", codes[k], -k);
  printf("\n%s\n", failures ? "FAIL" : "every failed load left the state as "
                                       "it was, every other gave the good "
                                       "state");
  seed_state_free(initial);
  seed_state_free(loaded);
  seed_state_free(s);
  return failures != 0;
}
