/* The C API end to end, every function of tape-c/Tape.h with its error
   paths and their codes:

   - status codes and names, the null handles;
   - compile options: defaults, every setter and getter, values out of
     range refused (TapeStatusOutOfRange) and left as they were, every
     option compiled and run;
   - models from a file, text, an MlirModule (the dialect handle and
     tapeRegisterAllDialects on a context of MLIR's C API, tape passes in
     its pass manager) and a shared library; the signature queries (names,
     dtypes, ranks, shapes);
   - runs on the caller's memory: in place when the layout allows it
     (tapeStateGetLastRunCopiedBytes is 0), through temporaries otherwise
     (strided, reversed, misaligned and overlapping buffers), each result
     compared with what the module computes, done again here in C;
   - variables through any strides, checkpoints, check-numerics;
   - every error: wrong shapes, dtypes and counts, unknown names, null
     handles, bad options, bad IR, missing and damaged files.

   Usage: capi_test SEED2.mlir TMPDIR SEED3.mlir SEED2.so
   (SEED2.so: tape-compile --shared of SEED2.mlir) */
#define _POSIX_C_SOURCE 200809L /* setenv */

#include "tape-c/Tape.h"

#include "mlir-c/Diagnostics.h"
#include "mlir-c/Pass.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;
#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                              \
    }                                                                          \
  } while (0)

/* Consumes `st`: true if it is an error of `code` whose message contains
   `substring`. */
static int expectError(TapeStatus st, TapeStatusCode code,
                       const char *substring) {
  int ok = !tapeStatusIsOk(st) && tapeStatusGetCode(st) == code &&
           strstr(tapeStatusGetMessage(st), substring);
  if (!ok)
    fprintf(stderr, "expected %s '...%s...', got %s '%s'\n",
            tapeStatusCodeGetName(code), substring,
            tapeStatusCodeGetName(tapeStatusGetCode(st)),
            tapeStatusGetMessage(st));
  tapeStatusDestroy(st);
  return ok;
}

/* Consumes `st`: true if it is success (else prints it). */
static int ok(TapeStatus st) {
  if (tapeStatusIsOk(st))
    return 1;
  fprintf(stderr, "unexpected error %s: %s\n",
          tapeStatusCodeGetName(tapeStatusGetCode(st)),
          tapeStatusGetMessage(st));
  for (size_t i = 0; i < tapeStatusGetNumDiagnostics(st); ++i) {
    const char *loc = "", *msg = "";
    tapeStatusGetDiagnostic(st, i, NULL, &loc, &msg);
    fprintf(stderr, "  %s: %s\n", loc, msg);
  }
  tapeStatusDestroy(st);
  return 0;
}

static const TapeCompileOptions kDefaults = {NULL};

static TapeBuffer scalarF32(float *p) {
  TapeBuffer b = {.data = p, .dtype = TapeDTypeF32};
  return b;
}

/*===--- Status codes and null handles ----------------------------------===*/

static void testStatusAndNullHandles(void) {
  static const char *names[] = {
      "OK",          "INVALID_ARGUMENT", "NOT_FOUND",
      "OUT_OF_RANGE", "FAILED_PRECONDITION", "RESOURCE_EXHAUSTED",
      "UNAVAILABLE", "IO_ERROR",          "DATA_LOSS",
      "COMPILE_ERROR", "NUMERICAL_ERROR", "INTERNAL"};
  for (int c = 0; c <= TapeStatusInternal; ++c)
    CHECK(!strcmp(tapeStatusCodeGetName((TapeStatusCode)c), names[c]));
  CHECK(!strcmp(tapeStatusCodeGetName((TapeStatusCode)99), "UNKNOWN"));

  TapeStatus success = {NULL};
  CHECK(tapeStatusIsOk(success) && tapeStatusIsNull(success));
  CHECK(tapeStatusGetCode(success) == TapeStatusOk);
  CHECK(!strcmp(tapeStatusGetMessage(success), ""));
  CHECK(tapeStatusGetNumDiagnostics(success) == 0);
  TapeSeverity sev = TapeSeverityNote;
  const char *loc = "unchanged", *msg = "unchanged";
  tapeStatusGetDiagnostic(success, 0, &sev, &loc, &msg);
  CHECK(sev == TapeSeverityNote && !strcmp(loc, "unchanged") &&
        !strcmp(msg, "unchanged"));
  tapeStatusDestroy(success);

  TapeModel model = {NULL};
  TapeState state = {NULL};
  TapeCompileOptions options = {NULL};
  CHECK(tapeModelIsNull(model) && tapeStateIsNull(state) &&
        tapeCompileOptionsIsNull(options));
  /* Every fallible function refuses null handles and pointers with
     InvalidArgument. */
  float f = 0;
  TapeBuffer b = scalarF32(&f);
  TapeModel out;
  CHECK(expectError(tapeModelCompileString(NULL, 0, kDefaults, &out),
                    TapeStatusInvalidArgument, "null"));
  CHECK(expectError(tapeModelCompileString("", 0, kDefaults, NULL),
                    TapeStatusInvalidArgument, "null"));
  CHECK(expectError(tapeModelCompileFile(NULL, kDefaults, &out),
                    TapeStatusInvalidArgument, "null"));
  MlirModule nullModule = {NULL};
  CHECK(expectError(tapeModelCompileModule(nullModule, kDefaults, &out),
                    TapeStatusInvalidArgument, "null"));
  CHECK(expectError(tapeModelLoadShared(NULL, &out),
                    TapeStatusInvalidArgument, "null"));
  CHECK(expectError(tapeStateRun(state, "f", NULL, 0, NULL, 0),
                    TapeStatusInvalidArgument, "tapeStateRun: a null handle"));
  CHECK(expectError(tapeStateGetVariable(state, "v", b),
                    TapeStatusInvalidArgument, "null"));
  CHECK(expectError(tapeStateSetVariable(state, "v", b),
                    TapeStatusInvalidArgument, "null"));
  CHECK(expectError(tapeStateSaveCheckpoint(state, "x"),
                    TapeStatusInvalidArgument, "null"));
  CHECK(expectError(tapeStateLoadCheckpoint(state, "x"),
                    TapeStatusInvalidArgument, "null"));
  CHECK(expectError(tapeCompileOptionsSetStrict(options, true),
                    TapeStatusInvalidArgument, "null"));
  CHECK(expectError(tapeCompileOptionsSetThreads(options, 2),
                    TapeStatusInvalidArgument, "null"));

  /* Queries and destroys of null handles: neutral values, no crash. */
  CHECK(tapeModelGetNumVariables(model) == 0);
  CHECK(tapeModelGetNumFunctions(model) == 0);
  CHECK(tapeModelGetNumWarnings(model) == 0);
  CHECK(tapeModelGetWarning(model, 0) == NULL);
  tapeModelGetWarningDiagnostic(model, 0, &sev, &loc, &msg);
  CHECK(sev == TapeSeverityNote && !strcmp(loc, "unchanged"));
  CHECK(tapeModelGetVariableName(model, 0) == NULL);
  CHECK(tapeModelFindVariable(model, "v") == -1);
  CHECK(tapeModelFindFunction(model, "f") == -1);
  CHECK(tapeModelGetFunctionNumInputs(model, 0) == 0);
  CHECK(tapeModelGetFunctionOutputName(model, 0, 0) == NULL);
  CHECK(tapeStateCreate(model).ptr == NULL);
  CHECK(tapeStateGetStepCount(state) == 0);
  CHECK(tapeStateGetLastRunCopiedBytes(state) == 0);
  CHECK(tapeModelIsNull(tapeStateGetModel(state)));
  tapeStateDestroy(state);
  tapeModelDestroy(model);
  tapeCompileOptionsDestroy(options);
}

