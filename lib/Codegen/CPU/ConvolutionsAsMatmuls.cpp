//===- ConvolutionsAsMatmuls.cpp - im2col into the matmul kernels ---------===//
//
// A convolution is a contraction in which one operand, the image, is
// indexed by sums of loop dimensions (x[n, c, oh + kh, ow + kw]). Copying
// the image into a tensor indexed by those loop dimensions themselves
// (im2col: col[c, kh, kw, n, oh, ow] = x[n, c, oh + kh, ow + kw]) leaves a
// plain contraction, which transposes and reshapes make one 2-D matmul for
// the packed kernels. When the image is the result (the adjoint of a
// convolution with respect to its input), the matmul computes the columns
// and a scatter-add puts them back (col2im). The rewrite works on the
// indexing maps, not on op names, so it applies to named convolutions of
// any layout, stride and dilation and to the generics AD builds for their
// adjoints.
//
//===----------------------------------------------------------------------===//

#include "tape/Codegen/CPU/Passes.h"

#include "MultiplyAccumulate.h"
#include "UnitStride.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/IndexingUtils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"

#include "llvm/ADT/SmallBitVector.h"

namespace mlir::tape::cpu {
#define GEN_PASS_DEF_CONVOLUTIONSASMATMULS
#include "tape/Codegen/CPU/Passes.h.inc"
} // namespace mlir::tape::cpu

using namespace mlir;
using mlir::tape::dimsOf;
using mlir::tape::isMultiplyAccumulate;
using mlir::tape::isUnitStrideInnermost;

namespace {

/// An operand of the contraction as the matmul sees it: the loop dims
/// it is indexed by (for the image, the dims its map uses) and the order
/// the matmul wants them in.
struct Side {
  Value value;
  AffineMap map;
  bool isImage = false;
  SmallVector<unsigned> dims;   // as indexed now (image: dims of its map)
  SmallVector<unsigned> first;  // the matmul's row group of this operand
  SmallVector<unsigned> second; // and column group
  bool swapped = false;         // laid out [second, first]
  bool transposed = false;      // needs a copy into its layout
};

class ConvolutionRewrite {
public:
  ConvolutionRewrite(linalg::LinalgOp op, int64_t maxColumnElements)
      : op(op), maxColumnElements(maxColumnElements) {}

  /// Plans the rewrite with the inputs in either order as the matmul's A
  /// and B, and keeps the plan that copies fewer elements.
  LogicalResult plan() {
    if (op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 ||
        !op.hasPureTensorSemantics() || op.hasDynamicShape() ||
        !isMultiplyAccumulate(op))
      return failure();
    if (!isa<FloatType>(getElementTypeOrSelf(op->getResult(0).getType())))
      return failure();
    ranges = op.getStaticLoopRanges();
    elementType = getElementTypeOrSelf(op->getResult(0).getType());
    SmallVector<AffineMap> maps = op.getIndexingMapsArray();
    int images = 0;
    for (AffineMap map : maps)
      images += !map.isProjectedPermutation(/*allowZeroInResults=*/false);
    if (images != 1)
      return failure();
    std::optional<int64_t> best;
    for (bool swap : {false, true}) {
      std::optional<int64_t> cost = planWith(swap);
      if (cost && (!best || *cost < *best)) {
        best = cost;
        chosen = {a, b, c};
      }
    }
    if (!best)
      return failure();
    std::tie(a, b, c) = chosen;
    return success();
  }

