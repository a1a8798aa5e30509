//===- ReverseMode.cpp - The reverse sweep: rules, branches, loops --------===//

#include "ReverseMode.h"

#include "tape/Dialect/Tape/DifferentiationRules.h"
#include "tape/Dialect/Tape/TapeInterfaces.h"
#include "tape/Dialect/Tape/TapeOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Interfaces/CallInterfaces.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/SetVector.h"

using namespace mlir;
using namespace mlir::tape;
using namespace mlir::tape::ad;

static bool isFloatLike(Type type) {
  return isa<FloatType>(getElementTypeOrSelf(type));
}

/// `v` as an index (loops may count in integers).
static Value toIndex(OpBuilder &b, Location loc, Value v) {
  if (v.getType().isIndex())
    return v;
  return arith::IndexCastOp::create(b, loc, b.getIndexType(), v);
}

/// `v` (an index) as a value of `type` (the loop's counter type).
static Value fromIndex(OpBuilder &b, Location loc, Value v, Type type) {
  if (type.isIndex())
    return v;
  return arith::IndexCastOp::create(b, loc, type, v);
}

//===----------------------------------------------------------------------===//
// Driver
//===----------------------------------------------------------------------===//

/// True if `op` has a rule that covers it.
static bool hasRule(Operation *op) {
  auto rule = dyn_cast<DifferentiableOpInterface>(op);
  return rule && rule.hasAdjointRule();
}

void ReverseSweep::accumulate(OpBuilder &b, Location loc, AdjointMap &adjoints,
                              Value original, Value adj) {
  if (adj && activity->isActive(original))
    adjoints[original] = addAdjoints(b, loc, adjoints.lookup(original), adj);
}

InFlightDiagnostic ReverseSweep::emitNoRule(Operation *op, const Twine &why) {
  InFlightDiagnostic diag = op->emitOpError(why);
  diag.attachNote(requestLoc) << "gradient requested here";
  return diag;
}

LogicalResult ReverseSweep::sweep(OpBuilder &b, ArrayRef<Operation *> ops,
                                  AdjointMap &adjoints, IRMapping &fwd) {
  for (Operation *op : llvm::reverse(ops)) {
    // Reads are sources: their adjoints are collected by the caller.
    if (!activity->isActive(op) || isa<ReadOp>(op))
      continue;
    SmallVector<Value> resultAdjoints;
    bool any = false;
    for (Value r : op->getResults()) {
      resultAdjoints.push_back(adjoints.lookup(r));
      any |= bool(resultAdjoints.back());
    }
    if (!any)
      continue;

    LogicalResult result = success();
    if (auto ifOp = dyn_cast<scf::IfOp>(op))
      result = reverseIf(b, ifOp, resultAdjoints, adjoints, fwd);
    else if (auto forOp = dyn_cast<scf::ForOp>(op))
      result = reverseFor(b, forOp, resultAdjoints, adjoints, fwd);
    else if (isa<tensor::ExtractOp>(op))
      result = reverseExtract(b, op, resultAdjoints[0], adjoints, fwd);
    else if (auto pad = dyn_cast<tensor::PadOp>(op))
      result = reversePad(b, pad, resultAdjoints[0], adjoints, fwd);
    else if (auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
             linalgOp && !hasRule(op))
      result = reverseLinalg(b, linalgOp, resultAdjoints, adjoints, fwd);
    else
      result = applyRule(b, op, resultAdjoints, adjoints, fwd);
    if (failed(result))
      return failure();
  }
  return success();
}

