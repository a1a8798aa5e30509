//===- Status.h - Outcomes, diagnostics and what a module holds -*- C++ -*-===//
//
// Plain types shared by the compiler library and the runtime: the outcome
// of a call with the compiler's diagnostics, and the description of a
// compiled module (its state layout and function signatures).
//
//===----------------------------------------------------------------------===//

#ifndef TAPE_RUNTIME_STATUS_H
#define TAPE_RUNTIME_STATUS_H

#include "tape/Runtime/Tensor.h"

#include <string>
#include <vector>

namespace tape {

/// One diagnostic from the compiler.
struct Diagnostic {
  enum class Severity { Error, Warning, Note, Remark };
  Severity severity;
  std::string location; // "file:line:col", or "" when unknown
  std::string message;
  /// "file:line:col: error: message".
  std::string str() const;
};

/// What kind of failure an error is, for callers that act on it (the C
/// API's TapeStatusCode, tape-c/Tape.h, says when each is used). `Unknown`:
/// the place that failed did not say; an API entry point then gives the
/// kind its own documentation names.
enum class StatusCode {
  Ok,
  Unknown,
  InvalidArgument,
  NotFound,
  OutOfRange,
  FailedPrecondition,
  ResourceExhausted,
  Unavailable,
  IOError,
  DataLoss,
  CompileError,
  NumericalError,
  Internal,
};

/// The outcome of an API call: success, or a message plus the compiler's
/// diagnostics.
struct Status {
  bool ok = true;
  std::string message;
  std::vector<Diagnostic> diagnostics;
  StatusCode code = StatusCode::Ok;

  static Status success() { return {}; }
  static Status error(std::string message,
                      std::vector<Diagnostic> diagnostics = {}) {
    return error(StatusCode::Unknown, std::move(message),
                 std::move(diagnostics));
  }
  static Status error(StatusCode code, std::string message,
                      std::vector<Diagnostic> diagnostics = {}) {
    return {false, std::move(message), std::move(diagnostics), code};
  }
  /// This error with `code` when it has none (Unknown); success as is.
  Status orCode(StatusCode fallback) && {
    if (!ok && code == StatusCode::Unknown)
      code = fallback;
    return std::move(*this);
  }
  explicit operator bool() const { return ok; }
  /// The message and every diagnostic, one per line.
  std::string str() const;
};

/// The kind of a failed file operation's errno (or std::error_code value):
/// NotFound for a missing file, ResourceExhausted for ENOMEM/ENOSPC,
/// IOError otherwise.
StatusCode statusCodeForErrno(int error);

struct VariableSpec {
  std::string name;
  TensorSpec spec;
  bool trainable = true;
};

struct FunctionSpec {
  std::string name;
  bool isStep = false; // a tape.step, or a host function
  /// A training function: a tape.step, or a host function that calls one
  /// or assigns a variable (directly or through the functions it calls).
  /// Each completed call of one adds one to the state's step count, in
  /// every API (C++, C, the AOT header, tape-run); any other function
  /// (evaluation, inference) only reads the variables and counts nothing.
  bool trains = false;
  std::vector<TensorSpec> inputs;
  std::vector<TensorSpec> outputs;
  /// The name of each input and output, "" for none: a `tape.name`
  /// argument or result attribute, else for an input of a module compiled
  /// from text its SSA name there (`%x` -> "x").
  std::vector<std::string> inputNames;
  std::vector<std::string> outputNames;
  /// Bytes of scratch memory the compiled function uses for its fixed-size
  /// temporaries (provided by the State, so a call allocates nothing).
  int64_t workspaceBytes = 0;
};

} // namespace tape

#endif // TAPE_RUNTIME_STATUS_H
