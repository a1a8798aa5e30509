/*===-- tape-c/Tape.h - C API of the tape train-step compiler -----*- C -*-===*\
|*                                                                            *|
|* Compile a module in the tape dialect in-process (from text, a file or an  *|
|* MlirModule), or load one tape-compile --shared built; create state for    *|
|* it, run its steps and functions on the caller's buffers, get and set      *|
|* variables, save and load checkpoints. Plain C99; in libtape.so.           *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

/* Conventions (those of mlir-c, with IREE's status codes):

   Handles. TapeModel, TapeState, TapeStatus and TapeCompileOptions are
   opaque `{void *ptr}` structs passed by value; `ptr == NULL` is the null
   handle (tapeXIsNull). A handle returned by a Create/Compile/Load
   function is owned by the caller, who destroys it exactly once with its
   Destroy function; Destroy of a null handle does nothing. Every other
   handle a function returns is borrowed (tapeStateGetModel).

   Errors. No tape* call aborts or exits the process, and none prints. A
   fallible call returns a TapeStatus: the null status is success
   (tapeStatusIsOk); anything else is an error the caller owns and destroys
   with tapeStatusDestroy. An error has a code (tapeStatusGetCode: what
   kind of failure, to act on), a message (to show) and the compiler's
   diagnostics (structured: severity, location, message). On an error
   nothing the call would have returned is written (`*model` stays as it
   was). Queries never fail: for a null handle or an index out of range
   they return the neutral value each documents (0, NULL, false, -1).

   Strings. Strings passed in are NUL-terminated UTF-8 unless a length is
   given, and are copied if kept. Strings and arrays returned are borrowed:
   those of a model (names, shapes, warnings) live as long as the model,
   those of a status as long as the status, those of an options object
   until it is destroyed or that option is set again.

   Threads. Every function may be called from any thread. A model is
   immutable once compiled: any number of threads may query it and run
   states of it at the same time. A state is used by one call at a time:
   tapeStateRun refuses (TapeStatusFailedPrecondition, nothing runs) a call
   on a state another call is running on; other calls on a state (get/set
   variables, checkpoints, tapeStateGetLastRunCopiedBytes) must not overlap
   a run on it. Different states, of one model or several, run
   concurrently. A TapeCompileOptions object must not be set from one
   thread while another uses it. Statuses are plain values.

   Lifetimes. A model must outlive every state created from it. A model
   keeps nothing of the text, file, module or options it was compiled from.

   ABI. Handles, enums (values never renumbered; new ones appended) and
   TapeBuffer are fixed; compile options grow by new setter functions, so
   programs built against this header keep working with later libraries of
   the same major version. */

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

typedef struct TapeModel { void *ptr; } TapeModel;
typedef struct TapeState { void *ptr; } TapeState;
typedef struct TapeStatus { void *ptr; } TapeStatus;
typedef struct TapeCompileOptions { void *ptr; } TapeCompileOptions;

static inline bool tapeModelIsNull(TapeModel model) { return !model.ptr; }
static inline bool tapeStateIsNull(TapeState state) { return !state.ptr; }
/* The null status is success: tapeStatusIsNull(s) == tapeStatusIsOk(s). */
static inline bool tapeStatusIsNull(TapeStatus status) { return !status.ptr; }
static inline bool tapeCompileOptionsIsNull(TapeCompileOptions options) {
  return !options.ptr;
}

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

/*===--------------------------------------------------------------------===*
 * Status
 *===--------------------------------------------------------------------===*/

/* What kind of failure an error is. Each function below names the codes it
   returns besides these two, which any fallible function may return:
   InvalidArgument for a null handle or pointer argument, Internal for a
   bug of ours (please report it). */