LogicalResult ReverseSweep::applyRule(OpBuilder &b, Operation *op,
                                      ArrayRef<Value> resultAdjoints,
                                      AdjointMap &adjoints, IRMapping &fwd) {
  auto rule = dyn_cast<DifferentiableOpInterface>(op);
  if (!rule || !rule.hasAdjointRule()) {
    if (auto call = dyn_cast<CallOpInterface>(op))
      return emitNoRule(op, "cannot be differentiated: the callee has no "
                            "body to differentiate (an external function); "
                            "it is on the path from a gradient source to a "
                            "target");
    if (op->getNumRegions())
      return emitNoRule(op, "has regions and no gradient rule ('")
             << op->getName()
             << "'); it is on the path from a gradient source to a target";
    return emitNoRule(op, "no gradient rule for '")
           << op->getName()
           << "'; it is on the path from a gradient source to a target";
  }
  // A rule sees the op's operands, not what its regions capture: a varied
  // capture would lose its adjoint.
  if (op->getNumRegions())
    if (SmallVector<Value> captured = variedCaptures(op); !captured.empty())
      return emitNoRule(op, "has a gradient rule that cannot see the values "
                            "its regions capture, and one of them is on the "
                            "path from a gradient source to a target");
  // Rules see a zero adjoint, never a null one, for results that nothing
  // downstream uses.
  SmallVector<Value> dz(resultAdjoints);
  for (auto [r, adj] : llvm::zip(op->getResults(), dz))
    if (!adj && isFloatLike(r.getType()))
      adj = createFloatConstant(b, op->getLoc(), r.getType(), 0.0);
  SmallVector<Value> operands, results;
  for (Value v : op->getOperands())
    operands.push_back(fwd.lookupOrDefault(v));
  for (Value v : op->getResults())
    results.push_back(fwd.lookupOrDefault(v));
  SmallVector<Value> operandAdjoints;
  if (failed(rule.buildAdjoints(b, operands, results, dz, operandAdjoints)))
    return failure();
  if (operandAdjoints.size() != op->getNumOperands())
    return op->emitOpError("gradient rule returned ")
           << operandAdjoints.size() << " adjoints for "
           << op->getNumOperands() << " operands";
  for (auto [operand, adj] : llvm::zip(op->getOperands(), operandAdjoints))
    accumulate(b, op->getLoc(), adjoints, operand, adj);
  return success();
}

/// x = T[i...]: dT[i...] += dx, in place into T's adjoint when it has one
/// (inside loops: the carried accumulator), so that an extraction costs one
/// element, not a zero tensor of T's size.
LogicalResult ReverseSweep::reverseExtract(OpBuilder &b, Operation *op,
                                           Value adjoint, AdjointMap &adjoints,
                                           IRMapping &fwd) {
  auto extract = cast<tensor::ExtractOp>(op);
  Value source = extract.getTensor();
  if (!activity->isActive(source))
    return success();
  Location loc = op->getLoc();
  SmallVector<Value> indices;
  for (Value i : extract.getIndices())
    indices.push_back(fwd.lookupOrDefault(i));
  Value acc = adjoints.lookup(source);
  if (!acc) {
    Value zeros = createFloatConstant(b, loc, source.getType(), 0.0);
    adjoints[source] = tensor::InsertOp::create(b, loc, adjoint, zeros,
                                                indices);
    return success();
  }
  Value old = tensor::ExtractOp::create(b, loc, acc, indices);
  Value sum = addAdjoints(b, loc, old, adjoint);
  adjoints[source] = tensor::InsertOp::create(b, loc, sum, acc, indices);
  return success();
}

