//===- Differentiate.cpp - Reverse-mode AD of recording regions -----------===//
//
// Replaces every tape.record and its tape.gradient requests with explicit
// forward and backward code. The forward region is inlined in place, so the
// forward pass runs once and the backward code reads its values directly
// ("store" strategy: the values stay alive as SSA values and bufferization
// decides where they live).
//
// Structured control flow is handled here rather than by per-op rules,
// because its backward code differentiates the op's regions recursively:
//  * scf.if: the backward code is an scf.if on the same condition whose
//    branches recompute the forward branch (cheap: one branch, once) and
//    sweep it backwards.
//  * scf.for: the forward loop is augmented to store its loop-carried values
//    of every iteration (one stacked tensor per iter_arg, so memory grows
//    with trip count x carried size, not with the body's intermediates); the
//    backward loop runs the iterations in reverse, recomputes each body from
//    the stored values and sweeps it backwards. This needs a static trip
//    count.
//
//===----------------------------------------------------------------------===//

#include "tape/Dialect/Tape/Analysis/GradientActivity.h"
#include "tape/Dialect/Tape/DifferentiationRules.h"
#include "tape/Dialect/Tape/Passes.h"
#include "tape/Dialect/Tape/TapeOps.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/SetVector.h"

namespace mlir::tape {
#define GEN_PASS_DEF_TAPEDIFFERENTIATE
#include "tape/Dialect/Tape/Passes.h.inc"
} // namespace mlir::tape

using namespace mlir;
using namespace mlir::tape;

/// True if `read` reads the variable that `source` refers to.
static bool readsSource(ReadOp read, Value source) {
  if (read.getResource() == source)
    return true;
  FlatSymbolRefAttr a = getVariableSymbol(read.getResource());
  return a && a == getVariableSymbol(source);
}

static bool isFloatLike(Type type) {
  return isa<FloatType>(getElementTypeOrSelf(type));
}

namespace {

/// Adjoints of original (recorded) values during one backward sweep.
using AdjointMap = DenseMap<Value, Value>;

/// Differentiates one tape.record: inlines it and expands its gradients.
class RecordDifferentiator {
public:
  explicit RecordDifferentiator(RecordOp record) : record(record) {}

  LogicalResult run() {
    SmallVector<GradientOp> gradients;
    for (Operation *user : record.getTape().getUsers()) {
      auto gradient = dyn_cast<GradientOp>(user);
      if (!gradient)
        return user->emitOpError("uses a gradient tape; only tape.gradient "
                                 "may use one");
      gradients.push_back(gradient);
    }

    // Inline the region in front of the record: the forward pass runs here,
    // once, and its values dominate every gradient request.
    Block &body = record.getBodyBlock();
    YieldOp yield = record.getYield();
    SmallVector<Value> targets(yield.getValues());
    recorded = getOpsWithoutTerminator(body);
    for (Operation *op : recorded)
      if (auto watch = dyn_cast<WatchOp>(op))
        watched.insert(watch.getValue());
    Block *parent = record->getBlock();
    parent->getOperations().splice(Block::iterator(record),
                                   body.getOperations(), body.begin(),
                                   Block::iterator(yield));
    for (auto [result, value] : llvm::zip(record.getTargets(), targets))
      result.replaceAllUsesWith(value);

    // Loops store their loop-carried values before any analysis runs, so
    // that the analysis sees the final forward code. A loop that cannot be
    // stored is diagnosed only if a gradient path goes through it.
    for (Operation *op : SmallVector<Operation *>(recorded))
      if (auto forOp = dyn_cast<scf::ForOp>(op))
        (void)tapeLoop(forOp, /*emitErrors=*/false);

    for (GradientOp gradient : gradients)
      if (failed(expand(gradient)))
        return failure();

    for (Operation *op : recorded)
      if (isa<WatchOp>(op))
        op->erase();
    record->erase();
    return success();
  }

private:
  /// Replaces `gradient` with the backward code for its sources.
  LogicalResult expand(GradientOp gradient) {
    Location loc = gradient.getLoc();
    OpBuilder b(gradient, &created);

    // The values the sources stand for inside the region: the results of
    // every read of a source variable, or the watched tensor itself.
    SmallVector<SmallVector<Value>> sourceValues(gradient.getSources().size());
    SmallVector<Value> allSourceValues;
    for (auto [i, source] : llvm::enumerate(gradient.getSources())) {
      if (isa<ResourceType>(source.getType())) {
        for (Operation *op : recorded)
          op->walk([&](ReadOp read) {
            if (readsSource(read, source))
              sourceValues[i].push_back(read.getValue());
          });
      } else if (watched.contains(source)) {
        sourceValues[i].push_back(source);
      }
      allSourceValues.append(sourceValues[i]);
    }

    // The record's targets were already replaced by the inlined values.
    SmallVector<Value> targets(gradient.getTargets());
    GradientActivity activity(recorded, allSourceValues, targets);
    this->activity = &activity;

    // Seed: d(sum of all target elements)/d(target) = 1.
    AdjointMap adjoints;
    for (Value target : targets)
      if (activity.isActive(target))
        adjoints[target] = addAdjoints(
            b, loc, adjoints.lookup(target),
            createFloatConstant(b, loc, target.getType(), 1.0));

    IRMapping identity;
    if (failed(sweep(b, recorded, adjoints, identity, gradient)))
      return failure();

    // Collect each source's gradient; warn about disconnected ones.
    SmallVector<Value> results;
    for (auto [i, source] : llvm::enumerate(gradient.getSources())) {
      Value grad;
      for (Value v : sourceValues[i])
        grad = addAdjoints(b, loc, grad, adjoints.lookup(v));
      Type type = gradient.getGradients()[i].getType();
      if (!grad) {
        grad = createFloatConstant(b, loc, type, 0.0);
        warnDisconnected(gradient, i, source, sourceValues[i], activity);
      }
      results.push_back(grad);
    }
    gradient.replaceAllUsesWith(results);
    gradient.erase();

    // Rules build adjoints for every operand; drop those that fed nothing
    // (operands that do not depend on a source).
    for (Operation *op : llvm::reverse(created.ops))
      if (isOpTriviallyDead(op))
        op->erase();
    created.ops.clear();
    this->activity = nullptr;
    return success();
  }

