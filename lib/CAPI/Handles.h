//===- Handles.h - What the C API's handles point to ------------*- C++ -*-===//
//
// Internal to lib/CAPI: the objects behind TapeModel, TapeState,
// TapeCompileOptions and TapeStatus, and the conversions between handles,
// statuses and the runtime's types.
//
//===----------------------------------------------------------------------===//

#ifndef TAPE_LIB_CAPI_HANDLES_H
#define TAPE_LIB_CAPI_HANDLES_H

#include "tape-c/Tape.h"

#include "tape/Pipelines/Options.h"
#include "tape/Runtime/Model.h"

#include <atomic>
#include <memory>
#include <string>
#include <vector>

namespace tape::capi {

/// A TapeModel: the model and what the C API hands out about it that the
/// runtime does not hold as C strings.
struct ModelHandle {
  std::unique_ptr<Model> model;
  /// Model::warnings() as one line each (tapeModelGetWarning).
  std::vector<std::string> warningLines;
};

/// A TapeState.
struct StateHandle {
  std::unique_ptr<State> state;
  TapeModel model;
  /// Bytes the last successful run copied (tapeStateGetLastRunCopiedBytes);
  /// atomic because a refused concurrent run reads nothing of it but a
  /// finished one writes it after the state is free again.
  std::atomic<uint64_t> lastRunCopiedBytes{0};
};

/// A TapeCompileOptions.
struct OptionsHandle {
  CompileOptions options;
};

inline ModelHandle *unwrap(TapeModel m) {
  return static_cast<ModelHandle *>(m.ptr);
}
inline StateHandle *unwrap(TapeState s) {
  return static_cast<StateHandle *>(s.ptr);
}
inline OptionsHandle *unwrap(TapeCompileOptions o) {
  return static_cast<OptionsHandle *>(o.ptr);
}
inline Status *unwrap(TapeStatus s) { return static_cast<Status *>(s.ptr); }

/// `status` as a TapeStatus: null for success; an error without a code
/// gets `fallback` (the kind the entry point documents for it).
TapeStatus wrap(Status status, StatusCode fallback = StatusCode::Internal);

/// A new error status.
TapeStatus error(StatusCode code, std::string message);

/// The InvalidArgument error of a null handle or pointer argument.
TapeStatus nullArgument(const char *function);

} // namespace tape::capi

#endif // TAPE_LIB_CAPI_HANDLES_H
