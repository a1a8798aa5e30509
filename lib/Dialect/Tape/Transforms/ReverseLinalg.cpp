//===- ReverseLinalg.cpp - One reverse rule for every linalg op -----------===//
//
// The adjoint of a linalg.generic, over the forward op's own iteration
// space d. The body is recomputed on scalars, seeded with the result
// adjoints and swept backwards like any code; what the sweep leaves on a
// block argument is that operand's adjoint at the point d. How the
// per-point adjoints are summed depends on the operand's indexing map M:
//
//  * M a projected permutation (identity, transposed, broadcast: every
//    map of the elementwise, matmul-like and reduction ops): a generic whose
//    output is the operand's adjoint through M, with the dimensions M names
//    parallel and the others reductions (a broadcast input's adjoint sums
//    over the broadcast dimensions).
//  * any other map (the `oh * s + kh * d` sums of convolutions and pooling,
//    constants, repeated dimensions): the scatter-accumulate form, one
//    generic with every dimension a reduction whose output reads and writes
//    the adjoint through M. For a convolution input this is the transposed
//    convolution, summed in place.
//  * scalar operands (linalg.fill's value) and float scalars the body
//    captures: rank-0 outputs of that same all-reduction generic.
//  * tensors the body captures (read with tensor.extract at computed
//    indices, an embedding row): a loop nest over the iteration space
//    that adds each point's adjoint into the tensor's in place.
//
// Outputs: a body that does not read an output overwrites it (its init
// gets nothing); with only parallel dimensions, a read output is one more
// input; with reduction dimensions the body must yield `acc ⊕ f(...)`,
// reading acc nowhere else, with ⊕ a sum (addf; subf as acc - f) or an
// extremum (maximumf, maxnumf, minimumf, minnumf). A sum passes its
// adjoint to f at every point and to the init; an extremum passes it to
// the points where f equals the result, split evenly between ties (the
// init, which usually is -inf, counts as one more candidate): the
// convention of TensorFlow's reduce_max, a valid subgradient where
// PyTorch's max-pool picks the first maximum.
//
// Named linalg ops without a dedicated rule go through their generic form
// (upstream generalizeNamedOp), built beside them as a template and erased
// afterwards, so the forward code keeps its named ops for the kernels.
//
//===----------------------------------------------------------------------===//

#include "ReverseMode.h"

#include "tape/Dialect/Tape/DifferentiationRules.h"
#include "tape/Dialect/Tape/FloatBuilders.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/SetVector.h"

using namespace mlir;
using namespace mlir::tape;
using namespace mlir::tape::ad;

static bool isFloatLike(Type type) {
  return isa<FloatType>(getElementTypeOrSelf(type));
}

namespace {

/// How a linalg op's output is computed from its body.
enum class OutputKind {
  Overwrite,   // the body does not read the output
  Elementwise, // read, with parallel dimensions only: one more input
  Sum,         // acc + f
  Difference,  // acc - f
  Extremum,    // max/min(acc, f)
};

struct OutputInfo {
  OutputKind kind;
  Value partial; // f, for reductions
};

/// The adjoint of one operand, and how the generic that sums it is shaped.
struct AdjointSlot {
  Value key;       // the forward block argument or captured value
  Value original;  // the value whose adjoint it is
  Type type;       // that value's type
  AffineMap map;   // the operand's indexing map; empty for scalars
};

/// Everything a backward body needs: the operands it reads (forward
/// inputs, accumulators, result adjoints, tie counts) and where each
/// forward block argument comes from.
struct BackwardOperands {
  SmallVector<Value> values;
  SmallVector<AffineMap> maps;
  SmallVector<int> accIndex;   // per output: operand that stands for acc
  SmallVector<int> adjIndex;   // per output: operand holding dR, or -1
  SmallVector<int> countIndex; // per output: tie counts, or -1
};

} // namespace

static Value zerosLike(OpBuilder &b, Location loc, Type type) {
  return createFloatConstant(b, loc, type, 0.0);
}

