//===- Vectorize.cpp - Register tiles and vectors for linalg ops ----------===//
//
// A deliberately simple codegen strategy: full static tiles only (tile sizes
// divide the shapes), register blocking for contractions, one vector per
// tile for everything else. Large matmuls never get here: tape-cpu-pack-matmuls
// (packed, cache-blocked, threaded) and tape-cpu-matvec-kernels take them first.
//
//===----------------------------------------------------------------------===//

#include "tape/Codegen/CPU/Passes.h"

#include "Threads.h"
#include "UnitStride.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Hoisting.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/LoopLikeInterface.h"
#include "mlir/Transforms/LoopInvariantCodeMotionUtils.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"

namespace mlir::tape::cpu {
#define GEN_PASS_DEF_VECTORIZE
#define GEN_PASS_DEF_HOISTVECTORTRANSFERS
#include "tape/Codegen/CPU/Passes.h.inc"
} // namespace mlir::tape::cpu

using namespace mlir;
using mlir::tape::isInsideParallelLoop;
using mlir::tape::isUnitStrideInnermost;
using mlir::tape::innermostStride;

/// The largest divisor of `size` that is at most `limit`.
static int64_t largestDivisor(int64_t size, int64_t limit) {
  for (int64_t d = std::min(size, limit); d > 1; --d)
    if (size % d == 0)
      return d;
  return 1;
}

/// True if, for every output of `op`, the value the body yields varies
/// along the reduction dimensions (reads an input those dimensions index, or
/// their linalg.index). Upstream vectorization folds a reduction of a value
/// that is uniform along them (a body that ignores its inputs after a fill
/// was folded into it) into one addition per vector instead of one per
/// element, so such ops stay scalar loops.
static bool reducesVaryingValues(linalg::LinalgOp op) {
  if (op.getNumReductionLoops() == 0)
    return true;
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  auto isReduction = [&](unsigned d) {
    return iterators[d] == utils::IteratorType::reduction;
  };
  Block *body = op.getBlock();
  DenseSet<Value> varying;
  for (OpOperand *input : op.getDpsInputOperands()) {
    AffineMap map = op.getMatchingIndexingMap(input);
    if (llvm::any_of(llvm::seq<unsigned>(0, map.getNumDims()), [&](unsigned d) {
          return isReduction(d) && map.isFunctionOfDim(d);
        }))
      varying.insert(body->getArgument(input->getOperandNumber()));
  }
  for (Operation &nested : *body) {
    bool varies = llvm::any_of(nested.getOperands(), [&](Value v) {
      return varying.contains(v);
    });
    if (auto index = dyn_cast<linalg::IndexOp>(nested))
      varies = isReduction(index.getDim());
    if (varies)
      varying.insert(nested.result_begin(), nested.result_end());
  }
  return llvm::all_of(body->getTerminator()->getOperands(),
                      [&](Value v) { return varying.contains(v); });
}

/// True if an operand is a buffer of i1. Bufferization stores an i1 per
/// byte, while a vector of i1 is a bit vector in LLVM: a vector load from
/// such a buffer reads packed bits (the CNN's dropout mask, kept for the
/// backward pass, read by the max-pool adjoint: most of the gradient was
/// zero).
static bool hasBooleanBuffer(linalg::LinalgOp op) {
  return llvm::any_of(op->getOperandTypes(), [](Type type) {
    auto memref = dyn_cast<MemRefType>(type);
    return memref && memref.getElementType().isInteger(1);
  });
}

/// True if every input that is also an output is read with the output's
/// map: where it is written, so that vectors along any loop read each
/// element before it is overwritten.
static bool readsOutputsWhereWritten(linalg::LinalgOp op) {
  for (OpOperand *input : op.getDpsInputOperands())
    for (OpOperand &init : op.getDpsInitsMutable())
      if (input->get() == init.get() &&
          op.getMatchingIndexingMap(input) != op.getMatchingIndexingMap(&init))
        return false;
  return true;
}

/// True if the body is elementwise scalar arithmetic: each op maps to
/// vectors lane by lane.
static bool hasElementwiseScalarBody(linalg::LinalgOp op) {
  for (Operation &nested : op.getBlock()->without_terminator())
    if (nested.getNumRegions() != 0 ||
        !OpTrait::hasElementwiseMappableTraits(&nested) ||
        !llvm::all_of(nested.getResultTypes(),
                      [](Type t) { return t.isIntOrFloat(); }))
      return false;
  return true;
}

/// True for an op upstream vectorization refuses because an operand is
/// indexed by a sum of loops (im2col's gather `x[n, c, oh + kh, ow + kw]`,
/// col2im's scatter-add into it) but that can run along its innermost
/// loop: every operand that loop indexes has it in its last index alone,
/// with coefficient 1, in memory of unit innermost stride; every output is
/// indexed by it (so the lanes of one vector write distinct elements and
/// the result is the scalar loops' to the bit, whatever the iterator
/// types); an input that is also an output is read where it is written;
/// and the body is elementwise scalar arithmetic.
static bool runsAlongInnermostLoop(linalg::LinalgOp op) {
  if (op.getNumLoops() == 0 || !op.hasPureBufferSemantics() ||
      op.hasDynamicShape() ||
      llvm::all_of(op.getIndexingMapsArray(),
                   [](AffineMap map) { return map.isProjectedPermutation(); }))
    return false;
  unsigned inner = op.getNumLoops() - 1;
  for (OpOperand &operand : op->getOpOperands()) {
    auto type = dyn_cast<MemRefType>(operand.get().getType());
    if (!type || !type.getElementType().isIntOrFloat())
      return false;
    AffineMap map = op.getMatchingIndexingMap(&operand);
    bool output = op.isDpsInit(&operand);
    if (!map.isFunctionOfDim(inner)) {
      if (output)
        return false;
      continue;
    }
    SmallVector<int64_t> strides;
    int64_t offset;
    if (!isUnitStrideInnermost(map, inner) ||
        failed(type.getStridesAndOffset(strides, offset)) ||
        strides.back() != 1)
      return false;
  }
  if (!readsOutputsWhereWritten(op) || !hasElementwiseScalarBody(op))
    return false;
  return true;
}

