//===- LowerMatmulToBlas.cpp - Large matmuls as cblas_sgemm calls ---------===//
//
// An optional path: a tuned BLAS reaches the machine's peak on large
// matmuls, with cache blocking and packing the generated code lacks. The
// rest of the step (elementwise ops fused around the matmuls, the optimizer
// update, the workspace ABI) stays generated code.
//
//===----------------------------------------------------------------------===//

#include "tape/Codegen/CPU/Passes.h"

#include "MatmulLayout.h"
#include "tape/Codegen/Utils/MemRefPointer.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

namespace mlir::tape::cpu {
#define GEN_PASS_DEF_LOWERMATMULTOBLAS
#include "tape/Codegen/CPU/Passes.h.inc"
} // namespace mlir::tape::cpu

using namespace mlir;

// CBLAS enum values (cblas.h).
static constexpr int32_t kRowMajor = 101, kNoTrans = 111, kTrans = 112;
static constexpr StringLiteral kSgemm = "cblas_sgemm";

namespace {

/// A matmul operand as CBLAS wants it: pointer and leading dimension.
struct BlasOperand {
  Value pointer;
  Value leading;
};

struct TapeLowerMatmulToBlasPass
    : public mlir::tape::cpu::impl::LowerMatmulToBlasBase<TapeLowerMatmulToBlasPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<linalg::MatmulOp> matmuls;
    module.walk([&](linalg::MatmulOp op) {
      if (isCandidate(op))
        matmuls.push_back(op);
    });
    if (matmuls.empty())
      return;
    IRRewriter rewriter(&getContext());
    func::FuncOp sgemm = getOrDeclareSgemm(rewriter, module);
    if (!sgemm)
      return signalPassFailure();
    for (linalg::MatmulOp op : matmuls)
      lower(rewriter, op, sgemm);
  }

  /// Static shapes, f32, rows contiguous, large enough, int32 sizes.
  bool isCandidate(linalg::MatmulOp op) const {
    if (!op.hasPureBufferSemantics() || !tape::getMatmulLayout(op))
      return false;
    for (Value v : op->getOperands()) {
      auto type = dyn_cast<MemRefType>(v.getType());
      if (!type || type.getRank() != 2 || !type.hasStaticShape() ||
          !type.getElementType().isF32())
        return false;
      SmallVector<int64_t> strides;
      int64_t offset;
      if (failed(type.getStridesAndOffset(strides, offset)) || strides[1] != 1)
        return false;
    }
    SmallVector<int64_t> ranges = op.getStaticLoopRanges(); // m, n, k
    for (int64_t r : ranges)
      if (r > std::numeric_limits<int32_t>::max())
        return false;
    // Matrix-vector products are bound by memory, not arithmetic: sgemm's
    // packing only adds traffic there, and the generated loops do better.
    if (std::min(ranges[0], ranges[1]) < minDimension)
      return false;
    return 2 * ranges[0] * ranges[1] * ranges[2] >= minFlops;
  }

  func::FuncOp getOrDeclareSgemm(IRRewriter &rewriter, ModuleOp module) {
    MLIRContext *ctx = module.getContext();
    Type i32 = rewriter.getI32Type(), f32 = rewriter.getF32Type();
    Type ptr = LLVM::LLVMPointerType::get(ctx);
    auto type = rewriter.getFunctionType(
        {i32, i32, i32, i32, i32, i32, f32, ptr, i32, ptr, i32, f32, ptr, i32},
        {});
    if (auto existing = module.lookupSymbol<func::FuncOp>(kSgemm)) {
      if (existing.getFunctionType() == type)
        return existing;
      existing.emitError() << "@" << kSgemm
                           << " is declared with a type other than CBLAS's";
      return nullptr;
    }
    if (module.lookupSymbol(kSgemm)) {
      module.emitError() << "@" << kSgemm
                         << " names something other than CBLAS's function";
      return nullptr;
    }
    rewriter.setInsertionPointToStart(module.getBody());
    auto decl = func::FuncOp::create(rewriter, module.getLoc(), kSgemm, type);
    decl.setPrivate();
    return decl;
  }

  /// Base pointer plus offset, and the row stride, of a 2-d memref whose
  /// innermost stride is 1.
  static BlasOperand operand(IRRewriter &rewriter, Location loc, Value v) {
    auto [pointer, meta] = tape::createElementPointer(rewriter, loc, v);
    Value leading = arith::IndexCastOp::create(
        rewriter, loc, rewriter.getI32Type(), meta.getStrides()[0]);
    return {pointer, leading};
  }

  void lower(IRRewriter &rewriter, linalg::MatmulOp op, func::FuncOp sgemm) {
    auto [transA, transB] = *tape::getMatmulLayout(op);
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    Location loc = op.getLoc();
    rewriter.setInsertionPoint(op);
    auto i32 = [&](int64_t v) -> Value {
      return arith::ConstantIntOp::create(rewriter, loc, v, 32);
    };
    auto f32 = [&](double v) -> Value {
      return arith::ConstantFloatOp::create(rewriter, loc,
                                            rewriter.getF32Type(),
                                            APFloat(float(v)));
    };
    Value c = op.getDpsInits()[0];
    float alpha = 1, beta = 1;
    if (linalg::FillOp fill = tape::zeroFillBefore(op, c)) {
      rewriter.eraseOp(fill);
      beta = 0;
    }
    BlasOperand a = operand(rewriter, loc, op.getDpsInputs()[0]);
    BlasOperand b = operand(rewriter, loc, op.getDpsInputs()[1]);
    BlasOperand out = operand(rewriter, loc, c);
    SmallVector<Value> args{i32(kRowMajor),
                            i32(transA ? kTrans : kNoTrans),
                            i32(transB ? kTrans : kNoTrans),
                            i32(ranges[0]),
                            i32(ranges[1]),
                            i32(ranges[2]),
                            f32(alpha),
                            a.pointer,
                            a.leading,
                            b.pointer,
                            b.leading,
                            f32(beta),
                            out.pointer,
                            out.leading};
    func::CallOp::create(rewriter, loc, sgemm, args);
    rewriter.eraseOp(op);
  }
};

} // namespace