/// Drops the recomputed values a backward body did not need, then the
/// operands it ended up not reading (forward inputs it did not recompute).
static linalg::GenericOp pruneOperands(linalg::GenericOp op,
                                       RewriterBase::Listener *listener) {
  IRRewriter rewriter(op.getContext(), listener);
  Block &body = op.getRegion().front();
  SmallVector<Operation *> ops = getOpsWithoutTerminator(body);
  for (Operation *nested : llvm::reverse(ops))
    if (isOpTriviallyDead(nested))
      rewriter.eraseOp(nested);
  rewriter.setInsertionPoint(op);
  FailureOr<linalg::GenericOp> pruned =
      linalg::deduplicateOperandsAndRemoveDeadResults(rewriter, op,
                                                      /*removeOutputs=*/false);
  return succeeded(pruned) ? *pruned : op;
}

static SmallVector<utils::IteratorType> iteratorsFor(AffineMap map,
                                                     unsigned numLoops) {
  SmallVector<utils::IteratorType> iterators(numLoops,
                                             utils::IteratorType::reduction);
  for (AffineExpr e : map.getResults())
    if (auto dim = dyn_cast<AffineDimExpr>(e))
      iterators[dim.getPosition()] = utils::IteratorType::parallel;
  return iterators;
}

LogicalResult ReverseSweep::reverseLinalg(OpBuilder &b, linalg::LinalgOp op,
                                          ArrayRef<Value> resultAdjoints,
                                          AdjointMap &adjoints,
                                          IRMapping &fwd) {
  if (!op.hasPureTensorSemantics())
    return emitNoRule(op, "gradient rule needs tensor operands");
  if (auto generic = dyn_cast<linalg::GenericOp>(op.getOperation()))
    return reverseGeneric(b, op, generic, resultAdjoints, adjoints, fwd);
  IRRewriter rewriter(op.getContext());
  rewriter.setInsertionPoint(op);
  auto clone = cast<linalg::LinalgOp>(rewriter.clone(*op));
  FailureOr<linalg::GenericOp> generic =
      linalg::generalizeNamedOp(rewriter, clone);
  if (failed(generic)) {
    rewriter.eraseOp(clone);
    return emitNoRule(op, "has no gradient rule and no generic form");
  }
  LogicalResult result =
      reverseGeneric(b, op, *generic, resultAdjoints, adjoints, fwd);
  rewriter.eraseOp(*generic);
  return result;
}