  /// Walks `ops` backwards, turning the adjoints of their results into
  /// adjoints of their operands. `fwd` maps original values to the forward
  /// values the backward code may use (a recomputed copy inside loops and
  /// branches; the identity at top level).
  LogicalResult sweep(OpBuilder &b, ArrayRef<Operation *> ops,
                      AdjointMap &adjoints, IRMapping &fwd,
                      GradientOp gradient) {
    for (Operation *op : llvm::reverse(ops)) {
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
      // Rules see a zero adjoint, never a null one, for results that
      // nothing downstream uses.
      for (auto [r, adj] : llvm::zip(op->getResults(), resultAdjoints))
        if (!adj && isFloatLike(r.getType()))
          adj = createFloatConstant(b, op->getLoc(), r.getType(), 0.0);

      LogicalResult result = success();
      if (auto ifOp = dyn_cast<scf::IfOp>(op))
        result = sweepIf(b, ifOp, resultAdjoints, adjoints, fwd, gradient);
      else if (auto forOp = dyn_cast<scf::ForOp>(op))
        result = sweepFor(b, forOp, resultAdjoints, adjoints, fwd, gradient);
      else if (auto generic = dyn_cast<linalg::GenericOp>(op))
        result = sweepGeneric(b, generic, resultAdjoints, adjoints, fwd,
                              gradient);
      else
        result = applyRule(b, op, resultAdjoints, adjoints, fwd, gradient);
      if (failed(result))
        return failure();
    }
    return success();
  }

  LogicalResult applyRule(OpBuilder &b, Operation *op,
                          ArrayRef<Value> resultAdjoints, AdjointMap &adjoints,
                          IRMapping &fwd, GradientOp gradient) {
    auto rule = dyn_cast<DifferentiableOpInterface>(op);
    if (!rule)
      return op->emitOpError("no gradient rule for '")
                 .append(op->getName(), "'; it is on the path from a "
                                        "gradient source to a target")
                 .attachNote(gradient.getLoc())
             << "gradient requested here";
    SmallVector<Value> operands, results;
    for (Value v : op->getOperands())
      operands.push_back(fwd.lookupOrDefault(v));
    for (Value v : op->getResults())
      results.push_back(fwd.lookupOrDefault(v));
    SmallVector<Value> operandAdjoints;
    if (failed(rule.buildAdjoints(b, operands, results, resultAdjoints,
                                  operandAdjoints)))
      return failure();
    if (operandAdjoints.size() != op->getNumOperands())
      return op->emitOpError("gradient rule returned ")
             << operandAdjoints.size() << " adjoints for "
             << op->getNumOperands() << " operands";
    for (auto [operand, adj] : llvm::zip(op->getOperands(), operandAdjoints))
      accumulate(b, op->getLoc(), adjoints, operand, adj);
    return success();
  }