typedef enum TapeStatusCode {
  TapeStatusOk = 0,
  /* An argument is wrong whatever the state of the system: a null handle
     or pointer, a malformed buffer (null data, unknown dtype, negative
     dimension), a buffer or argument count that does not match the
     function's signature, outputs that overlap each other. */
  TapeStatusInvalidArgument = 1,
  /* No function, variable or file of that name. */
  TapeStatusNotFound = 2,
  /* A value outside the range an option accepts (threads < 0, a vector
     width other than 0/128/256/512). */
  TapeStatusOutOfRange = 3,
  /* The call cannot run now: the state is in use by another call; the
     model cannot be checkpointed; a shared model of another format
     version. */
  TapeStatusFailedPrecondition = 4,
  /* Out of memory (or disk space). */
  TapeStatusResourceExhausted = 5,
  /* A library the compiled code needs cannot be loaded (BLAS, OpenMP), or
     a shared model's dependencies. */
  TapeStatusUnavailable = 6,
  /* Reading or writing a file failed (permissions, a folder, I/O). */
  TapeStatusIOError = 7,
  /* A file is damaged or not what it must be: a truncated, corrupt or
     other model's checkpoint; corrupt shared-model metadata. */
  TapeStatusDataLoss = 8,
  /* The module does not parse, verify or compile (an unsupported
     construct, a gradient that cannot be computed): the diagnostics say
     where and why. */
  TapeStatusCompileError = 9,
  /* check-numerics: the call computed a NaN or an infinity; the state is
     as it was before the call. */
  TapeStatusNumericalError = 10,
  TapeStatusInternal = 11,
} TapeStatusCode;

static inline bool tapeStatusIsOk(TapeStatus status) { return !status.ptr; }
/* TapeStatusOk for the null status. */
TAPE_CAPI_EXPORTED TapeStatusCode tapeStatusGetCode(TapeStatus status);
/* "OK", "INVALID_ARGUMENT", "NOT_FOUND", ... (static strings); "UNKNOWN"
   for a value that is not a TapeStatusCode. */
TAPE_CAPI_EXPORTED const char *tapeStatusCodeGetName(TapeStatusCode code);
/* The message; "" for the null status. */
TAPE_CAPI_EXPORTED const char *tapeStatusGetMessage(TapeStatus status);
TAPE_CAPI_EXPORTED size_t tapeStatusGetNumDiagnostics(TapeStatus status);
/* Diagnostic `i`: severity, "file:line:col" (or ""), message. Any of the
   out-pointers may be NULL; nothing is written for an index out of range.
   The strings live as long as the status. */
TAPE_CAPI_EXPORTED void tapeStatusGetDiagnostic(TapeStatus status, size_t i,
                                                TapeSeverity *severity,
                                                const char **location,
                                                const char **message);
TAPE_CAPI_EXPORTED void tapeStatusDestroy(TapeStatus status);

/*===--------------------------------------------------------------------===*
 * Registration with MLIR's C API
 *
 * libtape.so also exports MLIR's core C API (mlir-c/IR.h, mlir-c/Pass.h,
 * mlir-c/BuiltinTypes.h, ...: contexts, modules, parsing, printing, pass
 * managers), built against the same libMLIR.so as the compiler, so a C
 * program builds and transforms tape IR with it and compiles the result
 * with tapeModelCompileModule.
 *===--------------------------------------------------------------------===*/

/* The tape dialect as an MLIR dialect handle:
   mlirGetDialectHandle__tape__(). Inserting or registering it adds the
   dialect and its differentiation rules (external models on arith, math,
   linalg and tensor ops, applied when those dialects load). */
MLIR_DECLARE_CAPI_DIALECT_REGISTRATION(Tape, tape);

/* Adds to `registry` every dialect tape IR may use: the tape dialect with
   its differentiation rules, every upstream dialect and extension, and
   their LLVM IR translations (what the compiler itself parses with). */
TAPE_CAPI_EXPORTED void tapeRegisterAllDialects(MlirDialectRegistry registry);

/* Registers every tape pass (tape-differentiate, tape-cpu-*, tape-abi-*,
   ...) and pipeline (tape-to-llvm, tape-to-tensor) with MLIR's global pass
   registry, so that mlirParsePassPipeline and mlirOpPassManagerAddPipeline
   know their names; as mlirRegisterAllPasses does for upstream's.
   Idempotent; concurrent calls of it are safe, but, as for MLIR's own
   registration functions, not while another thread reads the registry
   (parses a pipeline). */
TAPE_CAPI_EXPORTED void tapeRegisterPasses(void);

/*===--------------------------------------------------------------------===*
 * Compile options
 *
 * An options object, opaque so that options can be added without breaking
 * programs built against an older header: each is set through its own
 * setter, which checks the value (an out-of-range one is refused with
 * TapeStatusOutOfRange and leaves the option as it was). These are the
 * options of tape-run and tape-compile, under the same names; a fresh
 * object holds their defaults.
 *===--------------------------------------------------------------------===*/

/* A new options object with every default; a null handle when out of
   memory. The caller destroys it. */
