//===- MaterializeSplatInits.cpp - A private fill per splat destination ---===//
//
// Bufferization gives a destination-style op the buffer of its init. An
// init that is a splat constant or a fill shared with other users costs a
// copy (from the constant's global, or to keep the shared buffer intact);
// a private fill costs one write, which kernels often fold. See the pass
// description in Passes.td.
//
//===----------------------------------------------------------------------===//

#include "tape/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"

namespace mlir::tape::cpu {
#define GEN_PASS_DEF_MATERIALIZESPLATINITS
#include "tape/Codegen/CPU/Passes.h.inc"
} // namespace mlir::tape::cpu

using namespace mlir;

namespace {

/// The scalar a statically shaped tensor `init` is filled with, if it is a
/// splat constant or a fill of an empty tensor that another op also uses
/// (built at `b`'s insertion point if it must be).
static Value splatScalarOf(OpBuilder &b, Value init) {
  auto type = dyn_cast<RankedTensorType>(init.getType());
  if (!type || !type.hasStaticShape())
    return {};
  if (auto fill = init.getDefiningOp<linalg::FillOp>()) {
    if (!fill.hasPureTensorSemantics() ||
        !fill.getOutputs()[0].getDefiningOp<tensor::EmptyOp>() ||
        init.hasOneUse())
      return {};
    return fill.getInputs()[0];
  }
  auto constant = init.getDefiningOp<arith::ConstantOp>();
  auto splat = constant
                   ? dyn_cast<SplatElementsAttr>(constant.getValue())
                   : SplatElementsAttr();
  if (!splat)
    return {};
  auto element = splat.getSplatValue<Attribute>();
  if (!isa<FloatAttr, IntegerAttr>(element))
    return {};
  return arith::ConstantOp::create(b, constant.getLoc(),
                                   cast<TypedAttr>(element))
      .getResult();
}

struct TapeMaterializeSplatInitsPass
    : public mlir::tape::cpu::impl::MaterializeSplatInitsBase<
          TapeMaterializeSplatInitsPass> {
  void runOnOperation() override {
    SmallVector<OpOperand *> inits;
    getOperation().walk([&](DestinationStyleOpInterface op) {
      if (!op.hasPureTensorSemantics())
        return;
      for (OpOperand &init : op.getDpsInitsMutable())
        if (isa<RankedTensorType>(init.get().getType()))
          inits.push_back(&init);
    });
    for (OpOperand *init : inits) {
      Operation *user = init->getOwner();
      // A fill's own init is what it overwrites: nothing to gain.
      if (isa<linalg::FillOp>(user))
        continue;
      OpBuilder b(user);
      Value old = init->get();
      Value scalar = splatScalarOf(b, old);
      if (!scalar)
        continue;
      auto type = cast<RankedTensorType>(old.getType());
      Value empty = tensor::EmptyOp::create(b, user->getLoc(), type.getShape(),
                                            type.getElementType());
      init->set(linalg::FillOp::create(b, user->getLoc(), scalar, empty)
                    .getResult(0));
      // The shared fill or constant goes with its last user.
      Operation *def = old.getDefiningOp();
      if (def->use_empty()) {
        Value source = isa<linalg::FillOp>(def)
                           ? cast<linalg::FillOp>(def).getOutputs()[0]
                           : Value();
        def->erase();
        if (source && source.use_empty())
          source.getDefiningOp()->erase();
      }
    }
  }
};

} // namespace