  void accumulate(OpBuilder &b, Location loc, AdjointMap &adjoints,
                  Value original, Value adj) {
    if (adj && activity->isActive(original))
      adjoints[original] = addAdjoints(b, loc, adjoints.lookup(original), adj);
  }

  /// The varied float values that `op`'s regions read from outside.
  SmallVector<Value> variedCaptures(Operation *op) {
    llvm::SetVector<Value> captured;
    getUsedValuesDefinedAbove(op->getRegions(), captured);
    SmallVector<Value> result;
    for (Value v : captured)
      if (activity->isVaried(v) && isFloatLike(v.getType()))
        result.push_back(v);
    return result;
  }

  /// Recomputes `block` (minus its terminator) under `fwd`.
  void recompute(OpBuilder &b, Block &block, IRMapping &fwd) {
    for (Operation &op : block.without_terminator())
      b.clone(op, fwd);
  }

  /// scf.if: an scf.if on the same condition whose branches recompute the
  /// forward branch and sweep it; it yields the adjoints of the values the
  /// branches captured.
  LogicalResult sweepIf(OpBuilder &b, scf::IfOp ifOp,
                        ArrayRef<Value> resultAdjoints, AdjointMap &adjoints,
                        IRMapping &fwd, GradientOp gradient) {
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
      SmallVector<Value> yielded;
      if (!forward->empty()) {
        Block &block = forward->front();
        IRMapping inner = fwd;
        recompute(b, block, inner);
        for (auto [v, adj] : llvm::zip(block.getTerminator()->getOperands(),
                                       resultAdjoints))
          accumulate(b, loc, local, v, adj);
        if (failed(sweep(b, getOpsWithoutTerminator(block), local, inner, gradient)))
          return failure();
      }
      for (Value c : captures) {
        Value adj = local.lookup(c);
        yielded.push_back(adj ? adj : createFloatConstant(b, loc,
                                                          c.getType(), 0.0));
      }
      scf::YieldOp::create(b, loc, yielded);
    }
    for (auto [c, adj] : llvm::zip(captures, backward.getResults()))
      accumulate(b, loc, adjoints, c, adj);
    return success();
  }

  /// The stacks of loop-carried values of a forward scf.for, one per
  /// iter_arg: element i holds the value the iter_arg had when iteration i
  /// started. Built once per loop (persistent tapes reuse them).
  struct LoopTape {
    int64_t tripCount;
    unsigned numCarried; // the loop's own iter_args, before the stacks
    SmallVector<Value> stacks;
  };

