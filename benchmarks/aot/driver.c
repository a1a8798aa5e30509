/* Runs a train step compiled ahead of time by tape-compile, for
   benchmarks/train_steps.py: loads the variables and the dataset from raw
   little-endian files, calls the step STEPS times and prints one JSON line
   with the median time per call and the first three losses.

     tape-compile model.mlir -o model.o --header model.h
     cc -O2 -DTAPE_HEADER='"model.h"' -DTAPE_INPUTS=2 -DTAPE_OUTPUTS=1 \
        [-DTAPE_IN0_T=float -DTAPE_IN1_T=int64_t] driver.c model.o -lm
     driver WORKDIR STEPS [ELEMENTS_PER_BATCH_OF_INPUT0 ELEMENTS_PER_BATCH_OF_INPUT1]

   The header is the one tape-compile wrote with the default prefix
   (`model`). TAPE_INPUTS / TAPE_OUTPUTS give the step's signature: 2 / 1
   (two inputs, output the loss: models B-F) or 0 / 3 (the seed's neuron,
   which returns loss, weight and bias). TAPE_IN<i>_T is the C element
   type that the header's model_train_step declares for input i (`float`,
   the default, or `int64_t` for the CNN's labels and the GPT's tokens and
   targets); WORKDIR/in<i>.bin holds elements of that type. A variable
   whose WORKDIR/<name>.bin exists starts from that file (optimizer slots
   keep their initial zeros); input i is WORKDIR/in<i>.bin, a dataset of
   whole batches that step k reads batch k mod (number of batches) of.

   Besides times and losses, the JSON line has the resident set size when
   main starts (the program, libc and any linked runtime) and the peak at
   the end: their difference is the memory the model takes (state,
   workspace, dataset), which train_steps.py compares to the analytic
   size. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if !defined(TAPE_HEADER) || !defined(TAPE_INPUTS) || !defined(TAPE_OUTPUTS)
#error "define TAPE_HEADER, TAPE_INPUTS and TAPE_OUTPUTS"
#endif
#include TAPE_HEADER

#ifndef TAPE_IN0_T
#define TAPE_IN0_T float
#endif
#ifndef TAPE_IN1_T
#define TAPE_IN1_T float
#endif

static void *read_file(const char *path, size_t *bytes) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  void *p = malloc(n > 0 ? (size_t)n : 1);
  if (!p || fread(p, 1, (size_t)n, f) != (size_t)n) {
    fprintf(stderr, "driver: cannot read %s\n", path);
    exit(1);
  }
  fclose(f);
  *bytes = (size_t)n;
  return p;
}

/* A "VmRSS"/"VmHWM" line of /proc/self/status in KiB; -1 if unreadable. */
static long status_kib(const char *field) {
  FILE *f = fopen("/proc/self/status", "r");
  if (!f)
    return -1;
  char line[256];
  long kib = -1;
  size_t n = strlen(field);
  while (fgets(line, sizeof line, f))
    if (!strncmp(line, field, n) && line[n] == ':') {
      kib = atol(line + n + 1);
      break;
    }
  fclose(f);
  return kib;
}

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec * 1e-3;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  if (argc != 3 + TAPE_INPUTS) {
    fprintf(stderr, "usage: %s WORKDIR STEPS%s\n", argv[0],
            TAPE_INPUTS ? " ELEMENTS_PER_BATCH..." : "");
    return 2;
  }
  long rss_start_kib = status_kib("VmRSS");
  const char *work = argv[1];
  long steps = atol(argv[2]);
  if (steps < 1) {
    fprintf(stderr, "driver: STEPS must be at least 1\n");
    return 2;
  }
  model_state *s = model_state_create();
  if (!s) {
    fprintf(stderr, "driver: out of memory\n");
    return 1;
  }
  char path[4096];
  for (int i = 0; i < MODEL_NUM_VARIABLES; ++i) {
    snprintf(path, sizeof path, "%s/%s.bin", work, model_variables[i].name);
    // Straight into the state: no copy to count in the peak.
    FILE *f = fopen(path, "rb");
    if (!f)
      continue;
    fseek(f, 0, SEEK_END);
    long bytes = ftell(f);
    fseek(f, 0, SEEK_SET);
    if (bytes < 0 || (size_t)bytes != model_variables[i].bytes ||
        fread(s->variables[i], 1, (size_t)bytes, f) != (size_t)bytes) {
      fprintf(stderr, "driver: %s has %ld bytes, variable %s needs %zu\n",
              path, bytes, model_variables[i].name, model_variables[i].bytes);
      return 1;
    }
    fclose(f);
  }
  /* Inputs as bytes; per_batch[i] is the size of one batch of input i in
     bytes (the elements the command line gives times the element size). */
  const size_t element_size[2] = {sizeof(TAPE_IN0_T), sizeof(TAPE_IN1_T)};
  unsigned char *inputs[TAPE_INPUTS + 1];
  size_t per_batch[TAPE_INPUTS + 1];
  long batches = 1;
  for (int i = 0; i < TAPE_INPUTS; ++i) {
    snprintf(path, sizeof path, "%s/in%d.bin", work, i);
    size_t bytes;
    inputs[i] = (unsigned char *)read_file(path, &bytes);
    per_batch[i] = (size_t)atol(argv[3 + i]) * element_size[i];
    if (!inputs[i] || per_batch[i] == 0 || bytes % per_batch[i] != 0) {
      fprintf(stderr,
              "driver: %s is not whole batches of %s elements of %zu bytes\n",
              path, argv[3 + i], element_size[i]);
      return 1;
    }
    long n = (long)(bytes / per_batch[i]);
    if (i == 0)
      batches = n;
    else if (n != batches) {
      fprintf(stderr, "driver: inputs hold different numbers of batches\n");
      return 1;
    }
  }
  double *times = (double *)malloc(sizeof(double) * (size_t)steps);
  float losses[3];
  float out[TAPE_OUTPUTS + 1];
  for (long k = 0; k < steps; ++k) {
    double t0 = now_us();
#if TAPE_INPUTS == 2 && TAPE_OUTPUTS == 1
    long b = k % batches;
    model_train_step(s, (const TAPE_IN0_T *)(inputs[0] + b * per_batch[0]),
                     (const TAPE_IN1_T *)(inputs[1] + b * per_batch[1]),
                     &out[0]);
#elif TAPE_INPUTS == 0 && TAPE_OUTPUTS == 3
    model_train_step(s, &out[0], &out[1], &out[2]);
#else
#error "unsupported step signature"
#endif
    times[k] = now_us() - t0;
    if (k < 3)
      losses[k] = out[0];
  }
  qsort(times, (size_t)steps, sizeof(double), cmp_double);
  printf("{\"median_us\": %.4f, \"min_us\": %.4f, \"losses\": [", times[steps / 2],
         times[0]);
  for (long k = 0; k < steps && k < 3; ++k)
    printf("%s%.9g", k ? ", " : "", losses[k]);
  printf("], \"rss_start_kib\": %ld, \"hwm_kib\": %ld}\n", rss_start_kib,
         status_kib("VmHWM"));
  model_state_free(s);
  return 0;
}