/// y = pad(x, low, high, v): dx is the interior of dy; the padding value,
/// when it is on the gradient path (a value the region yields), gets the
/// sum of the rest: sum(dy) - sum(dx).
LogicalResult ReverseSweep::reversePad(OpBuilder &b, tensor::PadOp pad,
                                       Value adjoint, AdjointMap &adjoints,
                                       IRMapping &fwd) {
  Location loc = pad.getLoc();
  auto sourceType = cast<RankedTensorType>(pad.getSource().getType());
  SmallVector<OpFoldResult> offsets, sizes, strides;
  for (OpFoldResult low : pad.getMixedLowPad()) {
    if (auto v = dyn_cast<Value>(low))
      low = fwd.lookupOrDefault(v);
    offsets.push_back(low);
  }
  for (int64_t d = 0; d < sourceType.getRank(); ++d) {
    if (sourceType.isDynamicDim(d))
      return emitNoRule(pad, "gradient rule needs a statically shaped "
                             "source");
    sizes.push_back(b.getIndexAttr(sourceType.getDimSize(d)));
    strides.push_back(b.getIndexAttr(1));
  }
  Value dx = tensor::ExtractSliceOp::create(b, loc, sourceType, adjoint,
                                            offsets, sizes, strides);
  accumulate(b, loc, adjoints, pad.getSource(), dx);
  Value padValue = pad.getConstantPaddingValue();
  if (!padValue) {
    if (!variedCaptures(pad).empty())
      return emitNoRule(pad, "gradient rule needs a padding value that does "
                             "not depend on the position");
    return success();
  }
  if (!activity->isActive(padValue))
    return success();
  auto sumAll = [&](Value t) {
    auto type = cast<RankedTensorType>(t.getType());
    Value init = createFloatConstant(
        b, loc, RankedTensorType::get({}, type.getElementType()), 0.0);
    SmallVector<int64_t> dims =
        llvm::to_vector(llvm::seq<int64_t>(0, type.getRank()));
    Value sum = linalg::ReduceOp::create(
                    b, loc, ValueRange{t}, ValueRange{init}, dims,
                    [](OpBuilder &nb, Location nloc, ValueRange args) {
                      linalg::YieldOp::create(
                          nb, nloc,
                          arith::AddFOp::create(nb, nloc, args[0], args[1])
                              .getResult());
                    })
                    .getResult(0);
    return tensor::ExtractOp::create(b, loc, sum, ValueRange{}).getResult();
  };
  accumulate(b, loc, adjoints, padValue,
             arith::SubFOp::create(b, loc, sumAll(adjoint), sumAll(dx)));
  return success();
}

SmallVector<Value> ReverseSweep::variedCaptures(Operation *op) {
  llvm::SetVector<Value> captured;
  getUsedValuesDefinedAbove(op->getRegions(), captured);
  SmallVector<Value> result;
  for (Value v : captured)
    if (activity->isVaried(v) && isFloatLike(v.getType()))
      result.push_back(v);
  return result;
}

Operation *mlir::tape::ad::cloneInto(OpBuilder &b, Operation &op,
                                     IRMapping &mapping) {
  // A mapping inherited from an enclosing recomputation may map this op's
  // block arguments to an earlier copy's; cloning would then drop them.
  op.walk([&](Block *block) {
    for (BlockArgument arg : block->getArguments())
      mapping.erase(arg);
  });
  Operation *clone = b.clone(op, mapping);
  mapping.map(&op, clone);
  return clone;
}

void ReverseSweep::recompute(OpBuilder &b, Block &block, IRMapping &fwd) {
  for (Operation &op : block.without_terminator())
    cloneInto(b, op, fwd);
}

//===----------------------------------------------------------------------===//
// scf.if
//===----------------------------------------------------------------------===//

/// An scf.if on the same condition whose branches recompute the forward
/// branch and sweep it; it yields the adjoints of the values the branches
/// captured. Each branch starts from the adjoints those values already have
/// and adds to them.
LogicalResult ReverseSweep::reverseIf(OpBuilder &b, scf::IfOp ifOp,
                                      ArrayRef<Value> resultAdjoints,
                                      AdjointMap &adjoints, IRMapping &fwd) {
  Location loc = ifOp.getLoc();
  SmallVector<Value> captures = variedCaptures(ifOp);
  if (captures.empty())
    return success();
  SmallVector<Type> types;
  for (Value c : captures)
    types.push_back(c.getType());
  Value cond = fwd.lookupOrDefault(ifOp.getCondition());
  auto backward = scf::IfOp::create(b, loc, types, cond,
                                    /*withElseRegion=*/true);
  for (auto [forward, region] :
       {std::pair{&ifOp.getThenRegion(), &backward.getThenRegion()},
        {&ifOp.getElseRegion(), &backward.getElseRegion()}}) {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&region->front());
    AdjointMap local;
    for (Value c : captures)
      if (Value adj = adjoints.lookup(c))
        local[c] = adj;
    if (!forward->empty()) {
      Block &block = forward->front();
      IRMapping inner = fwd;
      recompute(b, block, inner);
      for (auto [v, adj] : llvm::zip(block.getTerminator()->getOperands(),
                                     resultAdjoints))
        accumulate(b, loc, local, v, adj);
      if (failed(sweep(b, getOpsWithoutTerminator(block), local, inner)))
        return failure();
    }
    SmallVector<Value> yielded;
    for (Value c : captures) {
      Value adj = local.lookup(c);
      yielded.push_back(adj ? adj
                            : createFloatConstant(b, loc, c.getType(), 0.0));
    }
    scf::YieldOp::create(b, loc, yielded);
  }
  for (auto [c, adj] : llvm::zip(captures, backward.getResults()))
    adjoints[c] = adj;
  return success();
}

