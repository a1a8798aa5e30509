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

#include "tape/Pipelines/Options.h"
#include "tape/Runtime/Status.h"
#include "tape/Runtime/Tensor.h"

#include <atomic>
#include <memory>
#include <string>
#include <vector>

namespace mlir {
class ModuleOp;
} // namespace mlir

namespace tape {

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
  /// Compiles `module`, which stays the caller's: it is only read (printed
  /// with its locations and parsed again in the compiler's own context), so
  /// it is unchanged, its context gains no dialects, and nothing of it is
  /// kept. It must not change while this runs. Inputs are named by
  /// `tape.name` attributes only (it has no source text).
  static Status compileModule(mlir::ModuleOp module,
                              const CompileOptions &options,
                              std::unique_ptr<Model> &model);

  /// Loads a shared library written by tape-compile --shared (or
  /// -o model.so): nothing is compiled; the library's metadata gives the
  /// state layout, the functions and their initial values, and calls run
  /// its code. The file is checked before it is loaded (an ELF shared
  /// library, complete, with a `tape_model_metadata` symbol of a format
  /// version this runtime reads); then it is loaded with RTLD_LOCAL (its
  /// initialisers run) and every symbol the metadata names must be in it.
  /// The compile options were fixed when it was built. Allocations of its
  /// code are not counted (compiledCodeHeapAllocations).
  static Status loadShared(const std::string &path,
                           std::unique_ptr<Model> &model);

  /// The state layout: every variable (optimizer slots included) in order.
  const std::vector<VariableSpec> &variables() const;
  const std::vector<FunctionSpec> &functions() const;
  const FunctionSpec *findFunction(const std::string &name) const;
  int findVariable(const std::string &name) const;
  const std::vector<Diagnostic> &warnings() const;

  /// Runs `function` on `state`. `inputs` and `outputs` must match the
  /// function's signature (checked); outputs are written. A call on a
  /// state that another thread is using is refused (an error, nothing
  /// run). With check-numerics, a call that fails leaves the state as it
  /// was before it: the variables are restored and the step not counted.
  Status call(const std::string &function, State &state,
              const std::vector<const Tensor *> &inputs,
              const std::vector<Tensor *> &outputs) const;

  /// `call` after its checks, on raw buffers: `function` is one of
  /// functions(), `inputs[i]` and `outputs[i]` hold the bytes of its i-th
  /// input and output spec (row-major, aligned for the dtype). The compiled
  /// code reads and writes them in place, nothing is copied; outputs must
  /// not overlap the inputs or each other. What the C API calls once it
  /// has checked the caller's buffers, without building Tensors.
  Status callBuffers(const FunctionSpec &function, State &state,
                     const void *const *inputs, void *const *outputs) const;

  /// Compiled data-parallel (CompileOptions::dataParallel): its training
  /// steps call MPI, on every process of a job at once, each with its own
  /// batch; calls fail until the program has called MPI_Init.
  bool dataParallel() const;

  /// Initial value of variable `index` (as declared in the module).
  void initialValue(size_t index, Tensor &out) const;

private:
  Model();
  /// compile and compileModule: `printed` says the text was printed from
  /// a module (its SSA names are not the author's).
  static Status compileText(const std::string &source,
                            const CompileOptions &options, bool printed,
                            std::unique_ptr<Model> &model);
  struct Impl;
  std::unique_ptr<Impl> impl;
  friend class State;
};

/// The variables of one instance of a model. Two States of one Model are
/// independent (no globals). A State is used by one call at a time
/// (Model::call refuses a second concurrent one); the Model must outlive
/// its States.
class State {
public:
  /// Fresh state with every variable at its initial value. Running out of
  /// memory is fatal here; State::create reports it instead.
  explicit State(const Model &model);
  /// A fresh state in `state`, or an error when memory runs out.
  static Status create(const Model &model, std::unique_ptr<State> &state);
  State(const State &) = delete;
  State &operator=(const State &) = delete;

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
  friend class Model;
  struct Unallocated {};
  State(const Model &model, Unallocated) : model_(&model) {}
  const Model *model_;
  std::vector<Tensor> tensors;
  Tensor workspace_;
  /// Set while a call runs on this state.
  std::atomic<bool> busy_{false};
  /// With check-numerics: the variables before the running call, to
  /// restore when it fails (allocated on first use).
  std::vector<Tensor> before_;
};

} // namespace tape

#endif // TAPE_RUNTIME_MODEL_H
