//===- VerifyTensorContract.cpp - What the tensor stage hands on ----------===//

#include "tape/Conversion/Passes.h"
#include "tape/Dialect/Tape/TapeDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mlir::tape {
#define GEN_PASS_DEF_VERIFYTENSORCONTRACT
#include "tape/Conversion/Passes.h.inc"
} // namespace mlir::tape

using namespace mlir;
using namespace mlir::tape;

namespace {
struct VerifyTensorContractPass
    : public tape::impl::VerifyTensorContractBase<VerifyTensorContractPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    bool ok = true;
    auto fail = [&](Operation *op, const Twine &what) {
      op->emitError("tensor-stage contract: ") << what;
      ok = false;
    };
    module.walk([&](Operation *op) {
      if (isa_and_nonnull<TapeDialect>(op->getDialect()))
        fail(op, "'" + op->getName().getStringRef() +
                     "' is left after convert-tape-to-func");
    });
    auto state = module->getAttrOfType<ArrayAttr>(
        TapeDialect::StateAttrHelper::getNameStr());
    SmallVector<Type> stateTypes;
    if (!state) {
      fail(module, "no state layout (tape.state)");
    } else {
      for (Attribute entry : state) {
        auto dict = dyn_cast<DictionaryAttr>(entry);
        auto type = dict ? dyn_cast_or_null<TypeAttr>(dict.get("type"))
                         : TypeAttr();
        if (!dict || !isa_and_nonnull<StringAttr>(dict.get("name")) ||
            !type || !isa_and_nonnull<BoolAttr>(dict.get("trainable")) ||
            !dict.get("initial_value")) {
          fail(module, "a tape.state entry is not {name, type, trainable, "
                       "initial_value}");
          break;
        }
        stateTypes.push_back(type.getValue());
      }
    }
    for (auto fn : module.getOps<func::FuncOp>()) {
      if (fn.isExternal())
        continue;
      auto lifted = fn->getAttrOfType<DenseI64ArrayAttr>(
          TapeDialect::LiftedAttrHelper::getNameStr());
      if (!lifted || lifted.size() != 2) {
        fail(fn, "function @" + fn.getSymName() +
                     " is not lifted (tape.lifted = [inputs, outputs])");
        continue;
      }
      if (!fn.getBody().hasOneBlock())
        fail(fn, "function @" + fn.getSymName() + " has several blocks");
      FunctionType type = fn.getFunctionType();
      size_t n = stateTypes.size();
      if (type.getNumInputs() != n + lifted[0] ||
          type.getNumResults() != n + lifted[1] ||
          !llvm::equal(type.getInputs().take_front(n), stateTypes) ||
          !llvm::equal(type.getResults().take_front(n), stateTypes))
        fail(fn, "function @" + fn.getSymName() +
                     " does not take and return the state first");
    }
    if (!ok)
      signalPassFailure();
  }
};
} // namespace
