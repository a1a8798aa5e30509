//===- Tape.cpp - C API of the tape train-step compiler -------------------===//

#include "tape-c/Tape.h"

#include "tape/Dialect/Tape/TapeDialect.h"
#include "tape/Runtime/Checkpoint.h"
#include "tape/Pipelines/Options.h"
#include "tape/Runtime/Model.h"

#include "mlir/CAPI/Registration.h"

#include <cstring>

using namespace tape;

MLIR_DEFINE_CAPI_DIALECT_REGISTRATION(Tape, tape, mlir::tape::TapeDialect)

static Model *unwrap(TapeModel m) { return static_cast<Model *>(m.ptr); }
static State *unwrap(TapeState s) { return static_cast<State *>(s.ptr); }
static Status *unwrap(TapeStatus s) { return static_cast<Status *>(s.ptr); }

static TapeStatus wrap(Status status) {
  if (status)
    return {nullptr};
  return {new Status(std::move(status))};
}

static TapeStatus error(const std::string &message) {
  return wrap(Status::error(message));
}

const char *tapeStatusGetMessage(TapeStatus status) {
  return status.ptr ? unwrap(status)->message.c_str() : "";
}

size_t tapeStatusGetNumDiagnostics(TapeStatus status) {
  return status.ptr ? unwrap(status)->diagnostics.size() : 0;
}

void tapeStatusGetDiagnostic(TapeStatus status, size_t i,
                             TapeSeverity *severity, const char **location,
                             const char **message) {
  if (!status.ptr || i >= unwrap(status)->diagnostics.size())
    return;
  const Diagnostic &d = unwrap(status)->diagnostics[i];
  if (severity)
    *severity = TapeSeverity(d.severity);
  if (location)
    *location = d.location.c_str();
  if (message)
    *message = d.message.c_str();
}

void tapeStatusDestroy(TapeStatus status) { delete unwrap(status); }

TapeCompileOptions tapeCompileOptionsGetDefault(void) {
  CompileOptions d;
  TapeCompileOptions o;
  o.strict = d.strict;
  o.checkNumerics = d.checkNumerics;
  o.blas = d.blas;
  o.blasMinFlops = d.blasMinFlops;
  o.threads = d.threads;
  o.vectorBits = d.vectorBits;
  o.vectorize = d.vectorize;
  o.packMatmuls = d.packMatmuls;
  o.fuseUpdates = d.fuseUpdates;
  return o;
}

/// The one mapping from the C options to tape::CompileOptions.
static Status unwrap(const TapeCompileOptions *c, CompileOptions &options) {
  TapeCompileOptions o = c ? *c : tapeCompileOptionsGetDefault();
  options.strict = o.strict;
  options.checkNumerics = o.checkNumerics;
  options.blas = o.blas;
  options.blasMinFlops = o.blasMinFlops;
  options.threads = o.threads;
  options.vectorBits = o.vectorBits;
  options.vectorize = o.vectorize;
  options.packMatmuls = o.packMatmuls;
  options.fuseUpdates = o.fuseUpdates;
  std::string invalid = checkCompileOptions(options);
  if (!invalid.empty())
    return Status::error("TapeCompileOptions: " + invalid);
  return Status::success();
}

TapeStatus tapeModelCompileString(const char *source, size_t length,
                                  const TapeCompileOptions *compileOptions,
                                  TapeModel *model) {
  if (!source || !model)
    return error("tapeModelCompileString: null argument");
  CompileOptions options;
  if (Status s = unwrap(compileOptions, options); !s)
    return wrap(std::move(s));
  std::unique_ptr<Model> m;
  Status s = Model::compile(std::string(source, length), options, m);
  if (!s)
    return wrap(std::move(s));
  model->ptr = m.release();
  return {nullptr};
}

TapeStatus tapeModelCompileFile(const char *path,
                                const TapeCompileOptions *compileOptions,
                                TapeModel *model) {
  if (!path || !model)
    return error("tapeModelCompileFile: null argument");
  CompileOptions options;
  if (Status s = unwrap(compileOptions, options); !s)
    return wrap(std::move(s));
  std::unique_ptr<Model> m;
  Status s = Model::compileFile(path, options, m);
  if (!s)
    return wrap(std::move(s));
  model->ptr = m.release();
  return {nullptr};
}

void tapeModelDestroy(TapeModel model) { delete unwrap(model); }

// Queries on a null model or an index out of range return the documented
// neutral value (0, NULL, false, -1) instead of crashing: the C API never
// aborts the host process.
static const Model *modelOrNull(TapeModel model) { return unwrap(model); }

template <typename T>
static const T *at(const std::vector<T> &items, size_t i) {
  return i < items.size() ? &items[i] : nullptr;
}