/// The loop a windowed op (a pooling window `x[n, c, 2 oh + kh, 2 ow + kw]`
/// and its adjoints: maps that are not projected permutations, which
/// upstream vectorization refuses) runs along as vectors: the loop every
/// output has as its last index, alone, in memory of unit innermost
/// stride, parallel. Every input that loop indexes has it in its last
/// index alone with a constant stride (read by vector.gather when it is
/// not 1); an input that is also an output is read where it is written;
/// the body is elementwise scalar arithmetic. The lanes of a vector write
/// distinct elements and every element sees the other loops in their
/// order, so the result is the scalar loops' to the bit.
static std::optional<unsigned> windowedVectorLoop(linalg::LinalgOp op) {
  if (op.getNumLoops() == 0 || !op.hasPureBufferSemantics() ||
      op.hasDynamicShape() ||
      llvm::all_of(op.getIndexingMapsArray(),
                   [](AffineMap map) { return map.isProjectedPermutation(); }))
    return std::nullopt;
  std::optional<unsigned> loop;
  for (OpOperand &init : op.getDpsInitsMutable()) {
    AffineMap map = op.getMatchingIndexingMap(&init);
    if (map.getNumResults() == 0)
      return std::nullopt;
    auto last = dyn_cast<AffineDimExpr>(map.getResults().back());
    if (!last || (loop && *loop != last.getPosition()))
      return std::nullopt;
    loop = last.getPosition();
  }
  if (!loop || op.getIteratorTypesArray()[*loop] != utils::IteratorType::parallel ||
      op.getStaticLoopRanges()[*loop] < 2)
    return std::nullopt;
  for (OpOperand &operand : op->getOpOperands()) {
    auto type = dyn_cast<MemRefType>(operand.get().getType());
    if (!type || !type.getElementType().isIntOrFloat())
      return std::nullopt;
    AffineMap map = op.getMatchingIndexingMap(&operand);
    if (!map.isFunctionOfDim(*loop))
      continue;
    std::optional<int64_t> stride = innermostStride(map, *loop);
    SmallVector<int64_t> strides;
    int64_t offset;
    if (!stride || (op.isDpsInit(&operand) && *stride != 1) ||
        failed(type.getStridesAndOffset(strides, offset)) ||
        strides.back() != 1)
      return std::nullopt;
  }
  if (!readsOutputsWhereWritten(op) || !hasElementwiseScalarBody(op))
    return std::nullopt;
  return loop;
}

/// Two loops that together run along an output's innermost dimension: the
/// output position `size * outer + inner` with `inner` over [0, size), a
/// window as wide as its stride (a 2x2 max pool's adjoint writes
/// `dx[n, c, 2 oh + kh, 2 ow + kw]`). As one loop `j` over
/// [0, size * range(outer)), they write consecutive elements.
struct WindowPair {
  unsigned outer, inner;
  int64_t size;
};

/// The coefficients of loops `a` and `b` in the last index of `map`, when
/// that index is a sum of loops times constants (plus a constant) and
/// neither loop appears in another index. None otherwise.
static std::optional<std::pair<int64_t, int64_t>>
lastIndexCoefficients(AffineMap map, unsigned a, unsigned b) {
  if (map.getNumResults() == 0)
    return std::nullopt;
  ArrayRef<AffineExpr> results = map.getResults();
  if (llvm::any_of(results.drop_back(), [&](AffineExpr e) {
        return e.isFunctionOfDim(a) || e.isFunctionOfDim(b);
      }))
    return std::nullopt;
  AffineExpr last = results.back();
  if (!last.isPureAffine())
    return std::nullopt;
  MLIRContext *ctx = map.getContext();
  auto at = [&](int64_t va, int64_t vb) -> std::optional<int64_t> {
    SmallVector<AffineExpr> point(map.getNumDims(),
                                  getAffineConstantExpr(0, ctx));
    point[a] = getAffineConstantExpr(va, ctx);
    point[b] = getAffineConstantExpr(vb, ctx);
    auto c = dyn_cast<AffineConstantExpr>(last.replaceDims(point));
    return c ? std::optional<int64_t>(c.getValue()) : std::nullopt;
  };
  std::optional<int64_t> zero = at(0, 0), ta = at(1, 0), tb = at(0, 1);
  if (!zero || !ta || !tb)
    return std::nullopt;
  return std::make_pair(*ta - *zero, *tb - *zero);
}