/*===--- Compile options ------------------------------------------------===*/

static void testOptions(void) {
  TapeCompileOptions null = {NULL};
  TapeCompileOptions o = tapeCompileOptionsCreate();
  CHECK(!tapeCompileOptionsIsNull(o));
  /* The defaults (tape::CompileOptions's, as the tools' flags), from the
     object and from the null handle alike. */
  TapeCompileOptions both[2] = {o, null};
  for (int i = 0; i < 2; ++i) {
    TapeCompileOptions x = both[i];
    CHECK(!strcmp(tapeCompileOptionsGetSourceName(x), "<module>"));
    CHECK(!tapeCompileOptionsGetStrict(x));
    CHECK(!tapeCompileOptionsGetCheckNumerics(x));
    CHECK(!tapeCompileOptionsGetBlas(x));
    CHECK(tapeCompileOptionsGetBlasMinFlops(x) == 1000000);
    CHECK(tapeCompileOptionsGetThreads(x) == 1);
    CHECK(tapeCompileOptionsGetVectorBits(x) == 0);
    CHECK(tapeCompileOptionsGetVectorize(x));
    CHECK(tapeCompileOptionsGetPackMatmuls(x));
    CHECK(tapeCompileOptionsGetFuseUpdates(x));
    CHECK(!tapeCompileOptionsGetReportCopies(x));
    CHECK(!tapeCompileOptionsGetDebugInfo(x));
    CHECK(!tapeCompileOptionsGetDataParallel(x));
    CHECK(!strcmp(tapeCompileOptionsGetMPIABI(x), "OpenMPI") ||
          !strcmp(tapeCompileOptionsGetMPIABI(x), "MPICH"));
  }
  /* Every setter, read back. */
  CHECK(ok(tapeCompileOptionsSetSourceName(o, "model.mlir")));
  CHECK(ok(tapeCompileOptionsSetStrict(o, true)));
  CHECK(ok(tapeCompileOptionsSetCheckNumerics(o, true)));
  CHECK(ok(tapeCompileOptionsSetBlas(o, true)));
  CHECK(ok(tapeCompileOptionsSetBlasMinFlops(o, 0)));
  CHECK(ok(tapeCompileOptionsSetThreads(o, 0)));
  CHECK(ok(tapeCompileOptionsSetVectorBits(o, 256)));
  CHECK(ok(tapeCompileOptionsSetVectorize(o, false)));
  CHECK(ok(tapeCompileOptionsSetPackMatmuls(o, false)));
  CHECK(ok(tapeCompileOptionsSetFuseUpdates(o, false)));
  CHECK(ok(tapeCompileOptionsSetReportCopies(o, true)));
  CHECK(ok(tapeCompileOptionsSetDebugInfo(o, true)));
  CHECK(ok(tapeCompileOptionsSetDataParallel(o, true)));
  CHECK(ok(tapeCompileOptionsSetMPIABI(o, "MPICH")));
  CHECK(tapeCompileOptionsGetDataParallel(o) &&
        !strcmp(tapeCompileOptionsGetMPIABI(o), "MPICH"));
  CHECK(!strcmp(tapeCompileOptionsGetSourceName(o), "model.mlir"));
  CHECK(tapeCompileOptionsGetStrict(o) && tapeCompileOptionsGetCheckNumerics(o) &&
        tapeCompileOptionsGetBlas(o) && tapeCompileOptionsGetReportCopies(o) &&
        tapeCompileOptionsGetDebugInfo(o));
  CHECK(tapeCompileOptionsGetBlasMinFlops(o) == 0 &&
        tapeCompileOptionsGetThreads(o) == 0 &&
        tapeCompileOptionsGetVectorBits(o) == 256);
  CHECK(!tapeCompileOptionsGetVectorize(o) &&
        !tapeCompileOptionsGetPackMatmuls(o) &&
        !tapeCompileOptionsGetFuseUpdates(o));
  /* Out of range: refused, the option unchanged. */
  CHECK(expectError(tapeCompileOptionsSetThreads(o, -1), TapeStatusOutOfRange,
                    "tapeCompileOptionsSetThreads: the number of threads "
                    "must be 0"));
  CHECK(expectError(tapeCompileOptionsSetThreads(o, 5000),
                    TapeStatusOutOfRange, "at most 4096"));
  CHECK(expectError(tapeCompileOptionsSetVectorBits(o, 100),
                    TapeStatusOutOfRange, "the vector width must be"));
  CHECK(expectError(tapeCompileOptionsSetBlasMinFlops(o, -5),
                    TapeStatusOutOfRange, "blas-min-flops"));
  CHECK(expectError(tapeCompileOptionsSetSourceName(o, NULL),
                    TapeStatusInvalidArgument, "null"));
  CHECK(expectError(tapeCompileOptionsSetMPIABI(o, "LAM"), TapeStatusOutOfRange,
                    "LAM"));
  CHECK(expectError(tapeCompileOptionsSetMPIABI(o, NULL),
                    TapeStatusInvalidArgument, "null"));
  CHECK(!strcmp(tapeCompileOptionsGetMPIABI(o), "MPICH"));
  {
    /* A data-parallel model in a program without MPI: Unavailable, saying
       what to link. */
    TapeCompileOptions dp = tapeCompileOptionsCreate();
    CHECK(ok(tapeCompileOptionsSetDataParallel(dp, true)));
    TapeModel m = {NULL};
    static const char kEmpty[] = "module {}";
    CHECK(expectError(tapeModelCompileString(kEmpty, sizeof kEmpty - 1, dp, &m),
                      TapeStatusUnavailable, "does not link"));
    CHECK(tapeModelIsNull(m));
    tapeCompileOptionsDestroy(dp);
  }
  CHECK(tapeCompileOptionsGetThreads(o) == 0 &&
        tapeCompileOptionsGetVectorBits(o) == 256 &&
        tapeCompileOptionsGetBlasMinFlops(o) == 0 &&
        !strcmp(tapeCompileOptionsGetSourceName(o), "model.mlir"));
  tapeCompileOptionsDestroy(o);
}

/*===--- The seed's model: layout, runs, checkpoints --------------------===*/

