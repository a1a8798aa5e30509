//===- TapeToMLProgram.cpp - Variables to ml_program globals --------------===//

#include "tape/Conversion/Passes.h"
#include "tape/Dialect/Tape/TapeOps.h"

namespace mlir::tape {
#define GEN_PASS_DEF_CONVERTTAPETOMLPROGRAM
#include "tape/Conversion/Passes.h.inc"
} // namespace mlir::tape

using namespace mlir;
using namespace mlir::tape;

namespace {
struct ConvertTapeToMLProgramPass
    : public tape::impl::ConvertTapeToMLProgramBase<
          ConvertTapeToMLProgramPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    WalkResult leftover = module.walk([](Operation *op) {
      if (isa<RecordOp, GradientOp, ApplyGradientsOp>(op)) {
        op->emitOpError("must be lowered before convert-tape-to-ml-program "
                        "(run tape-materialize-optimizers and "
                        "tape-differentiate first)");
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (leftover.wasInterrupted())
      return signalPassFailure();

    OpBuilder b(&getContext());
    for (VariableOp v : llvm::make_early_inc_range(module.getOps<VariableOp>())) {
      b.setInsertionPoint(v);
      auto global = ml_program::GlobalOp::create(
          b, v.getLoc(), v.getSymName(), v.getValueType(), /*is_mutable=*/true,
          v.getInitialValueAsDense(),
          v.getSymVisibilityAttr() ? v.getSymVisibilityAttr()
                                   : b.getStringAttr("public"));
      if (!v.getTrainable())
        global->setAttr("tape.trainable", b.getBoolAttr(false));
      v.erase();
    }

    auto symbolOf = [](Operation *op, Value resource) -> FlatSymbolRefAttr {
      if (auto h = resource.getDefiningOp<HandleOp>())
        return h.getVariableAttr();
      op->emitOpError("uses a resource that does not come from tape.handle");
      return {};
    };
    WalkResult result = module.walk([&](Operation *op) {
      b.setInsertionPoint(op);
      Location loc = op->getLoc();
      if (auto read = dyn_cast<ReadOp>(op)) {
        FlatSymbolRefAttr sym = symbolOf(op, read.getResource());
        if (!sym)
          return WalkResult::interrupt();
        Value v = ml_program::GlobalLoadOp::create(b, loc, read.getType(), sym);
        read.replaceAllUsesWith(v);
        read.erase();
        return WalkResult::advance();
      }
      if (!isa<AssignOp, AssignAddOp, AssignSubOp>(op))
        return WalkResult::advance();
      FlatSymbolRefAttr sym = symbolOf(op, op->getOperand(0));
      if (!sym)
        return WalkResult::interrupt();
      Value value = op->getOperand(1);
      if (!isa<AssignOp>(op)) {
        Value old = ml_program::GlobalLoadOp::create(b, loc, value.getType(),
                                                     sym);
        bool isFloat = isa<FloatType>(getElementTypeOrSelf(value.getType()));
        bool add = isa<AssignAddOp>(op);
        value = isFloat ? (add ? Value(arith::AddFOp::create(b, loc, old, value))
                               : Value(arith::SubFOp::create(b, loc, old, value)))
                        : (add ? Value(arith::AddIOp::create(b, loc, old, value))
                               : Value(arith::SubIOp::create(b, loc, old, value)));
      }
      ml_program::GlobalStoreOp::create(b, loc, sym, value);
      op->erase();
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      return signalPassFailure();
    module.walk([](HandleOp h) {
      if (h.use_empty())
        h.erase();
    });
  }
};
} // namespace