/// The window pair of an op whose outputs all end in `size * outer +
/// inner` (and index neither loop elsewhere), in memory of unit innermost
/// stride, with `size` the range of `inner`, a power of two from 2 to 8:
/// then each element of an output is written by one (outer, inner) pair
/// for given values of the other loops, so running the pair as one
/// vector loop innermost keeps the order in which every element sees the
/// other loops, and the result is the scalar loops' to the bit, whatever
/// the iterator types say. Each input indexes the pair the same way,
/// by `outer` alone (one element per window: repeated `size` times across
/// the lanes), by `inner` alone (repeated per window), or not at all; an
/// input that is also an output is read where it is written; the body is
/// elementwise scalar arithmetic.
static std::optional<WindowPair> windowPairLoops(linalg::LinalgOp op) {
  if (op.getNumLoops() < 2 || op.getNumDpsInits() == 0 ||
      !op.hasPureBufferSemantics() || op.hasDynamicShape())
    return std::nullopt;
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  // The pair, from the first output's last index.
  AffineMap first = op.getMatchingIndexingMap(op.getDpsInitOperand(0));
  if (first.getNumResults() == 0)
    return std::nullopt;
  std::optional<WindowPair> pair;
  for (unsigned o = 0; o < op.getNumLoops() && !pair; ++o)
    for (unsigned i = 0; i < op.getNumLoops() && !pair; ++i) {
      if (o == i || !first.getResults().back().isFunctionOfDim(o) ||
          !first.getResults().back().isFunctionOfDim(i))
        continue;
      int64_t size = ranges[i];
      if (size < 2 || size > 8 || !llvm::isPowerOf2_64(size))
        continue;
      auto c = lastIndexCoefficients(first, o, i);
      if (c && c->first == size && c->second == 1)
        pair = WindowPair{o, i, size};
    }
  if (!pair)
    return std::nullopt;
  for (OpOperand &operand : op->getOpOperands()) {
    auto type = dyn_cast<MemRefType>(operand.get().getType());
    if (!type || !type.getElementType().isIntOrFloat())
      return std::nullopt;
    AffineMap map = op.getMatchingIndexingMap(&operand);
    if (!map.isFunctionOfDim(pair->outer) && !map.isFunctionOfDim(pair->inner))
      continue;
    auto c = lastIndexCoefficients(map, pair->outer, pair->inner);
    if (!c)
      return std::nullopt;
    bool contiguous = c->first == pair->size && c->second == 1;
    bool perWindow = c->first == 1 && c->second == 0;
    bool perLane = c->first == 0 && c->second == 1;
    SmallVector<int64_t> strides;
    int64_t offset;
    if (failed(type.getStridesAndOffset(strides, offset)) ||
        strides.back() != 1)
      return std::nullopt;
    if (op.isDpsInit(&operand)) {
      // `size * outer + inner` and no other loop: each element once for
      // given values of the other loops.
      if (!contiguous)
        return std::nullopt;
      AffineExpr last = map.getResults().back();
      SmallVector<AffineExpr> zeros(map.getNumDims(),
                                    getAffineConstantExpr(0, op.getContext()));
      zeros[pair->outer] = getAffineDimExpr(pair->outer, op.getContext());
      zeros[pair->inner] = getAffineDimExpr(pair->inner, op.getContext());
      if (last != last.replaceDims(zeros))
        return std::nullopt;
    } else if (!contiguous && !perWindow && !perLane) {
      return std::nullopt;
    }
  }
  if (!readsOutputsWhereWritten(op) || !hasElementwiseScalarBody(op))
    return std::nullopt;
  return pair;
}

/// The largest stride between consecutive lanes that an operand is read
/// with by one contiguous load and a shuffle instead of a gather (reading
/// `stride` times the lanes' elements).
static constexpr int64_t maxDeinterleavedStride = 4;

