/*===-- tape-c/Tape.h - C API of the tape train-step compiler -----*- C -*-===*\
|*                                                                            *|
|* Compile a module in the tape dialect in-process, create state for it, run *|
|* its steps, get/set variables and save/load checkpoints. Follows the mlir-c *|
|* conventions: opaque handles `{void *ptr}`, `tape` prefix, explicit         *|
|* Destroy functions. Every fallible call returns a TapeStatus: null `ptr`    *|
|* means success; otherwise it carries a message and the compiler's           *|
|* diagnostics (structured, never printed) and must be destroyed.             *|
|*                                                                            *|
|* No call aborts the process: null handles, out-of-range indices and bad    *|
|* buffers give an error status, or for queries the neutral value each one  *|
|* documents (0, NULL, false, -1).                                            *|
|*                                                                            *|
|* Lifetimes: a TapeModel must outlive every TapeState created from it.      *|
|* Strings and shapes returned by model queries live as long as the model;   *|
|* tapeModelGetWarning's string until the next call of it on the same        *|
|* thread; a status's strings as long as the status.                         *|
|*                                                                            *|
|* Threads: a model may be used from any number of threads (compiled once,   *|
|* read-only after). A state is used by one thread at a time: tapeStateRun   *|
|* refuses a call on a state that another call is running on (an error      *|
|* status; nothing runs); other calls on a state must not overlap a run on  *|
|* it. Different states of one model run concurrently.                       *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef TAPE_C_TAPE_H
#define TAPE_C_TAPE_H

#include "mlir-c/IR.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TAPE_CAPI_EXPORTED __attribute__((visibility("default")))

/* The tape dialect for users of the MLIR C API:
   mlirGetDialectHandle__tape__(). */
MLIR_DECLARE_CAPI_DIALECT_REGISTRATION(Tape, tape);

typedef struct TapeModel { void *ptr; } TapeModel;
typedef struct TapeState { void *ptr; } TapeState;
typedef struct TapeStatus { void *ptr; } TapeStatus;

typedef enum TapeDType {
  TapeDTypeF32 = 0,
  TapeDTypeF64 = 1,
  TapeDTypeI32 = 2,
  TapeDTypeI64 = 3,
} TapeDType;

typedef enum TapeSeverity {
  TapeSeverityError = 0,
  TapeSeverityWarning = 1,
  TapeSeverityNote = 2,
  TapeSeverityRemark = 3,
} TapeSeverity;

/* A tensor passed across the API: its data must hold
   product(shape) elements of `dtype`, row-major. Checked against the
   function's signature before anything is read or written. */
typedef struct TapeBuffer {
  void *data;
  TapeDType dtype;
  intptr_t rank;
  const int64_t *shape;
} TapeBuffer;

/*--- Status ---------------------------------------------------------------*/

static inline bool tapeStatusIsOk(TapeStatus status) { return !status.ptr; }
TAPE_CAPI_EXPORTED const char *tapeStatusGetMessage(TapeStatus status);
TAPE_CAPI_EXPORTED size_t tapeStatusGetNumDiagnostics(TapeStatus status);
/* Diagnostic `i`: severity, "file:line:col" (or ""), message. The strings
   live as long as the status. */
TAPE_CAPI_EXPORTED void tapeStatusGetDiagnostic(TapeStatus status, size_t i,
                                                TapeSeverity *severity,
                                                const char **location,
                                                const char **message);
TAPE_CAPI_EXPORTED void tapeStatusDestroy(TapeStatus status);

/*--- Models ---------------------------------------------------------------*/

/* How to compile: the C form of tape::CompileOptions (one field each; see
   tape/Pipelines/Options.h). Start from tapeCompileOptionsGetDefault(), so
   that fields added later keep their defaults. */
typedef struct TapeCompileOptions {
  /* Host-side updates and disconnected gradients are errors. */
  bool strict;
  /* Check every computed value for NaN/Inf: a step that produces one fails
     naming the first op that did (slower). */
  bool checkNumerics;
  /* Large f32 matmuls call cblas_sgemm (OpenBLAS, or $TAPE_BLAS_LIBRARY)
     when it is at least `blasMinFlops` (2 M N K). */
  bool blas;
  int64_t blasMinFlops;
  /* Threads a step may use; 0: one per core. */
  int64_t threads;
  /* Vector width to size kernels for (128, 256, 512); 0: the host's. */
  int64_t vectorBits;
  /* Codegen switches, on by default; off only to measure them. */
  bool vectorize;
  bool packMatmuls;
  bool fuseUpdates;
} TapeCompileOptions;

TAPE_CAPI_EXPORTED TapeCompileOptions tapeCompileOptionsGetDefault(void);

