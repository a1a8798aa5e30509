//===- MatmulLayout.h - How the kernels see a matmul's operands ----------===//
//
// Reverse-mode AD writes transposes into a matmul's indexing maps; the
// kernels that replace matmuls (BLAS calls, packed and matrix-vector
// kernels) all need to know which operand is read transposed, and what C
// holds just before (a zero fill or a bias broadcast they can start from
// instead of reading C).
//
//===----------------------------------------------------------------------===//

#ifndef TAPE_CODEGEN_CPU_MATMULLAYOUT_H
#define TAPE_CODEGEN_CPU_MATMULLAYOUT_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include <optional>

namespace mlir::tape {

/// C[m, n] += A[m, k] B[k, n] with A stored K x M (`transA`) and/or B
/// stored N x K (`transB`).
struct MatmulLayout {
  bool transA = false, transB = false;
};

/// The layout of `op` when its maps are one of the four above (output
/// (m, n)); nullopt for broadcasts, transposed outputs or other maps.
inline std::optional<MatmulLayout> getMatmulLayout(linalg::MatmulOp op) {
  MLIRContext *ctx = op.getContext();
  AffineExpr m, n, k;
  bindDims(ctx, m, n, k);
  auto map = [&](AffineExpr x, AffineExpr y) {
    return AffineMap::get(3, 0, {x, y}, ctx);
  };
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  if (maps.size() != 3 || maps[2] != map(m, n))
    return std::nullopt;
  MatmulLayout layout{maps[0] == map(k, m), maps[1] == map(n, k)};
  if ((!layout.transA && maps[0] != map(m, k)) ||
      (!layout.transB && maps[1] != map(k, n)))
    return std::nullopt;
  return layout;
}

/// A matmul on buffers whose operands are all statically shaped 2-d f32
/// memrefs: what the generated kernels handle.
inline bool isStaticF32BufferMatmul(linalg::MatmulOp op) {
  if (!op.hasPureBufferSemantics())
    return false;
  return llvm::all_of(op->getOperands(), [](Value v) {
    auto type = dyn_cast<MemRefType>(v.getType());
    return type && type.getRank() == 2 && type.hasStaticShape() &&
           type.getElementType().isF32();
  });
}

/// The buffer `v` is a view of (through subviews, reshapes and casts).
inline Value viewedBuffer(Value v) {
  while (auto view = v.getDefiningOp<ViewLikeOpInterface>())
    v = view.getViewSource();
  return v;
}

/// A buffer nothing else aliases: a fresh allocation.
inline bool isAllocation(Value buffer) {
  return buffer.getDefiningOp<memref::AllocOp>() ||
         buffer.getDefiningOp<memref::AllocaOp>();
}

/// An argument of the enclosing function: distinct from every allocation
/// the function makes, though it may alias another argument.
inline bool isFunctionArgument(Value buffer) {
  auto arg = dyn_cast<BlockArgument>(buffer);
  return arg && arg.getOwner()->isEntryBlock() &&
         isa<FunctionOpInterface>(arg.getOwner()->getParentOp());
}

/// Whether `op` certainly leaves the buffer `root` (an allocation or a
/// function argument) alone: each of its effects (only its writes, with
/// `onlyWrites`) is on a view of a buffer that cannot alias `root`. A
/// block argument of a nested region (a loop's iteration argument) or an
/// op's buffer result might alias anything.
inline bool leavesBufferAlone(Operation *op, Value root, bool onlyWrites) {
  if (isMemoryEffectFree(op))
    return true;
  if (!isAllocation(root) && !isFunctionArgument(root))
    return false;
  std::optional<SmallVector<MemoryEffects::EffectInstance>> effects =
      getEffectsRecursively(op);
  if (!effects)
    return false;
  for (const MemoryEffects::EffectInstance &effect : *effects) {
    if (onlyWrites && isa<MemoryEffects::Read>(effect.getEffect()))
      continue;
    Value touched = effect.getValue();
    if (!touched)
      return false;
    Value other = viewedBuffer(touched);
    if (other == root)
      return false;
    bool distinct = isAllocation(other) ||
                    (isFunctionArgument(other) && isAllocation(root));
    if (!distinct)
      return false;
  }
  return true;
}

/// `out` with the reshapes that produced it peeled off, outermost first
/// (`out` itself, then the source of each `memref.collapse_shape`): each
/// holds the same elements as `out`.
inline SmallVector<Value> reshapedFrom(Value out) {
  SmallVector<Value> chain{out};
  while (auto collapse = chain.back().getDefiningOp<memref::CollapseShapeOp>())
    chain.push_back(collapse.getSrc());
  return chain;
}

/// The op before `op` that writes all of `out` (or a buffer `out` only
/// reshapes), if the ops between them certainly leave that buffer alone
/// (which takes `out` to be a view of a fresh allocation, unless they
/// touch no memory at all).
inline Operation *writerJustBefore(linalg::MatmulOp op, Value out) {
  SmallVector<Value> shapes = reshapedFrom(out);
  Value buffer = viewedBuffer(out);
  for (Operation *prev = op->getPrevNode(); prev; prev = prev->getPrevNode()) {
    if (auto writer = dyn_cast<DestinationStyleOpInterface>(prev))
      if (writer.hasPureBufferSemantics() && writer.getNumDpsInits() == 1 &&
          llvm::is_contained(shapes, writer.getDpsInits()[0]))
        return prev;
    if (!leavesBufferAlone(prev, buffer, /*onlyWrites=*/false))
      return nullptr;
  }
  return nullptr;
}

/// The zero fill of `out` (or of the buffer it reshapes) before `op`, if
/// nothing between them touches it: a kernel that writes its first
/// products without reading `out` may then drop the fill.
inline linalg::FillOp zeroFillBefore(linalg::MatmulOp op, Value out) {
  auto fill =
      dyn_cast_or_null<linalg::FillOp>(writerJustBefore(op, out));
  FloatAttr value;
  if (fill && matchPattern(fill.getInputs()[0], m_Constant(&value)) &&
      value.getValue().isZero())
    return fill;
  return nullptr;
}

/// A broadcast of a bias vector into all of a matmul's 2-d output: either
/// along its rows (out[i, j] = bias[j], a linear layer's) or along its
/// columns (out[i, j] = bias[i], a convolution's per output channel).
struct BiasBroadcast {
  linalg::LinalgOp writer;
  Value bias;
  bool perRow; // bias[i]: one value per row of the output
};

/// The bias broadcast into `out` before `op`, if nothing between them
/// touches `out`: a kernel whose first products start from the bias may
/// then drop the broadcast. The broadcast may write a buffer that `out`
/// collapses to 2-d, as long as the bias's dimension is a group of its own
/// (rows [c] of [c, h, w] collapsed to [c, h * w]).
inline std::optional<BiasBroadcast> biasBefore(linalg::MatmulOp op,
                                               Value out) {
  auto writer =
      dyn_cast_or_null<linalg::LinalgOp>(writerJustBefore(op, out));
  if (!writer || writer.getNumDpsInputs() != 1 || writer.getNumDpsInits() != 1 ||
      writer.getNumParallelLoops() != writer.getNumLoops())
    return std::nullopt;
  Value bias = writer.getDpsInputs()[0];
  auto biasType = dyn_cast<MemRefType>(bias.getType());
  if (!biasType || biasType.getRank() != 1 ||
      !biasType.getElementType().isF32())
    return std::nullopt;
  Block *body = writer.getBlock();
  if (body->getOperations().size() != 1 ||
      body->getTerminator()->getOperand(0) != body->getArgument(0))
    return std::nullopt;
  AffineMap inMap = writer.getMatchingIndexingMap(writer.getDpsInputOperand(0));
  AffineMap outMap = writer.getMatchingIndexingMap(writer.getDpsInitOperand(0));
  auto dim = dyn_cast<AffineDimExpr>(inMap.getResult(0));
  if (!outMap.isIdentity() || !dim)
    return std::nullopt;
  // Which group of `out`'s two dimensions the bias's dimension is alone in.
  SmallVector<ReassociationIndices> groups = {{0}, {1}};
  if (writer.getDpsInits()[0] != out) {
    auto collapse = out.getDefiningOp<memref::CollapseShapeOp>();
    if (!collapse || collapse.getSrc() != writer.getDpsInits()[0])
      return std::nullopt;
    groups = collapse.getReassociationIndices();
  }
  if (groups.size() != 2)
    return std::nullopt;
  // The kernel reads the bias later, at its first slice: nothing between
  // may write it (nor may the matmul, whose only write is `out`).
  Value biasBuffer = viewedBuffer(bias);
  if (biasBuffer == viewedBuffer(out))
    return std::nullopt;
  for (Operation *between = writer->getNextNode(); between != op;
       between = between->getNextNode())
    if (!leavesBufferAlone(between, biasBuffer, /*onlyWrites=*/true))
      return std::nullopt;
  int64_t d = dim.getPosition();
  if (groups[0] == ReassociationIndices{d})
    return BiasBroadcast{writer, bias, /*perRow=*/true};
  if (groups[1] == ReassociationIndices{d})
    return BiasBroadcast{writer, bias, /*perRow=*/false};
  return std::nullopt;
}

} // namespace mlir::tape

#endif // TAPE_CODEGEN_CPU_MATMULLAYOUT_H