/// Lowers an op `runsAlongInnermostLoop` (with `inner` its innermost
/// loop) or `windowedVectorLoop` (with `inner` the loop it returns)
/// accepts to scalar loops over its other dimensions, in their order,
/// around vectors along `inner`: `width` lanes at a time, then halves for
/// what is left (24 = 16 + 8), each operand read by vector.load, by one
/// wider load and a shuffle when consecutive iterations are up to
/// `maxDeinterleavedStride` apart (a pool's windows), by vector.gather
/// when they are further apart, or loaded
/// once and broadcast when the loop does not index it, and each output
/// written by vector.store.
///
/// With a window `pair` (`windowPairLoops`), the vectors run along the
/// pair as one loop instead (`inner` is ignored): lane `l` of a vector from
/// `j` is `outer = (j + l) / size`, `inner = (j + l) % size`; an operand
/// indexed by `outer` alone is loaded one element per window and repeated
/// across its lanes (vector.shuffle), one indexed by `inner` alone loaded
/// once per window and repeated per window.
static void vectorizeAlongLoop(IRRewriter &rewriter, linalg::LinalgOp op,
                               unsigned inner, int64_t width,
                               std::optional<WindowPair> pair = std::nullopt) {
  Location loc = op.getLoc();
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(op);
  auto constant = [&](int64_t value) -> Value {
    return arith::ConstantIndexOp::create(rewriter, loc, value);
  };
  int64_t vectorRange =
      pair ? pair->size * ranges[pair->outer] : ranges[inner];
  int64_t minLanes = pair ? pair->size : 1;
  // The other loops in their order, the vectors innermost.
  SmallVector<Value> ivs(ranges.size());
  for (unsigned d = 0; d < ranges.size(); ++d) {
    if (pair ? (d == pair->outer || d == pair->inner) : d == inner)
      continue;
    auto loop = scf::ForOp::create(rewriter, loc, constant(0),
                                   constant(ranges[d]), constant(1));
    rewriter.setInsertionPointToStart(loop.getBody());
    ivs[d] = loop.getInductionVar();
  }

  // The body on `lanes` consecutive iterations of loop `inner` from
  // `index`.
  auto emitVectors = [&](Value index, int64_t lanes) {
    SmallVector<Value> point(ivs);
    if (pair) {
      // `index` is a multiple of `size`: the first lane's window, at 0.
      point[pair->outer] = affine::AffineApplyOp::create(
          rewriter, loc,
          AffineMap::get(1, 0,
                         getAffineDimExpr(0, rewriter.getContext())
                             .floorDiv(pair->size)),
          ValueRange{index});
      point[pair->inner] = constant(0);
    } else {
      point[inner] = index;
    }
    auto indicesOf = [&](AffineMap map) {
      SmallVector<Value> indices;
      for (AffineExpr e : map.getResults())
        indices.push_back(affine::AffineApplyOp::create(
            rewriter, loc, AffineMap::get(map.getNumDims(), 0, e), point));
      return indices;
    };
    auto vectorOf = [&](Type scalar) -> Type { return VectorType::get({lanes}, scalar); };
    IRMapping mapping;
    for (OpOperand &operand : op->getOpOperands()) {
      BlockArgument arg = op.getMatchingBlockArgument(&operand);
      if (arg.use_empty())
        continue;
      AffineMap map = op.getMatchingIndexingMap(&operand);
      SmallVector<Value> indices = indicesOf(map);
      Value value;
      if (pair && (map.isFunctionOfDim(pair->outer) ||
                   map.isFunctionOfDim(pair->inner))) {
        auto [perOuter, perInner] =
            *lastIndexCoefficients(map, pair->outer, pair->inner);
        if (perInner == 1 && perOuter == pair->size) {
          value = vector::LoadOp::create(
              rewriter, loc, vectorOf(arg.getType()), operand.get(), indices);
        } else {
          // One element per window (`outer`) or per lane of a window
          // (`inner`), repeated.
          bool perWindow = perOuter == 1;
          int64_t loaded = perWindow ? lanes / pair->size : pair->size;
          Value part = vector::LoadOp::create(
              rewriter, loc, VectorType::get({loaded}, arg.getType()),
              operand.get(), indices);
          SmallVector<int64_t> mask;
          for (int64_t lane = 0; lane < lanes; ++lane)
            mask.push_back(perWindow ? lane / pair->size
                                     : lane % pair->size);
          value = vector::ShuffleOp::create(rewriter, loc, part, part, mask);
        }
        mapping.map(arg, value);
        continue;
      }
      int64_t stride = !pair && map.isFunctionOfDim(inner)
                           ? innermostStride(map, inner).value_or(1)
                           : 0;
      if (stride == 1) {
        value = vector::LoadOp::create(rewriter, loc, vectorOf(arg.getType()),
                                       operand.get(), indices);
      } else if (stride > 1 && stride <= maxDeinterleavedStride && lanes > 1) {
        // Every `stride`-th element of a run (a pool's window column): one
        // load of the whole run, padded past the end of the row, and a
        // shuffle that keeps the lanes' elements. A gather of 8 lanes
        // costs about as many loads as lanes.
        int64_t span = lanes * stride;
        Value pad = arith::ConstantOp::create(
            rewriter, loc, rewriter.getZeroAttr(arg.getType()));
        auto memrefType = cast<MemRefType>(operand.get().getType());
        AffineMap lastDim = AffineMap::get(
            memrefType.getRank(), 0,
            getAffineDimExpr(memrefType.getRank() - 1, rewriter.getContext()));
        Value run = vector::TransferReadOp::create(
            rewriter, loc, VectorType::get({span}, arg.getType()),
            operand.get(), indices, pad, lastDim, ArrayRef<bool>{false});
        SmallVector<int64_t> lanesOfRun;
        for (int64_t lane = 0; lane < lanes; ++lane)
          lanesOfRun.push_back(lane * stride);
        value = vector::ShuffleOp::create(rewriter, loc, run, run, lanesOfRun);
      } else if (stride > 1) {
        SmallVector<int32_t> offsets;
        for (int64_t lane = 0; lane < lanes; ++lane)
          offsets.push_back(static_cast<int32_t>(lane * stride));
        Value offsetVector = arith::ConstantOp::create(
            rewriter, loc, rewriter.getI32VectorAttr(offsets));
        Value all = arith::ConstantOp::create(
            rewriter, loc,
            DenseElementsAttr::get(
                VectorType::get({lanes}, rewriter.getI1Type()), true));
        Value zero = arith::ConstantOp::create(
            rewriter, loc, rewriter.getZeroAttr(vectorOf(arg.getType())));
        value = vector::GatherOp::create(rewriter, loc,
                                         cast<VectorType>(vectorOf(arg.getType())),
                                         operand.get(), indices, offsetVector,
                                         all, zero);
      } else {
        Value scalar = memref::LoadOp::create(rewriter, loc, operand.get(), indices);
        value = vector::BroadcastOp::create(rewriter, loc, vectorOf(arg.getType()), scalar);
      }
      mapping.map(arg, value);
    }
    // Values from outside the body are the same for every lane.
    auto lookup = [&](Value v) -> Value {
      if (Value mapped = mapping.lookupOrNull(v))
        return mapped;
      Value splat = vector::BroadcastOp::create(rewriter, loc, vectorOf(v.getType()), v);
      mapping.map(v, splat);
      return splat;
    };
    for (Operation &nested : op.getBlock()->without_terminator()) {
      SmallVector<Value> operands = llvm::map_to_vector(nested.getOperands(), lookup);
      SmallVector<Type> types = llvm::map_to_vector(nested.getResultTypes(), vectorOf);
      OperationState state(nested.getLoc(), nested.getName(), operands, types,
                           nested.getAttrs());
      mapping.map(nested.getResults(), rewriter.create(state)->getResults());
    }
    auto yield = cast<linalg::YieldOp>(op.getBlock()->getTerminator());
    for (auto [init, value] : llvm::zip(op.getDpsInitsMutable(), yield.getValues()))
      vector::StoreOp::create(rewriter, loc, lookup(value), init.get(),
                              indicesOf(op.getMatchingIndexingMap(&init)));
  };

  int64_t start = 0;
  for (int64_t lanes = std::max(width, minLanes);
       lanes >= minLanes && start < vectorRange; lanes /= 2) {
    int64_t count = (vectorRange - start) / lanes;
    if (count == 0)
      continue;
    OpBuilder::InsertionGuard segment(rewriter);
    if (count == 1) {
      emitVectors(constant(start), lanes);
    } else {
      auto loop = scf::ForOp::create(rewriter, loc, constant(start),
                                     constant(start + count * lanes),
                                     constant(lanes));
      rewriter.setInsertionPointToStart(loop.getBody());
      emitVectors(loop.getInductionVar(), lanes);
    }
    start += count * lanes;
  }
  rewriter.eraseOp(op);
}