TAPE_CAPI_EXPORTED TapeCompileOptions tapeCompileOptionsCreate(void);
TAPE_CAPI_EXPORTED void tapeCompileOptionsDestroy(TapeCompileOptions options);

/* The name diagnostics give the text of tapeModelCompileString (default
   "<module>"; a file's diagnostics name the file, a module's its own
   locations). Copied. */
TAPE_CAPI_EXPORTED TapeStatus
tapeCompileOptionsSetSourceName(TapeCompileOptions options, const char *name);
/* --strict: host-side updates and disconnected gradients are errors
   instead of warnings. Default false. */
TAPE_CAPI_EXPORTED TapeStatus
tapeCompileOptionsSetStrict(TapeCompileOptions options, bool strict);
/* --check-numerics: every computed value is checked for NaN/Inf; a call
   that produces one fails (TapeStatusNumericalError) naming the first op
   that did, and leaves the state as it was. Slower. Default false. */
TAPE_CAPI_EXPORTED TapeStatus
tapeCompileOptionsSetCheckNumerics(TapeCompileOptions options, bool check);
/* --blas: large f32 matmuls call cblas_sgemm from OpenBLAS (or the CBLAS
   library $TAPE_BLAS_LIBRARY names), loaded when the model is compiled
   (TapeStatusUnavailable if it cannot be). Default false. */
TAPE_CAPI_EXPORTED TapeStatus
tapeCompileOptionsSetBlas(TapeCompileOptions options, bool blas);
/* --blas-min-flops: with BLAS, the smallest matmul (2 M N K flops) that
   calls it; >= 0. Default 1000000. */
TAPE_CAPI_EXPORTED TapeStatus
tapeCompileOptionsSetBlasMinFlops(TapeCompileOptions options, int64_t flops);
/* --num-threads: threads a call may use (OpenMP, BLAS included); 0: one per
   core; 0 to 4096. Default 1. */
TAPE_CAPI_EXPORTED TapeStatus
tapeCompileOptionsSetThreads(TapeCompileOptions options, int64_t threads);
/* --vector-bits: the vector register width kernels are sized for: 128,
   256, 512, or 0 for the host's. Default 0. */
TAPE_CAPI_EXPORTED TapeStatus
tapeCompileOptionsSetVectorBits(TapeCompileOptions options, int64_t bits);
/* --no-vectorize, --no-pack, --no-fuse-updates turn these codegen steps
   off (each on by default), only to measure what they do. */
TAPE_CAPI_EXPORTED TapeStatus
tapeCompileOptionsSetVectorize(TapeCompileOptions options, bool vectorize);
TAPE_CAPI_EXPORTED TapeStatus
tapeCompileOptionsSetPackMatmuls(TapeCompileOptions options, bool pack);
TAPE_CAPI_EXPORTED TapeStatus
tapeCompileOptionsSetFuseUpdates(TapeCompileOptions options, bool fuse);
/* --report-copies: a remark (tapeModelGetWarningDiagnostic, severity
   TapeSeverityRemark) for each variable copied into its buffer instead of
   updated in place. Default false. */
TAPE_CAPI_EXPORTED TapeStatus
tapeCompileOptionsSetReportCopies(TapeCompileOptions options, bool report);
/* -g: line tables from the source's locations into the compiled code, for
   profilers (with TAPE_PERF_JITDUMP=1 in the environment, perf sees the
   JIT's code). Default false. */
TAPE_CAPI_EXPORTED TapeStatus
tapeCompileOptionsSetDebugInfo(TapeCompileOptions options, bool debugInfo);
/* --data-parallel: the training steps average their gradients over the
   processes of an MPI job inside the step (docs/DataParallel.md); the
   program links MPI (mpicc, or -lmpi) and calls MPI_Init before the first
   run. Compiling one in a process without MPI's symbols is Unavailable; a
   run before MPI_Init is FailedPrecondition. Default false. */
TAPE_CAPI_EXPORTED TapeStatus
tapeCompileOptionsSetDataParallel(TapeCompileOptions options, bool dataParallel);
/* --mpi-abi: the MPI library's ABI the data-parallel code calls, "OpenMPI"
   or "MPICH" (also Intel MPI, MVAPICH); anything else is OutOfRange, a
   null string InvalidArgument. Copied. Default: the MPI this tape was
   built with, else OpenMPI. */
TAPE_CAPI_EXPORTED TapeStatus
tapeCompileOptionsSetMPIABI(TapeCompileOptions options, const char *abi);