  void rewrite(RewriterBase &rewriter) {
    Location loc = op.getLoc();
    rewriter.setInsertionPoint(op);
    Value lhs = materializeInput(rewriter, loc, a);
    Value rhs = materializeInput(rewriter, loc, b);
    Type element = getElementTypeOrSelf(op->getResult(0).getType());
    int64_t rows = elements(c.first), columns = elements(c.second);
    auto resultType = RankedTensorType::get({rows, columns}, element);
    Value init;
    if (c.isImage) {
      Value empty = tensor::EmptyOp::create(rewriter, loc, resultType.getShape(), element);
      Value zero = arith::ConstantOp::create(rewriter, loc, rewriter.getFloatAttr(element, 0.0));
      init = linalg::FillOp::create(rewriter, loc, zero, empty).getResult(0);
    } else {
      init = collapse(rewriter, loc, arrange(rewriter, loc, c), c.first.size());
    }

    // The matmul: (m, n, k) loops, A as [m, k] or [k, m], B as [k, n] or
    // [n, k]; tape-cpu-specialize-contractions names it.
    MLIRContext *ctx = rewriter.getContext();
    AffineExpr m = getAffineDimExpr(0, ctx), n = getAffineDimExpr(1, ctx),
               k = getAffineDimExpr(2, ctx);
    auto map2 = [&](AffineExpr x, AffineExpr y) {
      return AffineMap::get(3, 0, {x, y}, ctx);
    };
    SmallVector<AffineMap> maps = {a.swapped ? map2(k, m) : map2(m, k),
                                   b.swapped ? map2(n, k) : map2(k, n),
                                   map2(m, n)};
    SmallVector<utils::IteratorType> iterators = {
        utils::IteratorType::parallel, utils::IteratorType::parallel,
        utils::IteratorType::reduction};
    Value product =
        linalg::GenericOp::create(
            rewriter, loc, TypeRange{resultType}, ValueRange{lhs, rhs},
            ValueRange{init}, maps, iterators,
            mlir::tape::buildMultiplyAccumulate)
            .getResult(0);

    Value result = c.isImage ? scatterColumns(rewriter, loc, product)
                             : restoreLayout(rewriter, loc, product);
    rewriter.replaceOp(op, result);
  }

private:
  /// The plan with A = input 0 (or 1 when `swap`), B the other, C the
  /// result: classifies loops as rows (A and C), columns (B and C) or
  /// depth (A and B), orders each group and counts the elements copied
  /// by transposes. None when a loop is in all three or only one.
  std::optional<int64_t> planWith(bool swap) {
    auto sideOf = [&](OpOperand *operand) {
      Side side;
      side.value = operand->get();
      side.map = op.getMatchingIndexingMap(operand);
      side.isImage = !side.map.isProjectedPermutation(false);
      side.dims = dimsOf(side.map);
      return side;
    };
    a = sideOf(op.getDpsInputOperand(swap ? 1 : 0));
    b = sideOf(op.getDpsInputOperand(swap ? 0 : 1));
    c = sideOf(op.getDpsInitOperand(0));
    SmallVector<unsigned> rowsDims, columnDims, depthDims;
    for (unsigned d = 0; d < ranges.size(); ++d) {
      bool inA = llvm::is_contained(a.dims, d), inB = llvm::is_contained(b.dims, d),
           inC = llvm::is_contained(c.dims, d);
      if (inA && inC && !inB)
        rowsDims.push_back(d);
      else if (inB && inC && !inA)
        columnDims.push_back(d);
      else if (inA && inB && !inC)
        depthDims.push_back(d);
      else
        return std::nullopt; // a batch dimension, or a loop only one reads
    }
    if (rowsDims.empty() || columnDims.empty() || depthDims.empty())
      return std::nullopt;
    // Each group in the order of an operand that is not the image.
    auto orderFrom = [](ArrayRef<unsigned> group, const Side &x, const Side &y) {
      const Side &from = x.isImage ? y : x;
      SmallVector<unsigned> ordered;
      for (unsigned d : from.dims)
        if (llvm::is_contained(group, d))
          ordered.push_back(d);
      return ordered;
    };
    SmallVector<unsigned> rows = orderFrom(rowsDims, c, a);
    SmallVector<unsigned> columns = orderFrom(columnDims, c, b);
    SmallVector<unsigned> depth = orderFrom(depthDims, a, b);
    a.first = rows, a.second = depth;
    b.first = depth, b.second = columns;
    c.first = rows, c.second = columns;
    // The cost: elements copied, twice for a copy whose innermost loop
    // strides through its source (or destination) instead of running along
    // it, which vectorizes poorly.
    int64_t copied = 0;
    for (Side *side : {&a, &b, &c}) {
      if (side->isImage) {
        if (columnElements(*side) > maxColumnElements)
          return std::nullopt;
        // The columns are ours to lay out: an input image may be read by
        // the matmul either way round, so take the order whose innermost
        // loop runs longest along the image.
        int64_t run = contiguousRun(*side);
        if (side != &c) {
          side->swapped = true;
          int64_t swappedRun = contiguousRun(*side);
          side->swapped = swappedRun > run;
          run = std::max(run, swappedRun);
        }
        copied += columnElements(*side) * (run >= kShortestRun ? 1 : 2);
        continue;
      }
      auto concat = [](ArrayRef<unsigned> x, ArrayRef<unsigned> y) {
        SmallVector<unsigned> all(x);
        all.append(y.begin(), y.end());
        return all;
      };
      if (side->dims == concat(side->first, side->second))
        continue;
      if (side != &c && side->dims == concat(side->second, side->first)) {
        side->swapped = true;
        continue;
      }
      side->transposed = true;
      // An input is copied into whichever orientation keeps its innermost
      // loop innermost ([co, n, oh, ow] from [n, co, oh, ow]: runs of rows).
      if (side != &c && layout(*side).back() != side->dims.back()) {
        side->swapped = true;
        if (layout(*side).back() != side->dims.back())
          side->swapped = false;
      }
      int64_t strided = layout(*side).back() == side->dims.back() ? 1 : 2;
      copied += elements(side->dims) * (side == &c ? 2 : 1) * strided;
    }
    // B laid out [columns, depth] is transposed once more by the packed
    // kernels (tape-cpu-pack-matmuls transposes no A: it reads one stored
    // [m, k] in place and copies one stored [k, m] into panels as it is;
    // but it transposes B while packing it): a filter gradient whose columns
    // are B ([oh, ow] deep, [c, kh, kw] wide) pays that on all its
    // columns, and with A and B the other way round only on the output
    // gradient (the CNN's second convolution: 64 x 576 instead of
    // 288 x 576 per image), at the price of C transposed.
    if (b.swapped)
      copied += columnElements(b);
    // A product with few columns fills few vector lanes and is left to
    // register tiles instead of the packed kernels (the filter gradient of
    // a one-channel 3x3 convolution: 9 columns, 43264 deep): when the
    // other order is wide, it wins at the price of transposing C, and of
    // its B, as many elements as this A, packed transposed; so the narrow
    // order counts A twice.
    if (elements(c.second) < kNarrowColumns)
      copied += 2 * elements(a.first) * elements(a.second);
    return copied;
  }

