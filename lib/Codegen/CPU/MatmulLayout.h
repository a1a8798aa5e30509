//===- MatmulLayout.h - Which matmul operands are stored transposed -------===//
//
// reverse-mode AD writes transposes into a matmul's indexing maps;
// the kernels that replace matmuls (BLAS calls, packed and matrix-vector
// kernels) all need to know which operand is read transposed.
//
//===----------------------------------------------------------------------===//

#ifndef TAPE_CODEGEN_CPU_MATMULLAYOUT_H
#define TAPE_CODEGEN_CPU_MATMULLAYOUT_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
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

/// The op just before `op` that writes `out`, if the ops between them
/// touch no memory.
inline Operation *writerJustBefore(linalg::MatmulOp op, Value out) {
  for (Operation *prev = op->getPrevNode(); prev; prev = prev->getPrevNode()) {
    if (auto writer = dyn_cast<DestinationStyleOpInterface>(prev))
      if (writer.hasPureBufferSemantics() && writer.getNumDpsInits() == 1 &&
          writer.getDpsInits()[0] == out)
        return prev;
    if (!isMemoryEffectFree(prev))
      return nullptr;
  }
  return nullptr;
}

/// The zero fill of `out` just before `op`, if nothing between them
/// touches memory: a kernel that writes its first products without reading
/// `out` may then drop the fill.
inline linalg::FillOp zeroFillBefore(linalg::MatmulOp op, Value out) {
  auto fill =
      dyn_cast_or_null<linalg::FillOp>(writerJustBefore(op, out));
  FloatAttr value;
  if (fill && matchPattern(fill.getInputs()[0], m_Constant(&value)) &&
      value.getValue().isZero())
    return fill;
  return nullptr;
}

/// The broadcast of a bias row into `out` (out[i, j] = bias[j]) just
/// before `op`, if nothing between them touches memory: a kernel whose
/// first products start from the bias may then drop the broadcast.
inline linalg::BroadcastOp biasRowsBefore(linalg::MatmulOp op, Value out) {
  auto broadcast =
      dyn_cast_or_null<linalg::BroadcastOp>(writerJustBefore(op, out));
  if (!broadcast || broadcast.getDimensions() != ArrayRef<int64_t>{0})
    return nullptr;
  auto bias = dyn_cast<MemRefType>(broadcast.getInput().getType());
  if (!bias || bias.getRank() != 1 || !bias.getElementType().isF32())
    return nullptr;
  return broadcast;
}

} // namespace mlir::tape

#endif // TAPE_CODEGEN_CPU_MATMULLAYOUT_H
