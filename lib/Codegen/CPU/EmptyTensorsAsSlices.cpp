//===- EmptyTensorsAsSlices.cpp - Compute into the slice that is inserted -===//
//
// A value computed into a `tensor.empty` and then inserted into a slice of
// another tensor costs a copy after bufferization: the empty tensor gets a
// buffer of its own. Upstream's empty-tensor elimination replaces the empty
// tensor by the slice, but only along a chain of values of one type, and
// a convolution's image loop reshapes between the two (the product of one
// image is a 2-D matmul, expanded to [f, oh, ow] before it is inserted).
// This pass follows reshapes too. See the pass description in Passes.td.
//
//===----------------------------------------------------------------------===//

#include "tape/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Dominance.h"
#include "mlir/Interfaces/DestinationStyleOpInterface.h"

namespace mlir::tape::cpu {
#define GEN_PASS_DEF_EMPTYTENSORSASSLICES
#include "tape/Codegen/CPU/Passes.h.inc"
} // namespace mlir::tape::cpu

using namespace mlir;

namespace {

/// Whether every use of `value` but `user` only reads it: an input of a
/// destination-style op, directly or through reshapes (the ReLU that
/// tape-cpu-fuse-into-image-loops put beside a convolution's insertion
/// reads the image where it is inserted).
static bool onlyReadBesides(Value value, Operation *user) {
  return llvm::all_of(value.getUses(), [&](OpOperand &use) {
    Operation *owner = use.getOwner();
    if (owner == user)
      return true;
    if (isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp>(owner))
      return onlyReadBesides(owner->getResult(0), nullptr);
    auto dps = dyn_cast<DestinationStyleOpInterface>(owner);
    return dps && dps.isDpsInput(&use);
  });
}

/// The `tensor.empty` that `value` is computed into, following each
/// destination-style op to the init its result is tied to and each reshape
/// to its source, if every value on the way has no other use. Values of
/// the final data (`value`, inserted by `insert`, down to the result of
/// the last op that writes it) may also be read by others: they read what
/// the slice then holds.
tensor::EmptyOp emptyUnder(Value value, Operation *insert) {
  bool final = true;
  Operation *user = insert;
  while (final ? onlyReadBesides(value, user) : value.hasOneUse()) {
    Operation *def = value.getDefiningOp();
    if (auto empty = dyn_cast_or_null<tensor::EmptyOp>(def))
      return empty;
    user = def;
    if (isa_and_nonnull<tensor::ExpandShapeOp, tensor::CollapseShapeOp>(def)) {
      value = def->getOperand(0);
      continue;
    }
    auto dps = dyn_cast_or_null<DestinationStyleOpInterface>(def);
    if (!dps || !dps.hasPureTensorSemantics())
      return {};
    value = dps.getTiedOpOperand(cast<OpResult>(value))->get();
    final = false;
  }
  return {};
}

struct TapeEmptyTensorsAsSlicesPass
    : public mlir::tape::cpu::impl::EmptyTensorsAsSlicesBase<
          TapeEmptyTensorsAsSlicesPass> {
  void runOnOperation() override {
    DominanceInfo dominance(getOperation());
    SmallVector<tensor::InsertSliceOp> inserts;
    getOperation().walk([&](tensor::InsertSliceOp op) { inserts.push_back(op); });
    for (tensor::InsertSliceOp insert : inserts) {
      tensor::EmptyOp empty = emptyUnder(insert.getSource(), insert);
      if (!empty || empty.getType() != insert.getSourceType())
        continue;
      // The slice is taken where the empty tensor was: the destination and
      // every dynamic offset, size and stride must already be defined there.
      bool available = llvm::all_of(insert->getOperands(), [&](Value v) {
        return v == insert.getSource() || dominance.properlyDominates(v, empty);
      });
      if (!available)
        continue;
      OpBuilder b(empty);
      Value slice = tensor::ExtractSliceOp::create(
          b, empty.getLoc(), insert.getSourceType(), insert.getDest(),
          insert.getMixedOffsets(), insert.getMixedSizes(),
          insert.getMixedStrides());
      empty.replaceAllUsesWith(slice);
      empty.erase();
    }
  }
};

} // namespace