  /// Fewer columns than this make a narrow product.
  static constexpr int64_t kNarrowColumns = 16;

  /// Copies whose innermost loop moves along fewer consecutive elements
  /// than this count as strided.
  static constexpr int64_t kShortestRun = 8;

  /// How many consecutive image elements the innermost loop of the
  /// columns' layout reaches (0 if it strides).
  int64_t contiguousRun(const Side &image) const {
    unsigned innermost = layout(image).back();
    return isUnitStrideInnermost(image.map, innermost) ? ranges[innermost] : 0;
  }

  int64_t elements(ArrayRef<unsigned> dims) const {
    int64_t n = 1;
    for (unsigned d : dims)
      n *= ranges[d];
    return n;
  }
  int64_t columnElements(const Side &side) const {
    return elements(side.first) * elements(side.second);
  }

  /// The loop dims of `side` in the matmul's order.
  SmallVector<unsigned> layout(const Side &side) const {
    SmallVector<unsigned> dims(side.swapped ? side.second : side.first);
    ArrayRef<unsigned> rest = side.swapped ? side.first : side.second;
    dims.append(rest.begin(), rest.end());
    return dims;
  }

  RankedTensorType typeOver(ArrayRef<unsigned> dims) const {
    SmallVector<int64_t> shape;
    for (unsigned d : dims)
      shape.push_back(ranges[d]);
    return RankedTensorType::get(shape, elementType);
  }

  /// A non-image operand in the matmul's layout: itself, or a transpose.
  Value arrange(RewriterBase &rewriter, Location loc, const Side &side) {
    if (!side.transposed)
      return side.value;
    return transpose(rewriter, loc, side.value, side.dims, layout(side));
  }

  /// `value`, indexed by the loop dims `from`, copied into the order `to`.
  Value transpose(RewriterBase &rewriter, Location loc, Value value,
                  ArrayRef<unsigned> from, ArrayRef<unsigned> to) {
    SmallVector<int64_t> permutation;
    for (unsigned d : to)
      permutation.push_back(llvm::find(from, d) - from.begin());
    RankedTensorType type = typeOver(to);
    Value empty = tensor::EmptyOp::create(rewriter, loc, type.getShape(),
                                          type.getElementType());
    return linalg::TransposeOp::create(rewriter, loc, value, empty,
                                       permutation)
        .getResult()[0];
  }

  /// The matmul's 2-D [rows, columns] expanded to the result's loop dims
  /// in the matmul's order (`layout(c)`).
  Value expandProduct(RewriterBase &rewriter, Location loc, Value product) {
    SmallVector<unsigned> target = layout(c);
    SmallVector<ReassociationIndices> groups(2);
    for (unsigned i = 0; i < target.size(); ++i)
      groups[i < c.first.size() ? 0 : 1].push_back(i);
    return tensor::ExpandShapeOp::create(rewriter, loc, typeOver(target),
                                         product, groups);
  }

  /// `value`, laid out as [group, rest], as a 2-D tensor.
  Value collapse(RewriterBase &rewriter, Location loc, Value value,
                 unsigned leading) {
    auto type = cast<RankedTensorType>(value.getType());
    SmallVector<ReassociationIndices> groups(2);
    for (int64_t i = 0; i < type.getRank(); ++i)
      groups[i < leading ? 0 : 1].push_back(i);
    return tensor::CollapseShapeOp::create(rewriter, loc, value, groups);
  }