//===----------------------------------------------------------------------===//
// scf.for
//===----------------------------------------------------------------------===//

static LogicalResult checkTapeable(scf::ForOp forOp, bool emitErrors) {
  for (Value arg : forOp.getRegionIterArgs()) {
    Type type = arg.getType();
    auto tensor = dyn_cast<RankedTensorType>(type);
    if (tensor && !tensor.hasStaticShape()) {
      if (emitErrors)
        forOp.emitOpError("differentiating a loop needs statically shaped "
                          "loop-carried tensors, so that each iteration's "
                          "values can be stored");
      return failure();
    }
    if (!tensor && !type.isIntOrIndexOrFloat()) {
      if (emitErrors)
        forOp.emitOpError("cannot store loop-carried values of type ")
            << type << " to differentiate the loop";
      return failure();
    }
  }
  return success();
}

static Value pushToStack(OpBuilder &b, Location loc, Value value, Value stack,
                         Value index);
static Value popFromStack(OpBuilder &b, Location loc, Type type, Value stack,
                          Value index);

FailureOr<LoopTape> mlir::tape::ad::tapeLoop(scf::ForOp &forOp,
                                             RewriterBase &rewriter,
                                             bool emitErrors) {
  if (failed(checkTapeable(forOp, emitErrors)))
    return failure();
  Location loc = forOp.getLoc();
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(forOp);
  // trip = max(0, ceildiv(ub - lb, step)), folded when the bounds are
  // constants.
  Value lb = forOp.getLowerBound(), ub = forOp.getUpperBound(),
        step = forOp.getStep();
  Value trip;
  std::optional<int64_t> lbc = getConstantIntValue(lb),
                         ubc = getConstantIntValue(ub),
                         stepc = getConstantIntValue(step);
  if (lbc && ubc && stepc && *stepc > 0) {
    trip = arith::ConstantIndexOp::create(
        rewriter, loc, *ubc > *lbc ? (*ubc - *lbc + *stepc - 1) / *stepc : 0);
  } else {
    Value diff = arith::SubIOp::create(rewriter, loc, toIndex(rewriter, loc, ub),
                                       toIndex(rewriter, loc, lb));
    Value q = arith::CeilDivSIOp::create(rewriter, loc, diff,
                                         toIndex(rewriter, loc, step));
    trip = arith::MaxSIOp::create(
        rewriter, loc, q, arith::ConstantIndexOp::create(rewriter, loc, 0));
  }
  std::optional<int64_t> staticTrip = getConstantIntValue(trip);
  SmallVector<Value> inits;
  for (Value arg : forOp.getRegionIterArgs()) {
    Type type = arg.getType();
    SmallVector<int64_t> shape{staticTrip ? *staticTrip : ShapedType::kDynamic};
    Type elt = type;
    if (auto tensor = dyn_cast<RankedTensorType>(type)) {
      llvm::append_range(shape, tensor.getShape());
      elt = tensor.getElementType();
    }
    SmallVector<Value> dynamic;
    if (!staticTrip)
      dynamic.push_back(trip);
    inits.push_back(
        tensor::EmptyOp::create(rewriter, loc, shape, elt, dynamic));
  }
  unsigned numOld = forOp.getNumRegionIterArgs();
  auto iterArgs = llvm::to_vector(forOp.getRegionIterArgs());
  Value iv = forOp.getInductionVar();
  auto newLoop =
      cast<LoopLikeOpInterface>(forOp.getOperation())
          .replaceWithAdditionalYields(
              rewriter, inits, /*replaceInitOperandUsesInLoop=*/false,
              [&](OpBuilder &nb, Location nloc,
                  ArrayRef<BlockArgument> stacks) {
                Value k = arith::DivSIOp::create(
                    nb, nloc,
                    arith::SubIOp::create(nb, nloc, toIndex(nb, nloc, iv),
                                          toIndex(nb, nloc, lb)),
                    toIndex(nb, nloc, step));
                SmallVector<Value> updated;
                for (auto [arg, stack] : llvm::zip(iterArgs, stacks))
                  updated.push_back(pushToStack(nb, nloc, arg, stack, k));
                return updated;
              });
  if (failed(newLoop)) {
    if (emitErrors)
      forOp.emitOpError("could not add storage to the loop");
    return failure();
  }
  auto newFor = cast<scf::ForOp>(newLoop->getOperation());
  LoopTape tape{trip, numOld, {}};
  for (unsigned i = 0; i < inits.size(); ++i)
    tape.stacks.push_back(newFor.getResult(numOld + i));
  forOp = newFor;
  return tape;
}