LogicalResult ReverseSweep::reverseGeneric(OpBuilder &b,
                                           linalg::LinalgOp original,
                                           linalg::GenericOp generic,
                                           ArrayRef<Value> resultAdjoints,
                                           AdjointMap &adjoints,
                                           IRMapping &fwd) {
  Location loc = original->getLoc();
  MLIRContext *ctx = original->getContext();
  Block &body = generic.getRegion().front();
  Operation *yield = body.getTerminator();
  unsigned nIn = generic.getNumDpsInputs(), nOut = generic.getNumDpsInits();
  unsigned numLoops = generic.getNumLoops();
  SmallVector<AffineMap> maps = generic.getIndexingMapsArray();
  bool reduces = generic.getNumReductionLoops() > 0;
  SmallVector<Value> inputs(original->getOperands().take_front(nIn));
  SmallVector<Value> inits(original->getOperands().slice(nIn, nOut));
  SmallVector<Value> results(original->getResults());

  // How each output is computed.
  SmallVector<OutputInfo> outputs;
  for (unsigned j = 0; j < nOut; ++j) {
    BlockArgument acc = body.getArgument(nIn + j);
    Value y = yield->getOperand(j);
    if (acc.use_empty()) {
      if (reduces)
        return emitNoRule(original, "gradient rule: output #")
               << j << " is written at every step of a reduction without "
                  "being read, so only its last value counts";
      outputs.push_back({OutputKind::Overwrite, {}});
      continue;
    }
    if (!reduces) {
      outputs.push_back({OutputKind::Elementwise, {}});
      continue;
    }
    Operation *combiner = y.getDefiningOp();
    auto fail = [&]() {
      InFlightDiagnostic diag = emitNoRule(
          original, "gradient of a reduction needs a body that yields "
                    "`acc <op> f(...)`, reading the accumulator nowhere "
                    "else, with <op> one of arith.addf, arith.subf "
                    "(acc - f), arith.maximumf, arith.maxnumf, "
                    "arith.minimumf, arith.minnumf");
      diag << "; output #" << j;
      if (combiner)
        diag << " is combined by '" << combiner->getName() << "'";
      return diag;
    };
    if (!combiner || combiner->getBlock() != &body || !acc.hasOneUse() ||
        acc.getUses().begin()->getOwner() != combiner ||
        combiner->getNumOperands() != 2 ||
        !maps[nIn + j].isProjectedPermutation())
      return fail();
    bool accFirst = combiner->getOperand(0) == acc;
    Value partial = combiner->getOperand(accFirst ? 1 : 0);
    if (isa<arith::AddFOp>(combiner))
      outputs.push_back({OutputKind::Sum, partial});
    else if (isa<arith::SubFOp>(combiner) && accFirst)
      outputs.push_back({OutputKind::Difference, partial});
    else if (isa<arith::MaximumFOp, arith::MaxNumFOp, arith::MinimumFOp,
                 arith::MinNumFOp>(combiner))
      outputs.push_back({OutputKind::Extremum, partial});
    else
      return fail();
  }

  // The operands that need an adjoint.
  SmallVector<AdjointSlot> slots;
  for (unsigned k = 0; k < nIn; ++k)
    if (isFloatLike(inputs[k].getType()) && activity->isActive(inputs[k]))
      slots.push_back({body.getArgument(k), inputs[k], inputs[k].getType(),
                       isa<ShapedType>(inputs[k].getType()) ? maps[k]
                                                            : AffineMap()});
  for (unsigned j = 0; j < nOut; ++j)
    if (outputs[j].kind == OutputKind::Elementwise &&
        activity->isActive(inits[j]))
      slots.push_back({body.getArgument(nIn + j), inits[j], inits[j].getType(),
                       maps[nIn + j]});
  SmallVector<Value> capturedTensors;
  {
    llvm::SetVector<Value> captured;
    getUsedValuesDefinedAbove(generic.getRegion(), captured);
    for (Value c : captured) {
      if (!activity->isVaried(c) || !isFloatLike(c.getType()))
        continue;
      if (isa<RankedTensorType>(c.getType()))
        capturedTensors.push_back(c);
      else
        slots.push_back({c, c, c.getType(), AffineMap()});
    }
  }

  // The body's own activity: from the varied block arguments and captures
  // to what the seeds reach.
  SmallVector<Value> bodySources, bodyTargets;
  for (unsigned k = 0; k < nIn; ++k)
    if (activity->isVaried(inputs[k]))
      bodySources.push_back(body.getArgument(k));
  for (unsigned j = 0; j < nOut; ++j)
    if (outputs[j].kind == OutputKind::Elementwise &&
        activity->isVaried(inits[j]))
      bodySources.push_back(body.getArgument(nIn + j));
  for (const AdjointSlot &slot : slots)
    if (!isa<BlockArgument>(slot.key) ||
        cast<BlockArgument>(slot.key).getOwner() != &body)
      bodySources.push_back(slot.key);
  llvm::append_range(bodySources, capturedTensors);
  for (unsigned j = 0; j < nOut; ++j)
    if (resultAdjoints[j])
      bodyTargets.push_back(outputs[j].partial ? outputs[j].partial
                                               : yield->getOperand(j));
  GradientActivity bodyActivity(getOpsWithoutTerminator(body), bodySources,
                                bodyTargets);

  // Inits of reductions: a sum passes dR on; an extremum's init gets its
  // share when it is the extremum.
  SmallVector<int> extremumOutputs;
  for (unsigned j = 0; j < nOut; ++j)
    if (outputs[j].kind == OutputKind::Extremum && resultAdjoints[j])
      extremumOutputs.push_back(j);
  DenseMap<unsigned, Value> counts, initHits;
  if (!extremumOutputs.empty()) {
    // count[j] = [init == z] + number of points where f == z.
    SmallVector<Value> ins, outs;
    SmallVector<AffineMap> countMaps;
    SmallVector<int> accIndex(nOut, -1);
    for (unsigned k = 0; k < nIn; ++k) {
      ins.push_back(fwd.lookupOrDefault(inputs[k]));
      countMaps.push_back(maps[k]);
    }
    for (unsigned j = 0; j < nOut; ++j) {
      if (outputs[j].kind == OutputKind::Overwrite)
        continue;
      accIndex[j] = ins.size();
      ins.push_back(fwd.lookupOrDefault(outputs[j].kind ==
                                                OutputKind::Elementwise
                                            ? inits[j]
                                            : results[j]));
      countMaps.push_back(maps[nIn + j]);
    }
    for (int j : extremumOutputs) {
      Value z = fwd.lookupOrDefault(results[j]);
      Value init = fwd.lookupOrDefault(inits[j]);
      Value hit = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ,
                                        init, z);
      Value hitF = arith::UIToFPOp::create(b, loc, z.getType(), hit);
      initHits[j] = hitF;
      outs.push_back(hitF);
      countMaps.push_back(maps[nIn + j]);
    }
    SmallVector<Type> types;
    for (Value v : outs)
      types.push_back(v.getType());
    auto countOp = linalg::GenericOp::create(
        b, loc, types, ins, outs, countMaps,
        generic.getIteratorTypesArray(),
        [&](OpBuilder &nb, Location nloc, ValueRange args) {
          nb.setListener(&created);
          IRMapping inner = fwd;
          for (unsigned k = 0; k < nIn; ++k)
            inner.map(body.getArgument(k), args[k]);
          for (unsigned j = 0; j < nOut; ++j)
            if (accIndex[j] >= 0)
              inner.map(body.getArgument(nIn + j), args[accIndex[j]]);
          recompute(nb, body, inner);
          SmallVector<Value> next;
          for (auto [m, j] : llvm::enumerate(extremumOutputs)) {
            Value f = inner.lookupOrDefault(outputs[j].partial);
            Value z = args[accIndex[j]];
            Value hit = arith::CmpFOp::create(nb, nloc,
                                              arith::CmpFPredicate::OEQ, f, z);
            Value acc = args[ins.size() + m];
            Value one = fb::constantLike(nb, nloc, acc, 1.0);
            Value zero = fb::constantLike(nb, nloc, acc, 0.0);
            next.push_back(fb::add(
                nb, nloc, acc,
                arith::SelectOp::create(nb, nloc, hit, one, zero)));
          }
          linalg::YieldOp::create(nb, nloc, next);
        });
    countOp = pruneOperands(countOp, &created);
    for (auto [m, j] : llvm::enumerate(extremumOutputs))
      counts[j] = countOp.getResult(m);
  }
  for (unsigned j = 0; j < nOut; ++j) {
    Value dR = resultAdjoints[j];
    if (!dR || !activity->isActive(inits[j]))
      continue;
    switch (outputs[j].kind) {
    case OutputKind::Sum:
    case OutputKind::Difference:
      accumulate(b, loc, adjoints, inits[j], dR);
      break;
    case OutputKind::Extremum:
      accumulate(b, loc, adjoints, inits[j],
                 fb::div(b, loc, fb::mul(b, loc, dR, initHits[j]),
                         counts[j]));
      break;
    default:
      break;
    }
  }

  // The operands of every backward body.
  BackwardOperands operands;
  operands.accIndex.assign(nOut, -1);
  operands.adjIndex.assign(nOut, -1);
  operands.countIndex.assign(nOut, -1);
  auto addOperand = [&](Value v, AffineMap m) {
    operands.values.push_back(v);
    operands.maps.push_back(m);
    return int(operands.values.size() - 1);
  };
  for (unsigned k = 0; k < nIn; ++k)
    addOperand(fwd.lookupOrDefault(inputs[k]), maps[k]);
  for (unsigned j = 0; j < nOut; ++j) {
    if (outputs[j].kind == OutputKind::Elementwise)
      operands.accIndex[j] =
          addOperand(fwd.lookupOrDefault(inits[j]), maps[nIn + j]);
    else if (outputs[j].kind != OutputKind::Overwrite)
      operands.accIndex[j] =
          addOperand(fwd.lookupOrDefault(results[j]), maps[nIn + j]);
  }
  for (unsigned j = 0; j < nOut; ++j)
    if (resultAdjoints[j])
      operands.adjIndex[j] = addOperand(resultAdjoints[j], maps[nIn + j]);
  for (int j : extremumOutputs)
    operands.countIndex[j] = addOperand(counts[j], maps[nIn + j]);

  // Recomputes the body at one point from `args` (the values of
  // `operands` there), seeds it and sweeps it; `ivs`, when given, stand
  // for linalg.index (in a loop nest rather than a generic).
  const GradientActivity *outer = activity;
  auto backwardBody = [&](OpBuilder &nb, Location nloc, ValueRange args,
                          ValueRange ivs, AdjointMap &local) {
    nb.setListener(&created);
    IRMapping inner = fwd;
    for (unsigned k = 0; k < nIn; ++k)
      inner.map(body.getArgument(k), args[k]);
    for (unsigned j = 0; j < nOut; ++j)
      if (operands.accIndex[j] >= 0)
        inner.map(body.getArgument(nIn + j), args[operands.accIndex[j]]);
    for (Operation &op : body.without_terminator()) {
      if (auto index = dyn_cast<linalg::IndexOp>(&op); index && !ivs.empty())
        inner.map(index.getResult(), ivs[index.getDim()]);
      else
        cloneInto(nb, op, inner);
    }
    activity = &bodyActivity;
    for (unsigned j = 0; j < nOut; ++j) {
      if (operands.adjIndex[j] < 0)
        continue;
      Value d = args[operands.adjIndex[j]];
      switch (outputs[j].kind) {
      case OutputKind::Overwrite:
      case OutputKind::Elementwise:
        accumulate(nb, nloc, local, yield->getOperand(j), d);
        break;
      case OutputKind::Sum:
        accumulate(nb, nloc, local, outputs[j].partial, d);
        break;
      case OutputKind::Difference:
        accumulate(nb, nloc, local, outputs[j].partial, fb::neg(nb, nloc, d));
        break;
      case OutputKind::Extremum: {
        Value f = inner.lookupOrDefault(outputs[j].partial);
        Value z = args[operands.accIndex[j]];
        Value hit = arith::CmpFOp::create(nb, nloc, arith::CmpFPredicate::OEQ,
                                          f, z);
        Value share = fb::div(nb, nloc, d, args[operands.countIndex[j]]);
        accumulate(nb, nloc, local, outputs[j].partial,
                   arith::SelectOp::create(nb, nloc, hit, share,
                                           fb::constantLike(nb, nloc, share,
                                                            0.0)));
        break;
      }
      }
    }
    LogicalResult status =
        sweep(nb, getOpsWithoutTerminator(body), local, inner);
    activity = outer;
    return status;
  };

  // One generic per operand read through a projected permutation; one
  // all-reduction generic for the scatter-accumulated and scalar ones.
  SmallVector<AdjointSlot> scatterSlots;
  for (const AdjointSlot &slot : slots) {
    // A projected permutation, possibly with zeros for unit dimensions
    // (tosa's broadcasts read a 4x1 operand through (d0, d1) -> (d0, 0)):
    // each output element is reduced over the dimensions the map drops.
    if (slot.map && slot.map.isProjectedPermutation(/*allowZeroInResults=*/true)) {
      SmallVector<AffineMap> bwdMaps(operands.maps);
      bwdMaps.push_back(slot.map);
      LogicalResult status = success();
      auto backward = linalg::GenericOp::create(
          b, loc, TypeRange{slot.type}, operands.values,
          ValueRange{zerosLike(b, loc, slot.type)}, bwdMaps,
          iteratorsFor(slot.map, numLoops),
          [&](OpBuilder &nb, Location nloc, ValueRange args) {
            AdjointMap local;
            if (failed(backwardBody(nb, nloc, args.drop_back(), {}, local)))
              status = failure();
            linalg::YieldOp::create(
                nb, nloc,
                addAdjoints(nb, nloc, args.back(), local.lookup(slot.key)));
          });
      if (failed(status))
        return failure();
      backward = pruneOperands(backward, &created);
      accumulate(b, loc, adjoints, slot.original, backward.getResult(0));
    } else {
      scatterSlots.push_back(slot);
    }
  }
  if (!scatterSlots.empty()) {
    SmallVector<AffineMap> bwdMaps(operands.maps);
    SmallVector<Value> outs;
    SmallVector<Type> types;
    for (const AdjointSlot &slot : scatterSlots) {
      Type type = slot.map ? slot.type : RankedTensorType::get({}, slot.type);
      types.push_back(type);
      outs.push_back(zerosLike(b, loc, type));
      bwdMaps.push_back(slot.map ? slot.map
                                 : AffineMap::get(numLoops, 0, ctx));
    }
    LogicalResult status = success();
    unsigned numOperands = operands.values.size();
    auto backward = linalg::GenericOp::create(
        b, loc, types, operands.values, outs, bwdMaps,
        SmallVector<utils::IteratorType>(numLoops,
                                         utils::IteratorType::reduction),
        [&](OpBuilder &nb, Location nloc, ValueRange args) {
          AdjointMap local;
          if (failed(backwardBody(nb, nloc, args.take_front(numOperands), {},
                                  local)))
            status = failure();
          SmallVector<Value> next;
          for (auto [m, slot] : llvm::enumerate(scatterSlots))
            next.push_back(addAdjoints(nb, nloc, args[numOperands + m],
                                       local.lookup(slot.key)));
          linalg::YieldOp::create(nb, nloc, next);
        });
    if (failed(status))
      return failure();
    backward = pruneOperands(backward, &created);
    for (auto [m, slot] : llvm::enumerate(scatterSlots)) {
      Value adj = backward.getResult(m);
      if (!slot.map)
        adj = tensor::ExtractOp::create(b, loc, adj, ValueRange{});
      accumulate(b, loc, adjoints, slot.original, adj);
    }
  }

  // Captured tensors: a loop nest adds every point's adjoint in place.
  if (capturedTensors.empty())
    return success();
  SmallVector<int64_t> ranges = generic.getStaticLoopRanges();
  if (llvm::any_of(ranges, ShapedType::isDynamic))
    return emitNoRule(original, "gradient of a tensor captured by a linalg "
                                "body needs static loop bounds");
  SmallVector<Value> lbs, ubs, steps, iterInits;
  for (int64_t r : ranges) {
    lbs.push_back(arith::ConstantIndexOp::create(b, loc, 0));
    ubs.push_back(arith::ConstantIndexOp::create(b, loc, r));
    steps.push_back(arith::ConstantIndexOp::create(b, loc, 1));
  }
  for (Value t : capturedTensors) {
    Value adj = adjoints.lookup(t);
    iterInits.push_back(adj ? adj : zerosLike(b, loc, t.getType()));
  }
  LogicalResult status = success();
  scf::LoopNest nest = scf::buildLoopNest(
      b, loc, lbs, ubs, steps, iterInits,
      [&](OpBuilder &nb, Location nloc, ValueRange ivs,
          ValueRange carried) -> scf::ValueVector {
        nb.setListener(&created);
        // The operands' elements at this point.
        SmallVector<Value> args;
        for (auto [v, m] : llvm::zip(operands.values, operands.maps)) {
          if (!isa<ShapedType>(v.getType())) {
            args.push_back(v);
            continue;
          }
          SmallVector<Value> indices;
          for (unsigned r = 0; r < m.getNumResults(); ++r)
            indices.push_back(affine::AffineApplyOp::create(
                nb, nloc, m.getSubMap({r}), ivs));
          args.push_back(tensor::ExtractOp::create(nb, nloc, v, indices));
        }
        AdjointMap local;
        for (auto [t, acc] : llvm::zip(capturedTensors, carried))
          local[t] = acc;
        if (failed(backwardBody(nb, nloc, args, ivs, local)))
          status = failure();
        scf::ValueVector next;
        for (Value t : capturedTensors)
          next.push_back(local.lookup(t));
        return next;
      });
  if (failed(status))
    return failure();
  for (auto [t, adj] : llvm::zip(capturedTensors, nest.results))
    adjoints[t] = adj;
  return success();
}