  /// Replaces the loop dims in `map` by their positions in `dims`.
  AffineMap overPositions(AffineMap map, ArrayRef<unsigned> dims) const {
    MLIRContext *ctx = map.getContext();
    SmallVector<AffineExpr> rename(ranges.size(), getAffineConstantExpr(0, ctx));
    for (auto [i, d] : llvm::enumerate(dims))
      rename[d] = getAffineDimExpr(i, ctx);
    return map.replaceDimsAndSymbols(rename, {}, dims.size(), 0);
  }

  /// An input of the matmul, 2-D: the image gathered into columns, or the
  /// operand (transposed if its groups are not contiguous).
  Value materializeInput(RewriterBase &rewriter, Location loc, const Side &side) {
    SmallVector<unsigned> target = layout(side);
    unsigned leading = side.swapped ? side.second.size() : side.first.size();
    if (!side.isImage)
      return collapse(rewriter, loc, arrange(rewriter, loc, side), leading);
    // im2col: columns[target dims] = image[map(target dims)].
    RankedTensorType type = typeOver(target);
    Value empty = tensor::EmptyOp::create(rewriter, loc, type.getShape(),
                                          type.getElementType());
    SmallVector<AffineMap> maps = {overPositions(side.map, target),
                                   rewriter.getMultiDimIdentityMap(target.size())};
    SmallVector<utils::IteratorType> iterators(target.size(),
                                               utils::IteratorType::parallel);
    Value columns =
        linalg::GenericOp::create(
            rewriter, loc, TypeRange{type}, ValueRange{side.value},
            ValueRange{empty}, maps, iterators,
            [](OpBuilder &b, Location l, ValueRange args) {
              linalg::YieldOp::create(b, l, ValueRange{args[0]});
            })
            .getResult(0);
    return collapse(rewriter, loc, columns, leading);
  }

  /// The matmul's [rows, columns] back in the result's layout.
  Value restoreLayout(RewriterBase &rewriter, Location loc, Value product) {
    Value expanded = expandProduct(rewriter, loc, product);
    if (!c.transposed)
      return expanded;
    return transpose(rewriter, loc, expanded, layout(c), c.dims);
  }

  /// col2im: the result's init plus every column added where the image
  /// map sends it. Loops that the map adds to others are reductions (two
  /// of their iterations write one element); the rest are parallel.
  Value scatterColumns(RewriterBase &rewriter, Location loc, Value product) {
    SmallVector<unsigned> target = layout(c);
    Value columns = expandProduct(rewriter, loc, product);
    SmallVector<utils::IteratorType> iterators;
    for (unsigned d : target) {
      bool alone = llvm::any_of(c.map.getResults(), [&](AffineExpr e) {
        auto dim = dyn_cast<AffineDimExpr>(e);
        return dim && dim.getPosition() == d;
      });
      iterators.push_back(alone ? utils::IteratorType::parallel
                                : utils::IteratorType::reduction);
    }
    SmallVector<AffineMap> maps = {rewriter.getMultiDimIdentityMap(target.size()),
                                   overPositions(c.map, target)};
    return linalg::GenericOp::create(
               rewriter, loc, TypeRange{c.value.getType()}, ValueRange{columns},
               ValueRange{c.value}, maps, iterators,
               [](OpBuilder &b, Location l, ValueRange args) {
                 linalg::YieldOp::create(
                     b, l, ValueRange{arith::AddFOp::create(b, l, args[1], args[0])});
               })
        .getResult(0);
  }

