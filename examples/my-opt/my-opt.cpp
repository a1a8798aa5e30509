// my-opt: the tape dialect, its passes and pipelines, and the upstream
// dialects and passes one needs around them, in a tool of one's own.
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"
#include "tape/InitTape.h"
#include "tape/Version.h"

int main(int argc, char **argv) {
  // tape-differentiate, tape-verify-assignments, tape-to-llvm, ... and
  // upstream's canonicalize and cse.
  mlir::tape::registerTapePasses();
  mlir::registerCanonicalizerPass();
  mlir::registerCSEPass();

  mlir::DialectRegistry registry;
  registry.insert<mlir::arith::ArithDialect, mlir::func::FuncDialect,
                  mlir::linalg::LinalgDialect, mlir::math::MathDialect,
                  mlir::scf::SCFDialect, mlir::tensor::TensorDialect>();
  // The tape dialect and its differentiation rules for the ops above.
  mlir::tape::registerTapeDialects(registry);

  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "my-opt (tape " TAPE_VERSION_STRING ")\n", registry));
}
