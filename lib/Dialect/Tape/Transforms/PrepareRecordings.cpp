//===- PrepareRecordings.cpp - Recording regions in AD form ---------------===//
//
// * Calls inside a recording region are inlined: the tape records the ops
//   a call runs, as TensorFlow's tape records the ops a Python function
//   runs, and a variable read in the callee is a read on the tape.
// * A variable read inside a loop, a branch or a linalg body of the region
//   moves in front of the top-level op that contains it, when nothing in
//   that op writes the variable: the read sees the same value there (reads
//   see the latest assignment), it is read once instead of per iteration,
//   and the backward code uses the value the forward pass read rather than
//   reading the variable again after later assignments.
// * An scf.while that carries floats gets a trip count: reverse mode
//   stores every iteration's values, so it needs the count first.
//
//===----------------------------------------------------------------------===//

#include "PrepareRecordings.h"

#include "tape/Dialect/Tape/Analysis/GradientActivity.h"
#include "tape/Dialect/Tape/Passes.h"
#include "tape/Dialect/Tape/TapeOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/TypeUtilities.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/CallInterfaces.h"

namespace mlir::tape {
#define GEN_PASS_DEF_TAPEPREPARERECORDINGS
#include "tape/Dialect/Tape/Passes.h.inc"
} // namespace mlir::tape

using namespace mlir;
using namespace mlir::tape;

/// Calls nest at most this deep inside a recording region.
static constexpr int kMaxInlineDepth = 64;

/// Inlines `call` when its callee has a body; returns false for external
/// callees (differentiation names them if they are on a gradient path).
static FailureOr<bool> inlineCall(CallOpInterface call,
                                  SymbolTableCollection &symbols) {
  auto callable = dyn_cast_or_null<CallableOpInterface>(
      call.resolveCallableInTable(&symbols));
  Region *region = callable ? callable.getCallableRegion() : nullptr;
  if (!region || region->empty())
    return false;
  if (!region->hasOneBlock())
    return call->emitError("cannot inline this call into the recording "
                           "region (the tape records the callee's ops): "
                           "the callee's body has ")
           << llvm::range_size(*region) << " blocks";
  Block &block = region->front();
  OpBuilder b(call);
  IRMapping map;
  for (auto [arg, operand] :
       llvm::zip(block.getArguments(), call.getArgOperands()))
    map.map(arg, operand);
  for (Operation &op : block.without_terminator())
    b.clone(op, map);
  for (auto [result, value] :
       llvm::zip(call->getResults(), block.getTerminator()->getOperands()))
    result.replaceAllUsesWith(map.lookupOrDefault(value));
  call->erase();
  return true;
}

/// True if `op` may write the variable `read` reads.
static bool writesVariableOf(Operation *op, ReadOp read) {
  SmallVector<Value> written;
  if (isa<AssignOp, AssignAddOp, AssignSubOp>(op))
    written.push_back(op->getOperand(0));
  else if (auto apply = dyn_cast<ApplyGradientsOp>(op))
    llvm::append_range(written, apply.getVariables());
  FlatSymbolRefAttr var = getVariableSymbol(read.getResource());
  return llvm::any_of(written, [&](Value resource) {
    return !var || resource == read.getResource() ||
           getVariableSymbol(resource) == var;
  });
}

static void hoistReads(RecordOp record) {
  Block &top = record.getBodyBlock();
  SmallVector<ReadOp> reads;
  record.getBody().walk([&](ReadOp read) {
    if (read->getBlock() != &top && read->getParentOfType<RecordOp>() == record)
      reads.push_back(read);
  });
  for (ReadOp read : reads) {
    Operation *anchor = top.findAncestorOpInBlock(*read);
    bool written = anchor
                       ->walk([&](Operation *op) {
                         return writesVariableOf(op, read)
                                    ? WalkResult::interrupt()
                                    : WalkResult::advance();
                       })
                       .wasInterrupted();
    if (written)
      continue;
    Value resource = read.getResource();
    if (anchor->isAncestor(resource.getParentBlock()->getParentOp())) {
      auto handle = resource.getDefiningOp<HandleOp>();
      if (!handle)
        continue;
      OpBuilder b(anchor);
      read.getResourceMutable().assign(b.clone(*handle)->getResult(0));
      if (handle->use_empty())
        handle->erase();
    }
    read->moveBefore(anchor);
  }
}