static const char *kSeedLines[] = {"Loss: 1, Weight: 1.04, Bias: 0.02",
                                   "Loss: 0.81, Weight: 1.076, Bias: 0.038",
                                   "Loss: 0.6561, Weight: 1.1084, Bias: 0.0542"};

/* Three host iterations of seed 2 on a new state of `model`, each line
   compared with the seed's. */
static void runSeed(TapeModel model, const char *what) {
  TapeState state = tapeStateCreate(model);
  CHECK(!tapeStateIsNull(state));
  CHECK(tapeStateGetModel(state).ptr == model.ptr);
  float loss = 0;
  TapeBuffer out = scalarF32(&loss);
  for (int i = 0; i < 3; ++i) {
    CHECK(ok(tapeStateRun(state, "host_iteration", NULL, 0, &out, 1)));
    float w, b;
    CHECK(ok(tapeStateGetVariable(state, "weight", scalarF32(&w))));
    CHECK(ok(tapeStateGetVariable(state, "bias", scalarF32(&b))));
    char line[128];
    snprintf(line, sizeof line, "Loss: %g, Weight: %g, Bias: %g", loss, w, b);
    printf("%s: %s\n", what, line);
    CHECK(!strcmp(line, kSeedLines[i]));
  }
  CHECK(tapeStateGetStepCount(state) == 3);
  tapeStateDestroy(state);
}