/* The current values (the defaults for a null handle). The source name
   lives until the options are destroyed or it is set again. */
TAPE_CAPI_EXPORTED const char *
tapeCompileOptionsGetSourceName(TapeCompileOptions options);
TAPE_CAPI_EXPORTED bool tapeCompileOptionsGetStrict(TapeCompileOptions options);
TAPE_CAPI_EXPORTED bool
tapeCompileOptionsGetCheckNumerics(TapeCompileOptions options);
TAPE_CAPI_EXPORTED bool tapeCompileOptionsGetBlas(TapeCompileOptions options);
TAPE_CAPI_EXPORTED int64_t
tapeCompileOptionsGetBlasMinFlops(TapeCompileOptions options);
TAPE_CAPI_EXPORTED int64_t
tapeCompileOptionsGetThreads(TapeCompileOptions options);
TAPE_CAPI_EXPORTED int64_t
tapeCompileOptionsGetVectorBits(TapeCompileOptions options);
TAPE_CAPI_EXPORTED bool
tapeCompileOptionsGetVectorize(TapeCompileOptions options);
TAPE_CAPI_EXPORTED bool
tapeCompileOptionsGetPackMatmuls(TapeCompileOptions options);
TAPE_CAPI_EXPORTED bool
tapeCompileOptionsGetFuseUpdates(TapeCompileOptions options);
TAPE_CAPI_EXPORTED bool
tapeCompileOptionsGetReportCopies(TapeCompileOptions options);
TAPE_CAPI_EXPORTED bool
tapeCompileOptionsGetDebugInfo(TapeCompileOptions options);
TAPE_CAPI_EXPORTED bool
tapeCompileOptionsGetDataParallel(TapeCompileOptions options);
/* Lives until the options are destroyed or it is set again. */
TAPE_CAPI_EXPORTED const char *
tapeCompileOptionsGetMPIABI(TapeCompileOptions options);

/*===--------------------------------------------------------------------===*
 * Models
 *===--------------------------------------------------------------------===*/

/* Compile a module: parse, verify, differentiate, lower and JIT-compile it
   for this machine. `options` may be the null handle (every default); it
   is only read, and may be destroyed or reused once the call returns. On
   success `*model` is a new model the caller owns (tapeModelDestroy).
   Codes: CompileError (diagnostics attached), Unavailable,
   ResourceExhausted. Warnings (host-side updates, disconnected gradients)
   do not fail the compile: tapeModelGetWarning. */

/* From MLIR text, `length` bytes (need not be NUL-terminated). */
TAPE_CAPI_EXPORTED TapeStatus
tapeModelCompileString(const char *source, size_t length,
                       TapeCompileOptions options, TapeModel *model);
/* From a file of MLIR text; diagnostics name it. Also NotFound, IOError. */
TAPE_CAPI_EXPORTED TapeStatus tapeModelCompileFile(const char *path,
                                                   TapeCompileOptions options,
                                                   TapeModel *model);
/* From a module built or parsed with MLIR's C API, in any context (it
   needs the dialects of tapeRegisterAllDialects, or the tape handle and
   whatever upstream dialects it uses). The module stays the caller's: it
   is only read, never modified, consumed or kept: it is printed with its
   locations and compiled in the compiler's own context, so the caller's
   context gains nothing and the module may be changed or destroyed as soon
   as the call returns. Diagnostics carry the module's own locations; a
   module that does not verify is a CompileError. The module (and its
   context) must not be modified by another thread during the call. Its
   functions' inputs are named only by `tape.name` attributes (a module in
   memory has no source text). */
TAPE_CAPI_EXPORTED TapeStatus tapeModelCompileModule(MlirModule module,
                                                     TapeCompileOptions options,
                                                     TapeModel *model);
/* Loads a shared library `tape-compile --shared` wrote: nothing is
   compiled; the compile options are those it was built with. The file is
   checked before anything of it runs. Codes: NotFound, IOError,
   InvalidArgument (not a tape model), DataLoss (damaged), FailedPrecondition
   (another format version; built with check-numerics), Unavailable (the
   dynamic loader failed: a missing dependency). The library stays loaded
   until the model is destroyed. */
TAPE_CAPI_EXPORTED TapeStatus tapeModelLoadShared(const char *path,
                                                  TapeModel *model);
/* Destroys a model: every state of it must have been destroyed first. */
TAPE_CAPI_EXPORTED void tapeModelDestroy(TapeModel model);

