//===- MatvecKernels.cpp - Matrix-vector products as vector loops ---------===//
//
// A matmul with one output column does 2 flops per element of A it reads:
// its speed is how fast A streams through. Both kernels read A once, in
// contiguous vector runs.
//
//===----------------------------------------------------------------------===//

#include "tape/Codegen/CPU/Passes.h"

#include "MatmulLayout.h"
#include "Threads.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mlir::tape::cpu {
#define GEN_PASS_DEF_MATVECKERNELS
#include "tape/Codegen/CPU/Passes.h.inc"
} // namespace mlir::tape::cpu

using namespace mlir;
using mlir::tape::isInsideParallelLoop;

namespace {

struct TapeMatvecKernelsPass
    : public mlir::tape::cpu::impl::MatvecKernelsBase<TapeMatvecKernelsPass> {
  using Base::Base;

  void runOnOperation() override {
    if (lanes < 1 || rows < 1) {
      getOperation().emitError("tape-cpu-matvec-kernels: lanes and rows must be "
                               "positive");
      return signalPassFailure();
    }
    SmallVector<linalg::MatmulOp> ops;
    getOperation().walk([&](linalg::MatmulOp op) {
      if (transposedA(op))
        ops.push_back(op);
    });
    for (linalg::MatmulOp op : ops) {
      OpBuilder b(op);
      rewrite(b, op, *transposedA(op));
      op.erase();
    }
  }

  /// For a matmul this pass handles (f32, static, one output column, the
  /// vector and the output contiguous): whether A is stored K x M.
  static std::optional<bool> transposedA(linalg::MatmulOp op) {
    if (!tape::isStaticF32BufferMatmul(op))
      return std::nullopt;
    for (Value v : {op.getDpsInputs()[1], op.getDpsInits()[0]})
      if (!cast<MemRefType>(v.getType()).getLayout().isIdentity())
        return std::nullopt;
    std::optional<tape::MatmulLayout> layout = tape::getMatmulLayout(op);
    if (!layout || op.getStaticLoopRanges()[1] != 1)
      return std::nullopt;
    return layout->transA;
  }

  /// The contiguous elements of a K x 1 or 1 x K (or M x 1) memref as 1-d.
  static Value flatten(OpBuilder &b, Location loc, Value v) {
    return memref::CollapseShapeOp::create(
        b, loc, v, SmallVector<ReassociationIndices>{{0, 1}});
  }

  /// The loop over independent blocks of output rows: scf.parallel (one
  /// share per thread once convert-scf-to-openmp runs) with `parallel`
  /// where the code is not inside a parallel loop already, else scf.for.
  /// `body` builds no terminator.
  void outerLoop(OpBuilder &b, Location loc, Value lb, Value ub, Value step,
                 function_ref<void(OpBuilder &, Value)> body) const {
    Operation *here = b.getInsertionBlock()->getParentOp();
    if (parallel && !isInsideParallelLoop(here, /*orItself=*/true)) {
      scf::ParallelOp::create(
          b, loc, ValueRange{lb}, ValueRange{ub}, ValueRange{step},
          [&](OpBuilder &ob, Location, ValueRange ivs) { body(ob, ivs[0]); });
      return;
    }
    scf::ForOp::create(b, loc, lb, ub, step, ValueRange{},
                       [&](OpBuilder &ob, Location l, Value iv, ValueRange) {
                         body(ob, iv);
                         scf::YieldOp::create(ob, l);
                       });
  }

  void rewrite(OpBuilder &b, linalg::MatmulOp op, bool transA) {
    Location loc = op.getLoc();
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    int64_t m = ranges[0], k = ranges[2];
    Value a = op.getDpsInputs()[0];
    Value v = flatten(b, loc, op.getDpsInputs()[1]);
    Value c = flatten(b, loc, op.getDpsInits()[0]);
    auto idx = [&](int64_t i) -> Value {
      return arith::ConstantIndexOp::create(b, loc, i);
    };
    FloatType f32 = b.getF32Type();
    auto vecType = VectorType::get({lanes}, f32);
    Value pad = arith::ConstantFloatOp::create(b, loc, f32, APFloat(0.0f));
    Value zeros =
        arith::ConstantOp::create(b, loc, DenseElementsAttr::get(vecType, 0.0f));
    AffineMap minor = AffineMap::get(2, 0, {b.getAffineDimExpr(1)},
                                     b.getContext());
    auto read2d = [&](OpBuilder &ob, Value row, Value col, bool inBounds) {
      return vector::TransferReadOp::create(ob, loc, vecType, a,
                                            ValueRange{row, col}, pad, minor,
                                            ArrayRef<bool>{inBounds})
          .getResult();
    };
    auto read1d = [&](OpBuilder &ob, Value mem, Value at, bool inBounds) {
      return vector::TransferReadOp::create(ob, loc, vecType, mem,
                                            ValueRange{at}, pad,
                                            ArrayRef<bool>{inBounds})
          .getResult();
    };

    if (!transA) {
      // Dot products: `block` rows, each a vector accumulator over K.
      int64_t block = 1;
      for (int64_t d = std::min<int64_t>(rows, m); d >= 1; --d)
        if (m % d == 0) {
          block = d;
          break;
        }
      bool fullK = k % lanes == 0;
      outerLoop(
          b, loc, idx(0), idx(m), idx(block), [&](OpBuilder &ob, Value m0) {
            SmallVector<Value> init(block, zeros);
            auto inner = scf::ForOp::create(
                ob, loc, idx(0), idx(k), idx(lanes), init,
                [&](OpBuilder &ib, Location, Value k0, ValueRange acc) {
                  Value w = read1d(ib, v, k0, fullK);
                  SmallVector<Value> next;
                  for (int64_t r = 0; r < block; ++r) {
                    Value row = arith::AddIOp::create(ib, loc, m0, idx(r));
                    next.push_back(vector::FMAOp::create(
                        ib, loc, read2d(ib, row, k0, fullK), w, acc[r]));
                  }
                  scf::YieldOp::create(ib, loc, next);
                });
            for (int64_t r = 0; r < block; ++r) {
              Value row = arith::AddIOp::create(ob, loc, m0, idx(r));
              Value sum = vector::ReductionOp::create(
                  ob, loc, vector::CombiningKind::ADD, inner.getResult(r));
              Value old = memref::LoadOp::create(ob, loc, c, row);
              memref::StoreOp::create(
                  ob, loc, arith::AddFOp::create(ob, loc, old, sum), c, row);
            }
          });
      return;
    }

    // A stored K x M: C[m0 : +4 lanes] += v[k] * A[k, m0 : +4 lanes].
    constexpr int64_t kVectors = 4;
    int64_t width = kVectors * lanes;
    bool fullM = m % width == 0;
    outerLoop(
        b, loc, idx(0), idx(m), idx(width), [&](OpBuilder &ob, Value m0) {
          SmallVector<Value> cols, init;
          for (int64_t u = 0; u < kVectors; ++u) {
            cols.push_back(arith::AddIOp::create(ob, loc, m0, idx(u * lanes)));
            init.push_back(read1d(ob, c, cols.back(), fullM));
          }
          auto inner = scf::ForOp::create(
              ob, loc, idx(0), idx(k), idx(1), init,
              [&](OpBuilder &ib, Location, Value kk, ValueRange acc) {
                Value s = vector::BroadcastOp::create(
                    ib, loc, vecType, memref::LoadOp::create(ib, loc, v, kk));
                SmallVector<Value> next;
                for (int64_t u = 0; u < kVectors; ++u)
                  next.push_back(vector::FMAOp::create(
                      ib, loc, read2d(ib, kk, cols[u], fullM), s, acc[u]));
                scf::YieldOp::create(ib, loc, next);
              });
          for (int64_t u = 0; u < kVectors; ++u)
            vector::TransferWriteOp::create(ob, loc, inner.getResult(u), c,
                                            ValueRange{cols[u]},
                                            ArrayRef<bool>{fullM});
        });
  }
};

} // namespace