static void testSeed(const char *seed2, const char *tmp, const char *seed3,
                     const char *shared) {
  TapeModel model;
  if (!ok(tapeModelCompileFile(seed2, kDefaults, &model))) {
    ++failures;
    return;
  }
  CHECK(tapeModelGetNumVariables(model) == 2);
  CHECK(!strcmp(tapeModelGetVariableName(model, 0), "weight"));
  CHECK(tapeModelGetVariableDType(model, 1) == TapeDTypeF32);
  CHECK(tapeModelGetVariableRank(model, 0) == 0);
  CHECK(tapeModelIsVariableTrainable(model, 0));
  CHECK(tapeModelFindVariable(model, "bias") == 1);
  CHECK(tapeModelFindVariable(model, "nope") == -1);
  CHECK(tapeModelFindVariable(model, NULL) == -1);
  CHECK(tapeModelGetNumFunctions(model) == 2);
  intptr_t step = tapeModelFindFunction(model, "train_step");
  intptr_t host = tapeModelFindFunction(model, "host_iteration");
  CHECK(step >= 0 && host >= 0 && tapeModelFindFunction(model, "x") == -1);
  CHECK(tapeModelIsFunctionStep(model, (size_t)step) &&
        !tapeModelIsFunctionStep(model, (size_t)host));
  CHECK(tapeModelIsFunctionTraining(model, (size_t)step) &&
        tapeModelIsFunctionTraining(model, (size_t)host));
  /* The step's signature: (%x, %y_true) -> loss, named from the source. */
  CHECK(tapeModelGetFunctionNumInputs(model, (size_t)step) == 2);
  CHECK(!strcmp(tapeModelGetFunctionInputName(model, (size_t)step, 0), "x"));
  CHECK(!strcmp(tapeModelGetFunctionInputName(model, (size_t)step, 1),
                "y_true"));
  CHECK(tapeModelGetFunctionNumOutputs(model, (size_t)step) == 1);
  CHECK(!strcmp(tapeModelGetFunctionOutputName(model, (size_t)step, 0), ""));
  CHECK(tapeModelGetFunctionOutputRank(model, (size_t)step, 0) == 0);
  runSeed(model, "compiled");

  TapeState state = tapeStateCreate(model);
  float loss = 0;
  TapeBuffer out = scalarF32(&loss);
  /* The step with inputs x = 2, y = 3. */
  float x = 2, y = 3;
  TapeBuffer in[2] = {scalarF32(&x), scalarF32(&y)};
  CHECK(ok(tapeStateRun(state, "train_step", in, 2, &out, 1)));
  CHECK(loss == 1.0f && tapeStateGetStepCount(state) == 1);
  CHECK(tapeStateGetLastRunCopiedBytes(state) == 0);

  /* Checkpoint round trip: save, change, load. */
  char path[512];
  snprintf(path, sizeof path, "%s/capi.ckpt", tmp);
  CHECK(ok(tapeStateSaveCheckpoint(state, path)));
  float zero = 0, w = -1;
  CHECK(ok(tapeStateSetVariable(state, "weight", scalarF32(&zero))));
  CHECK(ok(tapeStateLoadCheckpoint(state, path)));
  CHECK(ok(tapeStateGetVariable(state, "weight", scalarF32(&w))));
  CHECK(fabsf(w - 1.04f) < 1e-6f && tapeStateGetStepCount(state) == 1);

  /* Errors at the boundary: checked, reported with their code, nothing
     read or written. */
  int64_t two[1] = {2};
  float pair[2];
  TapeBuffer wrongShape = {.data = pair, .dtype = TapeDTypeF32, .rank = 1,
                           .shape = two};
  double d;
  TapeBuffer wrongType = {.data = &d, .dtype = TapeDTypeF64};
  CHECK(expectError(tapeStateRun(state, "nope", NULL, 0, NULL, 0),
                    TapeStatusNotFound, "no function @nope"));
  CHECK(expectError(
      tapeStateRun(state, "host_iteration", NULL, 0, &wrongShape, 1),
      TapeStatusInvalidArgument,
      "output #0 of @host_iteration must be float32[], got float32[2]"));
  CHECK(expectError(
      tapeStateRun(state, "host_iteration", NULL, 0, &wrongType, 1),
      TapeStatusInvalidArgument, "must be float32[], got float64[]"));
  CHECK(expectError(tapeStateRun(state, "train_step", in, 1, &out, 1),
                    TapeStatusInvalidArgument,
                    "takes 2 inputs and 1 outputs, got 1 and 1"));
  CHECK(expectError(tapeStateRun(state, "train_step", NULL, 2, &out, 1),
                    TapeStatusInvalidArgument, "null"));
  TapeBuffer nullData = {.data = NULL, .dtype = TapeDTypeF32};
  CHECK(expectError(
      tapeStateRun(state, "host_iteration", NULL, 0, &nullData, 1),
      TapeStatusInvalidArgument, "null data pointer"));
  /* A dtype outside the enum (what a C caller can store in it). */
  TapeBuffer badType = scalarF32(&loss);
  int bogus = 7;
  memcpy(&badType.dtype, &bogus, sizeof bogus);
  CHECK(expectError(tapeStateRun(state, "host_iteration", NULL, 0, &badType, 1),
                    TapeStatusInvalidArgument, "unknown dtype 7"));
  TapeBuffer badRank = {.data = &loss, .dtype = TapeDTypeF32, .rank = 1};
  CHECK(expectError(tapeStateRun(state, "host_iteration", NULL, 0, &badRank, 1),
                    TapeStatusInvalidArgument, "bad rank or null shape"));
  int64_t negative[1] = {-1};
  TapeBuffer badDim = {.data = &loss, .dtype = TapeDTypeF32, .rank = 1,
                       .shape = negative};
  CHECK(expectError(tapeStateRun(state, "host_iteration", NULL, 0, &badDim, 1),
                    TapeStatusInvalidArgument, "negative dimension"));
  CHECK(expectError(tapeStateSetVariable(state, "nope", scalarF32(&zero)),
                    TapeStatusNotFound, "no variable 'nope'"));
  CHECK(expectError(tapeStateGetVariable(state, "nope", scalarF32(&zero)),
                    TapeStatusNotFound, "no variable 'nope'"));
  CHECK(expectError(tapeStateSetVariable(state, "weight", wrongShape),
                    TapeStatusInvalidArgument,
                    "variable 'weight' must be float32[], got float32[2]"));
  /* A claimed shape is compared, never allocated: 2^40 elements, and one
     whose size overflows. */
  int64_t hugeShape[] = {(int64_t)1 << 40, (int64_t)1 << 40};
  TapeBuffer huge = {.data = &w, .dtype = TapeDTypeF32, .rank = 1,
                     .shape = hugeShape};
  CHECK(expectError(tapeStateSetVariable(state, "weight", huge),
                    TapeStatusInvalidArgument,
                    "must be float32[], got float32[1099511627776]"));
  huge.rank = 2;
  CHECK(expectError(tapeStateSetVariable(state, "weight", huge),
                    TapeStatusInvalidArgument, "its size overflows 64 bits"));

  /* Files: missing, a folder, not a checkpoint (each its own code); the
     state unchanged by each failed load. */
  char missing[512];
  snprintf(missing, sizeof missing, "%s/no-such-file.ckpt", tmp);
  CHECK(expectError(tapeStateLoadCheckpoint(state, missing),
                    TapeStatusNotFound, "no-such-file.ckpt"));
  CHECK(expectError(tapeStateLoadCheckpoint(state, tmp), TapeStatusIOError,
                    "a folder"));
  CHECK(expectError(tapeStateLoadCheckpoint(state, seed2), TapeStatusDataLoss,
                    "not a usable checkpoint"));
  snprintf(missing, sizeof missing, "%s/no-such-folder/x.ckpt", tmp);
  CHECK(expectError(tapeStateSaveCheckpoint(state, missing),
                    TapeStatusNotFound, "no-such-folder"));
  CHECK(ok(tapeStateGetVariable(state, "weight", scalarF32(&w))));
  CHECK(fabsf(w - 1.04f) < 1e-6f && tapeStateGetStepCount(state) == 1);
  CHECK(expectError(tapeModelCompileFile(missing, kDefaults, &model),
                    TapeStatusNotFound, "cannot read"));

  /* Indices out of range: the documented neutral values. */
  size_t nv = tapeModelGetNumVariables(model);
  size_t nf = tapeModelGetNumFunctions(model);
  CHECK(tapeModelGetWarning(model, 1000) == NULL);
  CHECK(tapeModelGetVariableName(model, nv) == NULL);
  CHECK(tapeModelGetVariableShape(model, nv) == NULL);
  CHECK(tapeModelGetVariableRank(model, nv) == -1);
  CHECK(tapeModelGetVariableDType(model, nv) == TapeDTypeF32);
  CHECK(!tapeModelIsVariableTrainable(model, nv));
  CHECK(tapeModelGetFunctionName(model, nf) == NULL);
  CHECK(!tapeModelIsFunctionStep(model, nf));
  CHECK(!tapeModelIsFunctionTraining(model, nf));
  CHECK(tapeModelGetFunctionNumInputs(model, nf) == 0);
  CHECK(tapeModelGetFunctionNumOutputs(model, nf) == 0);
  CHECK(tapeModelGetFunctionInputName(model, (size_t)step, 2) == NULL);
  CHECK(tapeModelGetFunctionInputDType(model, (size_t)step, 2) ==
        TapeDTypeF32);
  CHECK(tapeModelGetFunctionInputRank(model, nf, 0) == -1);
  CHECK(tapeModelGetFunctionInputShape(model, (size_t)step, 2) == NULL);
  CHECK(tapeModelGetFunctionOutputRank(model, (size_t)step, 1) == -1);
  CHECK(tapeModelGetFunctionOutputShape(model, (size_t)step, 1) == NULL);
  CHECK(tapeModelGetFunctionOutputDType(model, (size_t)step, 1) ==
        TapeDTypeF32);
  tapeStateDestroy(state);
  tapeModelDestroy(model);

  /* Warnings: seed 3's host-side update, whole and in parts; --strict
     makes it a CompileError. */
  TapeModel other;
  CHECK(ok(tapeModelCompileFile(seed3, kDefaults, &other)));
  CHECK(tapeModelGetNumWarnings(other) >= 1);
  const char *line = tapeModelGetWarning(other, 0);
  TapeSeverity sev = TapeSeverityNote;
  const char *loc = NULL, *msg = NULL;
  tapeModelGetWarningDiagnostic(other, 0, &sev, &loc, &msg);
  CHECK(line && strstr(line, "warning: ") && strstr(line, msg) &&
        strstr(line, loc));
  CHECK(sev == TapeSeverityWarning && strstr(loc, "3_host_update.mlir:") &&
        strstr(msg, "host-side update"));
  tapeModelDestroy(other);
  TapeCompileOptions strict = tapeCompileOptionsCreate();
  CHECK(ok(tapeCompileOptionsSetStrict(strict, true)));
  TapeStatus st = tapeModelCompileFile(seed3, strict, &other);
  CHECK(tapeStatusGetCode(st) == TapeStatusCompileError);
  CHECK(tapeStatusGetNumDiagnostics(st) >= 1);
  tapeStatusGetDiagnostic(st, 0, &sev, &loc, &msg);
  CHECK(sev == TapeSeverityError && strstr(msg, "host-side update"));
  tapeStatusDestroy(st);
  tapeCompileOptionsDestroy(strict);

  /* The same model from the shared library tape-compile --shared built:
     the same lines. Then files that are not one. */
  CHECK(ok(tapeModelLoadShared(shared, &other)));
  CHECK(tapeModelGetNumVariables(other) == 2 &&
        tapeModelFindFunction(other, "host_iteration") >= 0);
  step = tapeModelFindFunction(other, "train_step");
  CHECK(step >= 0 &&
        !strcmp(tapeModelGetFunctionInputName(other, (size_t)step, 1),
                "y_true"));
  runSeed(other, "shared");
  tapeModelDestroy(other);
  CHECK(expectError(tapeModelLoadShared(seed2, &other),
                    TapeStatusInvalidArgument, "is not a tape model"));
  snprintf(missing, sizeof missing, "%s/no-such.so", tmp);
  CHECK(expectError(tapeModelLoadShared(missing, &other), TapeStatusNotFound,
                    "no-such.so"));
}

/*===--- Numbers and buffers --------------------------------------------===*/

