//===- CloneSharedFills.cpp - One fill per destination-style user ---------===//
//
// A fill shared by several in-place users costs a copy per extra user after
// bufferization; a private fill per user costs nothing extra (and a kernel
// can often drop it). See the pass description in Passes.td.
//
//===----------------------------------------------------------------------===//

#include "tape/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mlir::tape::cpu {
#define GEN_PASS_DEF_CLONESHAREDFILLS
#include "tape/Codegen/CPU/Passes.h.inc"
} // namespace mlir::tape::cpu

using namespace mlir;

namespace {

struct TapeCloneSharedFillsPass
    : public mlir::tape::cpu::impl::CloneSharedFillsBase<TapeCloneSharedFillsPass> {
  void runOnOperation() override {
    SmallVector<linalg::FillOp> fills;
    getOperation().walk([&](linalg::FillOp fill) {
      if (fill.hasPureTensorSemantics() && fill->getNumResults() == 1 &&
          fill.getOutputs()[0].getDefiningOp<tensor::EmptyOp>() &&
          !fill->getResult(0).hasOneUse())
        fills.push_back(fill);
    });
    for (linalg::FillOp fill : fills) {
      // Each destination-style init gets a private fill just before its
      // user (where kernels look for one); reads as an input keep sharing
      // the original, which goes when nothing else reads it.
      SmallVector<OpOperand *> inits;
      for (OpOperand &use : fill->getResult(0).getUses()) {
        auto dps = dyn_cast<DestinationStyleOpInterface>(use.getOwner());
        if (dps && dps.isDpsInit(&use))
          inits.push_back(&use);
      }
      Operation *empty = fill.getOutputs()[0].getDefiningOp();
      for (OpOperand *use : inits) {
        OpBuilder b(use->getOwner());
        IRMapping map;
        map.map(fill.getOutputs()[0], b.clone(*empty)->getResult(0));
        use->set(b.clone(*fill, map)->getResult(0));
      }
      if (fill->use_empty()) {
        fill->erase();
        if (empty->use_empty())
          empty->erase();
      }
    }
  }
};

} // namespace