/// Offsets, sizes and strides of row `index` of a stack of `type` values.
static std::tuple<SmallVector<OpFoldResult>, SmallVector<OpFoldResult>,
                  SmallVector<OpFoldResult>>
stackSlice(OpBuilder &b, RankedTensorType type, Value index) {
  SmallVector<OpFoldResult> offsets{index}, sizes{b.getIndexAttr(1)},
      strides(type.getRank() + 1, b.getIndexAttr(1));
  for (int64_t size : type.getShape()) {
    offsets.push_back(b.getIndexAttr(0));
    sizes.push_back(b.getIndexAttr(size));
  }
  return {offsets, sizes, strides};
}

static Value pushToStack(OpBuilder &b, Location loc, Value value, Value stack,
                         Value index) {
  auto tensor = dyn_cast<RankedTensorType>(value.getType());
  if (!tensor)
    return tensor::InsertOp::create(b, loc, value, stack, index);
  auto [offsets, sizes, strides] = stackSlice(b, tensor, index);
  return tensor::InsertSliceOp::create(b, loc, value, stack, offsets, sizes,
                                       strides);
}

static Value popFromStack(OpBuilder &b, Location loc, Type type, Value stack,
                          Value index) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor)
    return tensor::ExtractOp::create(b, loc, stack, index);
  auto [offsets, sizes, strides] = stackSlice(b, tensor, index);
  return tensor::ExtractSliceOp::create(b, loc, tensor, stack, offsets, sizes,
                                        strides);
}