  linalg::LinalgOp op;
  int64_t maxColumnElements;
  SmallVector<int64_t> ranges;
  Type elementType;
  Side a, b, c;
  std::tuple<Side, Side, Side> chosen;
};

/// The loop the image leads with (`n` of `x[n, c, oh + kh, ow + kw]`), if
/// every operand that uses it leads with it too and some operand does not
/// use it: one iteration of it is then a convolution of one image, whose
/// operands are contiguous slices.
std::optional<unsigned> leadingImageDim(linalg::LinalgOp op) {
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  std::optional<unsigned> d;
  for (AffineMap map : maps)
    if (!map.isProjectedPermutation(/*allowZeroInResults=*/false) &&
        map.getNumResults() > 0)
      if (auto dim = dyn_cast<AffineDimExpr>(map.getResult(0)))
        d = dim.getPosition();
  if (!d || op.getStaticLoopRanges()[*d] < 2)
    return std::nullopt;
  bool someWithout = false;
  for (AffineMap map : maps) {
    if (!map.isFunctionOfDim(*d)) {
      someWithout = true;
      continue;
    }
    if (map.getResult(0) != getAffineDimExpr(*d, op.getContext()) ||
        map.dropResult(0).isFunctionOfDim(*d))
      return std::nullopt;
  }
  if (!someWithout)
    return std::nullopt;
  return d;
}

/// `map` without loop `d`: the result that leads with it (if any) dropped
/// and the remaining loops renumbered.
AffineMap withoutLoop(AffineMap map, unsigned d) {
  llvm::SmallBitVector dropped(map.getNumDims());
  dropped.set(d);
  return compressDims(map.isFunctionOfDim(d) ? map.dropResult(0) : map, dropped);
}

/// `producer`'s computation, with `maps` and `iterators`, into `into`.
Value cloneInto(OpBuilder &b, linalg::LinalgOp producer,
                ArrayRef<AffineMap> maps,
                ArrayRef<utils::IteratorType> iterators, Value into) {
  Block *body = producer.getBlock();
  return linalg::GenericOp::create(
             b, producer.getLoc(), TypeRange{into.getType()},
             producer.getDpsInputs(), ValueRange{into}, maps, iterators,
             [&](OpBuilder &nb, Location nl, ValueRange args) {
               IRMapping mapping;
               mapping.map(body->getArguments(), args);
               for (Operation &o : body->without_terminator())
                 nb.clone(o, mapping);
               SmallVector<Value> yielded;
               for (Value v : body->getTerminator()->getOperands())
                 yielded.push_back(mapping.lookupOrDefault(v));
               linalg::YieldOp::create(nb, nl, yielded);
             })
      .getResult(0);
}

/// `producer` (all parallel, its result indexed by the identity, its
/// inputs not by the leading loop) computed for one entry of its leading
/// loop, into `into`.
Value oneImageOf(OpBuilder &b, linalg::LinalgOp producer, Value into) {
  SmallVector<AffineMap> maps;
  for (AffineMap map : producer.getIndexingMapsArray())
    maps.push_back(withoutLoop(map, 0));
  SmallVector<utils::IteratorType> iterators(producer.getNumLoops() - 1,
                                             utils::IteratorType::parallel);
  return cloneInto(b, producer, maps, iterators, into);
}

/// The producer of `op`'s init, if it can be computed piece by piece
/// where `op` accumulates into it: an all-parallel op used only by `op`
/// that writes its whole result (indexed by the identity) without reading
/// what was there (the bias broadcast), and whose inputs do not use loop
/// `resultDim` of its result, along which `op` is cut into pieces.
linalg::LinalgOp pieceWiseInitProducer(linalg::LinalgOp op,
                                       unsigned resultDim) {
  auto producer = op.getDpsInits()[0].getDefiningOp<linalg::LinalgOp>();
  if (!producer || !producer->hasOneUse() || producer->getNumResults() != 1 ||
      producer.getNumDpsInits() != 1 || !producer.hasPureTensorSemantics() ||
      producer.getNumParallelLoops() != producer.getNumLoops() ||
      producer.payloadUsesValueFromOperand(&producer.getDpsInitsMutable()[0]))
    return {};
  AffineMap out = producer.getIndexingMapsArray().back();
  if (!out.isIdentity() || out.getNumResults() <= resultDim)
    return {};
  for (OpOperand *input : producer.getDpsInputOperands())
    if (producer.getMatchingIndexingMap(input).isFunctionOfDim(resultDim))
      return {};
  return producer;
}

/// `loop` (one iteration argument) carrying its value in the layout its
/// body uses: when the body only reads the argument through one
/// `linalg.transpose` and yields the inverse transpose of a value nothing
/// else uses (a filter gradient accumulated image by image as the
/// transposed C of its matmuls), the transposes move out of the loop, one
/// before and one after it, instead of two per iteration. Returns the
/// loop's result in the original layout.
Value carryTransposed(RewriterBase &rewriter, scf::ForOp loop) {
  BlockArgument carried = loop.getRegionIterArgs()[0];
  auto yield = cast<scf::YieldOp>(loop.getBody()->getTerminator());
  if (!carried.hasOneUse())
    return loop.getResult(0);
  auto enter = dyn_cast<linalg::TransposeOp>(*carried.getUsers().begin());
  auto leave = yield.getOperand(0).getDefiningOp<linalg::TransposeOp>();
  if (!enter || !leave || enter.getInput() != carried ||
      !leave.getResult()[0].hasOneUse() ||
      invertPermutationVector(enter.getPermutation()) !=
          SmallVector<int64_t>(leave.getPermutation()))
    return loop.getResult(0);
  Location loc = loop.getLoc();
  auto transposeOf = [&](Value value, ArrayRef<int64_t> permutation) {
    auto type = cast<RankedTensorType>(value.getType());
    SmallVector<int64_t> shape;
    for (int64_t p : permutation)
      shape.push_back(type.getDimSize(p));
    Value empty = tensor::EmptyOp::create(rewriter, loc, shape,
                                          type.getElementType());
    return linalg::TransposeOp::create(rewriter, loc, value, empty,
                                       permutation)
        .getResult()[0];
  };
  rewriter.setInsertionPoint(loop);
  Value init = transposeOf(loop.getInitArgs()[0], enter.getPermutation());
  auto arranged = scf::ForOp::create(
      rewriter, loc, loop.getLowerBound(), loop.getUpperBound(),
      loop.getStep(), ValueRange{init});
  Block *body = arranged.getBody(); // empty: the old body moves in
  Value inner = leave.getInput();
  rewriter.replaceAllUsesWith(enter.getResult()[0], carried);
  rewriter.eraseOp(enter);
  rewriter.modifyOpInPlace(yield, [&] { yield->setOperand(0, inner); });
  rewriter.eraseOp(leave);
  rewriter.mergeBlocks(loop.getBody(), body, body->getArguments());
  rewriter.setInsertionPointAfter(arranged);
  Value result = transposeOf(arranged.getResult(0), leave.getPermutation());
  rewriter.eraseOp(loop);
  return result;
}

/// Rewrites `op` as a loop over its leading image dimension `d` of
/// convolutions of one image, each as im2col (or col2im) and one matmul:
/// the columns of one image (a few hundred KiB) stay in cache between the
/// copy that writes them and the packing that reads them, and the product
/// of one image is already in the result's layout. An operand without `d`
/// (the filter) is read whole by every iteration; a result without it (the
/// filter gradient) is accumulated over the iterations. Fails, leaving
/// `op` alone, if one image's convolution is not a matmul.
LogicalResult rewriteImageByImage(RewriterBase &rewriter, linalg::LinalgOp op,
                                  unsigned d, int64_t maxColumnElements) {
  Location loc = op.getLoc();
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  SmallVector<AffineMap> inner;
  SmallVector<bool> sliced;
  for (AffineMap map : maps) {
    sliced.push_back(map.isFunctionOfDim(d));
    inner.push_back(withoutLoop(map, d));
  }
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  iterators.erase(iterators.begin() + d);

  // Entry `i` of the leading dimension of `whole`: the bounds of its
  // slice, which drops that dimension.
  struct Entry {
    SmallVector<OpFoldResult> offsets, sizes, strides;
  };
  auto entry = [](OpBuilder &b, RankedTensorType type, Value i) {
    Entry e{SmallVector<OpFoldResult>(type.getRank(), b.getIndexAttr(0)),
            {b.getIndexAttr(1)},
            SmallVector<OpFoldResult>(type.getRank(), b.getIndexAttr(1))};
    e.offsets[0] = i;
    for (int64_t size : type.getShape().drop_front())
      e.sizes.push_back(b.getIndexAttr(size));
    return e;
  };
  auto sliceOf = [&](OpBuilder &b, Value whole, Value i) -> Value {
    auto type = cast<RankedTensorType>(whole.getType());
    Entry e = entry(b, type, i);
    auto sliceType = RankedTensorType::get(type.getShape().drop_front(),
                                           type.getElementType());
    return tensor::ExtractSliceOp::create(b, loc, sliceType, whole, e.offsets,
                                          e.sizes, e.strides);
  };
  auto insertInto = [&](OpBuilder &b, Value part, Value whole, Value i) -> Value {
    Entry e = entry(b, cast<RankedTensorType>(whole.getType()), i);
    return tensor::InsertSliceOp::create(b, loc, part, whole, e.offsets,
                                         e.sizes, e.strides);
  };

  // An init that is an all-parallel op whose inputs do not use `d` (the
  // bias broadcast) is computed image by image inside the loop, into the
  // slice the matmul then accumulates into: written and read while in
  // cache, not through memory.
  linalg::LinalgOp initProducer =
      sliced[2] ? pieceWiseInitProducer(op, /*resultDim=*/0) : nullptr;

  rewriter.setInsertionPoint(op);
  Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
  Value end = arith::ConstantIndexOp::create(rewriter, loc,
                                             op.getStaticLoopRanges()[d]);
  Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
  linalg::GenericOp image;
  Value start = initProducer ? initProducer.getDpsInits()[0]
                             : op.getDpsInits()[0];
  auto loop = scf::ForOp::create(
      rewriter, loc, zero, end, one, ValueRange{start},
      [&](OpBuilder &b, Location l, Value i, ValueRange carried) {
        SmallVector<Value> inputs;
        for (auto [k, input] : llvm::enumerate(op.getDpsInputs()))
          inputs.push_back(sliced[k] ? sliceOf(b, input, i) : input);
        Value acc = sliced[2] ? sliceOf(b, carried[0], i) : carried[0];
        if (initProducer)
          acc = oneImageOf(b, initProducer, acc);
        image = linalg::GenericOp::create(
            b, l, TypeRange{acc.getType()}, inputs, ValueRange{acc}, inner,
            iterators, mlir::tape::buildMultiplyAccumulate);
        Value result = image.getResult(0);
        if (sliced[2])
          result = insertInto(b, result, carried[0], i);
        scf::YieldOp::create(b, l, ValueRange{result});
      });
  ConvolutionRewrite oneImage(image, maxColumnElements);
  if (failed(oneImage.plan())) {
    rewriter.eraseOp(loop);
    return failure();
  }
  oneImage.rewrite(rewriter);
  Value result = loop.getResult(0);
  if (!sliced[2])
    result = carryTransposed(rewriter, loop);
  rewriter.replaceOp(op, result);
  if (initProducer)
    rewriter.eraseOp(initProducer);
  return success();
}

/// Rewrites `op` image by image where it has an image loop (and
/// `imageByImage`), else as one matmul. Fails, leaving `op` alone, if it
/// is not a convolution the rewrite understands.
LogicalResult rewriteConvolution(RewriterBase &rewriter, linalg::LinalgOp op,
                                 bool imageByImage, int64_t maxColumnElements) {
  ConvolutionRewrite whole(op, maxColumnElements);
  if (failed(whole.plan()))
    return failure();
  if (imageByImage)
    if (std::optional<unsigned> d = leadingImageDim(op))
      if (succeeded(rewriteImageByImage(rewriter, op, *d, maxColumnElements)))
        return success();
  whole.rewrite(rewriter);
  return success();
}

/// The result of `map` that is loop `d` itself, if `d` appears there and
/// nowhere else in `map`.
std::optional<unsigned> plainResultOf(AffineMap map, unsigned d) {
  std::optional<unsigned> found;
  for (auto [i, e] : llvm::enumerate(map.getResults())) {
    if (!e.isFunctionOfDim(d))
      continue;
    if (found || e != getAffineDimExpr(d, map.getContext()))
      return std::nullopt;
    found = i;
  }
  return found;
}

/// The loop along which `op` is cut into one piece per thread: a loop
/// that the result and the image use, that every operand using it indexes
/// plainly (never inside a sum, as the image does its window loops), and
/// whose range the threads divide. The pieces then write disjoint blocks
/// of the result, whatever the iterator types say (AD marks every loop of
/// an input gradient a reduction). The image's leading loop first (one
/// block of images per thread), else the longest (the input channels of
/// a filter gradient, which sums over the images). Each element is
/// then computed by the same operations in the same order as without
/// threads, so the result does not depend on their number.
std::optional<unsigned> threadLoop(linalg::LinalgOp op, int64_t threads) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  AffineMap out = op.getMatchingIndexingMap(&op.getDpsInitsMutable()[0]);
  auto fits = [&](unsigned d) {
    if (!out.isFunctionOfDim(d) || ranges[d] < threads || ranges[d] % threads)
      return false;
    bool inImage = false;
    for (AffineMap map : maps) {
      if (!map.isFunctionOfDim(d))
        continue;
      if (!plainResultOf(map, d))
        return false;
      inImage |= !map.isProjectedPermutation(/*allowZeroInResults=*/false);
    }
    return inImage;
  };
  if (std::optional<unsigned> lead = leadingImageDim(op); lead && fits(*lead))
    return lead;
  std::optional<unsigned> best;
  for (unsigned d = 0; d < ranges.size(); ++d)
    if (fits(d) && (!best || ranges[d] > ranges[*best]))
      best = d;
  return best;
}

