//===- Model.cpp - TapeModel: compiling, loading, queries -----------------===//

#include "Handles.h"

#include "mlir/CAPI/IR.h"
#include "mlir/IR/BuiltinOps.h"

#include <cstring>
#include <new>

using namespace tape;
using namespace tape::capi;

/// Hands a compiled or loaded model to the caller.
static TapeStatus adopt(Status status, std::unique_ptr<Model> &compiled,
                        StatusCode fallback, TapeModel *model) {
  if (!status)
    return wrap(std::move(status), fallback);
  auto *handle = new (std::nothrow) ModelHandle();
  if (!handle)
    return error(StatusCode::ResourceExhausted, "out of memory");
  handle->model = std::move(compiled);
  for (const Diagnostic &d : handle->model->warnings())
    handle->warningLines.push_back(d.str());
  model->ptr = handle;
  return {nullptr};
}

/// The options a handle holds (the defaults for the null handle).
static CompileOptions optionsOf(TapeCompileOptions options) {
  return options.ptr ? unwrap(options)->options : CompileOptions();
}

TapeStatus tapeModelCompileString(const char *source, size_t length,
                                  TapeCompileOptions options,
                                  TapeModel *model) {
  if (!source || !model)
    return nullArgument(__func__);
  std::unique_ptr<Model> m;
  Status s =
      Model::compile(std::string(source, length), optionsOf(options), m);
  return adopt(std::move(s), m, StatusCode::CompileError, model);
}

TapeStatus tapeModelCompileFile(const char *path, TapeCompileOptions options,
                                TapeModel *model) {
  if (!path || !model)
    return nullArgument(__func__);
  std::unique_ptr<Model> m;
  Status s = Model::compileFile(path, optionsOf(options), m);
  return adopt(std::move(s), m, StatusCode::CompileError, model);
}

TapeStatus tapeModelCompileModule(MlirModule module,
                                  TapeCompileOptions options,
                                  TapeModel *model) {
  if (mlirModuleIsNull(module) || !model)
    return nullArgument(__func__);
  std::unique_ptr<Model> m;
  Status s = Model::compileModule(unwrap(module), optionsOf(options), m);
  return adopt(std::move(s), m, StatusCode::CompileError, model);
}

TapeStatus tapeModelLoadShared(const char *path, TapeModel *model) {
  if (!path || !model)
    return nullArgument(__func__);
  std::unique_ptr<Model> m;
  Status s = Model::loadShared(path, m);
  return adopt(std::move(s), m, StatusCode::DataLoss, model);
}

void tapeModelDestroy(TapeModel model) { delete unwrap(model); }

//===----------------------------------------------------------------------===//
// Queries: on a null model or an index out of range they return the
// documented neutral value (0, NULL, false, -1), never crash.
//===----------------------------------------------------------------------===//

static const Model *modelOf(TapeModel model) {
  return model.ptr ? unwrap(model)->model.get() : nullptr;
}

template <typename T>
static const T *at(const std::vector<T> &items, size_t i) {
  return i < items.size() ? &items[i] : nullptr;
}

size_t tapeModelGetNumWarnings(TapeModel model) {
  const Model *m = modelOf(model);
  return m ? m->warnings().size() : 0;
}

const char *tapeModelGetWarning(TapeModel model, size_t i) {
  const std::string *line =
      model.ptr ? at(unwrap(model)->warningLines, i) : nullptr;
  return line ? line->c_str() : nullptr;
}

void tapeModelGetWarningDiagnostic(TapeModel model, size_t i,
                                   TapeSeverity *severity,
                                   const char **location,
                                   const char **message) {
  const Model *m = modelOf(model);
  const Diagnostic *d = m ? at(m->warnings(), i) : nullptr;
  if (!d)
    return;
  if (severity)
    *severity = TapeSeverity(d->severity);
  if (location)
    *location = d->location.c_str();
  if (message)
    *message = d->message.c_str();
}

static const VariableSpec *variableAt(TapeModel model, size_t i) {
  const Model *m = modelOf(model);
  return m ? at(m->variables(), i) : nullptr;
}