/* Compiles MLIR text (`length` bytes) with `options` (NULL: the defaults).
   Options out of range are an error. On success `*model` owns the model. */
TAPE_CAPI_EXPORTED TapeStatus
tapeModelCompileString(const char *source, size_t length,
                       const TapeCompileOptions *options, TapeModel *model);
TAPE_CAPI_EXPORTED TapeStatus
tapeModelCompileFile(const char *path, const TapeCompileOptions *options,
                     TapeModel *model);
TAPE_CAPI_EXPORTED void tapeModelDestroy(TapeModel model);
/* Warnings from compilation (host-side updates, disconnected gradients).
   tapeModelGetWarning: NULL for a null model or an index out of range. */
TAPE_CAPI_EXPORTED size_t tapeModelGetNumWarnings(TapeModel model);
TAPE_CAPI_EXPORTED const char *tapeModelGetWarning(TapeModel model, size_t i);

/* The state layout: variables in order, optimizer slots included. For a
   null model or an index out of range: 0 variables, a NULL name or shape,
   rank -1, dtype F32, not trainable. */
TAPE_CAPI_EXPORTED size_t tapeModelGetNumVariables(TapeModel model);
TAPE_CAPI_EXPORTED const char *tapeModelGetVariableName(TapeModel model,
                                                        size_t i);
TAPE_CAPI_EXPORTED TapeDType tapeModelGetVariableDType(TapeModel model,
                                                       size_t i);
TAPE_CAPI_EXPORTED intptr_t tapeModelGetVariableRank(TapeModel model,
                                                     size_t i);
TAPE_CAPI_EXPORTED const int64_t *tapeModelGetVariableShape(TapeModel model,
                                                            size_t i);
TAPE_CAPI_EXPORTED bool tapeModelIsVariableTrainable(TapeModel model,
                                                     size_t i);

/* Public steps and host functions (0, NULL or false for a null model or an
   index out of range). */
TAPE_CAPI_EXPORTED size_t tapeModelGetNumFunctions(TapeModel model);
TAPE_CAPI_EXPORTED const char *tapeModelGetFunctionName(TapeModel model,
                                                        size_t i);
TAPE_CAPI_EXPORTED bool tapeModelIsFunctionStep(TapeModel model, size_t i);
/* A training function: a step, or a host function that calls one or
   assigns a variable. Each completed tapeStateRun of one adds one to the
   state's step count (tapeStateGetStepCount); other functions (evaluation,
   inference) only read the variables and count nothing. */
TAPE_CAPI_EXPORTED bool tapeModelIsFunctionTraining(TapeModel model,
                                                    size_t i);
TAPE_CAPI_EXPORTED size_t tapeModelGetFunctionNumInputs(TapeModel model,
                                                        size_t i);
TAPE_CAPI_EXPORTED size_t tapeModelGetFunctionNumOutputs(TapeModel model,
                                                         size_t i);

/*--- State ----------------------------------------------------------------*/

/* A new instance with every variable at its initial value; a null state
   for a null model or when memory runs out. Step count: 0 for a null
   state. */
TAPE_CAPI_EXPORTED TapeState tapeStateCreate(TapeModel model);
TAPE_CAPI_EXPORTED void tapeStateDestroy(TapeState state);
TAPE_CAPI_EXPORTED uint64_t tapeStateGetStepCount(TapeState state);

/* Runs `function`: inputs are read, outputs written. Every buffer is
   checked against the signature before anything runs. A run that fails
   check-numerics leaves the state as it was (variables and step count). */
TAPE_CAPI_EXPORTED TapeStatus tapeStateRun(TapeState state,
                                           const char *function,
                                           const TapeBuffer *inputs,
                                           size_t numInputs,
                                           const TapeBuffer *outputs,
                                           size_t numOutputs);

/* Copies variable `name` out of / into the state (checked). */
TAPE_CAPI_EXPORTED TapeStatus tapeStateGetVariable(TapeState state,
                                                   const char *name,
                                                   TapeBuffer value);
TAPE_CAPI_EXPORTED TapeStatus tapeStateSetVariable(TapeState state,
                                                   const char *name,
                                                   TapeBuffer value);

/* Atomic save; a load that fails leaves the state unchanged. */
TAPE_CAPI_EXPORTED TapeStatus tapeStateSaveCheckpoint(TapeState state,
                                                      const char *path);
TAPE_CAPI_EXPORTED TapeStatus tapeStateLoadCheckpoint(TapeState state,
                                                      const char *path);

#ifdef __cplusplus
}
#endif

#endif /* TAPE_C_TAPE_H */
