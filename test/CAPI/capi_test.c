/* The C API end to end: compile the seed's second program, inspect the
   state layout, run its host loop three times (exact output), checkpoint,
   and every error path: bad IR (structured diagnostics), unknown function,
   wrong buffer shape or dtype, unknown variable, bad checkpoint, claimed
   shapes too large to allocate, null handles, indices out of range. */
#include "tape-c/Tape.h"

#include <stdio.h>
#include <string.h>

static int failures = 0;
#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                              \
    }                                                                          \
  } while (0)

static int expectError(TapeStatus st, const char *substring) {
  int ok = !tapeStatusIsOk(st) && strstr(tapeStatusGetMessage(st), substring);
  if (!ok)
    fprintf(stderr, "expected an error containing '%s', got '%s'\n", substring,
            tapeStatusGetMessage(st));
  tapeStatusDestroy(st);
  return ok;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: capi_test SEED2.mlir TMPDIR SEED3.mlir\n");
    return 2;
  }
  TapeModel model;
  TapeStatus st = tapeModelCompileFile(argv[1], NULL, &model);
  if (!tapeStatusIsOk(st)) {
    fprintf(stderr, "compile failed: %s\n", tapeStatusGetMessage(st));
    return 1;
  }
  CHECK(tapeModelGetNumVariables(model) == 2);
  CHECK(!strcmp(tapeModelGetVariableName(model, 0), "weight"));
  CHECK(tapeModelGetVariableDType(model, 1) == TapeDTypeF32);
  CHECK(tapeModelGetVariableRank(model, 0) == 0);
  CHECK(tapeModelIsVariableTrainable(model, 0));
  CHECK(tapeModelGetNumFunctions(model) == 2);

  TapeState state = tapeStateCreate(model);
  float loss = 0;
  TapeBuffer out = {&loss, TapeDTypeF32, 0, NULL};
  const char *expected[] = {"Loss: 1, Weight: 1.04, Bias: 0.02",
                            "Loss: 0.81, Weight: 1.076, Bias: 0.038",
                            "Loss: 0.6561, Weight: 1.1084, Bias: 0.0542"};
  for (int i = 0; i < 3; ++i) {
    st = tapeStateRun(state, "host_iteration", NULL, 0, &out, 1);
    CHECK(tapeStatusIsOk(st));
    float w, b;
    TapeBuffer wb = {&w, TapeDTypeF32, 0, NULL}, bb = {&b, TapeDTypeF32, 0, NULL};
    CHECK(tapeStatusIsOk(tapeStateGetVariable(state, "weight", wb)));
    CHECK(tapeStatusIsOk(tapeStateGetVariable(state, "bias", bb)));
    char line[128];
    snprintf(line, sizeof line, "Loss: %g, Weight: %g, Bias: %g", loss, w, b);
    printf("%s\n", line);
    CHECK(!strcmp(line, expected[i]));
  }

  /* Run the step directly with inputs: x = 2, y = 3. */
  float x = 2, y = 3;
  TapeBuffer in[2] = {{&x, TapeDTypeF32, 0, NULL}, {&y, TapeDTypeF32, 0, NULL}};
  CHECK(tapeStatusIsOk(tapeStateRun(state, "train_step", in, 2, &out, 1)));
  CHECK(tapeStateGetStepCount(state) == 4);
  CHECK(tapeModelIsFunctionTraining(model, 0) &&
        tapeModelIsFunctionTraining(model, 1));

  /* One definition of the step count: a training function counts once per
     call, a function that only reads the variables never does (the C++
     API, the C API, tape-run and the AOT header agree). */
  const char *reader =
      "tape.variable @v : tensor<f32> = dense<2.0>\n"
      "tape.step @s() -> tensor<f32> {\n"
      "  %h = tape.handle @v : !tape.resource<tensor<f32>>\n"
      "  %one = arith.constant dense<1.0> : tensor<f32>\n"
      "  tape.assign_add %h, %one : !tape.resource<tensor<f32>>\n"
      "  %r = tape.read %h : !tape.resource<tensor<f32>>\n"
      "  tape.return %r : tensor<f32>\n}\n"
      "func.func @peek() -> tensor<f32> {\n"
      "  %h = tape.handle @v : !tape.resource<tensor<f32>>\n"
      "  %r = tape.read %h : !tape.resource<tensor<f32>>\n"
      "  return %r : tensor<f32>\n}\n"
      "func.func @twice() -> tensor<f32> {\n"
      "  %a = tape.call @s() : () -> tensor<f32>\n"
      "  %b = tape.call @s() : () -> tensor<f32>\n"
      "  return %b : tensor<f32>\n}\n";
  TapeModel counted;
  st = tapeModelCompileString(reader, strlen(reader), NULL, &counted);
  CHECK(tapeStatusIsOk(st));
  if (tapeStatusIsOk(st)) {
    TapeState cs = tapeStateCreate(counted);
    float v = 0;
    TapeBuffer vb = {&v, TapeDTypeF32, 0, NULL};
    for (size_t i = 0; i < tapeModelGetNumFunctions(counted); ++i)
      CHECK(tapeModelIsFunctionTraining(counted, i) ==
            !!strcmp(tapeModelGetFunctionName(counted, i), "peek"));
    CHECK(tapeStatusIsOk(tapeStateRun(cs, "peek", NULL, 0, &vb, 1)));
    CHECK(v == 2 && tapeStateGetStepCount(cs) == 0);
    CHECK(tapeStatusIsOk(tapeStateRun(cs, "s", NULL, 0, &vb, 1)));
    CHECK(v == 3 && tapeStateGetStepCount(cs) == 1);
    CHECK(tapeStatusIsOk(tapeStateRun(cs, "twice", NULL, 0, &vb, 1)));
    CHECK(v == 5 && tapeStateGetStepCount(cs) == 2);
    CHECK(tapeStatusIsOk(tapeStateRun(cs, "peek", NULL, 0, &vb, 1)));
    CHECK(v == 5 && tapeStateGetStepCount(cs) == 2);
    tapeStateDestroy(cs);
    tapeModelDestroy(counted);
  }

  /* Checkpoint round trip: save, change, load. */
  char path[512];
  snprintf(path, sizeof path, "%s/capi.ckpt", argv[2]);
  CHECK(tapeStatusIsOk(tapeStateSaveCheckpoint(state, path)));
  float zero = 0, w = -1;
  TapeBuffer zb = {&zero, TapeDTypeF32, 0, NULL}, wb = {&w, TapeDTypeF32, 0, NULL};
  CHECK(tapeStatusIsOk(tapeStateSetVariable(state, "weight", zb)));
  CHECK(tapeStatusIsOk(tapeStateLoadCheckpoint(state, path)));
  CHECK(tapeStatusIsOk(tapeStateGetVariable(state, "weight", wb)));
  CHECK(w > 1.1f && w < 1.2f);

  /* Errors at the boundary: checked, reported, nothing read or written. */
  int64_t two[1] = {2};
  float pair[2];
  TapeBuffer wrongShape = {pair, TapeDTypeF32, 1, two};
  double d;
  TapeBuffer wrongType = {&d, TapeDTypeF64, 0, NULL};
  CHECK(expectError(tapeStateRun(state, "nope", NULL, 0, NULL, 0),
                    "no function @nope"));
  CHECK(expectError(tapeStateRun(state, "host_iteration", NULL, 0, &wrongShape, 1),
                    "output #0 of @host_iteration must be float32[], got float32[2]"));
  CHECK(expectError(tapeStateRun(state, "host_iteration", NULL, 0, &wrongType, 1),
                    "must be float32[], got float64[]"));
  CHECK(expectError(tapeStateRun(state, "train_step", in, 1, &out, 1),
                    "takes 2 inputs and 1 outputs, got 1 and 1"));
  TapeBuffer nullData = {NULL, TapeDTypeF32, 0, NULL};
  CHECK(expectError(tapeStateRun(state, "host_iteration", NULL, 0, &nullData, 1),
                    "null data pointer"));
  CHECK(expectError(tapeStateSetVariable(state, "nope", zb), "no variable 'nope'"));
  CHECK(expectError(tapeStateSetVariable(state, "weight", wrongShape),
                    "variable 'weight' is float32[], got float32[2]"));
  CHECK(expectError(tapeStateLoadCheckpoint(state, argv[1]),
                    "not a usable checkpoint"));
  /* A claimed shape is compared, never allocated: 2^40 elements, and one
     whose size overflows. */
  int64_t hugeShape[] = {(int64_t)1 << 40, (int64_t)1 << 40};
  TapeBuffer huge = {&w, TapeDTypeF32, 1, hugeShape};
  CHECK(expectError(tapeStateSetVariable(state, "weight", huge),
                    "variable 'weight' is float32[], got float32[1099511627776]"));
  huge.rank = 2;
  CHECK(expectError(tapeStateSetVariable(state, "weight", huge),
                    "its size overflows 64 bits"));

  /* Null handles and indices out of range: the documented neutral values,
     never a crash. */
  TapeModel nullModel = {NULL};
  TapeState nullState = {NULL};
  size_t nv = tapeModelGetNumVariables(model);
  size_t nf = tapeModelGetNumFunctions(model);
  CHECK(tapeModelGetNumVariables(nullModel) == 0);
  CHECK(tapeModelGetNumFunctions(nullModel) == 0);
  CHECK(tapeModelGetNumWarnings(nullModel) == 0);
  CHECK(tapeModelGetWarning(model, 1000) == NULL);
  CHECK(tapeModelGetWarning(nullModel, 0) == NULL);
  CHECK(tapeModelGetVariableName(model, nv) == NULL);
  CHECK(tapeModelGetVariableName(nullModel, 0) == NULL);
  CHECK(tapeModelGetVariableShape(model, nv) == NULL);
  CHECK(tapeModelGetVariableRank(model, nv) == -1);
  CHECK(tapeModelGetVariableDType(model, nv) == TapeDTypeF32);
  CHECK(!tapeModelIsVariableTrainable(model, nv));
  CHECK(tapeModelGetFunctionName(model, nf) == NULL);
  CHECK(!tapeModelIsFunctionStep(model, nf));
  CHECK(tapeModelGetFunctionNumInputs(model, nf) == 0);
  CHECK(tapeModelGetFunctionNumOutputs(nullModel, 0) == 0);
  CHECK(tapeStateCreate(nullModel).ptr == NULL);
  CHECK(tapeStateGetStepCount(nullState) == 0);
  tapeStateDestroy(nullState);
  tapeModelDestroy(nullModel);
  CHECK(expectError(tapeStateRun(nullState, "train_step", NULL, 0, NULL, 0),
                    "null argument"));
  CHECK(tapeStatusIsOk(tapeStateGetVariable(state, "weight", wb)));
  CHECK(w > 1.1f && w < 1.2f); /* unchanged by the failed load */

  /* Bad IR: structured diagnostics with locations, nothing on stderr. */
  const char *bad = "tape.step @s() {\n  %w = tape.handle @nope : "
                    "!tape.resource<tensor<f32>>\n  tape.return\n}\n";
  TapeModel other;
  st = tapeModelCompileString(bad, strlen(bad), NULL, &other);
  CHECK(!tapeStatusIsOk(st));
  CHECK(tapeStatusGetNumDiagnostics(st) >= 1);
  TapeSeverity sev;
  const char *loc, *msg;
  tapeStatusGetDiagnostic(st, 0, &sev, &loc, &msg);
  CHECK(sev == TapeSeverityError);
  CHECK(strstr(loc, ":2:8") != NULL);
  CHECK(strstr(msg, "refers to unknown variable @nope") != NULL);
  printf("diagnostic: %s: %s\n", loc, msg);
  tapeStatusDestroy(st);

  /* Options: the defaults, then out-of-range values rejected before
     anything compiles, and strict mode turning the host-side update of
     seed 3 from a warning into an error. */
  TapeCompileOptions opts = tapeCompileOptionsGetDefault();
  CHECK(!opts.strict && opts.threads == 1 && opts.vectorBits == 0 &&
        opts.vectorize && opts.packMatmuls && opts.fuseUpdates);
  opts.vectorBits = 100;
  CHECK(expectError(tapeModelCompileFile(argv[1], &opts, &other),
                    "TapeCompileOptions: the vector width must be"));
  opts = tapeCompileOptionsGetDefault();
  opts.threads = -1;
  CHECK(expectError(tapeModelCompileFile(argv[1], &opts, &other),
                    "the number of threads must be 0"));
  opts = tapeCompileOptionsGetDefault();
  CHECK(tapeStatusIsOk(tapeModelCompileFile(argv[3], &opts, &other)));
  CHECK(tapeModelGetNumWarnings(other) >= 1);
  tapeModelDestroy(other);
  opts.strict = true;
  st = tapeModelCompileFile(argv[3], &opts, &other);
  CHECK(!tapeStatusIsOk(st));
  tapeStatusGetDiagnostic(st, 0, &sev, &loc, &msg);
  CHECK(strstr(msg, "host-side update") != NULL);
  tapeStatusDestroy(st);

  /* The dialect handle for MLIR C API users. */
  MlirDialectHandle handle = mlirGetDialectHandle__tape__();
  CHECK(handle.ptr != NULL);

  tapeStateDestroy(state);
  tapeModelDestroy(model);
  printf("%s\n", failures ? "FAILED" : "all C API checks passed");
  return failures != 0;
}