/* @affine: y = x * x + bias, d = x - bias on 2x3 float32; @read_table reads
   the 3x2 variable @table; @bump adds to a variable and returns its log. */
static const char *kAffine =
    "tape.variable @table : tensor<3x2xf32> = dense<[[1.0, 2.0], [3.0, "
    "4.0], [5.0, 6.0]]>\n"
    "tape.variable @v : tensor<f32> = dense<1.0>\n"
    "func.func @affine(%x: tensor<2x3xf32>,\n"
    "                  %shift: tensor<2x3xf32> {tape.name = \"bias\"})\n"
    "    -> (tensor<2x3xf32> {tape.name = \"y\"}, tensor<2x3xf32>) {\n"
    "  %xx = arith.mulf %x, %x : tensor<2x3xf32>\n"
    "  %y = arith.addf %xx, %shift : tensor<2x3xf32>\n"
    "  %d = arith.subf %x, %shift : tensor<2x3xf32>\n"
    "  return %y, %d : tensor<2x3xf32>, tensor<2x3xf32>\n"
    "}\n"
    "func.func @read_table() -> tensor<3x2xf32> {\n"
    "  %h = tape.handle @table : !tape.resource<tensor<3x2xf32>>\n"
    "  %t = tape.read %h : !tape.resource<tensor<3x2xf32>>\n"
    "  return %t : tensor<3x2xf32>\n"
    "}\n"
    "tape.step @bump(%by: tensor<f32>) -> tensor<f32> {\n"
    "  %h = tape.handle @v : !tape.resource<tensor<f32>>\n"
    "  tape.assign_add %h, %by : !tape.resource<tensor<f32>>\n"
    "  %r = tape.read %h : !tape.resource<tensor<f32>>\n"
    "  %l = math.log %r : tensor<f32>\n"
    "  tape.return %l : tensor<f32>\n"
    "}\n";

static const int64_t kShape23[2] = {2, 3};
static const int64_t kShape32[2] = {3, 2};

/* x[i][j] = i * 3 + j - 2, bias[i][j] = 10 * (i + 1) + j. */
static float xAt(int i, int j) { return (float)(i * 3 + j - 2); }
static float biasAt(int i, int j) { return (float)(10 * (i + 1) + j); }

/* Checks y and d (read through their strides, in elements) against the
   formula; the values are small integers, exact in float32. */
static int affineRight(const char *y, const int64_t *ys, const char *d,
                       const int64_t *ds) {
  int right = 1;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j) {
      float yv, dv;
      memcpy(&yv, y + (i * ys[0] + j * ys[1]) * 4, 4);
      memcpy(&dv, d + (i * ds[0] + j * ds[1]) * 4, 4);
      right &= yv == xAt(i, j) * xAt(i, j) + biasAt(i, j) &&
               dv == xAt(i, j) - biasAt(i, j);
    }
  return right;
}

