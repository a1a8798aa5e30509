//===- Model.h - Compile a module and run its steps -------------*- C++ -*-===//
//
// The embedding API in C++: compile a module in the tape dialect to native
// code in-process (JIT), create state for it, run its steps and host
// functions. Errors come back as values with every diagnostic attached,
// never as stderr output.
//
//===----------------------------------------------------------------------===//

#ifndef TAPE_RUNTIME_MODEL_H
#define TAPE_RUNTIME_MODEL_H

#include "tape/Runtime/Tensor.h"

#include <memory>
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
  std::vector<TensorSpec> inputs;
  std::vector<TensorSpec> outputs;
  /// Bytes of scratch memory the compiled function uses for its fixed-size
  /// temporaries (provided by the State, so a call allocates nothing).
  int64_t workspaceBytes = 0;
};

struct CompileOptions {
  /// Host-side updates and disconnected gradients become errors.
  bool strict = false;
  /// Source name used in diagnostics.
  std::string sourceName = "<module>";
  /// Tile and vectorize linalg ops (off: plain loops, for comparisons).
  bool vectorize = true;
  /// For measurements: turn single optimizations off.
  bool foldTransposes = true;
  bool packMatmuls = true;
  bool fuseUpdates = true;
  /// Large f32 matmuls call cblas_sgemm from a CBLAS library loaded into
  /// the process (OpenBLAS by default; $TAPE_BLAS_LIBRARY names another).
  bool blas = false;
  /// Check every computed value for NaN/Inf: a call that produces one
  /// fails with an error naming the first op that did (and its location).
  bool checkNumerics = false;
  /// Vector register width of the target in bits (128, 256, 512); 0: the
  /// host's.
  int vectorBits = 0;
  /// Threads the compiled code may use (BLAS calls included); 0: as many
  /// as the machine has cores.
  int threads = 1;
};

class State;

/// Heap allocations (malloc/aligned_alloc/calloc calls) made by compiled
/// code in this process so far: the JIT routes the compiled code's calls
/// through counters. A step that allocates nothing leaves it unchanged.
uint64_t compiledCodeHeapAllocations();

/// A compiled module. Thread-compatible: calls on different States may run
/// concurrently; one State must not be used by two calls at once.
class Model {
public:
  ~Model();
  Model(const Model &) = delete;
  Model &operator=(const Model &) = delete;

  /// Parses, verifies and compiles `source` (MLIR text). Warnings are kept
  /// in `warnings()`.
  static Status compile(const std::string &source,
                        const CompileOptions &options,
                        std::unique_ptr<Model> &model);
  static Status compileFile(const std::string &path,
                            const CompileOptions &options,
                            std::unique_ptr<Model> &model);

  /// The state layout: every variable (optimizer slots included) in order.
  const std::vector<VariableSpec> &variables() const;
  const std::vector<FunctionSpec> &functions() const;
  const FunctionSpec *findFunction(const std::string &name) const;
  int findVariable(const std::string &name) const;
  const std::vector<Diagnostic> &warnings() const;

  /// Runs `function` on `state`. `inputs` and `outputs` must match the
  /// function's signature (checked); outputs are written.
  Status call(const std::string &function, State &state,
              const std::vector<const Tensor *> &inputs,
              const std::vector<Tensor *> &outputs) const;

  /// Initial value of variable `index` (as declared in the module).
  void initialValue(size_t index, Tensor &out) const;

private:
  Model();
  struct Impl;
  std::unique_ptr<Impl> impl;
  friend class State;

/// Heap allocations (malloc/aligned_alloc/calloc calls) made by compiled
/// code in this process so far: the JIT routes the compiled code's calls
/// through counters. A step that allocates nothing leaves it unchanged.
uint64_t compiledCodeHeapAllocations();
};

/// The variables of one instance of a model. Two States of one Model are
/// independent (no globals).
class State {
public:
  /// Fresh state with every variable at its initial value.
  explicit State(const Model &model);

  const Model &model() const { return *model_; }
  size_t size() const { return tensors.size(); }
  Tensor &variable(size_t i) { return tensors[i]; }
  const Tensor &variable(size_t i) const { return tensors[i]; }
  /// Replaces variable `name` with `value` (checked against the layout).
  Status set(const std::string &name, const Tensor &value);
  /// Number of completed step calls (kept in checkpoints).
  uint64_t stepCount = 0;
  /// Scratch memory for the compiled functions' temporaries.
  void *workspace() { return workspace_.data(); }

private:
  const Model *model_;
  std::vector<Tensor> tensors;
  Tensor workspace_;
};

} // namespace tape

#endif // TAPE_RUNTIME_MODEL_H