  FailureOr<LoopTape> tapeLoop(scf::ForOp &forOp, bool emitErrors) {
    auto it = loopTapes.find(forOp);
    if (it != loopTapes.end())
      return it->second;
    auto fail = [&](const Twine &message) -> FailureOr<LoopTape> {
      if (emitErrors)
        return forOp.emitOpError(message);
      return failure();
    };
    std::optional<int64_t> lb = getConstantIntValue(forOp.getLowerBound());
    std::optional<int64_t> ub = getConstantIntValue(forOp.getUpperBound());
    std::optional<int64_t> step = getConstantIntValue(forOp.getStep());
    if (!lb || !ub || !step || *step <= 0)
      return fail("differentiating a loop needs constant bounds and a "
                  "positive constant step, so that its loop-carried values "
                  "can be stored");
    int64_t trip = *ub > *lb ? (*ub - *lb + *step - 1) / *step : 0;
    Location loc = forOp.getLoc();
    IRRewriter rewriter(forOp.getContext());
    rewriter.setInsertionPoint(forOp);
    SmallVector<Value> inits;
    for (Value arg : forOp.getRegionIterArgs()) {
      Type type = arg.getType();
      SmallVector<int64_t> shape{trip};
      Type elt = type;
      if (auto tensor = dyn_cast<RankedTensorType>(type)) {
        if (!tensor.hasStaticShape())
          return fail("differentiating a loop needs statically shaped "
                      "loop-carried tensors");
        llvm::append_range(shape, tensor.getShape());
        elt = tensor.getElementType();
      } else if (!type.isIntOrIndexOrFloat()) {
        return fail("cannot store loop-carried values of this type");
      }
      inits.push_back(tensor::EmptyOp::create(rewriter, loc, shape, elt));
    }
    unsigned numOld = forOp.getNumRegionIterArgs();
    auto iterArgs = llvm::to_vector(forOp.getRegionIterArgs());
    Value iv = forOp.getInductionVar();
    Value lbv = forOp.getLowerBound(), stepv = forOp.getStep();
    auto newLoop = cast<LoopLikeOpInterface>(forOp.getOperation())
                       .replaceWithAdditionalYields(
                           rewriter, inits, /*replaceInitOperandUsesInLoop=*/
                           false,
                           [&](OpBuilder &nb, Location nloc,
                               ArrayRef<BlockArgument> stacks) {
                             Value k = arith::DivSIOp::create(
                                 nb, nloc,
                                 arith::SubIOp::create(nb, nloc, iv, lbv),
                                 stepv);
                             SmallVector<Value> updated;
                             for (auto [arg, stack] :
                                  llvm::zip(iterArgs, stacks))
                               updated.push_back(
                                   pushToStack(nb, nloc, arg, stack, k));
                             return updated;
                           });
    if (failed(newLoop))
      return fail("could not add storage to the loop");
    auto newFor = cast<scf::ForOp>(newLoop->getOperation());
    LoopTape tape{trip, numOld, {}};
    for (unsigned i = 0; i < inits.size(); ++i)
      tape.stacks.push_back(newFor.getResult(numOld + i));
    // The recorded op list and the activity analysis refer to the old loop.
    llvm::replace(recorded, forOp.getOperation(), newFor.getOperation());
    forOp = newFor;
    loopTapes[newFor] = tape;
    return tape;
  }

  static Value pushToStack(OpBuilder &b, Location loc, Value value,
                           Value stack, Value index) {
    auto tensor = dyn_cast<RankedTensorType>(value.getType());
    if (!tensor)
      return tensor::InsertOp::create(b, loc, value, stack, index);
    auto [offsets, sizes, strides] = stackSlice(b, tensor, index);
    return tensor::InsertSliceOp::create(b, loc, value, stack, offsets, sizes,
                                         strides);
  }

  static Value popFromStack(OpBuilder &b, Location loc, Type type,
                            Value stack, Value index) {
    auto tensor = dyn_cast<RankedTensorType>(type);
    if (!tensor)
      return tensor::ExtractOp::create(b, loc, stack, index);
    auto [offsets, sizes, strides] = stackSlice(b, tensor, index);
    return tensor::ExtractSliceOp::create(b, loc, tensor, stack, offsets,
                                          sizes, strides);
  }

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

