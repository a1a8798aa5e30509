/* Two threads compile and run two different modules at the same time
   through the C API; each gets exactly the results it gets alone. Then two
   threads share one state: every run either completes or is refused (the
   state is in use: TapeStatusFailedPrecondition), and the step count is
   exactly the completed runs. */
#include "tape-c/Tape.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STEPS 50

typedef struct Job {
  const char *path;
  const char *function;
  float losses[STEPS];
  int ok;
} Job;

static void *run(void *arg) {
  Job *job = (Job *)arg;
  job->ok = 0;
  TapeModel model;
  TapeStatus st = tapeModelCompileFile(job->path, (TapeCompileOptions){NULL}, &model);
  if (!tapeStatusIsOk(st)) {
    fprintf(stderr, "%s\n", tapeStatusGetMessage(st));
    tapeStatusDestroy(st);
    return NULL;
  }
  TapeState state = tapeStateCreate(model);
  for (int k = 0; k < STEPS; ++k) {
    /* Both seeds' entries return the loss first; seed 1 also w and b. */
    float out[3];
    TapeBuffer outs[3] = {{.data = &out[0], .dtype = TapeDTypeF32},
                          {.data = &out[1], .dtype = TapeDTypeF32},
                          {.data = &out[2], .dtype = TapeDTypeF32}};
    size_t n = 0;
    for (size_t i = 0; i < tapeModelGetNumFunctions(model); ++i)
      if (!strcmp(tapeModelGetFunctionName(model, i), job->function))
        n = tapeModelGetFunctionNumOutputs(model, i);
    st = tapeStateRun(state, job->function, NULL, 0, outs, n);
    if (!tapeStatusIsOk(st)) {
      fprintf(stderr, "%s\n", tapeStatusGetMessage(st));
      tapeStatusDestroy(st);
      return NULL;
    }
    job->losses[k] = out[0];
  }
  tapeStateDestroy(state);
  tapeModelDestroy(model);
  job->ok = 1;
  return NULL;
}

#define SHARED_RUNS 2000

typedef struct Shared {
  TapeState state;
  int completed, refused, other;
} Shared;

static void *hammer(void *arg) {
  Shared *shared = (Shared *)arg;
  for (int k = 0; k < SHARED_RUNS; ++k) {
    float out[3];
    TapeBuffer outs[3] = {{.data = &out[0], .dtype = TapeDTypeF32},
                          {.data = &out[1], .dtype = TapeDTypeF32},
                          {.data = &out[2], .dtype = TapeDTypeF32}};
    TapeStatus st = tapeStateRun(shared->state, "train_step", NULL, 0, outs, 3);
    if (tapeStatusIsOk(st))
      ++shared->completed;
    else if (tapeStatusGetCode(st) == TapeStatusFailedPrecondition &&
             strstr(tapeStatusGetMessage(st), "the state is in use"))
      ++shared->refused;
    else
      ++shared->other;
    tapeStatusDestroy(st);
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: threads_test SEED1.mlir SEED2.mlir\n");
    return 2;
  }
  Job alone[2] = {{argv[1], "train_step", {0}, 0},
                  {argv[2], "host_iteration", {0}, 0}};
  run(&alone[0]);
  run(&alone[1]);
  if (!alone[0].ok || !alone[1].ok)
    return 1;
  int failures = 0;
  for (int round = 0; round < 4; ++round) {
    Job together[2] = {alone[0], alone[1]};
    pthread_t threads[2];
    for (int i = 0; i < 2; ++i)
      pthread_create(&threads[i], NULL, run, &together[i]);
    for (int i = 0; i < 2; ++i)
      pthread_join(threads[i], NULL);
    for (int i = 0; i < 2; ++i)
      if (!together[i].ok ||
          memcmp(together[i].losses, alone[i].losses, sizeof alone[i].losses))
        ++failures;
  }
  /* One state, two threads. */
  TapeModel model;
  TapeStatus st = tapeModelCompileFile(argv[1], (TapeCompileOptions){NULL}, &model);
  if (!tapeStatusIsOk(st))
    return 1;
  TapeState state = tapeStateCreate(model);
  Shared shared[2] = {{state, 0, 0, 0}, {state, 0, 0, 0}};
  pthread_t threads[2];
  for (int i = 0; i < 2; ++i)
    pthread_create(&threads[i], NULL, hammer, &shared[i]);
  for (int i = 0; i < 2; ++i)
    pthread_join(threads[i], NULL);
  int completed = shared[0].completed + shared[1].completed;
  int refused = shared[0].refused + shared[1].refused;
  uint64_t steps = tapeStateGetStepCount(state);
  printf("one state, two threads: %d runs completed, %d refused, step "
         "count %llu\n",
         completed, refused, (unsigned long long)steps);
  if (shared[0].other || shared[1].other || completed + refused != 2 * SHARED_RUNS ||
      steps != (uint64_t)completed)
    ++failures;
  tapeStateDestroy(state);
  tapeModelDestroy(model);
  printf("%s\n", failures ? "threads disagree with single runs"
                          : "two threads match single runs; a shared state counts every run");
  return failures != 0;
}