/* Warnings (and with report-copies, remarks) from compilation, each with
   its notes after it. tapeModelGetWarning: the whole diagnostic as one
   line, "file:line:col: warning: message"; NULL for a null model or an
   index out of range. tapeModelGetWarningDiagnostic: its parts, as
   tapeStatusGetDiagnostic gives them. Strings live as long as the model. */
TAPE_CAPI_EXPORTED size_t tapeModelGetNumWarnings(TapeModel model);
TAPE_CAPI_EXPORTED const char *tapeModelGetWarning(TapeModel model, size_t i);
TAPE_CAPI_EXPORTED void tapeModelGetWarningDiagnostic(TapeModel model,
                                                      size_t i,
                                                      TapeSeverity *severity,
                                                      const char **location,
                                                      const char **message);

/* The state layout: variables in order, optimizer slots included. For a
   null model or an index out of range: 0 variables, a NULL name or shape,
   rank -1, dtype F32, not trainable. A shape has `rank` elements (for
   rank 0 the pointer may be NULL). */
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
/* The index of variable `name`; -1 if there is none (or a null argument). */
TAPE_CAPI_EXPORTED intptr_t tapeModelFindVariable(TapeModel model,
                                                  const char *name);

/* Public steps and host functions (0, NULL or false for a null model or an
   index out of range). */
TAPE_CAPI_EXPORTED size_t tapeModelGetNumFunctions(TapeModel model);
TAPE_CAPI_EXPORTED const char *tapeModelGetFunctionName(TapeModel model,
                                                        size_t i);
/* The index of function `name` (no '@'); -1 if there is none. */
TAPE_CAPI_EXPORTED intptr_t tapeModelFindFunction(TapeModel model,
                                                  const char *name);
TAPE_CAPI_EXPORTED bool tapeModelIsFunctionStep(TapeModel model, size_t i);
/* A training function: a step, or a host function that calls one or
   assigns a variable. Each completed tapeStateRun of one adds one to the
   state's step count (tapeStateGetStepCount); other functions (evaluation,
   inference) only read the variables and count nothing. */
TAPE_CAPI_EXPORTED bool tapeModelIsFunctionTraining(TapeModel model,
                                                    size_t i);

/* The signature of function `fn`: its inputs and outputs, in the order
   tapeStateRun takes their buffers. For a null model, `fn` or `i` out of
   range: 0, NULL, rank -1, dtype F32.
   A name is the `tape.name` attribute of the argument or result, else for
   an input of a module compiled from text or a file its SSA name there
   (`%x: tensor<...>` is "x"; numbered ones like `%0` are not names), else
   "" (unnamed). Shapes have `rank` elements (for rank 0 the pointer may
   be NULL). */
TAPE_CAPI_EXPORTED size_t tapeModelGetFunctionNumInputs(TapeModel model,
                                                        size_t fn);
TAPE_CAPI_EXPORTED const char *
tapeModelGetFunctionInputName(TapeModel model, size_t fn, size_t i);
TAPE_CAPI_EXPORTED TapeDType tapeModelGetFunctionInputDType(TapeModel model,
                                                            size_t fn,
                                                            size_t i);
TAPE_CAPI_EXPORTED intptr_t tapeModelGetFunctionInputRank(TapeModel model,
                                                          size_t fn,
                                                          size_t i);
TAPE_CAPI_EXPORTED const int64_t *
tapeModelGetFunctionInputShape(TapeModel model, size_t fn, size_t i);
TAPE_CAPI_EXPORTED size_t tapeModelGetFunctionNumOutputs(TapeModel model,
                                                         size_t fn);
TAPE_CAPI_EXPORTED const char *
tapeModelGetFunctionOutputName(TapeModel model, size_t fn, size_t i);
TAPE_CAPI_EXPORTED TapeDType tapeModelGetFunctionOutputDType(TapeModel model,
                                                             size_t fn,
                                                             size_t i);
TAPE_CAPI_EXPORTED intptr_t tapeModelGetFunctionOutputRank(TapeModel model,
                                                           size_t fn,
                                                           size_t i);
TAPE_CAPI_EXPORTED const int64_t *
tapeModelGetFunctionOutputShape(TapeModel model, size_t fn, size_t i);

/*===--------------------------------------------------------------------===*
 * Buffers
 *===--------------------------------------------------------------------===*/