  /// scf.for: a reverse loop that, per iteration, pops the stored
  /// loop-carried values, recomputes the body and sweeps it. It carries the
  /// adjoints of the iter_args and accumulates those of captured values.
  LogicalResult sweepFor(OpBuilder &b, scf::ForOp forOp,
                         ArrayRef<Value> resultAdjoints, AdjointMap &adjoints,
                         IRMapping &fwd, GradientOp gradient) {
    if (!loopTapes.count(forOp)) {
      if (!fwd.getValueMap().empty())
        return forOp.emitOpError("a loop nested in a loop or branch inside a "
                                 "tape is not differentiable yet; move the "
                                 "inner loop out or unroll it");
      if (failed(tapeLoop(forOp, /*emitErrors=*/true)))
        return failure();
    }
    LoopTape *tape = &loopTapes[forOp];
    unsigned n = tape->numCarried;
    Location loc = forOp.getLoc();
    Block &body = *forOp.getBody();
    // The loop's own block arguments and yields, without the stacks.
    SmallVector<Value> iterArgs(forOp.getRegionIterArgs().take_front(n));
    SmallVector<Value> yields(
        body.getTerminator()->getOperands().take_front(n));
    SmallVector<Value> inits(forOp.getInitArgs().take_front(n));
    Value iv = forOp.getInductionVar();
    Value lb = forOp.getLowerBound(), step = forOp.getStep();
    SmallVector<Value> captures = variedCaptures(forOp);
    SmallVector<Value> carriedAdjoints;
    SmallVector<unsigned> carriedIndex;
    for (auto [i, arg] : llvm::enumerate(iterArgs))
      if (isFloatLike(arg.getType())) {
        carriedIndex.push_back(i);
        carriedAdjoints.push_back(resultAdjoints[i]);
      }

    SmallVector<Value> loopInits(carriedAdjoints);
    for (Value c : captures)
      loopInits.push_back(createFloatConstant(b, loc, c.getType(), 0.0));
    Value zero = arith::ConstantIndexOp::create(b, loc, 0);
    Value one = arith::ConstantIndexOp::create(b, loc, 1);
    Value trip = arith::ConstantIndexOp::create(b, loc, tape->tripCount);
    Value last = arith::ConstantIndexOp::create(b, loc, tape->tripCount - 1);
    LogicalResult status = success();
    auto backward = scf::ForOp::create(
        b, loc, zero, trip, one, loopInits,
        [&](OpBuilder &nb, Location nloc, Value k, ValueRange carried) {
          // Iteration i = trip - 1 - k, induction value lb + i * step.
          Value i = arith::SubIOp::create(nb, nloc, last, k);
          IRMapping inner = fwd;
          inner.map(iv, arith::AddIOp::create(
                            nb, nloc, fwd.lookupOrDefault(lb),
                            arith::MulIOp::create(nb, nloc, i,
                                                  fwd.lookupOrDefault(step))));
          for (auto [arg, stack] : llvm::zip(iterArgs, tape->stacks))
            inner.map(arg, popFromStack(nb, nloc, arg.getType(), stack, i));
          nb.setListener(&created);
          recompute(nb, body, inner);
          AdjointMap local;
          for (auto [n, idx] : llvm::enumerate(carriedIndex))
            accumulate(nb, nloc, local, yields[idx], carried[n]);
          if (failed(sweep(nb, getOpsWithoutTerminator(body), local, inner, gradient)))
            status = failure();
          SmallVector<Value> next;
          for (unsigned idx : carriedIndex) {
            Value adj = local.lookup(iterArgs[idx]);
            next.push_back(adj ? adj
                               : createFloatConstant(nb, nloc,
                                                     iterArgs[idx].getType(),
                                                     0.0));
          }
          for (auto [n, c] : llvm::enumerate(captures))
            next.push_back(addAdjoints(nb, nloc,
                                       carried[carriedIndex.size() + n],
                                       local.lookup(c)));
          scf::YieldOp::create(nb, nloc, next);
        });
    if (failed(status))
      return failure();
    for (auto [n, idx] : llvm::enumerate(carriedIndex))
      accumulate(b, loc, adjoints, inits[idx], backward.getResult(n));
    for (auto [n, c] : llvm::enumerate(captures))
      accumulate(b, loc, adjoints, c,
                 backward.getResult(carriedIndex.size() + n));
    return success();
  }