static void testBuffers(void) {
  TapeCompileOptions options = tapeCompileOptionsCreate();
  CHECK(ok(tapeCompileOptionsSetSourceName(options, "affine.mlir")));
  TapeModel model;
  if (!ok(tapeModelCompileString(kAffine, strlen(kAffine), options, &model))) {
    ++failures;
    tapeCompileOptionsDestroy(options);
    return;
  }
  tapeCompileOptionsDestroy(options); /* the model keeps nothing of it */
  intptr_t fn = tapeModelFindFunction(model, "affine");
  CHECK(fn >= 0);
  size_t f = (size_t)fn;
  /* The signature: names from tape.name and from the source. */
  CHECK(tapeModelGetFunctionNumInputs(model, f) == 2 &&
        tapeModelGetFunctionNumOutputs(model, f) == 2);
  CHECK(!strcmp(tapeModelGetFunctionInputName(model, f, 0), "x"));
  CHECK(!strcmp(tapeModelGetFunctionInputName(model, f, 1), "bias"));
  CHECK(!strcmp(tapeModelGetFunctionOutputName(model, f, 0), "y"));
  CHECK(!strcmp(tapeModelGetFunctionOutputName(model, f, 1), ""));
  for (size_t i = 0; i < 2; ++i) {
    CHECK(tapeModelGetFunctionInputDType(model, f, i) == TapeDTypeF32);
    CHECK(tapeModelGetFunctionOutputDType(model, f, i) == TapeDTypeF32);
    CHECK(tapeModelGetFunctionInputRank(model, f, i) == 2);
    CHECK(tapeModelGetFunctionOutputRank(model, f, i) == 2);
    CHECK(!memcmp(tapeModelGetFunctionInputShape(model, f, i), kShape23,
                  sizeof kShape23));
    CHECK(!memcmp(tapeModelGetFunctionOutputShape(model, f, i), kShape23,
                  sizeof kShape23));
  }
  intptr_t table = tapeModelFindVariable(model, "table");
  CHECK(table >= 0 && tapeModelGetVariableRank(model, (size_t)table) == 2 &&
        !memcmp(tapeModelGetVariableShape(model, (size_t)table), kShape32,
                sizeof kShape32));
  TapeState state = tapeStateCreate(model);

  /* Contiguous, aligned: in place (0 bytes copied). Outputs start as NaN:
     every element is written. */
  float x[2][3], bias[2][3], y[2][3], d[2][3];
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j) {
      x[i][j] = xAt(i, j);
      bias[i][j] = biasAt(i, j);
      y[i][j] = d[i][j] = NAN;
    }
  static const int64_t rowMajor[2] = {3, 1};
  TapeBuffer in[2] = {
      {.data = x, .dtype = TapeDTypeF32, .rank = 2, .shape = kShape23},
      {.data = bias, .dtype = TapeDTypeF32, .rank = 2, .shape = kShape23}};
  TapeBuffer out[2] = {
      {.data = y, .dtype = TapeDTypeF32, .rank = 2, .shape = kShape23},
      {.data = d, .dtype = TapeDTypeF32, .rank = 2, .shape = kShape23}};
  CHECK(ok(tapeStateRun(state, "affine", in, 2, out, 2)));
  CHECK(affineRight((char *)y, rowMajor, (char *)d, rowMajor));
  CHECK(tapeStateGetLastRunCopiedBytes(state) == 0);
  /* Row-major strides spelt out: the same, still in place. */
  in[0].strides = rowMajor;
  out[1].strides = rowMajor;
  memset(y, 0xff, sizeof y);
  CHECK(ok(tapeStateRun(state, "affine", in, 2, out, 2)));
  CHECK(affineRight((char *)y, rowMajor, (char *)d, rowMajor));
  CHECK(tapeStateGetLastRunCopiedBytes(state) == 0);

  /* x as a transposed view of a 3x2 array (strides {1, 2}), x reversed
     along its rows (negative stride), y written column-major: each
     through a temporary (24 bytes each way). */
  float xt[3][2], xr[2][3], yt[3][2];
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j) {
      xt[j][i] = xAt(i, j);
      xr[i][2 - j] = xAt(i, j);
    }
  static const int64_t transposed[2] = {1, 2}, reversed[2] = {3, -1};
  in[0].data = xt;
  in[0].strides = transposed;
  out[0].data = yt;
  out[0].strides = transposed;
  CHECK(ok(tapeStateRun(state, "affine", in, 2, out, 2)));
  CHECK(affineRight((char *)yt, transposed, (char *)d, rowMajor));
  CHECK(tapeStateGetLastRunCopiedBytes(state) == 48);
  in[0].data = &xr[0][2];
  in[0].strides = reversed;
  out[0].data = y;
  out[0].strides = NULL;
  CHECK(ok(tapeStateRun(state, "affine", in, 2, out, 2)));
  CHECK(affineRight((char *)y, rowMajor, (char *)d, rowMajor));
  CHECK(tapeStateGetLastRunCopiedBytes(state) == 24);
  /* A zero stride broadcasts an input row. */
  static const int64_t broadcast[2] = {0, 1};
  float row[3] = {1, 2, 3};
  in[0].data = row;
  in[0].strides = broadcast;
  CHECK(ok(tapeStateRun(state, "affine", in, 2, out, 2)));
  CHECK(y[1][2] == 9 + biasAt(1, 2) && d[1][0] == 1 - biasAt(1, 0));
  CHECK(tapeStateGetLastRunCopiedBytes(state) == 24);

  /* Element-aligned but not 16-byte aligned memory is used in place; a
     misaligned float is copied. */
  static union {
    float f[32];
    char c[128];
  } raw;
  char *unaligned = raw.c + 1;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j) {
      raw.f[1 + i * 3 + j] = xAt(i, j);
      float v = xAt(i, j);
      memcpy(unaligned + 64 + (i * 3 + j) * 4, &v, 4);
    }
  in[0].data = &raw.f[1];
  in[0].strides = NULL;
  CHECK(ok(tapeStateRun(state, "affine", in, 2, out, 2)));
  CHECK(affineRight((char *)y, rowMajor, (char *)d, rowMajor));
  CHECK(tapeStateGetLastRunCopiedBytes(state) == 0);
  in[0].data = unaligned + 64;
  out[0].data = unaligned + 32; /* floats at raw.c + 33, ...: misaligned */
  CHECK(ok(tapeStateRun(state, "affine", in, 2, out, 2)));
  CHECK(affineRight(unaligned + 32, rowMajor, (char *)d, rowMajor));
  CHECK(tapeStateGetLastRunCopiedBytes(state) == 48);

  /* An output in the memory of an input: y = x * x + bias into x itself
     goes through a temporary, and the inputs are read before it lands. */
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      x[i][j] = xAt(i, j);
  in[0].data = x;
  out[0].data = x;
  CHECK(ok(tapeStateRun(state, "affine", in, 2, out, 2)));
  CHECK(affineRight((char *)x, rowMajor, (char *)d, rowMajor));
  CHECK(tapeStateGetLastRunCopiedBytes(state) == 24);

  /* Layouts that cannot be outputs or cannot be addressed. */
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      x[i][j] = xAt(i, j);
  out[0].data = y;
  out[1].data = y; /* two outputs in one array */
  CHECK(expectError(tapeStateRun(state, "affine", in, 2, out, 2),
                    TapeStatusInvalidArgument,
                    "output #1 of @affine overlaps output #0"));
  out[1].data = d;
  out[0].strides = broadcast; /* two elements of y at one address */
  CHECK(expectError(tapeStateRun(state, "affine", in, 2, out, 2),
                    TapeStatusInvalidArgument,
                    "output #0 of @affine: its strides place two elements"));
  static const int64_t enormous[2] = {INT64_MAX / 2, 1};
  out[0].strides = NULL;
  in[1].strides = enormous;
  CHECK(expectError(tapeStateRun(state, "affine", in, 2, out, 2),
                    TapeStatusInvalidArgument, "input #1 of @affine: its "));
  in[1].strides = NULL;

  /* Variables through strides: @table read into a transposed buffer, set
     from one, read back. */
  float tt[2][3], t[3][2];
  static const int64_t transposed32[2] = {1, 3};
  TapeBuffer tb = {.data = tt, .dtype = TapeDTypeF32, .rank = 2,
                   .shape = kShape32, .strides = transposed32};
  CHECK(ok(tapeStateGetVariable(state, "table", tb)));
  CHECK(tt[0][0] == 1 && tt[1][0] == 2 && tt[0][2] == 5 && tt[1][2] == 6);
  tt[1][2] = 60; /* table[2][1] */
  CHECK(ok(tapeStateSetVariable(state, "table", tb)));
  TapeBuffer plain = {.data = t, .dtype = TapeDTypeF32, .rank = 2,
                      .shape = kShape32};
  CHECK(ok(tapeStateGetVariable(state, "table", plain)));
  CHECK(t[2][1] == 60 && t[2][0] == 5 && t[0][1] == 2);
  memset(t, 0, sizeof t);
  CHECK(ok(tapeStateRun(state, "read_table", NULL, 0, &plain, 1)));
  CHECK(t[2][1] == 60 && t[1][0] == 3);
  tb.strides = broadcast; /* a variable read into overlapping elements */
  CHECK(expectError(tapeStateGetVariable(state, "table", tb),
                    TapeStatusInvalidArgument, "variable 'table': its strides"));
  tapeStateDestroy(state);
  tapeModelDestroy(model);

  /* Every option compiles this model and computes the same numbers
     (threads, vector widths, codegen steps off, BLAS, line tables). */
  for (int variant = 0; variant < 4; ++variant) {
    TapeCompileOptions o = tapeCompileOptionsCreate();
    switch (variant) {
    case 0:
      CHECK(ok(tapeCompileOptionsSetThreads(o, 2)));
      CHECK(ok(tapeCompileOptionsSetDebugInfo(o, true)));
      break;
    case 1:
      CHECK(ok(tapeCompileOptionsSetVectorBits(o, 128)));
      CHECK(ok(tapeCompileOptionsSetReportCopies(o, true)));
      break;
    case 2:
      CHECK(ok(tapeCompileOptionsSetVectorize(o, false)));
      CHECK(ok(tapeCompileOptionsSetPackMatmuls(o, false)));
      CHECK(ok(tapeCompileOptionsSetFuseUpdates(o, false)));
      break;
    case 3:
      CHECK(ok(tapeCompileOptionsSetBlas(o, true)));
      CHECK(ok(tapeCompileOptionsSetBlasMinFlops(o, 0)));
      break;
    }
    TapeModel m;
    if (!ok(tapeModelCompileString(kAffine, strlen(kAffine), o, &m))) {
      ++failures;
    } else {
      TapeState s = tapeStateCreate(m);
      out[0].data = y;
      memset(y, 0, sizeof y);
      CHECK(ok(tapeStateRun(s, "affine", in, 2, out, 2)));
      CHECK(affineRight((char *)y, rowMajor, (char *)d, rowMajor));
      tapeStateDestroy(s);
      tapeModelDestroy(m);
    }
    tapeCompileOptionsDestroy(o);
  }
  /* A CBLAS library that cannot be loaded: Unavailable. */
  TapeCompileOptions o = tapeCompileOptionsCreate();
  CHECK(ok(tapeCompileOptionsSetBlas(o, true)));
  setenv("TAPE_BLAS_LIBRARY", "/nonexistent/libcblas.so", 1);
  CHECK(expectError(tapeModelCompileString(kAffine, strlen(kAffine), o, &model),
                    TapeStatusUnavailable, "CBLAS library"));
  unsetenv("TAPE_BLAS_LIBRARY");
  tapeCompileOptionsDestroy(o);

  /* check-numerics: bump(1) is log 2; bump(-5) would make v = -3 and its
     log NaN: NumericalError, v and the step count as they were. */
  o = tapeCompileOptionsCreate();
  CHECK(ok(tapeCompileOptionsSetCheckNumerics(o, true)));
  CHECK(ok(tapeModelCompileString(kAffine, strlen(kAffine), o, &model)));
  tapeCompileOptionsDestroy(o);
  state = tapeStateCreate(model);
  float by = 1, logV = 0, v = 0;
  TapeBuffer byBuffer = scalarF32(&by), logBuffer = scalarF32(&logV);
  CHECK(ok(tapeStateRun(state, "bump", &byBuffer, 1, &logBuffer, 1)));
  CHECK(fabsf(logV - 0.693147181f) < 1e-6f && tapeStateGetStepCount(state) == 1);
  by = -5;
  CHECK(expectError(tapeStateRun(state, "bump", &byBuffer, 1, &logBuffer, 1),
                    TapeStatusNumericalError,
                    "check-numerics: @bump produced NaN"));
  CHECK(ok(tapeStateGetVariable(state, "v", scalarF32(&v))));
  CHECK(v == 2 && tapeStateGetStepCount(state) == 1);
  tapeStateDestroy(state);
  tapeModelDestroy(model);

  /* Bad IR: CompileError with located, structured diagnostics. */
  const char *bad = "tape.step @s() {\n  %w = tape.handle @nope : "
                    "!tape.resource<tensor<f32>>\n  tape.return\n}\n";
  TapeStatus st = tapeModelCompileString(bad, strlen(bad), kDefaults, &model);
  CHECK(tapeStatusGetCode(st) == TapeStatusCompileError);
  CHECK(tapeStatusGetNumDiagnostics(st) >= 1);
  TapeSeverity sev;
  const char *loc = NULL, *msg = NULL;
  tapeStatusGetDiagnostic(st, 0, &sev, &loc, &msg);
  CHECK(sev == TapeSeverityError && strstr(loc, "<module>:2:8") &&
        strstr(msg, "refers to unknown variable @nope"));
  tapeStatusDestroy(st);
  const char *badName =
      "func.func @f(%x: tensor<f32> {tape.name = 3}) -> tensor<f32> {\n"
      "  return %x : tensor<f32>\n}\n";
  st = tapeModelCompileString(badName, strlen(badName), kDefaults, &model);
  CHECK(tapeStatusGetCode(st) == TapeStatusCompileError);
  tapeStatusGetDiagnostic(st, 0, &sev, &loc, &msg);
  CHECK(msg && strstr(msg, "'tape.name' argument attribute that is not a "
                           "non-empty string"));
  tapeStatusDestroy(st);
}

