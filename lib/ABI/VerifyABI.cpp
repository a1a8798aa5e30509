//===- VerifyABI.cpp - The calling convention of the compiled steps -------===//

#include "tape/ABI/Passes.h"
#include "tape/Dialect/Tape/TapeDialect.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

namespace mlir::tape::abi {
#define GEN_PASS_DEF_VERIFYABI
#include "tape/ABI/Passes.h.inc"
} // namespace mlir::tape::abi

using namespace mlir;
using namespace mlir::tape;

namespace {
struct VerifyABIPass : public mlir::tape::abi::impl::VerifyABIBase<VerifyABIPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto state = module->getAttrOfType<ArrayAttr>(
        TapeDialect::StateAttrHelper::getNameStr());
    if (!state) {
      module.emitError("ABI contract: the module has no state layout "
                       "(tape.state)");
      return signalPassFailure();
    }
    for (auto fn : module.getOps<LLVM::LLVMFuncOp>()) {
      auto lifted = fn->getAttrOfType<DenseI64ArrayAttr>(
          TapeDialect::LiftedAttrHelper::getNameStr());
      if (!lifted || fn.isExternal() || fn.isPrivate())
        continue;
      auto fail = [&](const Twine &what) {
        fn.emitOpError("ABI contract: ") << what;
        signalPassFailure();
      };
      if (lifted.size() != 2) {
        fail("tape.lifted must be [inputs, outputs]");
        continue;
      }
      auto workspace = fn->getAttrOfType<IntegerAttr>(
          TapeDialect::WorkspaceBytesAttrHelper::getNameStr());
      if (!workspace || workspace.getInt() < 0) {
        fail("no workspace size (tape.workspace_bytes)");
        continue;
      }
      LLVM::LLVMFunctionType type = fn.getFunctionType();
      if (!isa<LLVM::LLVMVoidType>(type.getReturnType())) {
        fail("a step returns through its output parameters, not a value");
        continue;
      }
      int64_t expected = int64_t(state.size()) + lifted[0] + lifted[1] + 1;
      if (int64_t(type.getNumParams()) != expected) {
        fail(Twine("takes ") + Twine(type.getNumParams()) +
             " parameters; expected " + Twine(expected) + " (" +
             Twine(state.size()) + " state, " + Twine(lifted[0]) +
             " inputs, " + Twine(lifted[1]) + " outputs, 1 workspace)");
        continue;
      }
      if (!llvm::all_of(type.getParams(), [](Type t) {
            return isa<LLVM::LLVMPointerType>(t);
          }))
        fail("every parameter must be a bare pointer");
    }
  }
};
} // namespace
