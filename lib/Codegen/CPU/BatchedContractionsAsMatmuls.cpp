//===- BatchedContractionsAsMatmuls.cpp - A loop of 2-D matmuls -----------===//
//
// Attention's products are contractions with batch loops (batch and head)
// in operands laid out by heads (`q[b, i, h, d]`): register tiles over
// such maps read their operands element by element, and no kernel takes
// them. Each becomes a loop over the batch of one 2-D matmul on slices, the
// operands first copied (where needed) so that every batch entry is a
// contiguous matrix; the matmul is then the packed kernels' (or the
// register tiles') like any other.
//
//===----------------------------------------------------------------------===//

#include "tape/Codegen/CPU/Passes.h"

#include "MultiplyAccumulate.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::tape::cpu {
#define GEN_PASS_DEF_BATCHEDCONTRACTIONSASMATMULS
#include "tape/Codegen/CPU/Passes.h.inc"
} // namespace mlir::tape::cpu

using namespace mlir;
using mlir::tape::dimsOf;
using mlir::tape::isMultiplyAccumulate;

namespace {

class BatchedContraction {
public:
  explicit BatchedContraction(linalg::GenericOp op) : op(op) {}

  /// Classifies the loops: batch (in A, B and C), rows (A and C), columns
  /// (B and C), depth (A and B). Fails for anything else.
  LogicalResult plan() {
    if (op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 ||
        !op.hasPureTensorSemantics() || op.hasDynamicShape() ||
        !isMultiplyAccumulate(op) ||
        !isa<FloatType>(getElementTypeOrSelf(op->getResult(0).getType())))
      return failure();
    SmallVector<AffineMap> maps = op.getIndexingMapsArray();
    if (!llvm::all_of(maps, [](AffineMap m) {
          return m.isProjectedPermutation(/*allowZeroInResults=*/false);
        }))
      return failure();
    ranges = op.getStaticLoopRanges();
    a = dimsOf(maps[0]), b = dimsOf(maps[1]), c = dimsOf(maps[2]);
    for (unsigned d = 0; d < ranges.size(); ++d) {
      bool inA = llvm::is_contained(a, d), inB = llvm::is_contained(b, d),
           inC = llvm::is_contained(c, d);
      if (inA && inB && inC)
        batch.push_back(d);
      else if (inA && inC && !inB)
        rows.push_back(d);
      else if (inB && inC && !inA)
        columns.push_back(d);
      else if (inA && inB && !inC)
        depth.push_back(d);
      else
        return failure();
    }
    if (batch.empty() || rows.empty() || columns.empty() || depth.empty())
      return failure();
    // C stored with a column before its rows (attention's `dP^T`): the
    // inputs trade places, so that the loop computes C in its own layout
    // (B^T A^T) instead of C^T, transposed after it (and its init before).
    // Products commute, so the result is the same to the bit.
    auto firstOfC = llvm::find_if(
        c, [&](unsigned d) { return !llvm::is_contained(batch, d); });
    if (llvm::is_contained(columns, *firstOfC)) {
      std::swap(a, b);
      std::swap(rows, columns);
      inputsSwapped = true;
    }
    // Batch, rows and columns in C's order, depth in A's.
    auto inOrderOf = [](ArrayRef<unsigned> group, ArrayRef<unsigned> dims) {
      SmallVector<unsigned> ordered;
      for (unsigned d : dims)
        if (llvm::is_contained(group, d))
          ordered.push_back(d);
      return ordered;
    };
    batch = inOrderOf(batch, c);
    rows = inOrderOf(rows, c);
    columns = inOrderOf(columns, c);
    depth = inOrderOf(depth, a);
    return success();
  }