/* A tensor in the caller's memory: `rank` dimensions of `shape`, elements
   of `dtype`, element (i0, i1, ...) at data + sum(i_k * strides[k])
   elements. `strides` NULL: row-major and contiguous (C order), as NumPy
   lays out a new array; otherwise any strides (in elements, negative and
   0 included), e.g. a transposed view. Initialise unused fields to 0
   (designated initialisers: {.data = p, .dtype = TapeDTypeF32, ...}).
   The memory is the caller's: only read or written during the call that
   takes it, never kept. Checked against the function's signature (dtype
   and shape) before anything is read or written. */
typedef struct TapeBuffer {
  void *data;
  TapeDType dtype;
  intptr_t rank;
  const int64_t *shape;
  const int64_t *strides;
} TapeBuffer;

/*===--------------------------------------------------------------------===*
 * States
 *===--------------------------------------------------------------------===*/

/* A new instance of `model` with every variable at its initial value (and
   the step count a shared model was trained to); a null state for a null
   model or when memory runs out. The caller destroys it before the model. */
TAPE_CAPI_EXPORTED TapeState tapeStateCreate(TapeModel model);
TAPE_CAPI_EXPORTED void tapeStateDestroy(TapeState state);
/* The model of a state (borrowed); null for a null state. */
TAPE_CAPI_EXPORTED TapeModel tapeStateGetModel(TapeState state);
/* Completed training calls (kept in checkpoints); 0 for a null state. */
TAPE_CAPI_EXPORTED uint64_t tapeStateGetStepCount(TapeState state);

/* Runs `function` (its name, no '@') on the state: reads `inputs`, writes
   `outputs`, one buffer per input and output of its signature
   (tapeModelGetFunctionInput*). Every buffer is checked before anything
   runs.

   No copies where the layout allows: a buffer whose elements are
   contiguous in row-major order (strides NULL or equal to those) and whose
   data is aligned for its dtype is handed to the compiled code as it is:
   inputs are read in place and outputs written in place. Any other input
   is first gathered into a temporary; any other output (and one that
   overlaps an input, so that the inputs are never written before they are
   read) is written to a temporary and then scattered into the caller's
   buffer. tapeStateGetLastRunCopiedBytes says how many bytes a run copied.

   Codes: NotFound (no such function), InvalidArgument (buffer count,
   dtype, shape or layout wrong; outputs overlapping each other),
   FailedPrecondition (another call is running on the state),
   NumericalError (check-numerics; the state is as it was),
   ResourceExhausted (no memory for a temporary). After an error the
   outputs' contents are unspecified (a failed check-numerics call may have
   written some); before the compiled code runs nothing is written. */
TAPE_CAPI_EXPORTED TapeStatus tapeStateRun(TapeState state,
                                           const char *function,
                                           const TapeBuffer *inputs,
                                           size_t numInputs,
                                           const TapeBuffer *outputs,
                                           size_t numOutputs);
/* Bytes of the caller's inputs and outputs that the last successful
   tapeStateRun on this state copied (gathered into or scattered from
   temporaries); 0 when every buffer was used in place, and for a null
   state or one that has not run. */
TAPE_CAPI_EXPORTED uint64_t tapeStateGetLastRunCopiedBytes(TapeState state);

/* Copies variable `name` out of or into the state, from or to a buffer of
   its dtype and shape (any strides). Codes: NotFound, InvalidArgument. */
TAPE_CAPI_EXPORTED TapeStatus tapeStateGetVariable(TapeState state,
                                                   const char *name,
                                                   TapeBuffer value);
TAPE_CAPI_EXPORTED TapeStatus tapeStateSetVariable(TapeState state,
                                                   const char *name,
                                                   TapeBuffer value);

/* Saves every variable and the step count to `path`, atomically (a
   temporary renamed over it). Codes: FailedPrecondition (the model's
   variables cannot be stored in a checkpoint), IOError, NotFound (no such
   folder), ResourceExhausted. */
TAPE_CAPI_EXPORTED TapeStatus tapeStateSaveCheckpoint(TapeState state,
                                                      const char *path);
/* Loads a checkpoint of this model; one that fails leaves the state
   unchanged. Codes: NotFound, IOError, DataLoss (truncated, corrupt, or
   another model's). */
TAPE_CAPI_EXPORTED TapeStatus tapeStateLoadCheckpoint(TapeState state,
                                                      const char *path);

#ifdef __cplusplus
}
#endif

#endif /* TAPE_C_TAPE_H */
