//===- State.cpp - TapeState: runs, variables, checkpoints ----------------===//

#include "Buffer.h"
#include "Handles.h"

#include "tape/Runtime/Checkpoint.h"

#include "llvm/ADT/SmallVector.h"

#include <new>

using namespace tape;
using namespace tape::capi;

TapeState tapeStateCreate(TapeModel model) {
  if (!model.ptr)
    return {nullptr};
  std::unique_ptr<State> state;
  if (!State::create(*unwrap(model)->model, state))
    return {nullptr};
  auto *handle = new (std::nothrow) StateHandle();
  if (!handle)
    return {nullptr};
  handle->state = std::move(state);
  handle->model = model;
  return {handle};
}

void tapeStateDestroy(TapeState state) { delete unwrap(state); }

TapeModel tapeStateGetModel(TapeState state) {
  return state.ptr ? unwrap(state)->model : TapeModel{nullptr};
}

uint64_t tapeStateGetStepCount(TapeState state) {
  return state.ptr ? unwrap(state)->state->stepCount : 0;
}

uint64_t tapeStateGetLastRunCopiedBytes(TapeState state) {
  return state.ptr
             ? unwrap(state)->lastRunCopiedBytes.load(std::memory_order_relaxed)
             : 0;
}

TapeStatus tapeStateRun(TapeState state, const char *function,
                        const TapeBuffer *inputs, size_t numInputs,
                        const TapeBuffer *outputs, size_t numOutputs) {
  if (!state.ptr || !function || (numInputs && !inputs) ||
      (numOutputs && !outputs))
    return nullArgument(__func__);
  StateHandle &handle = *unwrap(state);
  const Model &model = handle.state->model();
  const FunctionSpec *fn = nullptr;
  for (const FunctionSpec &f : model.functions())
    if (f.name == function) {
      fn = &f;
      break;
    }
  if (!fn)
    return error(StatusCode::NotFound,
                 std::string("no function @") + function + " in the model");
  if (numInputs != fn->inputs.size() || numOutputs != fn->outputs.size())
    return error(StatusCode::InvalidArgument,
                 "@" + fn->name + " takes " +
                     std::to_string(fn->inputs.size()) + " inputs and " +
                     std::to_string(fn->outputs.size()) + " outputs, got " +
                     std::to_string(numInputs) + " and " +
                     std::to_string(numOutputs));

  // Every buffer is checked before any is touched.
  llvm::SmallVector<BufferLayout, 8> in(numInputs), out(numOutputs);
  for (size_t i = 0; i < numInputs; ++i)
    if (Status s = checkBuffer(
            inputs[i], fn->inputs[i], /*isOutput=*/false,
            [&] { return "input #" + std::to_string(i) + " of @" + fn->name; },
            in[i]);
        !s)
      return wrap(std::move(s));
  for (size_t i = 0; i < numOutputs; ++i)
    if (Status s = checkBuffer(
            outputs[i], fn->outputs[i], /*isOutput=*/true,
            [&] {
              return "output #" + std::to_string(i) + " of @" + fn->name;
            },
            out[i]);
        !s)
      return wrap(std::move(s));
  for (size_t i = 0; i < numOutputs; ++i)
    for (size_t j = 0; j < i; ++j)
      if (out[i].overlaps(out[j]))
        return error(StatusCode::InvalidArgument,
                     "output #" + std::to_string(i) + " of @" + fn->name +
                         " overlaps output #" + std::to_string(j));

  // The compiled code gets the caller's memory wherever the layout is what
  // it expects; the rest goes through contiguous temporaries. An output
  // that overlaps an input read in place is written to a temporary too, so
  // that no input changes before the code has read it.
  llvm::SmallVector<const void *, 8> inPointers(numInputs);
  llvm::SmallVector<void *, 8> outPointers(numOutputs);
  llvm::SmallVector<Tensor, 0> temporaries;
  uint64_t copied = 0;
  auto temporary = [&](const TensorSpec &spec) -> void * {
    Tensor t;
    if (!Tensor::tryCreate(spec, t))
      return nullptr;
    temporaries.push_back(std::move(t));
    return temporaries.back().data();
  };
  auto outOfMemory = [&](const char *what, size_t i, const TensorSpec &spec) {
    return error(StatusCode::ResourceExhausted,
                 "out of memory: no temporary for " + std::string(what) +
                     " #" + std::to_string(i) + " of @" + fn->name + " (" +
                     spec.str() + ")");
  };
  for (size_t i = 0; i < numInputs; ++i) {
    if (in[i].inPlace) {
      inPointers[i] = in[i].data;
      continue;
    }
    void *copy = temporary(fn->inputs[i]);
    if (!copy)
      return outOfMemory("input", i, fn->inputs[i]);
    gather(in[i], copy);
    copied += in[i].bytes;
    inPointers[i] = copy;
  }
  llvm::SmallVector<bool, 8> direct(numOutputs);
  for (size_t i = 0; i < numOutputs; ++i) {
    direct[i] = out[i].inPlace;
    for (size_t j = 0; j < numInputs && direct[i]; ++j)
      if (in[j].inPlace && out[i].overlaps(in[j]))
        direct[i] = false;
    if (direct[i]) {
      outPointers[i] = out[i].data;
      continue;
    }
    outPointers[i] = temporary(fn->outputs[i]);
    if (!outPointers[i])
      return outOfMemory("output", i, fn->outputs[i]);
  }

  if (Status s = model.callBuffers(*fn, *handle.state, inPointers.data(),
                                   outPointers.data());
      !s)
    return wrap(std::move(s));
  for (size_t i = 0; i < numOutputs; ++i)
    if (!direct[i]) {
      scatter(outPointers[i], out[i]);
      copied += out[i].bytes;
    }
  handle.lastRunCopiedBytes.store(copied, std::memory_order_relaxed);
  return {nullptr};
}

