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

size_t tapeModelGetNumWarnings(TapeModel model) {
  return unwrap(model)->warnings().size();
}

const char *tapeModelGetWarning(TapeModel model, size_t i) {
  static thread_local std::string text;
  text = unwrap(model)->warnings().at(i).str();
  return text.c_str();
}

size_t tapeModelGetNumVariables(TapeModel model) {
  return unwrap(model)->variables().size();
}
const char *tapeModelGetVariableName(TapeModel model, size_t i) {
  return unwrap(model)->variables().at(i).name.c_str();
}
TapeDType tapeModelGetVariableDType(TapeModel model, size_t i) {
  return TapeDType(unwrap(model)->variables().at(i).spec.dtype);
}
intptr_t tapeModelGetVariableRank(TapeModel model, size_t i) {
  return intptr_t(unwrap(model)->variables().at(i).spec.shape.size());
}
const int64_t *tapeModelGetVariableShape(TapeModel model, size_t i) {
  return unwrap(model)->variables().at(i).spec.shape.data();
}
bool tapeModelIsVariableTrainable(TapeModel model, size_t i) {
  return unwrap(model)->variables().at(i).trainable;
}

size_t tapeModelGetNumFunctions(TapeModel model) {
  return unwrap(model)->functions().size();
}
const char *tapeModelGetFunctionName(TapeModel model, size_t i) {
  return unwrap(model)->functions().at(i).name.c_str();
}
bool tapeModelIsFunctionStep(TapeModel model, size_t i) {
  return unwrap(model)->functions().at(i).isStep;
}
size_t tapeModelGetFunctionNumInputs(TapeModel model, size_t i) {
  return unwrap(model)->functions().at(i).inputs.size();
}
size_t tapeModelGetFunctionNumOutputs(TapeModel model, size_t i) {
  return unwrap(model)->functions().at(i).outputs.size();
}

TapeState tapeStateCreate(TapeModel model) {
  return {new State(*unwrap(model))};
}
void tapeStateDestroy(TapeState state) { delete unwrap(state); }
uint64_t tapeStateGetStepCount(TapeState state) {
  return unwrap(state)->stepCount;
}

/// The spec a TapeBuffer claims, or an error for an unusable one.
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
  for (int64_t d : spec.shape)
    if (d < 0)
      return Status::error(what + ": negative dimension");
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
  if (!fn->isStep)
    ++s.stepCount;
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
  TensorSpec got;
  if (Status st = specOf(value, std::string("variable '") + name + "'", got);
      !st)
    return wrap(std::move(st));
  Tensor t(got);
  std::memcpy(t.data(), value.data, got.numBytes());
  return wrap(unwrap(state)->set(name, t));
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