size_t tapeModelGetNumWarnings(TapeModel model) {
  const Model *m = modelOrNull(model);
  return m ? m->warnings().size() : 0;
}

const char *tapeModelGetWarning(TapeModel model, size_t i) {
  static thread_local std::string text;
  const Model *m = modelOrNull(model);
  const Diagnostic *d = m ? at(m->warnings(), i) : nullptr;
  if (!d)
    return nullptr;
  text = d->str();
  return text.c_str();
}

static const VariableSpec *variableAt(TapeModel model, size_t i) {
  const Model *m = modelOrNull(model);
  return m ? at(m->variables(), i) : nullptr;
}
static const FunctionSpec *functionAt(TapeModel model, size_t i) {
  const Model *m = modelOrNull(model);
  return m ? at(m->functions(), i) : nullptr;
}

size_t tapeModelGetNumVariables(TapeModel model) {
  const Model *m = modelOrNull(model);
  return m ? m->variables().size() : 0;
}
const char *tapeModelGetVariableName(TapeModel model, size_t i) {
  const VariableSpec *v = variableAt(model, i);
  return v ? v->name.c_str() : nullptr;
}
TapeDType tapeModelGetVariableDType(TapeModel model, size_t i) {
  const VariableSpec *v = variableAt(model, i);
  return v ? TapeDType(v->spec.dtype) : TapeDTypeF32;
}
intptr_t tapeModelGetVariableRank(TapeModel model, size_t i) {
  const VariableSpec *v = variableAt(model, i);
  return v ? intptr_t(v->spec.shape.size()) : -1;
}
const int64_t *tapeModelGetVariableShape(TapeModel model, size_t i) {
  const VariableSpec *v = variableAt(model, i);
  return v ? v->spec.shape.data() : nullptr;
}
bool tapeModelIsVariableTrainable(TapeModel model, size_t i) {
  const VariableSpec *v = variableAt(model, i);
  return v && v->trainable;
}

size_t tapeModelGetNumFunctions(TapeModel model) {
  const Model *m = modelOrNull(model);
  return m ? m->functions().size() : 0;
}
const char *tapeModelGetFunctionName(TapeModel model, size_t i) {
  const FunctionSpec *f = functionAt(model, i);
  return f ? f->name.c_str() : nullptr;
}
bool tapeModelIsFunctionStep(TapeModel model, size_t i) {
  const FunctionSpec *f = functionAt(model, i);
  return f && f->isStep;
}
bool tapeModelIsFunctionTraining(TapeModel model, size_t i) {
  const FunctionSpec *f = functionAt(model, i);
  return f && f->trains;
}
size_t tapeModelGetFunctionNumInputs(TapeModel model, size_t i) {
  const FunctionSpec *f = functionAt(model, i);
  return f ? f->inputs.size() : 0;
}
size_t tapeModelGetFunctionNumOutputs(TapeModel model, size_t i) {
  const FunctionSpec *f = functionAt(model, i);
  return f ? f->outputs.size() : 0;
}

TapeState tapeStateCreate(TapeModel model) {
  if (!model.ptr)
    return {nullptr};
  std::unique_ptr<State> state;
  if (!State::create(*unwrap(model), state))
    return {nullptr};
  return {state.release()};
}
void tapeStateDestroy(TapeState state) { delete unwrap(state); }
uint64_t tapeStateGetStepCount(TapeState state) {
  return state.ptr ? unwrap(state)->stepCount : 0;
}

/// The spec a TapeBuffer claims, or an error for an unusable one (its
/// element count and byte size are computed with overflow checks: a claim
/// of 2^40 elements is compared, never allocated).
static Status specOf(const TapeBuffer &b, const std::string &what,
                     TensorSpec &spec) {
  if (!b.data)
    return Status::error(what + ": null data pointer");
  if (b.dtype < TapeDTypeF32 || b.dtype > TapeDTypeI64)
    return Status::error(what + ": unknown dtype " + std::to_string(b.dtype));
  if (b.rank < 0 || b.rank > 64 || (b.rank && !b.shape))
    return Status::error(what + ": bad rank or null shape");
  spec.dtype = DType(b.dtype);
  spec.shape.assign(b.shape, b.shape + b.rank);
  uint64_t bytes = dtypeSize(spec.dtype);
  for (int64_t d : spec.shape)
    if (d < 0)
      return Status::error(what + ": negative dimension");
    else if (__builtin_mul_overflow(bytes, uint64_t(d), &bytes))
      return Status::error(what + ": its size overflows 64 bits");
  return Status::success();
}