/// How each output of an op that reduces along its innermost loop is
/// combined, when the op can run as vectors along that loop with one vector
/// accumulator per output: the innermost loop is a reduction loop (outer
/// ones may be too: they run as the outer scalar loops, in order, each
/// combining its partial result into the output); every operand that loop
/// indexes has it in its
/// last index alone, in memory of unit innermost stride; no input is an
/// output; the body is elementwise scalar arithmetic (and linalg.index) in
/// which each output's block argument is used once, by the op that makes
/// its yielded value, a combiner (add, mul, min, max, and, or, xor) whose
/// other operand depends on no output. None otherwise, or when the loop is
/// shorter than `width`.
static std::optional<SmallVector<Operation *>>
innermostReductionCombiners(linalg::LinalgOp op, int64_t width) {
  if (op.getNumLoops() == 0 || !op.hasPureBufferSemantics() ||
      op.hasDynamicShape())
    return std::nullopt;
  unsigned inner = op.getNumLoops() - 1;
  if (op.getIteratorTypesArray()[inner] != utils::IteratorType::reduction ||
      op.getStaticLoopRanges()[inner] < width)
    return std::nullopt;
  for (OpOperand &operand : op->getOpOperands()) {
    auto type = dyn_cast<MemRefType>(operand.get().getType());
    AffineMap map = op.getMatchingIndexingMap(&operand);
    if (!type || !type.getElementType().isIntOrFloat() ||
        !map.isProjectedPermutation())
      return std::nullopt;
    if (!map.isFunctionOfDim(inner))
      continue;
    SmallVector<int64_t> strides;
    int64_t offset;
    if (op.isDpsInit(&operand) || !isUnitStrideInnermost(map, inner) ||
        failed(type.getStridesAndOffset(strides, offset)) ||
        strides.back() != 1)
      return std::nullopt;
  }
  for (OpOperand *input : op.getDpsInputOperands())
    for (OpOperand &init : op.getDpsInitsMutable())
      if (input->get() == init.get())
        return std::nullopt;
  Block *body = op.getBlock();
  for (Operation &nested : body->without_terminator())
    if (!isa<linalg::IndexOp>(nested) &&
        (nested.getNumRegions() != 0 ||
         !OpTrait::hasElementwiseMappableTraits(&nested) ||
         !llvm::all_of(nested.getResultTypes(),
                       [](Type t) { return t.isIntOrFloat(); })))
      return std::nullopt;
  // Values computed from an output's block argument.
  DenseSet<Value> fromOutputs;
  for (OpOperand &init : op.getDpsInitsMutable())
    fromOutputs.insert(op.getMatchingBlockArgument(&init));
  for (Operation &nested : body->without_terminator())
    if (llvm::any_of(nested.getOperands(),
                     [&](Value v) { return fromOutputs.contains(v); }))
      fromOutputs.insert(nested.result_begin(), nested.result_end());
  auto yield = cast<linalg::YieldOp>(body->getTerminator());
  SmallVector<Operation *> combiners;
  for (OpOperand &init : op.getDpsInitsMutable()) {
    BlockArgument arg = op.getMatchingBlockArgument(&init);
    Value yielded = yield.getValues()[init.getOperandNumber() -
                                      op.getNumDpsInputs()];
    Operation *combiner = yielded.getDefiningOp();
    if (!combiner || combiner->getBlock() != body || !arg.hasOneUse() ||
        combiner->getNumOperands() != 2 || !combiner->hasOneUse() ||
        !linalg::getCombinerOpKind(combiner))
      return std::nullopt;
    Value a = combiner->getOperand(0), b = combiner->getOperand(1);
    Value other = a == arg ? b : b == arg ? a : Value();
    if (!other || fromOutputs.contains(other))
      return std::nullopt;
    combiners.push_back(combiner);
  }
  return combiners;
}

/// Accumulators per output along the innermost loop of a reduction.
static constexpr int64_t kReductionChains = 4;

