//===- ExpandStridedCopies.cpp - memref.copy of strided views to linalg ---===//

#include "tape/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

namespace mlir::tape::cpu {
#define GEN_PASS_DEF_EXPANDSTRIDEDCOPIES
#include "tape/Codegen/CPU/Passes.h.inc"
} // namespace mlir::tape::cpu

using namespace mlir;

namespace {
struct TapeExpandStridedCopiesPass
    : public mlir::tape::cpu::impl::ExpandStridedCopiesBase<
          TapeExpandStridedCopiesPass> {
  void runOnOperation() override {
    SmallVector<memref::CopyOp> copies;
    getOperation().walk([&](memref::CopyOp copy) {
      auto contiguous = [](Type t) {
        auto m = dyn_cast<MemRefType>(t);
        return m && m.getLayout().isIdentity();
      };
      if (!contiguous(copy.getSource().getType()) ||
          !contiguous(copy.getTarget().getType()))
        copies.push_back(copy);
    });
    for (memref::CopyOp copy : copies) {
      OpBuilder b(copy);
      linalg::CopyOp::create(b, copy.getLoc(), copy.getSource(),
                             copy.getTarget());
      copy.erase();
    }
  }
};
} // namespace