TapeStatus tapeStateRun(TapeState state, const char *function,
                        const TapeBuffer *inputs, size_t numInputs,
                        const TapeBuffer *outputs, size_t numOutputs) {
  if (!state.ptr || !function || (numInputs && !inputs) ||
      (numOutputs && !outputs))
    return error("tapeStateRun: null argument");
  State &s = *unwrap(state);
  const FunctionSpec *fn = s.model().findFunction(function);
  if (!fn)
    return error(std::string("no function @") + function + " in the model");
  if (numInputs != fn->inputs.size() || numOutputs != fn->outputs.size())
    return error("@" + fn->name + " takes " +
                 std::to_string(fn->inputs.size()) + " inputs and " +
                 std::to_string(fn->outputs.size()) + " outputs, got " +
                 std::to_string(numInputs) + " and " +
                 std::to_string(numOutputs));
  // Check every buffer against the signature before touching any; then run
  // on the caller's memory through tensors that view it.
  std::vector<Tensor> in(numInputs), out(numOutputs);
  auto check = [&](const TapeBuffer &b, const TensorSpec &want,
                   const std::string &what) -> Status {
    TensorSpec got;
    if (Status st = specOf(b, what, got); !st)
      return st;
    if (got != want)
      return Status::error(what + " of @" + fn->name + " must be " +
                           want.str() + ", got " + got.str());
    return Status::success();
  };
  for (size_t i = 0; i < numInputs; ++i)
    if (Status st = check(inputs[i], fn->inputs[i],
                          "input #" + std::to_string(i));
        !st)
      return wrap(std::move(st));
  for (size_t i = 0; i < numOutputs; ++i)
    if (Status st = check(outputs[i], fn->outputs[i],
                          "output #" + std::to_string(i));
        !st)
      return wrap(std::move(st));
  for (size_t i = 0; i < numInputs; ++i) {
    in[i] = Tensor(fn->inputs[i]);
    std::memcpy(in[i].data(), inputs[i].data, fn->inputs[i].numBytes());
  }
  for (size_t i = 0; i < numOutputs; ++i)
    out[i] = Tensor(fn->outputs[i]);
  std::vector<const Tensor *> inPtrs;
  std::vector<Tensor *> outPtrs;
  for (Tensor &t : in)
    inPtrs.push_back(&t);
  for (Tensor &t : out)
    outPtrs.push_back(&t);
  if (Status st = s.model().call(fn->name, s, inPtrs, outPtrs); !st)
    return wrap(std::move(st));
  for (size_t i = 0; i < numOutputs; ++i)
    std::memcpy(outputs[i].data, out[i].data(), fn->outputs[i].numBytes());
  return {nullptr};
}

TapeStatus tapeStateGetVariable(TapeState state, const char *name,
                                TapeBuffer value) {
  if (!state.ptr || !name)
    return error("tapeStateGetVariable: null argument");
  State &s = *unwrap(state);
  int i = s.model().findVariable(name);
  if (i < 0)
    return error(std::string("no variable '") + name + "' in the model");
  TensorSpec got;
  if (Status st = specOf(value, std::string("variable '") + name + "'", got);
      !st)
    return wrap(std::move(st));
  if (got != s.variable(i).spec())
    return error(std::string("variable '") + name + "' is " +
                 s.variable(i).spec().str() + ", the buffer is " + got.str());
  std::memcpy(value.data, s.variable(i).data(), got.numBytes());
  return {nullptr};
}

TapeStatus tapeStateSetVariable(TapeState state, const char *name,
                                TapeBuffer value) {
  if (!state.ptr || !name)
    return error("tapeStateSetVariable: null argument");
  State &s = *unwrap(state);
  int i = s.model().findVariable(name);
  if (i < 0)
    return error(std::string("no variable '") + name + "' in the model");
  TensorSpec got;
  if (Status st = specOf(value, std::string("variable '") + name + "'", got);
      !st)
    return wrap(std::move(st));
  // Checked against the variable before anything is allocated or copied.
  if (got != s.variable(i).spec())
    return error(std::string("variable '") + name + "' is " +
                 s.variable(i).spec().str() + ", got " + got.str());
  std::memcpy(s.variable(i).data(), value.data, got.numBytes());
  return {nullptr};
}

TapeStatus tapeStateSaveCheckpoint(TapeState state, const char *path) {
  if (!state.ptr || !path)
    return error("tapeStateSaveCheckpoint: null argument");
  return wrap(saveCheckpoint(path, *unwrap(state)));
}

TapeStatus tapeStateLoadCheckpoint(TapeState state, const char *path) {
  if (!state.ptr || !path)
    return error("tapeStateLoadCheckpoint: null argument");
  return wrap(loadCheckpoint(path, *unwrap(state)));
}
