//===- FuseIntoWriteOnceProducers.cpp - Elementwise ops in a scatter's loop ===//
//
// The adjoint of a max-pool writes each element of the image once through
// its window map (after tape-cpu-write-once-accumulations), and the ReLU's
// adjoint then reads that image again, elementwise, to write another one.
// Upstream elementwise fusion fuses along projected permutations only, so
// the two stay two passes over a 9 MiB image. Iteration i of the producer
// writes element f(i) and nothing else writes it, so the consumer's work on
// element f(i) can happen right there, reading its other operands at f(i).
// See the pass description in Passes.td.
//
//===----------------------------------------------------------------------===//

#include "tape/Codegen/CPU/Passes.h"

#include "IdentityElementwise.h"
#include "OneToOneMaps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/IRMapping.h"

namespace mlir::tape::cpu {
#define GEN_PASS_DEF_FUSEINTOWRITEONCEPRODUCERS
#include "tape/Codegen/CPU/Passes.h.inc"
} // namespace mlir::tape::cpu

using namespace mlir;
using mlir::tape::isOneToOne;

/// A statically shaped generic on tensors with one result whose output is
/// written, not read, through a map that reaches each element once and is
/// no projected permutation (a scatter through windows: upstream's fusion
/// handles the others).
static bool isWriteOnceProducer(linalg::GenericOp op) {
  if (!op.hasPureTensorSemantics() || op.hasDynamicShape() ||
      op.getNumResults() != 1 || op.getNumDpsInits() != 1)
    return false;
  OpOperand &init = op.getDpsInitsMutable()[0];
  if (!op.getMatchingBlockArgument(&init).use_empty() ||
      op.getMatchingIndexingMap(&init).isProjectedPermutation())
    return false;
  auto type = cast<RankedTensorType>(init.get().getType());
  return isOneToOne(op.getMatchingIndexingMap(&init),
                    op.getStaticLoopRanges(), type.getShape());
}

/// An elementwise generic on tensors (all loops parallel, every map an
/// identity) with one result, whose output is written, not read, and whose
/// body does not ask for its loop indices (they would mean another loop in
/// the producer).
static bool isElementwiseConsumer(linalg::GenericOp op) {
  if (!op.hasPureTensorSemantics() || op.getNumResults() != 1 ||
      !tape::isIdentityElementwise(op) ||
      !op.getBody()->getOps<linalg::IndexOp>().empty())
    return false;
  OpOperand &init = op.getDpsInitsMutable()[0];
  return op.getMatchingBlockArgument(&init).use_empty();
}

/// Computes `consumer` inside `producer`'s loop: one generic with the
/// producer's loops, its inputs and then the consumer's other inputs and
/// output, all of these read at the producer's output map; its body is the
/// producer's, then the consumer's on the value the producer yielded.
static void fuse(linalg::GenericOp producer, linalg::GenericOp consumer,
                 OpOperand &use) {
  AffineMap at = producer.getIndexingMapsArray().back();
  SmallVector<Value> inputs(producer.getDpsInputs());
  SmallVector<AffineMap> maps;
  for (OpOperand *input : producer.getDpsInputOperands())
    maps.push_back(producer.getMatchingIndexingMap(input));
  SmallVector<OpOperand *> consumerInputs;
  for (OpOperand *input : consumer.getDpsInputOperands()) {
    if (input == &use)
      continue;
    consumerInputs.push_back(input);
    inputs.push_back(input->get());
    maps.push_back(at);
  }
  Value init = consumer.getDpsInits()[0];
  maps.push_back(at);

  OpBuilder b(consumer);
  auto fused = linalg::GenericOp::create(
      b, consumer.getLoc(), consumer.getResultTypes(), inputs, ValueRange{init},
      maps, producer.getIteratorTypesArray());
  Block *body = b.createBlock(&fused.getRegion());
  IRMapping mapping;
  for (OpOperand *input : producer.getDpsInputOperands()) {
    BlockArgument arg = producer.getMatchingBlockArgument(input);
    mapping.map(arg, body->addArgument(arg.getType(), arg.getLoc()));
  }
  Block *consumerBody = consumer.getBlock();
  for (OpOperand *input : consumerInputs) {
    BlockArgument arg = consumer.getMatchingBlockArgument(input);
    mapping.map(arg, body->addArgument(arg.getType(), arg.getLoc()));
  }
  // Neither op reads its output; the new one's is the consumer's.
  BlockArgument out = consumer.getMatchingBlockArgument(
      &consumer.getDpsInitsMutable()[0]);
  mapping.map(out, body->addArgument(out.getType(), out.getLoc()));

  b.setInsertionPointToStart(body);
  for (Operation &op : producer.getBlock()->without_terminator())
    b.clone(op, mapping);
  Value produced = mapping.lookupOrDefault(
      producer.getBlock()->getTerminator()->getOperand(0));
  mapping.map(consumer.getMatchingBlockArgument(&use), produced);
  for (Operation &op : consumerBody->without_terminator())
    b.clone(op, mapping);
  linalg::YieldOp::create(
      b, consumer.getLoc(),
      mapping.lookupOrDefault(consumerBody->getTerminator()->getOperand(0)));

  consumer.getResult(0).replaceAllUsesWith(fused.getResult(0));
  consumer.erase();
  producer.erase();
}

namespace {
struct TapeFuseIntoWriteOnceProducersPass
    : public mlir::tape::cpu::impl::FuseIntoWriteOnceProducersBase<
          TapeFuseIntoWriteOnceProducersPass> {
  void runOnOperation() override {
    // One pair at a time: a fused op can be the producer of the next.
    while (true) {
      linalg::GenericOp producer;
      OpOperand *use = nullptr;
      getOperation().walk([&](linalg::GenericOp op) {
        if (!isWriteOnceProducer(op) || !op.getResult(0).hasOneUse())
          return WalkResult::advance();
        OpOperand &u = *op.getResult(0).getUses().begin();
        auto consumer = dyn_cast<linalg::GenericOp>(u.getOwner());
        if (!consumer || !isElementwiseConsumer(consumer) ||
            !consumer.isDpsInput(&u) ||
            consumer->getBlock() != op->getBlock() ||
            consumer.getStaticLoopRanges() !=
                llvm::to_vector(cast<RankedTensorType>(
                    op.getResult(0).getType()).getShape()))
          return WalkResult::advance();
        producer = op;
        use = &u;
        return WalkResult::interrupt();
      });
      if (!producer)
        return;
      fuse(producer, cast<linalg::GenericOp>(use->getOwner()), *use);
    }
  }
};
} // namespace
