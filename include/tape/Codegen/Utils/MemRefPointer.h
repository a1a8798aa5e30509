//===- MemRefPointer.h - A memref's first element as an !llvm.ptr ---------===//
//
// Calls into C (cblas_sgemm, the check-numerics runtime) take a plain
// pointer: the aligned base pointer plus the view's offset in bytes.
//
//===----------------------------------------------------------------------===//

#ifndef TAPE_CODEGEN_UTILS_MEMREFPOINTER_H
#define TAPE_CODEGEN_UTILS_MEMREFPOINTER_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

namespace mlir::tape {

/// The pointer to `memref`'s first element, and its strided metadata (for
/// strides the caller may need).
inline std::pair<Value, memref::ExtractStridedMetadataOp>
createElementPointer(OpBuilder &b, Location loc, Value memref) {
  auto meta = memref::ExtractStridedMetadataOp::create(b, loc, memref);
  Value base = memref::ExtractAlignedPointerAsIndexOp::create(
      b, loc, meta.getBaseBuffer());
  unsigned elementBytes =
      (cast<MemRefType>(memref.getType()).getElementTypeBitWidth() + 7) / 8;
  Value bytes = arith::MulIOp::create(
      b, loc, meta.getOffset(),
      arith::ConstantIndexOp::create(b, loc, elementBytes));
  Value address = arith::IndexCastOp::create(
      b, loc, b.getI64Type(), arith::AddIOp::create(b, loc, base, bytes));
  Value pointer = LLVM::IntToPtrOp::create(
      b, loc, LLVM::LLVMPointerType::get(b.getContext()), address);
  return {pointer, meta};
}

} // namespace mlir::tape

#endif // TAPE_CODEGEN_UTILS_MEMREFPOINTER_H
