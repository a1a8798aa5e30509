//===- Compiler.h - From tape IR text to the LLVM dialect -------*- C++ -*-===//
//
// The front half shared by the JIT (Model) and the AOT compiler
// (tape-compile): parse, verify, run tape-to-llvm, and describe the result
// (state layout with initial values, function signatures, warnings).
//
//===----------------------------------------------------------------------===//

#ifndef TAPE_COMPILER_COMPILER_H
#define TAPE_COMPILER_COMPILER_H

#include "tape/Pipelines/Options.h"
#include "tape/Runtime/Status.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"

namespace tape {

struct LoweredModule {
  std::unique_ptr<mlir::MLIRContext> context;
  /// In the LLVM dialect; every public function has the bare-pointer ABI
  /// `void f(state buffers..., inputs..., outputs...)`.
  mlir::OwningOpRef<mlir::ModuleOp> module;
  std::vector<VariableSpec> variables;
  std::vector<Tensor> initial;
  std::vector<FunctionSpec> functions;
  std::vector<Diagnostic> warnings;
  /// With checkNumerics: what each checked site is ("'math.log' at f:3:5").
  std::vector<std::string> numericsSites;
};

/// Where the text given to lowerToLLVM comes from: written (by a person or
/// a frontend: the SSA names of a function's arguments name its inputs), or
/// printed from a module in memory (Model::compileModule: the names are
/// the printer's `%arg0`, and the locations point into another text).
enum class SourceKind { Written, Printed };

/// Parses, verifies and lowers `source`. Errors that are the input's fault
/// carry no StatusCode (Model::compile makes them CompileError); running
/// out of memory is ResourceExhausted.
Status lowerToLLVM(const std::string &source, const CompileOptions &options,
                   LoweredModule &out, SourceKind kind = SourceKind::Written);

/// Gives every function defined in `module` the symbol
/// `symbolFor(name, isPublic)`, uses included. Compiled code calls C
/// library functions by name (LLVM turns math.powf into a call to `powf`):
/// a function of ours keeping such a name would be called instead (a step
/// named @powf called itself). The JIT and the AOT object both rename.
Status renameDefinedFunctions(
    mlir::ModuleOp module,
    llvm::function_ref<std::string(llvm::StringRef name, bool isPublic)>
        symbolFor);

/// LLVM's optimisation level for the step's IR, in the JIT and the AOT
/// compiler alike. Not 3: the IR arrives tiled and vectorized, and O3's
/// larger unrolled blocks made the machine scheduler (quadratic in a
/// block's memory operations) take 11 of 15 codegen seconds on the GPT
/// example, for no measurable change in step time (CNN and GPT, medians
/// of alternating runs: O2 within the noise of O3).
inline constexpr unsigned kLLVMOptLevel = 2;

/// Registers the dialects and LLVM translations the compiler needs.
void registerCompilerDialects(mlir::DialectRegistry &registry);

} // namespace tape

#endif // TAPE_COMPILER_COMPILER_H
