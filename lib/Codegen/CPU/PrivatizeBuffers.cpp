//===- PrivatizeBuffers.cpp - A slot per iteration of a parallel loop ------===//
//
// Scratch buffers allocated inside a parallel loop's body become views of
// one buffer allocated before the loop, one slot per iteration, so that
// the workspace can hold them (no heap allocation per step) and threads
// never share one.
//
//===----------------------------------------------------------------------===//

#include "tape/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/Builders.h"

#include "llvm/Support/MathExtras.h"

#include <limits>

namespace mlir::tape::cpu {
#define GEN_PASS_DEF_PRIVATIZEBUFFERS
#include "tape/Codegen/CPU/Passes.h.inc"
} // namespace mlir::tape::cpu

using namespace mlir;

namespace {

constexpr int64_t kSlotAlignment = 64;

/// The iterations of a parallel loop with constant bounds, and the index
/// of the current one (built at the start of its body): the loop's
/// induction variables, normalized and linearized.
struct Iterations {
  int64_t count = 1;
  SmallVector<int64_t> lbs, steps, trips;
  SmallVector<Value> ivs;
};

std::optional<Iterations> iterationsOf(Operation *loop) {
  Iterations it;
  SmallVector<OpFoldResult> lbs, ubs, steps;
  if (auto forall = dyn_cast<scf::ForallOp>(loop)) {
    lbs = forall.getMixedLowerBound();
    ubs = forall.getMixedUpperBound();
    steps = forall.getMixedStep();
    it.ivs = llvm::to_vector(forall.getInductionVars());
  } else if (auto parallel = dyn_cast<scf::ParallelOp>(loop)) {
    lbs = getAsOpFoldResult(parallel.getLowerBound());
    ubs = getAsOpFoldResult(parallel.getUpperBound());
    steps = getAsOpFoldResult(parallel.getStep());
    it.ivs = llvm::to_vector(parallel.getInductionVars());
  } else {
    return std::nullopt;
  }
  for (auto [lb, ub, step] : llvm::zip_equal(lbs, ubs, steps)) {
    std::optional<int64_t> l = getConstantIntValue(lb),
                           u = getConstantIntValue(ub),
                           s = getConstantIntValue(step);
    if (!l || !u || !s || *s <= 0)
      return std::nullopt;
    int64_t trips = *u > *l ? (*u - *l + *s - 1) / *s : 0;
    if (trips > 0 && it.count > std::numeric_limits<int64_t>::max() / trips)
      return std::nullopt;
    it.count *= std::max<int64_t>(trips, 1);
    it.lbs.push_back(*l);
    it.steps.push_back(*s);
    it.trips.push_back(trips);
  }
  return it;
}

/// The bytes of one slot for `type`: its elements, rounded up so that
/// every slot starts at a multiple of `alignment`. None if it has no
/// static size or the size does not fit in 64 bits.
std::optional<int64_t> slotBytes(MemRefType type, int64_t alignment) {
  if (!type.hasStaticShape() || !type.getLayout().isIdentity() ||
      !type.getElementType().isIntOrFloat())
    return std::nullopt;
  int64_t bits = type.getElementTypeBitWidth();
  if (bits % 8)
    return std::nullopt;
  int64_t elements = type.getNumElements(), width = bits / 8;
  if (elements > (std::numeric_limits<int64_t>::max() - alignment) / width)
    return std::nullopt;
  int64_t bytes = elements * width;
  return (bytes + alignment - 1) / alignment * alignment;
}

struct PrivatizeBuffersPass
    : public mlir::tape::cpu::impl::PrivatizeBuffersBase<PrivatizeBuffersPass> {
  void runOnOperation() override {
    SmallVector<memref::AllocOp> allocs;
    getOperation().walk([&](memref::AllocOp alloc) {
      if (isa<scf::ForallOp, scf::ParallelOp>(alloc->getParentOp()) &&
          alloc.getDynamicSizes().empty() && alloc.getSymbolOperands().empty())
        allocs.push_back(alloc);
    });
    for (memref::AllocOp alloc : allocs)
      privatize(alloc);
  }

  void privatize(memref::AllocOp alloc) {
    Operation *loop = alloc->getParentOp();
    std::optional<Iterations> it = iterationsOf(loop);
    // Slots as aligned as the alloc asked (a power of two), at least 64.
    int64_t alignment =
        std::max<int64_t>(kSlotAlignment, alloc.getAlignment().value_or(0));
    if (!llvm::isPowerOf2_64(alignment))
      return;
    std::optional<int64_t> slot = slotBytes(alloc.getType(), alignment);
    if (!it || !slot ||
        *slot > std::numeric_limits<int64_t>::max() / it->count)
      return;
    Location loc = alloc.getLoc();
    OpBuilder b(loop);
    auto bytesType =
        MemRefType::get({*slot * it->count}, b.getIntegerType(8));
    Value slots = memref::AllocOp::create(
        b, loc, bytesType, ValueRange{}, ValueRange{},
        b.getI64IntegerAttr(alignment));

    // index = ((iv0 - lb0) / step0) * trips1 + (iv1 - lb1) / step1 ...
    b.setInsertionPoint(alloc);
    auto c = [&](int64_t v) -> Value {
      return arith::ConstantIndexOp::create(b, loc, v);
    };
    Value index = c(0);
    for (auto [iv, lb, step, trips] :
         llvm::zip_equal(it->ivs, it->lbs, it->steps, it->trips)) {
      Value normalized = b.createOrFold<arith::DivUIOp>(
          loc, b.createOrFold<arith::SubIOp>(loc, iv, c(lb)), c(step));
      index = b.createOrFold<arith::AddIOp>(
          loc, b.createOrFold<arith::MulIOp>(loc, index, c(trips)),
          normalized);
    }
    Value offset = b.createOrFold<arith::MulIOp>(loc, index, c(*slot));
    Value view = memref::ViewOp::create(b, loc, alloc.getType(), slots, offset,
                                        ValueRange{});
    alloc.replaceAllUsesWith(view);
    // Its deallocation, if bufferization placed one, frees nothing now.
    for (Operation *user : llvm::make_early_inc_range(view.getUsers()))
      if (isa<memref::DeallocOp>(user))
        user->erase();
    alloc.erase();
  }
};

} // namespace