/// Lowers an op `innermostReductionCombiners` accepts: scalar loops over
/// the outer dimensions; along the innermost one, the value each output
/// combines is computed `width` lanes at a time and combined into one of
/// `kReductionChains` vector accumulators in turn (the first vectors start
/// them), which are combined pairwise and reduced across their lanes once
/// per output element; the `width / 2`, ... lanes left over are reduced
/// and combined after it, then the output's old value. Lane `l` of
/// accumulator `c` gathers the vectors `c (mod chains)`'s lane `l`: an
/// order fixed by the shapes alone, the same at any thread count. Before, each
/// `width` iterations were reduced across lanes into the output in memory,
/// a chain of dependent horizontal reductions: a max over a GPT's logits
/// rows (256 x 512) took about 0.35 ms, a pass over 0.5 MiB.
static void vectorizeInnermostReduction(IRRewriter &rewriter,
                                        linalg::LinalgOp op,
                                        ArrayRef<Operation *> combiners,
                                        int64_t width) {
  Location loc = op.getLoc();
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  unsigned inner = ranges.size() - 1;
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(op);
  auto constant = [&](int64_t value) -> Value {
    return arith::ConstantIndexOp::create(rewriter, loc, value);
  };
  SmallVector<Value> ivs;
  for (unsigned d = 0; d < inner; ++d) {
    auto loop = scf::ForOp::create(rewriter, loc, constant(0),
                                   constant(ranges[d]), constant(1));
    rewriter.setInsertionPointToStart(loop.getBody());
    ivs.push_back(loop.getInductionVar());
  }
  auto indicesOf = [&](AffineMap map, Value index) {
    SmallVector<Value> point(ivs);
    point.push_back(index ? index : constant(0));
    SmallVector<Value> indices;
    for (AffineExpr e : map.getResults())
      indices.push_back(affine::AffineApplyOp::create(
          rewriter, loc, AffineMap::get(map.getNumDims(), 0, e), point));
    return indices;
  };
  auto withType = [&](Operation *scalarOp, ValueRange operands, Type type) {
    OperationState state(scalarOp->getLoc(), scalarOp->getName(), operands,
                         SmallVector<Type>(scalarOp->getNumResults(), type),
                         scalarOp->getAttrs());
    return rewriter.create(state)->getResults();
  };
  // The value each output combines, on `lanes` iterations from `index`.
  auto combinedValues = [&](Value index, int64_t lanes) {
    auto vectorOf = [&](Type scalar) -> Type {
      return VectorType::get({lanes}, scalar);
    };
    IRMapping mapping;
    for (OpOperand *input : op.getDpsInputOperands()) {
      BlockArgument arg = op.getMatchingBlockArgument(input);
      if (arg.use_empty())
        continue;
      AffineMap map = op.getMatchingIndexingMap(input);
      SmallVector<Value> indices = indicesOf(map, index);
      Value value;
      if (map.isFunctionOfDim(inner)) {
        value = vector::LoadOp::create(rewriter, loc, vectorOf(arg.getType()),
                                       input->get(), indices);
      } else {
        Value scalar = memref::LoadOp::create(rewriter, loc, input->get(), indices);
        value = vector::BroadcastOp::create(rewriter, loc,
                                            vectorOf(arg.getType()), scalar);
      }
      mapping.map(arg, value);
    }
    auto lookup = [&](Value v) -> Value {
      if (Value mapped = mapping.lookupOrNull(v))
        return mapped;
      Value splat = vector::BroadcastOp::create(rewriter, loc,
                                                vectorOf(v.getType()), v);
      mapping.map(v, splat);
      return splat;
    };
    for (Operation &nested : op.getBlock()->without_terminator()) {
      if (llvm::is_contained(combiners, &nested))
        continue;
      // linalg.index: the outer loops' counters, or the lanes' positions
      // along the innermost loop (a causal mask's column).
      if (auto indexOp = dyn_cast<linalg::IndexOp>(nested)) {
        unsigned dim = indexOp.getDim();
        Type type = vectorOf(rewriter.getIndexType());
        Value position = vector::BroadcastOp::create(
            rewriter, loc, type, dim == inner ? index : ivs[dim]);
        if (dim == inner)
          position = arith::AddIOp::create(
              rewriter, loc, position,
              vector::StepOp::create(rewriter, loc, type));
        mapping.map(indexOp.getResult(), position);
        continue;
      }
      SmallVector<Value> operands = llvm::map_to_vector(nested.getOperands(), lookup);
      mapping.map(nested.getResults(),
                  withType(&nested, operands,
                           vectorOf(nested.getResultTypes().front())));
    }
    SmallVector<Value> values;
    for (auto [combiner, init] : llvm::zip(combiners, op.getDpsInitsMutable())) {
      BlockArgument arg = op.getMatchingBlockArgument(&init);
      Value other = combiner->getOperand(0) == arg ? combiner->getOperand(1)
                                                   : combiner->getOperand(0);
      values.push_back(lookup(other));
    }
    return values;
  };
  // `combiner` on (accumulated, next), in the combiner's operand order.
  auto combine = [&](Operation *combiner, OpOperand &init, Value accumulated,
                     Value next) {
    bool accumulatorFirst =
        combiner->getOperand(0) == op.getMatchingBlockArgument(&init);
    SmallVector<Value> operands = accumulatorFirst
                                      ? SmallVector<Value>{accumulated, next}
                                      : SmallVector<Value>{next, accumulated};
    return withType(combiner, operands, accumulated.getType()).front();
  };
  // One vector's lanes combined into a scalar, in a tree. Sums and
  // products go through vector.reduction with reassociation (which LLVM
  // lowers to a tree of shuffles); a min or max is halved explicitly:
  // LLVM lowers its reduction to a chain of scalar steps, each with the
  // NaN checks of maxnum (a row max over a GPT's attention scores spent
  // most of its time in that chain). Max and min are associative, NaN
  // rules included, so the tree gives the chain's value.
  auto reduceLanes = [&](Operation *combiner, OpOperand &init,
                         Value vector) -> Value {
    vector::CombiningKind kind = *linalg::getCombinerOpKind(combiner);
    int64_t lanes = cast<VectorType>(vector.getType()).getNumElements();
    bool minMax = llvm::is_contained(
        {vector::CombiningKind::MAXNUMF, vector::CombiningKind::MINNUMF,
         vector::CombiningKind::MAXIMUMF, vector::CombiningKind::MINIMUMF},
        kind);
    if (minMax && llvm::isPowerOf2_64(lanes)) {
      for (; lanes > 1; lanes /= 2) {
        int64_t half = lanes / 2;
        auto slice = [&](int64_t offset) -> Value {
          return vector::ExtractStridedSliceOp::create(
              rewriter, loc, vector, ArrayRef<int64_t>{offset},
              ArrayRef<int64_t>{half}, ArrayRef<int64_t>{1});
        };
        // Two statements: the order of arguments' evaluation would decide
        // the order of the two slices in the IR.
        Value low = slice(0);
        Value high = slice(half);
        vector = combine(combiner, init, low, high);
      }
      return vector::ExtractOp::create(rewriter, loc, vector,
                                       ArrayRef<int64_t>{0});
    }
    auto reduction = vector::ReductionOp::create(rewriter, loc, kind, vector);
    if (isa<FloatType>(reduction.getType()))
      reduction.setFastmathAttr(arith::FastMathFlagsAttr::get(
          rewriter.getContext(), arith::FastMathFlags::reassoc));
    return reduction;
  };

  // Along the innermost loop, `chains` accumulators per output take the
  // vectors in turn (vector v goes to accumulator v mod chains), so that
  // consecutive combines do not wait on each other (an add has 4 cycles
  // of latency and a load port does 1-2 vectors a cycle; a maxnum is
  // three dependent instructions); they are combined pairwise after the
  // loop. The order is fixed by the shapes alone.
  int64_t count = ranges[inner] / width;
  int64_t chains = std::min<int64_t>(kReductionChains, count);
  int64_t outputs = op.getNumDpsInits();
  auto offset = [&](Value index, int64_t add) -> Value {
    return add ? arith::AddIOp::create(rewriter, loc, index, constant(add))
                     .getResult()
               : index;
  };
  // accumulators[c * outputs + i]: chain c of output i.
  SmallVector<Value> accumulators;
  for (int64_t c = 0; c < chains; ++c)
    llvm::append_range(accumulators,
                       combinedValues(constant(c * width), width));
  int64_t rounds = count / chains;
  auto combineInto = [&](MutableArrayRef<Value> into, ValueRange from,
                         ValueRange next) {
    for (auto [i, init] : llvm::enumerate(op.getDpsInitsMutable()))
      into[i] = combine(combiners[i], init, from[i], next[i]);
  };
  if (rounds > 1) {
    auto loop = scf::ForOp::create(
        rewriter, loc, constant(chains * width),
        constant(rounds * chains * width), constant(chains * width),
        accumulators);
    OpBuilder::InsertionGuard body(rewriter);
    rewriter.setInsertionPointToStart(loop.getBody());
    SmallVector<Value> updated(accumulators.size());
    for (int64_t c = 0; c < chains; ++c)
      combineInto(
          MutableArrayRef<Value>(updated).slice(c * outputs, outputs),
          loop.getRegionIterArgs().slice(c * outputs, outputs),
          combinedValues(offset(loop.getInductionVar(), c * width), width));
    scf::YieldOp::create(rewriter, loc, updated);
    accumulators.assign(loop.getResults().begin(), loop.getResults().end());
  }
  // The vectors left after the last whole round, one per chain.
  for (int64_t c = 0; c < count - rounds * chains; ++c) {
    MutableArrayRef<Value> chain =
        MutableArrayRef<Value>(accumulators).slice(c * outputs, outputs);
    combineInto(chain, SmallVector<Value>(chain),
                combinedValues(constant((rounds * chains + c) * width), width));
  }
  for (int64_t step = 1; step < chains; step *= 2)
    for (int64_t c = 0; c + step < chains; c += 2 * step) {
      MutableArrayRef<Value> into =
          MutableArrayRef<Value>(accumulators).slice(c * outputs, outputs);
      combineInto(into, SmallVector<Value>(into),
                  SmallVector<Value>(ArrayRef<Value>(accumulators)
                                         .slice((c + step) * outputs, outputs)));
    }
  accumulators.resize(outputs);
  SmallVector<Value> reduced;
  for (auto [i, init] : llvm::enumerate(op.getDpsInitsMutable()))
    reduced.push_back(reduceLanes(combiners[i], init, accumulators[i]));
  int64_t start = count * width;
  for (int64_t lanes = width / 2; lanes >= 1 && start < ranges[inner];
       lanes /= 2) {
    if (ranges[inner] - start < lanes)
      continue;
    SmallVector<Value> rest = combinedValues(constant(start), lanes);
    for (auto [i, init] : llvm::enumerate(op.getDpsInitsMutable()))
      reduced[i] = combine(combiners[i], init, reduced[i],
                           reduceLanes(combiners[i], init, rest[i]));
    start += lanes;
  }
  for (auto [i, init] : llvm::enumerate(op.getDpsInitsMutable())) {
    SmallVector<Value> indices =
        indicesOf(op.getMatchingIndexingMap(&init), Value());
    Value old = memref::LoadOp::create(rewriter, loc, init.get(), indices);
    memref::StoreOp::create(rewriter, loc,
                            combine(combiners[i], init, old, reduced[i]),
                            init.get(), indices);
  }
  rewriter.eraseOp(op);
}