size_t tapeModelGetNumVariables(TapeModel model) {
  const Model *m = modelOf(model);
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
intptr_t tapeModelFindVariable(TapeModel model, const char *name) {
  const Model *m = modelOf(model);
  if (!m || !name)
    return -1;
  for (size_t i = 0; i < m->variables().size(); ++i)
    if (m->variables()[i].name == name)
      return intptr_t(i);
  return -1;
}

static const FunctionSpec *functionAt(TapeModel model, size_t i) {
  const Model *m = modelOf(model);
  return m ? at(m->functions(), i) : nullptr;
}

size_t tapeModelGetNumFunctions(TapeModel model) {
  const Model *m = modelOf(model);
  return m ? m->functions().size() : 0;
}
const char *tapeModelGetFunctionName(TapeModel model, size_t i) {
  const FunctionSpec *f = functionAt(model, i);
  return f ? f->name.c_str() : nullptr;
}
intptr_t tapeModelFindFunction(TapeModel model, const char *name) {
  const Model *m = modelOf(model);
  if (!m || !name)
    return -1;
  for (size_t i = 0; i < m->functions().size(); ++i)
    if (m->functions()[i].name == name)
      return intptr_t(i);
  return -1;
}
bool tapeModelIsFunctionStep(TapeModel model, size_t i) {
  const FunctionSpec *f = functionAt(model, i);
  return f && f->isStep;
}
bool tapeModelIsFunctionTraining(TapeModel model, size_t i) {
  const FunctionSpec *f = functionAt(model, i);
  return f && f->trains;
}

namespace {
/// Input or output `i` of function `fn`: its spec and name, or nothing.
struct Port {
  const TensorSpec *spec = nullptr;
  const std::string *name = nullptr;
};
} // namespace

static Port inputAt(TapeModel model, size_t fn, size_t i) {
  const FunctionSpec *f = functionAt(model, fn);
  if (!f || i >= f->inputs.size())
    return {};
  return {&f->inputs[i], &f->inputNames[i]};
}
static Port outputAt(TapeModel model, size_t fn, size_t i) {
  const FunctionSpec *f = functionAt(model, fn);
  if (!f || i >= f->outputs.size())
    return {};
  return {&f->outputs[i], &f->outputNames[i]};
}
static const char *nameOf(Port p) { return p.name ? p.name->c_str() : nullptr; }
static TapeDType dtypeOf(Port p) {
  return p.spec ? TapeDType(p.spec->dtype) : TapeDTypeF32;
}
static intptr_t rankOf(Port p) {
  return p.spec ? intptr_t(p.spec->shape.size()) : -1;
}
static const int64_t *shapeOf(Port p) {
  return p.spec ? p.spec->shape.data() : nullptr;
}

size_t tapeModelGetFunctionNumInputs(TapeModel model, size_t fn) {
  const FunctionSpec *f = functionAt(model, fn);
  return f ? f->inputs.size() : 0;
}
const char *tapeModelGetFunctionInputName(TapeModel model, size_t fn,
                                          size_t i) {
  return nameOf(inputAt(model, fn, i));
}
TapeDType tapeModelGetFunctionInputDType(TapeModel model, size_t fn,
                                         size_t i) {
  return dtypeOf(inputAt(model, fn, i));
}
intptr_t tapeModelGetFunctionInputRank(TapeModel model, size_t fn,
                                       size_t i) {
  return rankOf(inputAt(model, fn, i));
}
const int64_t *tapeModelGetFunctionInputShape(TapeModel model, size_t fn,
                                              size_t i) {
  return shapeOf(inputAt(model, fn, i));
}

size_t tapeModelGetFunctionNumOutputs(TapeModel model, size_t fn) {
  const FunctionSpec *f = functionAt(model, fn);
  return f ? f->outputs.size() : 0;
}
const char *tapeModelGetFunctionOutputName(TapeModel model, size_t fn,
                                           size_t i) {
  return nameOf(outputAt(model, fn, i));
}
TapeDType tapeModelGetFunctionOutputDType(TapeModel model, size_t fn,
                                          size_t i) {
  return dtypeOf(outputAt(model, fn, i));
}
intptr_t tapeModelGetFunctionOutputRank(TapeModel model, size_t fn,
                                        size_t i) {
  return rankOf(outputAt(model, fn, i));
}
const int64_t *tapeModelGetFunctionOutputShape(TapeModel model, size_t fn,
                                               size_t i) {
  return shapeOf(outputAt(model, fn, i));
}