/*===--- MLIR's C API: dialect, modules, passes -------------------------===*/

typedef struct Text {
  char data[16384];
  size_t size;
} Text;

static void append(MlirStringRef s, void *user) {
  Text *t = (Text *)user;
  size_t n = s.length < sizeof t->data - 1 - t->size
                 ? s.length
                 : sizeof t->data - 1 - t->size;
  memcpy(t->data + t->size, s.data, n);
  t->size += n;
  t->data[t->size] = 0;
}

static void print(MlirModule module, Text *t) {
  t->size = 0;
  t->data[0] = 0;
  mlirOperationPrint(mlirModuleGetOperation(module), append, t);
}

static MlirLogicalResult collect(MlirDiagnostic d, void *user) {
  mlirDiagnosticPrint(d, append, user);
  return mlirLogicalResultSuccess();
}

static const char *kTapeOnly =
    "tape.variable @v : tensor<2xf32> = dense<[1.5, -2.0]>\n"
    "tape.step @add(%by: tensor<2xf32> {tape.name = \"increment\"})\n"
    "    -> tensor<2xf32> {\n"
    "  %h = tape.handle @v : !tape.resource<tensor<2xf32>>\n"
    "  tape.assign_add %h, %by : !tape.resource<tensor<2xf32>>\n"
    "  %r = tape.read %h : !tape.resource<tensor<2xf32>>\n"
    "  tape.return %r : tensor<2xf32>\n"
    "}\n";