/// Rewrites `op` as an `scf.forall` over `threads` pieces along loop `d`,
/// each a convolution of its block of `d` (sliced operands, written into
/// its block of the result) rewritten image by image, or as one matmul.
/// The threads run whole convolutions with no fork and join between
/// their copies and matmuls, and each keeps its columns in its own cache.
/// Fails, leaving `op` alone, if a piece is not a matmul.
LogicalResult rewriteOverThreads(RewriterBase &rewriter, linalg::LinalgOp op,
                                 unsigned d, int64_t threads,
                                 bool imageByImage, int64_t maxColumnElements) {
  Location loc = op.getLoc();
  int64_t block = op.getStaticLoopRanges()[d] / threads;
  AffineMap outMap = op.getMatchingIndexingMap(&op.getDpsInitsMutable()[0]);
  std::optional<unsigned> outDim = plainResultOf(outMap, d);
  if (!outDim)
    return failure();
  linalg::LinalgOp initProducer = pieceWiseInitProducer(op, *outDim);

  // Operand `whole`, indexed by `map`, cut to the piece that starts at
  // `offset` along `d`.
  auto pieceOf = [&](OpBuilder &b, Value whole, AffineMap map, Value offset,
                     SmallVector<OpFoldResult> &offsets,
                     SmallVector<OpFoldResult> &sizes,
                     SmallVector<OpFoldResult> &strides) -> Value {
    auto type = cast<RankedTensorType>(whole.getType());
    std::optional<unsigned> at = plainResultOf(map, d);
    offsets.assign(type.getRank(), b.getIndexAttr(0));
    strides.assign(type.getRank(), b.getIndexAttr(1));
    sizes.clear();
    SmallVector<int64_t> shape(type.getShape());
    for (int64_t size : shape)
      sizes.push_back(b.getIndexAttr(size));
    if (!at)
      return whole;
    offsets[*at] = offset;
    sizes[*at] = b.getIndexAttr(block);
    shape[*at] = block;
    return tensor::ExtractSliceOp::create(
        b, loc, RankedTensorType::get(shape, type.getElementType()), whole,
        offsets, sizes, strides);
  };

  rewriter.setInsertionPoint(op);
  Value start = initProducer ? initProducer.getDpsInits()[0]
                             : op.getDpsInits()[0];
  auto forall = scf::ForallOp::create(
      rewriter, loc, ArrayRef<OpFoldResult>{rewriter.getIndexAttr(threads)},
      ValueRange{start}, std::nullopt);
  Block *body = forall.getBody();
  OpBuilder b = OpBuilder::atBlockBegin(body);
  Value offset = arith::MulIOp::create(
      b, loc, forall.getInductionVars()[0],
      arith::ConstantIndexOp::create(b, loc, block));
  SmallVector<OpFoldResult> offsets, sizes, strides;
  SmallVector<Value> inputs;
  for (OpOperand *input : op.getDpsInputOperands())
    inputs.push_back(pieceOf(b, input->get(), op.getMatchingIndexingMap(input),
                             offset, offsets, sizes, strides));
  Value acc = pieceOf(b, forall.getRegionIterArgs()[0], outMap, offset,
                      offsets, sizes, strides);
  if (initProducer)
    acc = cloneInto(b, initProducer, initProducer.getIndexingMapsArray(),
                    initProducer.getIteratorTypesArray(), acc);
  auto piece = linalg::GenericOp::create(
      b, loc, TypeRange{acc.getType()}, inputs, ValueRange{acc},
      op.getIndexingMapsArray(), op.getIteratorTypesArray(),
      mlir::tape::buildMultiplyAccumulate);
  b.setInsertionPointToStart(forall.getTerminator().getBody());
  tensor::ParallelInsertSliceOp::create(b, loc, piece.getResult(0),
                                        forall.getRegionIterArgs()[0], offsets,
                                        sizes, strides);

  if (failed(rewriteConvolution(rewriter, piece, imageByImage,
                                maxColumnElements))) {
    rewriter.eraseOp(forall);
    return failure();
  }
  rewriter.replaceOp(op, forall.getResults());
  if (initProducer)
    rewriter.eraseOp(initProducer);
  return success();
}

struct ConvolutionsAsMatmulsPass
    : public mlir::tape::cpu::impl::ConvolutionsAsMatmulsBase<
          ConvolutionsAsMatmulsPass> {
  using Base::Base;
  void runOnOperation() override {
    SmallVector<linalg::LinalgOp> ops;
    getOperation().walk([&](linalg::LinalgOp op) { ops.push_back(op); });
    IRRewriter rewriter(&getContext());
    for (linalg::LinalgOp op : ops) {
      if (failed(ConvolutionRewrite(op, maxColumnElements).plan()))
        continue;
      if (threads > 1)
        if (std::optional<unsigned> d = threadLoop(op, threads))
          if (succeeded(rewriteOverThreads(rewriter, op, *d, threads,
                                           imageByImage, maxColumnElements)))
            continue;
      (void)rewriteConvolution(rewriter, op, imageByImage, maxColumnElements);
    }
  }
};

} // namespace