  void rewrite(RewriterBase &rewriter) {
    Location loc = op.getLoc();
    rewriter.setInsertionPoint(op);
    // Each input as [batch, first, second], or [batch, second, first]
    // (read transposed by the matmul) when that is how it is stored, or
    // when a copy into that orientation keeps its innermost loop
    // innermost.
    auto orient = [&](ArrayRef<unsigned> dims, ArrayRef<unsigned> first,
                      ArrayRef<unsigned> second, bool &swapped) {
      SmallVector<unsigned> straight = concat(batch, first, second);
      SmallVector<unsigned> turned = concat(batch, second, first);
      swapped = llvm::equal(dims, turned) ||
                (!llvm::equal(dims, straight) &&
                 turned.back() == dims.back() && straight.back() != dims.back());
      return swapped ? turned : straight;
    };
    bool aSwapped, bSwapped;
    SmallVector<unsigned> aLayout = orient(a, rows, depth, aSwapped);
    SmallVector<unsigned> bLayout = orient(b, depth, columns, bSwapped);
    SmallVector<unsigned> cLayout = concat(batch, rows, columns);
    Value lhs = toBatches(rewriter, loc, op.getDpsInputs()[inputsSwapped],
                          a, aLayout, aSwapped ? depth.size() : rows.size());
    Value rhs = toBatches(rewriter, loc, op.getDpsInputs()[!inputsSwapped],
                          b, bLayout, bSwapped ? columns.size() : depth.size());
    Value init = toBatches(rewriter, loc, op.getDpsInits()[0], c, cLayout,
                           rows.size());

    Type element = getElementTypeOrSelf(init.getType());
    auto sliceType = [&](Value batches) {
      auto type = cast<RankedTensorType>(batches.getType());
      return RankedTensorType::get(type.getShape().drop_front(), element);
    };
    // Batch entry `index` of a [batch, x, y] tensor: offsets, sizes and
    // strides of its slice.
    struct Entry {
      SmallVector<OpFoldResult> offsets, sizes, strides;
    };
    auto entry = [](OpBuilder &b, Value batches, Value index) {
      auto type = cast<RankedTensorType>(batches.getType());
      return Entry{{index, b.getIndexAttr(0), b.getIndexAttr(0)},
                   {b.getIndexAttr(1), b.getIndexAttr(type.getDimSize(1)),
                    b.getIndexAttr(type.getDimSize(2))},
                   SmallVector<OpFoldResult>(3, b.getIndexAttr(1))};
    };
    auto slice = [&](OpBuilder &b, Value batches, Value index) -> Value {
      Entry e = entry(b, batches, index);
      return tensor::ExtractSliceOp::create(b, loc, sliceType(batches),
                                            batches, e.offsets, e.sizes,
                                            e.strides);
    };
    MLIRContext *ctx = rewriter.getContext();
    AffineExpr m = getAffineDimExpr(0, ctx), n = getAffineDimExpr(1, ctx),
               k = getAffineDimExpr(2, ctx);
    auto map2 = [&](AffineExpr x, AffineExpr y) {
      return AffineMap::get(3, 0, {x, y}, ctx);
    };
    SmallVector<AffineMap> maps = {aSwapped ? map2(k, m) : map2(m, k),
                                   bSwapped ? map2(n, k) : map2(k, n),
                                   map2(m, n)};
    SmallVector<utils::IteratorType> iterators = {
        utils::IteratorType::parallel, utils::IteratorType::parallel,
        utils::IteratorType::reduction};
    int64_t count = cast<RankedTensorType>(init.getType()).getDimSize(0);
    Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
    Value end = arith::ConstantIndexOp::create(rewriter, loc, count);
    Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
    auto loop = scf::ForOp::create(
        rewriter, loc, zero, end, one, ValueRange{init},
        [&](OpBuilder &b, Location l, Value i, ValueRange carried) {
          Value acc = slice(b, carried[0], i);
          Value product =
              linalg::GenericOp::create(
                  b, l, TypeRange{acc.getType()},
                  ValueRange{slice(b, lhs, i), slice(b, rhs, i)},
                  ValueRange{acc}, maps, iterators,
                  mlir::tape::buildMultiplyAccumulate)
                  .getResult(0);
          Entry e = entry(b, carried[0], i);
          Value updated = tensor::InsertSliceOp::create(
              b, l, product, carried[0], e.offsets, e.sizes, e.strides);
          scf::YieldOp::create(b, l, ValueRange{updated});
        });
    rewriter.replaceOp(op, fromBatches(rewriter, loc, loop.getResult(0), c,
                                       cLayout, rows.size()));
  }

private:
  static SmallVector<unsigned> concat(ArrayRef<unsigned> x,
                                      ArrayRef<unsigned> y,
                                      ArrayRef<unsigned> z) {
    SmallVector<unsigned> all(x);
    all.append(y.begin(), y.end());
    all.append(z.begin(), z.end());
    return all;
  }