  /// linalg.generic with only parallel iterators (a map, possibly with
  /// broadcasting inputs): per active input, a generic over the same
  /// iteration space recomputes the body on scalars, sweeps it backwards
  /// and accumulates the input's adjoint; dimensions the input does not
  /// index become reductions, which sums a broadcast input's gradient.
  LogicalResult sweepGeneric(OpBuilder &b, linalg::GenericOp generic,
                             ArrayRef<Value> resultAdjoints,
                             AdjointMap &adjoints, IRMapping &fwd,
                             GradientOp gradient) {
    Location loc = generic.getLoc();
    if (generic.getNumReductionLoops() != 0)
      return generic.emitOpError(
          "gradient of a linalg.generic with reduction iterators is not "
          "supported; express the reduction with linalg.reduce");
    Block &body = generic.getRegion().front();
    for (OpOperand &init : generic.getDpsInitsMutable())
      if (!generic.getMatchingBlockArgument(&init).use_empty())
        return generic.emitOpError(
            "gradient rule needs a body that does not read its outputs");
    if (!generic.hasPureTensorSemantics())
      return generic.emitOpError("gradient rule needs tensor operands");

    SmallVector<AffineMap> maps = generic.getIndexingMapsArray();
    unsigned numInputs = generic.getNumDpsInputs();
    unsigned numLoops = generic.getNumLoops();
    for (auto [k, input] : llvm::enumerate(generic.getDpsInputs())) {
      if (!activity->isActive(input) || !isFloatLike(input.getType()))
        continue;
      AffineMap inputMap = maps[k];
      if (!inputMap.isProjectedPermutation())
        return generic.emitOpError("gradient rule needs projected-"
                                   "permutation indexing maps; input #")
               << k << " has " << AffineMapAttr::get(inputMap);
      auto inputType = dyn_cast<RankedTensorType>(input.getType());
      if (!inputType)
        return generic.emitOpError("gradient rule needs tensor inputs");

      // Inputs: the original inputs (to recompute) and the result adjoints.
      SmallVector<Value> ins;
      for (Value v : generic.getDpsInputs())
        ins.push_back(fwd.lookupOrDefault(v));
      SmallVector<AffineMap> newMaps(maps.begin(), maps.begin() + numInputs);
      for (auto [i, adj] : llvm::enumerate(resultAdjoints)) {
        ins.push_back(adj);
        newMaps.push_back(maps[numInputs + i]);
      }
      newMaps.push_back(inputMap);
      SmallVector<utils::IteratorType> iterators(
          numLoops, utils::IteratorType::reduction);
      for (AffineExpr e : inputMap.getResults())
        iterators[cast<AffineDimExpr>(e).getPosition()] =
            utils::IteratorType::parallel;
      Value init = createFloatConstant(b, loc, inputType, 0.0);
      LogicalResult status = success();
      auto backward = linalg::GenericOp::create(
          b, loc, TypeRange{inputType}, ins, ValueRange{init}, newMaps,
          iterators, [&](OpBuilder &nb, Location nloc, ValueRange args) {
            nb.setListener(&created);
            IRMapping inner = fwd;
            for (unsigned i = 0; i < numInputs; ++i)
              inner.map(body.getArgument(i), args[i]);
            recompute(nb, body, inner);
            AdjointMap local;
            for (auto [i, v] :
                 llvm::enumerate(body.getTerminator()->getOperands()))
              accumulate(nb, nloc, local, v, args[numInputs + i]);
            if (failed(sweep(nb, getOpsWithoutTerminator(body), local, inner, gradient)))
              status = failure();
            Value acc = args.back();
            Value adj = local.lookup(body.getArgument(k));
            linalg::YieldOp::create(nb, nloc,
                                    adj ? addAdjoints(nb, nloc, acc, adj)
                                        : acc);
          });
      if (failed(status))
        return failure();
      accumulate(b, loc, adjoints, input, backward.getResult(0));
    }
    return success();
  }

  void warnDisconnected(GradientOp gradient, unsigned index, Value source,
                        ArrayRef<Value> values,
                        const GradientActivity &activity) {
    std::string name = "#" + std::to_string(index);
    if (FlatSymbolRefAttr sym = getVariableSymbol(source))
      name += " (@" + sym.getValue().str() + ")";
    InFlightDiagnostic diag = gradient.emitWarning("gradient source ")
                              << name
                              << " does not influence the targets; its "
                                 "gradient is zero";
    if (values.empty()) {
      diag.attachNote(record.getLoc())
          << (isa<ResourceType>(source.getType())
                  ? "the variable is not read inside this recording region; "
                    "move the tape.read inside it"
                  : "the tensor is not watched by this tape");
      return;
    }
    for (Operation *cut : activity.getCuts())
      diag.attachNote(cut->getLoc())
          << "the path is cut here by '" << cut->getName() << "'";
    if (activity.getCuts().empty())
      diag.attachNote(values.front().getLoc())
          << "the value read here is not used on the way to the targets";
  }

  /// Remembers the ops the backward code creates.
  struct CreatedOps : public OpBuilder::Listener {
    void notifyOperationInserted(Operation *op,
                                 OpBuilder::InsertPoint) override {
      ops.push_back(op);
    }
    SmallVector<Operation *> ops;
  };

  RecordOp record;
  SmallVector<Operation *> recorded;
  DenseSet<Value> watched;
  CreatedOps created;
  const GradientActivity *activity = nullptr;
  DenseMap<Operation *, LoopTape> loopTapes;
};

struct TapeDifferentiatePass
    : public tape::impl::TapeDifferentiateBase<TapeDifferentiatePass> {
  void runOnOperation() override {
    // Post-order: inner tapes first, so an outer tape differentiates the
    // backward code of an inner one (higher-order derivatives).
    SmallVector<RecordOp> records;
    getOperation()->walk<WalkOrder::PostOrder>(
        [&](RecordOp record) { records.push_back(record); });
    for (RecordOp record : records)
      if (failed(RecordDifferentiator(record).run()))
        return signalPassFailure();
    // With every tape gone, stop_gradient is the identity.
    getOperation()->walk([](StopGradientOp op) {
      op.replaceAllUsesWith(op.getInput());
      op.erase();
    });
  }
};

} // namespace
