//===- TestDifferentiableOps.cpp - Print the ops AD can differentiate -----===//
//
// `test-print-differentiable-ops` prints, one per line and sorted, every
// registered op of the dialects AD knows that has a rule (an external model
// of DifferentiableOpInterface) as `rule <op>`, and every linalg structured
// op without one (differentiated through its generic form) as
// `generic <op>`. scripts/check_rule_coverage.py checks the list against
// the gradient checker's cases and docs/Differentiation.md.
//
//===----------------------------------------------------------------------===//

#include "TestPasses.h"

#include "tape/Dialect/Tape/TapeInterfaces.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

using namespace mlir;

namespace {
struct TestPrintDifferentiableOpsPass
    : public PassWrapper<TestPrintDifferentiableOpsPass,
                         OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(TestPrintDifferentiableOpsPass)
  StringRef getArgument() const override {
    return "test-print-differentiable-ops";
  }
  StringRef getDescription() const override {
    return "Prints the ops tape-differentiate has a rule for";
  }
  // Loading the dialects applies the extensions that attach the rules.
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<arith::ArithDialect, func::FuncDialect,
                    linalg::LinalgDialect, math::MathDialect, scf::SCFDialect,
                    tensor::TensorDialect>();
  }
  void runOnOperation() override {
    std::vector<std::string> lines;
    for (RegisteredOperationName name :
         getContext().getRegisteredOperations()) {
      if (name.hasInterface<tape::DifferentiableOpInterface>())
        lines.push_back("rule " + name.getStringRef().str());
      else if (name.hasInterface<linalg::LinalgOp>())
        lines.push_back("generic " + name.getStringRef().str());
    }
    llvm::sort(lines);
    for (const std::string &line : lines)
      llvm::outs() << line << "\n";
  }
};
} // namespace

void tape_test::registerTestPasses() {
  PassRegistration<TestPrintDifferentiableOpsPass>();
}
