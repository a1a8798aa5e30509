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

/// The outcome of an API call: success, or a message plus the compiler's
/// diagnostics.
struct Status {
  bool ok = true;
  std::string message;
  std::vector<Diagnostic> diagnostics;

  static Status success() { return {}; }
  static Status error(std::string message,
                      std::vector<Diagnostic> diagnostics = {}) {
    return {false, std::move(message), std::move(diagnostics)};
  }
  explicit operator bool() const { return ok; }
  /// The message and every diagnostic, one per line.
  std::string str() const;
};

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
  /// Bytes of scratch memory the compiled function uses for its fixed-size
  /// temporaries (provided by the State, so a call allocates nothing).
  int64_t workspaceBytes = 0;
};

} // namespace tape

#endif // TAPE_RUNTIME_STATUS_H