/// A reverse loop that, per iteration, pops the stored loop-carried values,
/// recomputes the body and sweeps it. It carries the adjoints of the
/// iter_args and those of the captured values (starting from what they
/// already have, so that accumulation happens in place).
LogicalResult ReverseSweep::reverseFor(OpBuilder &b, scf::ForOp forOp,
                                       ArrayRef<Value> resultAdjoints,
                                       AdjointMap &adjoints, IRMapping &fwd) {
  Location loc = forOp.getLoc();
  // The loop that ran forward: the original at the top level of the tape
  // (taped before the analysis), or the copy that recomputing an enclosing
  // body made, which is taped here.
  Operation *running = fwd.lookupOrNull(forOp.getOperation());
  LoopTape tape;
  if (!running) {
    auto it = loopTapes.find(forOp);
    if (it == loopTapes.end()) {
      (void)checkTapeable(forOp, /*emitErrors=*/true);
      return failure();
    }
    tape = it->second;
  } else if (auto it = loopTapes.find(running); it != loopTapes.end()) {
    tape = it->second;
  } else {
    IRRewriter rewriter(b.getContext(), &created);
    auto runningFor = cast<scf::ForOp>(running);
    FailureOr<LoopTape> taped = tapeLoop(runningFor, rewriter, true);
    if (failed(taped))
      return failure();
    for (unsigned i = 0; i < taped->numCarried; ++i)
      fwd.map(forOp.getResult(i), runningFor.getResult(i));
    fwd.map(forOp.getOperation(), runningFor.getOperation());
    loopTapes[runningFor] = *taped;
    tape = *taped;
  }
  unsigned n = tape.numCarried;
  Block &body = *forOp.getBody();
  // The loop's own block arguments and yields, without the stacks.
  SmallVector<Value> iterArgs(forOp.getRegionIterArgs().take_front(n));
  SmallVector<Value> yields(body.getTerminator()->getOperands().take_front(n));
  SmallVector<Value> inits(forOp.getInitArgs().take_front(n));
  Value iv = forOp.getInductionVar();
  Value lb = fwd.lookupOrDefault(forOp.getLowerBound());
  Value step = fwd.lookupOrDefault(forOp.getStep());
  SmallVector<Value> captures = variedCaptures(forOp);
  SmallVector<Value> loopInits;
  SmallVector<unsigned> carriedIndex;
  for (auto [i, arg] : llvm::enumerate(iterArgs))
    if (isFloatLike(arg.getType())) {
      carriedIndex.push_back(i);
      Value adj = resultAdjoints[i];
      loopInits.push_back(adj ? adj
                              : createFloatConstant(b, loc, arg.getType(),
                                                    0.0));
    }
  for (Value c : captures) {
    Value adj = adjoints.lookup(c);
    loopInits.push_back(adj ? adj
                            : createFloatConstant(b, loc, c.getType(), 0.0));
  }
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value last = arith::SubIOp::create(b, loc, tape.tripCount, one);
  LogicalResult status = success();
  auto backward = scf::ForOp::create(
      b, loc, zero, tape.tripCount, one, loopInits,
      [&](OpBuilder &nb, Location nloc, Value k, ValueRange carried) {
        nb.setListener(&created);
        // Iteration i = trip - 1 - k, induction value lb + i * step.
        Value i = arith::SubIOp::create(nb, nloc, last, k);
        IRMapping inner = fwd;
        Type ivType = iv.getType();
        inner.map(iv, arith::AddIOp::create(
                          nb, nloc, lb,
                          arith::MulIOp::create(
                              nb, nloc, fromIndex(nb, nloc, i, ivType), step)));
        for (auto [arg, stack] : llvm::zip(iterArgs, tape.stacks))
          inner.map(arg, popFromStack(nb, nloc, arg.getType(), stack, i));
        recompute(nb, body, inner);
        AdjointMap local;
        for (auto [c, adj] :
             llvm::zip(captures, carried.drop_front(carriedIndex.size())))
          local[c] = adj;
        for (auto [m, idx] : llvm::enumerate(carriedIndex))
          accumulate(nb, nloc, local, yields[idx], carried[m]);
        if (failed(sweep(nb, getOpsWithoutTerminator(body), local, inner)))
          status = failure();
        SmallVector<Value> next;
        for (unsigned idx : carriedIndex) {
          Value adj = local.lookup(iterArgs[idx]);
          next.push_back(adj ? adj
                             : createFloatConstant(nb, nloc,
                                                   iterArgs[idx].getType(),
                                                   0.0));
        }
        for (Value c : captures)
          next.push_back(local.lookup(c));
        scf::YieldOp::create(nb, nloc, next);
      });
  if (failed(status))
    return failure();
  // The captured values' adjoints continue from where they were; then the
  // inits (which may be captured values too) receive the carried ones.
  for (auto [m, c] : llvm::enumerate(captures))
    adjoints[c] = backward.getResult(carriedIndex.size() + m);
  for (auto [m, idx] : llvm::enumerate(carriedIndex))
    accumulate(b, loc, adjoints, inits[idx], backward.getResult(m));
  return success();
}