static void testMLIR(const char *seed2Text, const char *seed3Text) {
  /* A bare context does not know the dialect; its handle registers it. */
  MlirContext ctx = mlirContextCreate();
  Text diagnostics = {{0}, 0};
  mlirContextAttachDiagnosticHandler(ctx, collect, &diagnostics, NULL);
  MlirStringRef source = mlirStringRefCreateFromCString(kTapeOnly);
  MlirModule module = mlirModuleCreateParse(ctx, source);
  CHECK(mlirModuleIsNull(module) &&
        strstr(diagnostics.data, "tape.variable"));
  MlirDialectHandle handle = mlirGetDialectHandle__tape__();
  MlirStringRef ns = mlirDialectHandleGetNamespace(handle);
  CHECK(ns.length == 4 && !strncmp(ns.data, "tape", 4));
  mlirDialectHandleRegisterDialect(handle, ctx);
  module = mlirModuleCreateParse(ctx, source);
  CHECK(!mlirModuleIsNull(module));
  if (mlirModuleIsNull(module)) {
    fprintf(stderr, "%s\n", diagnostics.data);
    mlirContextDestroy(ctx);
    return;
  }
  Text before, after;
  print(module, &before);
  CHECK(strstr(before.data, "tape.variable @v : tensor<2xf32>") &&
        strstr(before.data, "tape.assign_add"));

  /* Compiled from the module: it is only read (printed the same after),
     and the model outlives it. */
  TapeModel model;
  CHECK(ok(tapeModelCompileModule(module, kDefaults, &model)));
  print(module, &after);
  CHECK(!strcmp(before.data, after.data));
  mlirModuleDestroy(module);
  intptr_t add = tapeModelFindFunction(model, "add");
  CHECK(add >= 0 &&
        !strcmp(tapeModelGetFunctionInputName(model, (size_t)add, 0),
                "increment"));
  TapeState state = tapeStateCreate(model);
  float by[2] = {0.5f, 4}, r[2] = {0, 0};
  static const int64_t shape2[1] = {2};
  TapeBuffer in = {.data = by, .dtype = TapeDTypeF32, .rank = 1,
                   .shape = shape2};
  TapeBuffer out = {.data = r, .dtype = TapeDTypeF32, .rank = 1,
                    .shape = shape2};
  CHECK(ok(tapeStateRun(state, "add", &in, 1, &out, 1)));
  CHECK(r[0] == 2 && r[1] == 2);
  CHECK(ok(tapeStateRun(state, "add", &in, 1, &out, 1)));
  CHECK(r[0] == 2.5f && r[1] == 6 && tapeStateGetStepCount(state) == 2);
  tapeStateDestroy(state);
  tapeModelDestroy(model);

  mlirContextDestroy(ctx);

  /* Every dialect tape IR may use, and tape's passes by name in MLIR's
     pass manager: tape-differentiate turns the seed's gradient into
     arithmetic. */
  ctx = mlirContextCreate();
  MlirDialectRegistry registry = mlirDialectRegistryCreate();
  tapeRegisterAllDialects(registry);
  mlirContextAppendDialectRegistry(ctx, registry);
  mlirDialectRegistryDestroy(registry);
  diagnostics.size = 0;
  mlirContextAttachDiagnosticHandler(ctx, collect, &diagnostics, NULL);
  module = mlirModuleCreateParse(ctx, mlirStringRefCreateFromCString(seed2Text));
  CHECK(!mlirModuleIsNull(module));
  if (mlirModuleIsNull(module)) {
    fprintf(stderr, "%s\n", diagnostics.data);
    mlirContextDestroy(ctx);
    return;
  }
  MlirPassManager pm = mlirPassManagerCreate(ctx);
  MlirStringRef pipeline =
      mlirStringRefCreateFromCString("builtin.module(tape-differentiate)");
  Text errors = {{0}, 0};
  CHECK(mlirLogicalResultIsFailure(mlirParsePassPipeline(
      mlirPassManagerGetAsOpPassManager(pm), pipeline, append, &errors)));
  tapeRegisterPasses();
  tapeRegisterPasses(); /* idempotent */
  CHECK(mlirLogicalResultIsSuccess(mlirParsePassPipeline(
      mlirPassManagerGetAsOpPassManager(pm), pipeline, append, &errors)));
  print(module, &before);
  CHECK(strstr(before.data, "tape.gradient") && strstr(before.data, "tape.record"));
  CHECK(mlirLogicalResultIsSuccess(
      mlirPassManagerRunOnOp(pm, mlirModuleGetOperation(module))));
  print(module, &after);
  CHECK(!strstr(after.data, "tape.gradient") && !strstr(after.data, "tape.record") &&
        strstr(after.data, "tape.apply_gradients"));
  mlirPassManagerDestroy(pm);
  /* The differentiated module compiles to the seed's numbers. */
  CHECK(ok(tapeModelCompileModule(module, kDefaults, &model)));
  runSeed(model, "from MlirModule");
  tapeModelDestroy(model);
  /* A module that does not compile (seed 3 with --strict): its own
     locations in the diagnostics. */
  MlirModule seed3 =
      mlirModuleCreateParse(ctx, mlirStringRefCreateFromCString(seed3Text));
  CHECK(!mlirModuleIsNull(seed3));
  if (!mlirModuleIsNull(seed3)) {
    TapeCompileOptions strict = tapeCompileOptionsCreate();
    CHECK(ok(tapeCompileOptionsSetStrict(strict, true)));
    TapeStatus st = tapeModelCompileModule(seed3, strict, &model);
    CHECK(tapeStatusGetCode(st) == TapeStatusCompileError);
    const char *loc = NULL, *msg = NULL;
    tapeStatusGetDiagnostic(st, 0, NULL, &loc, &msg);
    printf("diagnostic from an MlirModule: %s: %s\n", loc, msg);
    CHECK(loc && strstr(loc, ":55:") && msg && strstr(msg, "host-side update"));
    tapeStatusDestroy(st);
    tapeCompileOptionsDestroy(strict);
    mlirModuleDestroy(seed3);
  }
  /* MLIR's C API functions that ask about op traits (their TypeIDs are
     the process's: lib/CAPI/PrepareMLIRCAPI.cmake). */
  MlirOperation moduleOp = mlirModuleGetOperation(module);
  MlirSymbolTable symbols = mlirSymbolTableCreate(moduleOp);
  CHECK(!mlirSymbolTableIsNull(symbols));
  if (!mlirSymbolTableIsNull(symbols)) {
    MlirOperation step = mlirSymbolTableLookup(
        symbols, mlirStringRefCreateFromCString("train_step"));
    CHECK(!mlirOperationIsNull(step));
    MlirBlock body = mlirRegionGetFirstBlock(mlirOperationGetRegion(step, 0));
    MlirOperation terminator = mlirBlockGetTerminator(body);
    CHECK(!mlirOperationIsNull(terminator));
    MlirIdentifier name = mlirOperationGetName(terminator);
    MlirStringRef nameText = mlirIdentifierStr(name);
    CHECK(nameText.length == 11 && !strncmp(nameText.data, "tape.return", 11));
    MlirOpPrintingFlags flags = mlirOpPrintingFlagsCreate();
    mlirOpPrintingFlagsUseLocalScope(flags);
    MlirAsmState asmState =
        mlirAsmStateCreateForValue(mlirBlockGetArgument(body, 0), flags);
    Text argument = {{0}, 0};
    mlirValuePrintAsOperand(mlirBlockGetArgument(body, 0), asmState, append,
                            &argument);
    CHECK(!strcmp(argument.data, "%arg0"));
    mlirAsmStateDestroy(asmState);
    mlirOpPrintingFlagsDestroy(flags);
    mlirSymbolTableDestroy(symbols);
  }
  CHECK(mlirOperationVerify(moduleOp));
  /* The pipelines are registered too. */
  pm = mlirPassManagerCreate(ctx);
  CHECK(mlirLogicalResultIsSuccess(mlirParsePassPipeline(
      mlirPassManagerGetAsOpPassManager(pm),
      mlirStringRefCreateFromCString("builtin.module(tape-to-tensor)"), append,
      &errors)));
  mlirPassManagerDestroy(pm);
  mlirModuleDestroy(module);
  mlirContextDestroy(ctx);
}

static char *readFile(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *text = (char *)malloc((size_t)n + 1);
  if (text && fread(text, 1, (size_t)n, f) == (size_t)n)
    text[n] = 0;
  fclose(f);
  return text;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: capi_test SEED2.mlir TMPDIR SEED3.mlir SEED2.so\n");
    return 2;
  }
  testStatusAndNullHandles();
  testOptions();
  testSeed(argv[1], argv[2], argv[3], argv[4]);
  testBuffers();
  char *seed2 = readFile(argv[1]), *seed3 = readFile(argv[3]);
  CHECK(seed2 && seed3);
  if (seed2 && seed3)
    testMLIR(seed2, seed3);
  free(seed2);
  free(seed3);
  printf("%s\n", failures ? "FAILED" : "all C API checks passed");
  return failures != 0;
}
