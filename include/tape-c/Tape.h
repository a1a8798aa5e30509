/*===-- tape-c/Tape.h - C API of the tape train-step compiler -----*- C -*-===*\
|*                                                                            *|
|* Compile a module in the tape dialect in-process, create state for it, run *|
|* its steps, get/set variables and save/load checkpoints. Follows the mlir-c *|
|* conventions: opaque handles `{void *ptr}`, `tape` prefix, explicit         *|
|* Destroy functions. Every fallible call returns a TapeStatus: null `ptr`    *|
|* means success; otherwise it carries a message and the compiler's           *|
|* diagnostics (structured, never printed) and must be destroyed.             *|
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
/* Warnings from compilation (host-side updates, disconnected gradients). */
TAPE_CAPI_EXPORTED size_t tapeModelGetNumWarnings(TapeModel model);
TAPE_CAPI_EXPORTED const char *tapeModelGetWarning(TapeModel model, size_t i);

/* The state layout: variables in order, optimizer slots included. */
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

/* Public steps and host functions. */
TAPE_CAPI_EXPORTED size_t tapeModelGetNumFunctions(TapeModel model);
TAPE_CAPI_EXPORTED const char *tapeModelGetFunctionName(TapeModel model,
                                                        size_t i);
TAPE_CAPI_EXPORTED bool tapeModelIsFunctionStep(TapeModel model, size_t i);
TAPE_CAPI_EXPORTED size_t tapeModelGetFunctionNumInputs(TapeModel model,
                                                        size_t i);
TAPE_CAPI_EXPORTED size_t tapeModelGetFunctionNumOutputs(TapeModel model,
                                                         size_t i);

/*--- State ----------------------------------------------------------------*/

/* A new instance with every variable at its initial value. */
TAPE_CAPI_EXPORTED TapeState tapeStateCreate(TapeModel model);
TAPE_CAPI_EXPORTED void tapeStateDestroy(TapeState state);
TAPE_CAPI_EXPORTED uint64_t tapeStateGetStepCount(TapeState state);

/* Runs `function`: inputs are read, outputs written. */
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