  RankedTensorType typeOver(ArrayRef<unsigned> dims, Type element) const {
    SmallVector<int64_t> shape;
    for (unsigned d : dims)
      shape.push_back(ranges[d]);
    return RankedTensorType::get(shape, element);
  }

  /// The positions of `layout` in three groups: the batch, the `leading`
  /// dims after it, and the rest.
  SmallVector<ReassociationIndices> groupsOf(ArrayRef<unsigned> layout,
                                             unsigned leading) const {
    SmallVector<ReassociationIndices> groups(3);
    unsigned batchEnd = batch.size(), leadingEnd = batchEnd + leading;
    for (unsigned i = 0; i < layout.size(); ++i)
      groups[i < batchEnd ? 0 : i < leadingEnd ? 1 : 2].push_back(i);
    return groups;
  }

  /// `value`, indexed by the loop dims `dims`, as a 3-D tensor over the
  /// loop dims `layout` (a transpose when they differ, then a collapse
  /// after the batch and `leading` more dims).
  Value toBatches(RewriterBase &rewriter, Location loc, Value value,
                  ArrayRef<unsigned> dims, ArrayRef<unsigned> layout,
                  unsigned leading) const {
    Type element = getElementTypeOrSelf(value.getType());
    if (!llvm::equal(dims, layout)) {
      SmallVector<int64_t> permutation;
      for (unsigned d : layout)
        permutation.push_back(llvm::find(dims, d) - dims.begin());
      RankedTensorType type = typeOver(layout, element);
      Value empty = tensor::EmptyOp::create(rewriter, loc, type.getShape(), element);
      value = linalg::TransposeOp::create(rewriter, loc, value, empty, permutation)
                  .getResult()[0];
    }
    return tensor::CollapseShapeOp::create(rewriter, loc, value,
                                           groupsOf(layout, leading));
  }

  /// The loop's 3-D result back in C's layout.
  Value fromBatches(RewriterBase &rewriter, Location loc, Value batches,
                    ArrayRef<unsigned> dims, ArrayRef<unsigned> layout,
                    unsigned leading) const {
    Type element = getElementTypeOrSelf(batches.getType());
    Value value = tensor::ExpandShapeOp::create(
        rewriter, loc, typeOver(layout, element), batches,
        groupsOf(layout, leading));
    if (llvm::equal(dims, layout))
      return value;
    SmallVector<int64_t> permutation;
    for (unsigned d : dims)
      permutation.push_back(llvm::find(layout, d) - layout.begin());
    RankedTensorType type = typeOver(dims, element);
    Value empty = tensor::EmptyOp::create(rewriter, loc, type.getShape(), element);
    return linalg::TransposeOp::create(rewriter, loc, value, empty, permutation)
        .getResult()[0];
  }

  linalg::GenericOp op;
  SmallVector<int64_t> ranges;
  SmallVector<unsigned> a, b, c;
  SmallVector<unsigned> batch, rows, columns, depth;
  /// Whether A is the op's second input and B its first.
  bool inputsSwapped = false;
};

struct BatchedContractionsAsMatmulsPass
    : public mlir::tape::cpu::impl::BatchedContractionsAsMatmulsBase<
          BatchedContractionsAsMatmulsPass> {
  void runOnOperation() override {
    SmallVector<linalg::GenericOp> ops;
    getOperation().walk([&](linalg::GenericOp op) { ops.push_back(op); });
    IRRewriter rewriter(&getContext());
    for (linalg::GenericOp op : ops) {
      BatchedContraction contraction(op);
      if (succeeded(contraction.plan()))
        contraction.rewrite(rewriter);
    }
  }
};

} // namespace
