//===- MLProgramToTape.cpp - ml_program globals to variables --------------===//

#include "tape/Conversion/Passes.h"
#include "tape/Dialect/Tape/TapeOps.h"

namespace mlir::tape {
#define GEN_PASS_DEF_CONVERTMLPROGRAMTOTAPE
#include "tape/Conversion/Passes.h.inc"
} // namespace mlir::tape

using namespace mlir;
using namespace mlir::tape;

namespace {
struct ConvertMLProgramToTapePass
    : public tape::impl::ConvertMLProgramToTapeBase<
          ConvertMLProgramToTapePass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    OpBuilder b(&getContext());
    DenseMap<StringAttr, RankedTensorType> converted;
    for (auto global :
         llvm::make_early_inc_range(module.getOps<ml_program::GlobalOp>())) {
      if (!global.getIsMutable())
        continue;
      auto type = dyn_cast<RankedTensorType>(global.getType());
      auto value = dyn_cast_or_null<DenseElementsAttr>(
          global.getValue().value_or(Attribute()));
      if (!type || !type.hasStaticShape() ||
          !type.getElementType().isIntOrFloat() || !value) {
        global.emitOpError("cannot become a tape.variable: it needs a "
                           "statically shaped integer or float tensor type "
                           "and a dense initial value");
        return signalPassFailure();
      }
      bool trainable = isa<FloatType>(type.getElementType());
      if (auto t = global->getAttrOfType<BoolAttr>("tape.trainable"))
        trainable &= t.getValue();
      StringAttr visibility = global.getSymVisibilityAttr();
      if (visibility && visibility.getValue() == "public")
        visibility = {};
      b.setInsertionPoint(global);
      VariableOp::create(b, global.getLoc(), global.getSymNameAttr(),
                         visibility, TypeAttr::get(type), value,
                         b.getBoolAttr(trainable));
      converted[global.getSymNameAttr()] = type;
      global.erase();
    }
    auto handleOf = [&](Location loc, FlatSymbolRefAttr sym,
                        RankedTensorType type) {
      return HandleOp::create(b, loc, ResourceType::get(type), sym);
    };
    module.walk([&](Operation *op) {
      b.setInsertionPoint(op);
      if (auto load = dyn_cast<ml_program::GlobalLoadOp>(op)) {
        auto sym = dyn_cast<FlatSymbolRefAttr>(load.getGlobal());
        auto it = sym ? converted.find(sym.getAttr()) : converted.end();
        if (it == converted.end())
          return;
        Value h = handleOf(op->getLoc(), sym, it->second);
        load.replaceAllUsesWith(ReadOp::create(b, op->getLoc(), h).getValue());
        load.erase();
      } else if (auto store = dyn_cast<ml_program::GlobalStoreOp>(op)) {
        auto sym = dyn_cast<FlatSymbolRefAttr>(store.getGlobal());
        auto it = sym ? converted.find(sym.getAttr()) : converted.end();
        if (it == converted.end())
          return;
        Value h = handleOf(op->getLoc(), sym, it->second);
        AssignOp::create(b, op->getLoc(), h, store.getValue());
        store.erase();
      }
    });
  }
};
} // namespace