namespace {

struct TapeVectorizePass
    : public mlir::tape::cpu::impl::VectorizeBase<TapeVectorizePass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<linalg::LinalgOp> ops;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (op.hasPureBufferSemantics() && !op.hasDynamicShape() &&
          op.getNumLoops() > 0)
        ops.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::LinalgOp op : ops)
      (void)tileAndVectorize(rewriter, spreadOverThreads(rewriter, op));
  }

  /// For a large op whose loops are all parallel: the op on one block of
  /// its outermost dimension, inside an scf.forall over the `threads`
  /// blocks (upstream scf-forall-to-parallel and convert-scf-to-openmp make
  /// it a worksharing loop). Otherwise `op` itself.
  linalg::LinalgOp spreadOverThreads(IRRewriter &rewriter,
                                     linalg::LinalgOp op) {
    // An op that runs along its innermost loop may reduce over others; its
    // outermost loop, when parallel, still splits it into blocks that write
    // disjoint elements.
    bool parallel = op.getNumParallelLoops() == op.getNumLoops() ||
                    ((runsAlongInnermostLoop(op) || windowedVectorLoop(op) ||
                      innermostReductionCombiners(op, vectorWidth)) &&
                     op.getIteratorTypesArray().front() ==
                         utils::IteratorType::parallel);
    if (threads < 2 || !parallel || isInsideParallelLoop(op))
      return op;
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    int64_t elements = 1;
    for (int64_t r : ranges)
      elements *= r;
    int64_t block = largestDivisor(ranges[0], (ranges[0] + threads - 1) /
                                                  threads);
    if (elements < minParallelElements || block == ranges[0])
      return op;
    SmallVector<OpFoldResult> sizes(ranges.size(), rewriter.getIndexAttr(0));
    sizes[0] = rewriter.getIndexAttr(block);
    scf::SCFTilingOptions options;
    options.setTileSizes(sizes);
    options.setLoopType(scf::SCFTilingOptions::LoopType::ForallOp);
    rewriter.setInsertionPoint(op);
    FailureOr<scf::SCFTilingResult> tiled = scf::tileUsingSCF(
        rewriter, cast<TilingInterface>(op.getOperation()), options);
    if (failed(tiled) || tiled->tiledOps.size() != 1)
      return op;
    rewriter.eraseOp(op); // buffers: the tiles write in place
    return cast<linalg::LinalgOp>(tiled->tiledOps.front());
  }

  LogicalResult tileAndVectorize(IRRewriter &rewriter, linalg::LinalgOp op) {
    if (hasBooleanBuffer(op))
      return failure();
    // A window pair gives longer vectors than an innermost loop shorter
    // than a vector (the window's own width: 2 lanes of a 2x2 pool).
    std::optional<WindowPair> pair = windowPairLoops(op);
    bool innermost = runsAlongInnermostLoop(op);
    if (pair && (!innermost || op.getStaticLoopRanges().back() < vectorWidth)) {
      vectorizeAlongLoop(rewriter, op, /*inner=*/0, vectorWidth, pair);
      return success();
    }
    if (innermost) {
      vectorizeAlongLoop(rewriter, op, op.getNumLoops() - 1, vectorWidth);
      return success();
    }
    if (std::optional<unsigned> loop = windowedVectorLoop(op)) {
      vectorizeAlongLoop(rewriter, op, *loop, vectorWidth);
      return success();
    }
    if (std::optional<SmallVector<Operation *>> combiners =
            innermostReductionCombiners(op, vectorWidth)) {
      vectorizeInnermostReduction(rewriter, op, *combiners, vectorWidth);
      return success();
    }
    if (!reducesVaryingValues(op))
      return failure();
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    SmallVector<int64_t> tiles(ranges.size(), 1);
    if (linalg::isaContractionOpInterface(op) &&
        op.getNumReductionLoops() == 1 && op.getNumParallelLoops() >= 2) {
      // (batch..., m, n, k): an m x n register block per k.
      auto dims = linalg::inferContractionDims(op);
      if (failed(dims) || dims->m.size() != 1 || dims->n.size() != 1 ||
          dims->k.size() != 1)
        return failure();
      unsigned m = dims->m[0], n = dims->n[0];
      tiles[m] = largestDivisor(ranges[m], contractionM);
      tiles[n] = largestDivisor(ranges[n], contractionN);
    } else {
      unsigned last = ranges.size() - 1;
      tiles[last] = largestDivisor(ranges[last], vectorWidth);
    }
    // A tile equal to the whole op needs no loop.
    bool whole = llvm::equal(tiles, ranges);
    bool contraction = linalg::isaContractionOpInterface(op);
    scf::ForOp reductionLoop;
    Operation *target = op;
    if (!whole) {
      scf::SCFTilingOptions options;
      SmallVector<OpFoldResult> sizes;
      for (int64_t t : tiles)
        sizes.push_back(rewriter.getIndexAttr(t));
      options.setTileSizes(sizes);
      rewriter.setInsertionPoint(op);
      FailureOr<scf::SCFTilingResult> tiled = scf::tileUsingSCF(
          rewriter, cast<TilingInterface>(op.getOperation()), options);
      if (failed(tiled) || tiled->tiledOps.size() != 1)
        return failure();
      rewriter.eraseOp(op); // buffers: the tiles write in place
      target = tiled->tiledOps.front();
      if (contraction && !tiled->loops.empty())
        reductionLoop = dyn_cast<scf::ForOp>(
            tiled->loops.back().getOperation());
    }
    rewriter.setInsertionPoint(target);
    FailureOr<linalg::VectorizationResult> vectorized =
        linalg::vectorize(rewriter, target);
    if (failed(vectorized))
      return failure();
    rewriter.eraseOp(target);
    if (reductionLoop)
      keepAccumulatorInRegisters(rewriter, reductionLoop);
    return success();
  }

  /// In the reduction loop of a tiled contraction, the output tile is read
  /// and written back every iteration. Carry it as a vector instead: read
  /// before the loop, write after it. Safe here because bufferization never
  /// lets a contraction's output alias its inputs (that would be a
  /// read-after-write conflict), so no other access in the loop touches the
  /// tile. (Upstream's hoisting cannot assume that of function arguments.)
  void keepAccumulatorInRegisters(IRRewriter &rewriter, scf::ForOp loop) {
    // The output tile's subview does not depend on k.
    moveLoopInvariantCode(cast<LoopLikeOpInterface>(loop.getOperation()));
    vector::TransferReadOp read;
    vector::TransferWriteOp write;
    for (Operation &op : loop.getBody()->without_terminator()) {
      if (auto w = dyn_cast<vector::TransferWriteOp>(op)) {
        if (write)
          return; // more than one write: not our pattern
        write = w;
      }
    }
    if (!write || !loop.isDefinedOutsideOfLoop(write.getBase()))
      return;
    for (Operation &op : loop.getBody()->without_terminator())
      if (auto r = dyn_cast<vector::TransferReadOp>(op))
        if (r.getBase() == write.getBase() &&
            r.getIndices().size() == write.getIndices().size() &&
            llvm::all_of(llvm::zip(r.getIndices(), write.getIndices()),
                         [](auto p) {
                           return isEqualConstantIntOrValue(std::get<0>(p),
                                                            std::get<1>(p));
                         }) &&
            r.getVectorType() == write.getVectorType() &&
            r.getPermutationMap() == write.getPermutationMap())
          read = r;
    if (!read || !llvm::all_of(read.getIndices(), [&](Value v) {
          return loop.isDefinedOutsideOfLoop(v);
        }) || !loop.isDefinedOutsideOfLoop(read.getPadding()))
      return;
    rewriter.moveOpBefore(read, loop);
    auto newLoop = cast<scf::ForOp>(
        *loop.replaceWithAdditionalYields(
            rewriter, ValueRange{read.getResult()},
            /*replaceInitOperandUsesInLoop=*/true,
            [&](OpBuilder &, Location, ArrayRef<BlockArgument>) {
              return SmallVector<Value>{write.getVector()};
            }));
    // Multiply-accumulate may become one FMA (contraction only: no other
    // reassociation, so results stay deterministic).
    auto contract = arith::FastMathFlagsAttr::get(
        rewriter.getContext(), arith::FastMathFlags::contract);
    newLoop.getBody()->walk([&](Operation *op) {
      if (isa<arith::MulFOp, arith::AddFOp>(op))
        op->setAttr("fastmath", contract);
    });
    Value carried = newLoop.getResults().back();
    rewriter.setInsertionPointAfter(newLoop);
    vector::TransferWriteOp::create(rewriter, write.getLoc(), carried,
                                    write.getBase(), write.getIndices(),
                                    write.getPermutationMapAttr(),
                                    write.getInBoundsAttr());
    rewriter.eraseOp(write);
  }
};

struct TapeHoistVectorTransfersPass
    : public mlir::tape::cpu::impl::HoistVectorTransfersBase<
          TapeHoistVectorTransfersPass> {
  void runOnOperation() override {
    linalg::hoistRedundantVectorTransfers(getOperation(),
                                          /*verifyNonZeroTrip=*/true);
  }
};

} // namespace
