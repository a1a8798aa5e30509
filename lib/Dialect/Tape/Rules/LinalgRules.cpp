//===- LinalgRules.cpp - Differentiation rules for linalg ops -------------===//

#include "RuleSupport.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/IndexingUtils.h"
#include "mlir/IR/DialectRegistry.h"

using namespace mlir;
using namespace mlir::tape;
using namespace mlir::tape::rules;

namespace {

RankedTensorType tensorType(Value v) {
  return cast<RankedTensorType>(v.getType());
}

Value emptyLike(OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
                Type elementType) {
  return tensor::EmptyOp::create(b, loc, shape, elementType);
}

Value zerosOfShape(OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
                   Type elementType) {
  Value zero = createFloatConstant(b, loc, elementType, 0.0);
  Value empty = emptyLike(b, loc, shape, elementType);
  return linalg::FillOp::create(b, loc, zero, empty).getResult(0);
}

Value transpose(OpBuilder &b, Location loc, Value x,
                ArrayRef<int64_t> permutation) {
  RankedTensorType type = tensorType(x);
  SmallVector<int64_t> shape =
      applyPermutation(type.getShape(), permutation);
  Value init = emptyLike(b, loc, shape, type.getElementType());
  return linalg::TransposeOp::create(b, loc, x, init, permutation)
      .getResult()[0];
}

/// Sum of `x` over `dims` (removed from the shape).
Value reduceSum(OpBuilder &b, Location loc, Value x, ArrayRef<int64_t> dims) {
  RankedTensorType type = tensorType(x);
  SmallVector<int64_t> shape;
  for (auto [i, size] : llvm::enumerate(type.getShape()))
    if (!llvm::is_contained(dims, int64_t(i)))
      shape.push_back(size);
  Value init = zerosOfShape(b, loc, shape, type.getElementType());
  auto reduce = linalg::ReduceOp::create(
      b, loc, ValueRange{x}, ValueRange{init}, dims,
      [](OpBuilder &nb, Location nloc, ValueRange args) {
        Value sum = arith::AddFOp::create(nb, nloc, args[0], args[1]);
        linalg::YieldOp::create(nb, nloc, sum);
      });
  return reduce.getResult(0);
}

/// `x` broadcast to `shape` by adding the dimensions `dims`.
Value broadcast(OpBuilder &b, Location loc, Value x, ArrayRef<int64_t> shape,
                ArrayRef<int64_t> dims) {
  Value init = emptyLike(b, loc, shape, tensorType(x).getElementType());
  return linalg::BroadcastOp::create(b, loc, x, init, dims).getResult()[0];
}

template <typename OpTy>
Value contract(OpBuilder &b, Location loc, Value lhs, Value rhs,
               ArrayRef<int64_t> shape) {
  Type elt = tensorType(lhs).getElementType();
  Value init = zerosOfShape(b, loc, shape, elt);
  auto type = RankedTensorType::get(shape, elt);
  return OpTy::create(b, loc, TypeRange{type}, ValueRange{lhs, rhs},
                      ValueRange{init})
      .getResult(0);
}

// C = C0 + A B: dA = dC B^T, dB = A^T dC, dC0 = dC, per batch for the
// batched form; `perm` transposes the two inner dimensions.
template <typename OpTy>
LogicalResult contractionAdjoints(OpBuilder &b, Operation *op, ValueRange x,
                                  ArrayRef<Value> dz,
                                  SmallVectorImpl<Value> &out,
                                  ArrayRef<int64_t> perm) {
  if (cast<OpTy>(op).hasUserDefinedMaps())
    return op->emitOpError("gradient rule supports the default indexing maps "
                           "only; transpose operands with linalg.transpose");
  Location loc = op->getLoc();
  Value a = x[0], bm = x[1];
  Value da = contract<OpTy>(b, loc, dz[0], transpose(b, loc, bm, perm),
                            tensorType(a).getShape());
  Value db = contract<OpTy>(b, loc, transpose(b, loc, a, perm), dz[0],
                            tensorType(bm).getShape());
  out.append({da, db, dz[0]});
  return success();
}

LogicalResult matmulRule(OpBuilder &b, Operation *op, ValueRange x,
                         ValueRange, ArrayRef<Value> dz,
                         SmallVectorImpl<Value> &out) {
  return contractionAdjoints<linalg::MatmulOp>(b, op, x, dz, out, {1, 0});
}

LogicalResult batchMatmulRule(OpBuilder &b, Operation *op, ValueRange x,
                              ValueRange, ArrayRef<Value> dz,
                              SmallVectorImpl<Value> &out) {
  return contractionAdjoints<linalg::BatchMatmulOp>(b, op, x, dz, out,
                                                    {0, 2, 1});
}

// Every element of the result is the scalar: d(scalar) = sum(dz). The init
// is overwritten and gets nothing.
LogicalResult fillRule(OpBuilder &b, Operation *op, ValueRange x, ValueRange,
                       ArrayRef<Value> dz, SmallVectorImpl<Value> &out) {
  Location loc = op->getLoc();
  RankedTensorType type = tensorType(dz[0]);
  SmallVector<int64_t> all =
      llvm::to_vector(llvm::seq<int64_t>(0, type.getRank()));
  Value total = type.getRank() ? reduceSum(b, loc, dz[0], all) : dz[0];
  Value scalar = tensor::ExtractOp::create(b, loc, total, ValueRange{});
  if (isa<RankedTensorType>(x[0].getType()))
    return op->emitOpError("gradient rule expects a scalar fill value");
  out.append({scalar, Value()});
  return success();
}

// The gradient of a broadcast is summed back over the added dimensions.
LogicalResult broadcastRule(OpBuilder &b, Operation *op, ValueRange,
                            ValueRange, ArrayRef<Value> dz,
                            SmallVectorImpl<Value> &out) {
  auto bcast = cast<linalg::BroadcastOp>(op);
  out.append({reduceSum(b, op->getLoc(), dz[0], bcast.getDimensions()),
              Value()});
  return success();
}

LogicalResult transposeRule(OpBuilder &b, Operation *op, ValueRange,
                            ValueRange, ArrayRef<Value> dz,
                            SmallVectorImpl<Value> &out) {
  auto t = cast<linalg::TransposeOp>(op);
  SmallVector<int64_t> inverse = invertPermutationVector(t.getPermutation());
  out.append({transpose(b, op->getLoc(), dz[0], inverse), Value()});
  return success();
}

/// The single combiner of a reduce body (`yield combiner(in, acc)`), or null.
Operation *getCombiner(linalg::ReduceOp reduce) {
  Block &body = reduce.getCombiner().front();
  if (body.getOperations().size() != 2)
    return nullptr;
  Operation *combiner = &body.front();
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  if (yield.getNumOperands() != 1 || yield.getOperand(0).getDefiningOp() !=
                                         combiner)
    return nullptr;
  if (combiner->getNumOperands() != 2 ||
      !llvm::is_contained(combiner->getOperands(), body.getArgument(0)) ||
      !llvm::is_contained(combiner->getOperands(), body.getArgument(1)))
    return nullptr;
  return combiner;
}

// Sum: every input element gets the adjoint of its row; the init gets dy.
// Max/min: the adjoint goes to the elements equal to the extremum, split
// evenly between ties (TensorFlow's reduce_max convention); the init counts
// as one more candidate.
LogicalResult reduceRule(OpBuilder &b, Operation *op, ValueRange x,
                         ValueRange z, ArrayRef<Value> dz,
                         SmallVectorImpl<Value> &out) {
  auto reduce = cast<linalg::ReduceOp>(op);
  Location loc = op->getLoc();
  if (reduce.getInputs().size() != 1)
    return op->emitOpError("gradient rule supports one reduced input");
  Operation *combiner = getCombiner(reduce);
  if (!combiner)
    return op->emitOpError("gradient rule needs a body that is a single "
                           "arith.addf, maximumf, maxnumf, minimumf or "
                           "minnumf of the two block arguments");
  ArrayRef<int64_t> dims = reduce.getDimensions();
  ArrayRef<int64_t> shape = tensorType(x[0]).getShape();
  Value spread = broadcast(b, loc, dz[0], shape, dims);
  if (isa<arith::AddFOp>(combiner)) {
    out.append({spread, dz[0]});
    return success();
  }
  if (!isa<arith::MaximumFOp, arith::MaxNumFOp, arith::MinimumFOp,
           arith::MinNumFOp>(combiner))
    return op->emitOpError("no gradient rule for a reduction combining with '")
           << combiner->getName() << "'";
  // The init takes part in the extremum too (it is usually -inf and never
  // wins, but when it does it gets its share like any other tie).
  Value extremum = broadcast(b, loc, z[0], shape, dims);
  Value hit = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, x[0],
                                    extremum);
  Value mask = arith::UIToFPOp::create(b, loc, tensorType(x[0]), hit);
  Value initHit = arith::UIToFPOp::create(
      b, loc, tensorType(x[1]),
      arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, x[1], z[0]));
  Value count = add(b, loc, reduceSum(b, loc, mask, dims), initHit);
  Value share = div(b, loc, dz[0], count);
  out.append({mul(b, loc, mask, broadcast(b, loc, share, shape, dims)),
              mul(b, loc, initHit, share)});
  return success();
}

} // namespace

void mlir::tape::rules::registerLinalgRules(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, linalg::LinalgDialect *) {
    attachRule<linalg::MatmulOp, matmulRule>(ctx);
    attachRule<linalg::BatchMatmulOp, batchMatmulRule>(ctx);
    attachRule<linalg::FillOp, fillRule>(ctx);
    attachRule<linalg::BroadcastOp, broadcastRule>(ctx);
    attachRule<linalg::TransposeOp, transposeRule>(ctx);
    attachRule<linalg::ReduceOp, reduceRule>(ctx);
  });
}