/// Rewrites `whileOp` into a form with a trip count: a copy of the loop
/// that also counts its iterations, then an scf.for over that count whose
/// body runs the condition region and the body region, then the condition
/// region once more (the evaluation that exits) for the results. The loop
/// therefore runs twice forward; reverse mode needs the trip count before
/// it can store each iteration's values.
static void countWhileLoop(scf::WhileOp whileOp) {
  OpBuilder b(whileOp);
  Location loc = whileOp.getLoc();
  Type indexType = b.getIndexType();
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);

  // The counting copy.
  SmallVector<Value> inits{zero};
  llvm::append_range(inits, whileOp.getInits());
  SmallVector<Type> types{indexType};
  llvm::append_range(types, whileOp.getResultTypes());
  auto counting = scf::WhileOp::create(b, loc, types, inits);
  IRMapping cloneMap;
  whileOp.getBefore().cloneInto(&counting.getBefore(), cloneMap);
  whileOp.getAfter().cloneInto(&counting.getAfter(), cloneMap);
  Block &before = counting.getBefore().front();
  Value k = before.insertArgument(0u, indexType, loc);
  auto cond = cast<scf::ConditionOp>(before.getTerminator());
  SmallVector<Value> forwarded{k};
  llvm::append_range(forwarded, cond.getArgs());
  OpBuilder cb(cond);
  scf::ConditionOp::create(cb, cond.getLoc(), cond.getCondition(), forwarded);
  cond.erase();
  Block &after = counting.getAfter().front();
  Value k2 = after.insertArgument(0u, indexType, loc);
  auto yield = cast<scf::YieldOp>(after.getTerminator());
  OpBuilder yb(yield);
  Value next = arith::AddIOp::create(yb, loc, k2, one);
  SmallVector<Value> yielded{next};
  llvm::append_range(yielded, yield.getResults());
  scf::YieldOp::create(yb, yield.getLoc(), yielded);
  yield.erase();
  Value trips = counting.getResult(0);

  // Runs the condition region on `args`; returns the forwarded values.
  Block &origBefore = whileOp.getBefore().front();
  Block &origAfter = whileOp.getAfter().front();
  auto runBefore = [&](OpBuilder &nb, ValueRange args) {
    IRMapping map;
    map.map(origBefore.getArguments(), args);
    for (Operation &op : origBefore.without_terminator())
      nb.clone(op, map);
    SmallVector<Value> out;
    for (Value v : cast<scf::ConditionOp>(origBefore.getTerminator()).getArgs())
      out.push_back(map.lookupOrDefault(v));
    return out;
  };
  auto loop = scf::ForOp::create(
      b, loc, zero, trips, one, whileOp.getInits(),
      [&](OpBuilder &nb, Location nloc, Value, ValueRange args) {
        SmallVector<Value> fwd = runBefore(nb, args);
        IRMapping map;
        map.map(origAfter.getArguments(), fwd);
        for (Operation &op : origAfter.without_terminator())
          nb.clone(op, map);
        SmallVector<Value> out;
        for (Value v : origAfter.getTerminator()->getOperands())
          out.push_back(map.lookupOrDefault(v));
        scf::YieldOp::create(nb, nloc, out);
      });
  whileOp.replaceAllUsesWith(runBefore(b, loop.getResults()));
  whileOp.erase();
}

LogicalResult mlir::tape::prepareRecordings(ModuleOp module) {
  SymbolTableCollection symbols;
  for (int depth = 0;; ++depth) {
    SmallVector<CallOpInterface> calls;
    module.walk([&](CallOpInterface call) {
      if (call->getParentOfType<RecordOp>())
        calls.push_back(call);
    });
    bool inlined = false;
    for (CallOpInterface call : calls) {
      if (depth == kMaxInlineDepth)
        return call->emitError("calls nest more than ")
               << kMaxInlineDepth
               << " levels deep inside a recording region (recursion?); "
                  "the tape inlines calls to see the ops they run";
      FailureOr<bool> result = inlineCall(call, symbols);
      if (failed(result))
        return failure();
      inlined |= *result;
    }
    if (!inlined)
      break;
  }
  module.walk([](RecordOp record) { hoistReads(record); });
  // Loops of unknown trip count that carry floats get one.
  SmallVector<scf::WhileOp> whiles;
  module.walk([&](scf::WhileOp w) {
    if (w->getParentOfType<RecordOp>() &&
        llvm::any_of(w.getResultTypes(), [](Type t) {
          return isa<FloatType>(getElementTypeOrSelf(t));
        }))
      whiles.push_back(w);
  });
  // Post-order: an inner loop is rewritten before the outer one copies it.
  for (scf::WhileOp w : whiles)
    countWhileLoop(w);
  return success();
}

namespace {
struct TapePrepareRecordingsPass
    : public tape::impl::TapePrepareRecordingsBase<TapePrepareRecordingsPass> {
  void runOnOperation() override {
    if (failed(prepareRecordings(getOperation())))
      signalPassFailure();
  }
};
} // namespace
