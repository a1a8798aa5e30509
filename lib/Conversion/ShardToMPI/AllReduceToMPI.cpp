//===- AllReduceToMPI.cpp - All-reduces over every process to MPI ---------===//
//
// convert-all-reduce-to-mpi: shard.all_reduce over the grid of all
// processes (one axis of dynamic size) becomes mpi.allreduce on
// MPI_COMM_WORLD from the tensor's buffer into a separate one, before
// bufferization.
//
//===----------------------------------------------------------------------===//

#include "tape/Conversion/Passes.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/MPI/IR/MPI.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Shard/IR/ShardDialect.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/IR/SymbolTable.h"

#include <climits>

namespace mlir::tape {
#define GEN_PASS_DEF_CONVERTALLREDUCETOMPI
#include "tape/Conversion/Passes.h.inc"
} // namespace mlir::tape

using namespace mlir;

namespace {

/// MPI's reduction for a shard reduction kind, if it has one.
std::optional<mpi::MPI_ReductionOpEnum> mpiReduction(shard::ReductionKind k) {
  switch (k) {
  case shard::ReductionKind::Sum:
    return mpi::MPI_ReductionOpEnum::MPI_SUM;
  case shard::ReductionKind::Max:
    return mpi::MPI_ReductionOpEnum::MPI_MAX;
  case shard::ReductionKind::Min:
    return mpi::MPI_ReductionOpEnum::MPI_MIN;
  case shard::ReductionKind::Product:
    return mpi::MPI_ReductionOpEnum::MPI_PROD;
  default:
    return std::nullopt;
  }
}

/// Checks that `op` reduces a one-dimensional tensor over every process.
LogicalResult checkSupported(shard::AllReduceOp op, SymbolTable &symbols) {
  auto grid = symbols.lookup<shard::GridOp>(op.getGrid());
  if (!grid || grid.getShape().size() != 1 ||
      !ShapedType::isDynamic(grid.getShape()[0]) ||
      op.getGridAxes().size() != 1 || op.getGridAxes()[0] != 0)
    return op.emitOpError("over the grid @")
           << op.getGrid()
           << " cannot become one MPI all-reduce: only a grid of one axis "
              "of dynamic size (every process of the job) reduced along "
              "that axis can";
  auto in = dyn_cast<RankedTensorType>(op.getInput().getType());
  auto out = dyn_cast<RankedTensorType>(op.getResult().getType());
  if (!in || in != out || in.getRank() != 1 || !in.hasStaticShape())
    return op.emitOpError("cannot become an MPI all-reduce: it must map a "
                          "one-dimensional tensor of static size to one of "
                          "the same type");
  Type e = in.getElementType();
  if (!e.isF32() && !e.isF64() && !e.isSignlessInteger(32) &&
      !e.isSignlessInteger(64))
    return op.emitOpError("cannot become an MPI all-reduce of ")
           << e << " (f32, f64, i32 and i64 have MPI types)";
  if (!mpiReduction(op.getReduction()))
    return op.emitOpError("has a reduction MPI has no operation for: ")
           << shard::stringifyReductionKind(op.getReduction());
  return success();
}

void lower(shard::AllReduceOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  auto type = cast<RankedTensorType>(op.getInput().getType());
  int64_t n = type.getDimSize(0);
  auto bufferType = MemRefType::get({n}, type.getElementType());
  Value send = bufferization::ToBufferOp::create(b, loc, bufferType,
                                                 op.getInput(),
                                                 /*read_only=*/true);
  Value recv = memref::AllocOp::create(b, loc, bufferType);
  Value world = mpi::CommWorldOp::create(b, loc, mpi::CommType::get(b.getContext()));
  auto reduction = mpi::MPI_ReductionOpEnumAttr::get(
      b.getContext(), *mpiReduction(op.getReduction()));
  // MPI counts elements in an int.
  constexpr int64_t kLargest = INT_MAX;
  if (n <= kLargest) {
    mpi::AllReduceOp::create(b, loc, /*retval=*/Type(), send, recv,
                             reduction, world);
  } else {
    for (int64_t at = 0; at < n; at += kLargest) {
      int64_t size = std::min(kLargest, n - at);
      Value from = memref::SubViewOp::create(b, loc, send,
                                             ArrayRef<int64_t>{at},
                                             ArrayRef<int64_t>{size},
                                             ArrayRef<int64_t>{1});
      Value to = memref::SubViewOp::create(b, loc, recv, ArrayRef<int64_t>{at},
                                           ArrayRef<int64_t>{size},
                                           ArrayRef<int64_t>{1});
      mpi::AllReduceOp::create(b, loc, /*retval=*/Type(), from, to, reduction,
                               world);
    }
  }
  Value sum = bufferization::ToTensorOp::create(b, loc, type, recv,
                                                /*restrict=*/true,
                                                /*writable=*/true);
  op.getResult().replaceAllUsesWith(sum);
  op.erase();
}

struct ConvertAllReduceToMPIPass
    : public tape::impl::ConvertAllReduceToMPIBase<ConvertAllReduceToMPIPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    SmallVector<shard::AllReduceOp> ops;
    module.walk([&](shard::AllReduceOp op) { ops.push_back(op); });
    for (shard::AllReduceOp op : ops)
      if (failed(checkSupported(op, symbols)))
        return signalPassFailure();
    for (shard::AllReduceOp op : ops)
      lower(op);
    for (auto grid : llvm::to_vector(module.getOps<shard::GridOp>()))
      if (SymbolTable::symbolKnownUseEmpty(grid, module))
        grid.erase();
  }
};

} // namespace
