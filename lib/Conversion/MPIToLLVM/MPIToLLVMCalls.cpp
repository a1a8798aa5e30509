//===- MPIToLLVMCalls.cpp - mpi ops to calls of an MPI library ------------===//
//
// convert-mpi-to-llvm-calls: upstream's MPI-to-LLVM patterns under the ABI
// the pass option names (set as the module's DLTI entry the patterns
// read), then OpenMPI's reduction handles renamed to the symbols OpenMPI
// defines.
//
//===----------------------------------------------------------------------===//

#include "tape/Conversion/Passes.h"

#include "mlir/Conversion/LLVMCommon/TypeConverter.h"
#include "mlir/Conversion/MPIToLLVM/MPIToLLVM.h"
#include "mlir/Dialect/DLTI/DLTI.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MPI/IR/MPI.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Transforms/DialectConversion.h"

namespace mlir::tape {
#define GEN_PASS_DEF_CONVERTMPITOLLVMCALLS
#include "tape/Conversion/Passes.h.inc"
} // namespace mlir::tape

using namespace mlir;

namespace {

/// The DLTI key upstream's patterns read the ABI from.
constexpr llvm::StringLiteral kImplementationKey = "MPI:Implementation";

/// The reductions whose OpenMPI handles upstream's patterns misname
/// (`ompi_mpi_<name>` for OpenMPI's `ompi_mpi_op_<name>`).
constexpr llvm::StringLiteral kOpenMPIReductions[] = {
    "sum", "max",  "min",    "prod",   "land",    "band",  "lor",
    "bor", "lxor", "bxor",   "minloc", "maxloc",  "replace", "no_op"};

struct ConvertMPIToLLVMCallsPass
    : public tape::impl::ConvertMPIToLLVMCallsBase<ConvertMPIToLLVMCallsPass> {
  using ConvertMPIToLLVMCallsBase::ConvertMPIToLLVMCallsBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    if (implementation != "OpenMPI" && implementation != "MPICH") {
      module.emitError("convert-mpi-to-llvm-calls: unknown MPI ABI '")
          << implementation << "' (OpenMPI or MPICH)";
      return signalPassFailure();
    }
    bool any = false;
    module.walk([&](Operation *op) {
      if (isa<mpi::MPIDialect>(op->getDialect()))
        any = true;
    });
    if (!any)
      return;
    // The ABI, where upstream's patterns look for it.
    auto entry = DataLayoutEntryAttr::get(StringAttr::get(ctx, kImplementationKey),
                                          StringAttr::get(ctx, implementation));
    module->setAttr(DLTIDialect::kMapAttrName,
                    MapAttr::get(ctx, ArrayRef<DataLayoutEntryInterface>{entry}));

    LLVMTypeConverter converter(ctx);
    RewritePatternSet patterns(ctx);
    mpi::populateMPIToLLVMConversionPatterns(converter, patterns);
    ConversionTarget target(*ctx);
    target.addIllegalDialect<mpi::MPIDialect>();
    target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
    if (failed(applyPartialConversion(module, target, std::move(patterns))))
      return signalPassFailure();
    module->removeAttr(DLTIDialect::kMapAttrName);

    if (implementation == "OpenMPI")
      renameOpenMPIReductions(module);
  }

  /// `ompi_mpi_sum` -> `ompi_mpi_op_sum`, ...: the names of OpenMPI's
  /// predefined reduction objects (mpi.h: `#define MPI_SUM
  /// OMPI_PREDEFINED_GLOBAL(MPI_Op, ompi_mpi_op_sum)`).
  void renameOpenMPIReductions(ModuleOp module) {
    SymbolTable symbols(module);
    for (llvm::StringLiteral name : kOpenMPIReductions) {
      std::string wrong = ("ompi_mpi_" + name).str();
      std::string right = ("ompi_mpi_op_" + name).str();
      auto global = symbols.lookup<LLVM::GlobalOp>(wrong);
      if (!global)
        continue;
      if (symbols.lookup(right)) {
        (void)SymbolTable::replaceAllSymbolUses(
            global, StringAttr::get(module.getContext(), right), module);
        global.erase();
        continue;
      }
      (void)symbols.rename(global, right);
    }
  }
};

} // namespace