/// Variable `name` of the state and the caller's buffer for it, checked.
static Status variableBuffer(State &state, const char *name,
                             const TapeBuffer &value, bool written,
                             Tensor *&variable, BufferLayout &layout) {
  int i = state.model().findVariable(name);
  if (i < 0)
    return Status::error(StatusCode::NotFound, std::string("no variable '") +
                                                   name + "' in the model");
  variable = &state.variable(i);
  return checkBuffer(
      value, variable->spec(), written,
      [&] { return std::string("variable '") + name + "'"; }, layout);
}

TapeStatus tapeStateGetVariable(TapeState state, const char *name,
                                TapeBuffer value) {
  if (!state.ptr || !name)
    return nullArgument(__func__);
  Tensor *variable;
  BufferLayout layout;
  if (Status s = variableBuffer(*unwrap(state)->state, name, value,
                                /*written=*/true, variable, layout);
      !s)
    return wrap(std::move(s));
  scatter(variable->data(), layout);
  return {nullptr};
}

TapeStatus tapeStateSetVariable(TapeState state, const char *name,
                                TapeBuffer value) {
  if (!state.ptr || !name)
    return nullArgument(__func__);
  Tensor *variable;
  BufferLayout layout;
  if (Status s = variableBuffer(*unwrap(state)->state, name, value,
                                /*written=*/false, variable, layout);
      !s)
    return wrap(std::move(s));
  gather(layout, variable->data());
  return {nullptr};
}

TapeStatus tapeStateSaveCheckpoint(TapeState state, const char *path) {
  if (!state.ptr || !path)
    return nullArgument(__func__);
  const State &s = *unwrap(state)->state;
  if (Status c = checkCheckpointable(s.model()); !c)
    return wrap(std::move(c), StatusCode::FailedPrecondition);
  return wrap(saveCheckpoint(path, s), StatusCode::IOError);
}

TapeStatus tapeStateLoadCheckpoint(TapeState state, const char *path) {
  if (!state.ptr || !path)
    return nullArgument(__func__);
  return wrap(loadCheckpoint(path, *unwrap(state)->state),
              StatusCode::DataLoss);
}
