//===- StoreBooleansAsBytes.cpp - i1 tensors kept in memory as i8 ---------===//
//
// Bufferization stores an i1 per byte, but a vector of i1 is a bit vector
// in LLVM: a vector load of eight i1 from such a buffer reads packed bits.
// tape-cpu-vectorize therefore leaves ops on i1 buffers as scalar loops,
// and with them whatever elementwise fusion put in the same loop (the
// CNN's dropout: the Philox draw that yields the mask, and the max-pool
// adjoint that reads it). This pass keeps such tensors as i8 instead: the
// producing generic yields `arith.extui` of its i1, its consumers read i8
// and `arith.trunci` it back, and the loops on both sides vectorize.
//
//===----------------------------------------------------------------------===//

#include "tape/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::tape::cpu {
#define GEN_PASS_DEF_STOREBOOLEANSASBYTES
#include "tape/Codegen/CPU/Passes.h.inc"
} // namespace mlir::tape::cpu

using namespace mlir;

namespace {

bool isBooleanTensor(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  return tensor && tensor.getElementType().isInteger(1);
}

/// True if result `index` of `producer` can be stored as bytes: its init is
/// an empty tensor the body does not read, and every use is an input of a
/// linalg.generic (which can truncate it back in its body).
bool canWiden(linalg::GenericOp producer, unsigned index) {
  OpOperand *init = producer.getDpsInitOperand(index);
  if (!init->get().getDefiningOp<tensor::EmptyOp>() ||
      !producer.getMatchingBlockArgument(init).use_empty())
    return false;
  Value result = producer->getResult(index);
  return !result.use_empty() &&
         llvm::all_of(result.getUses(), [](OpOperand &use) {
           auto consumer = dyn_cast<linalg::GenericOp>(use.getOwner());
           return consumer && consumer.isDpsInput(&use);
         });
}

void widen(RewriterBase &rewriter, linalg::GenericOp producer, unsigned index) {
  Location loc = producer.getLoc();
  Type i8 = rewriter.getI8Type();
  OpOperand *init = producer.getDpsInitOperand(index);
  auto type = cast<RankedTensorType>(init->get().getType());
  auto bytes = type.clone(i8);
  // The producer: an i8 init, and its yield extended.
  rewriter.setInsertionPoint(producer);
  Value empty = tensor::EmptyOp::create(rewriter, loc, bytes.getShape(), i8);
  rewriter.modifyOpInPlace(producer, [&] {
    init->set(empty);
    producer.getMatchingBlockArgument(init).setType(i8);
    producer->getResult(index).setType(bytes);
    auto yield = cast<linalg::YieldOp>(producer.getBlock()->getTerminator());
    rewriter.setInsertionPoint(yield);
    Value wide = arith::ExtUIOp::create(rewriter, loc, i8, yield.getOperand(index));
    yield->setOperand(index, wide);
  });
  // The consumers: their block argument becomes i8, truncated on entry.
  for (OpOperand &use : llvm::make_early_inc_range(producer->getResult(index).getUses())) {
    auto consumer = cast<linalg::GenericOp>(use.getOwner());
    BlockArgument arg = consumer.getMatchingBlockArgument(&use);
    rewriter.modifyOpInPlace(consumer, [&] {
      arg.setType(i8);
      rewriter.setInsertionPointToStart(consumer.getBlock());
      Value narrow = arith::TruncIOp::create(rewriter, consumer.getLoc(),
                                             rewriter.getI1Type(), arg);
      rewriter.replaceAllUsesExcept(arg, narrow, narrow.getDefiningOp());
    });
  }
}

struct StoreBooleansAsBytesPass
    : public mlir::tape::cpu::impl::StoreBooleansAsBytesBase<
          StoreBooleansAsBytesPass> {
  void runOnOperation() override {
    SmallVector<std::pair<linalg::GenericOp, unsigned>> targets;
    getOperation().walk([&](linalg::GenericOp op) {
      if (!op.hasPureTensorSemantics())
        return;
      for (unsigned i = 0; i < op.getNumDpsInits(); ++i)
        if (isBooleanTensor(op->getResult(i).getType()) && canWiden(op, i))
          targets.emplace_back(op, i);
    });
    IRRewriter rewriter(&getContext());
    for (auto [op, index] : targets)
      widen(rewriter, op, index);
  }
};

} // namespace
