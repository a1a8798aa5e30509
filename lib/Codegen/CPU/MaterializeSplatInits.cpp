//===- MaterializeSplatInits.cpp - A private fill per splat destination ---===//
//
// Bufferization gives a destination-style op, or a loop carrying a tensor,
// the buffer of its init. An init that is a splat constant or a fill
// shared with other users costs a copy (from the constant's global, or to
// keep the shared buffer intact); a private fill costs one write, which
// kernels often fold. A loop that overwrites its init slice by slice needs
// no fill before it, only one per slice. See the pass description in
// Passes.td.
//
//===----------------------------------------------------------------------===//

#include "tape/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir::tape::cpu {
#define GEN_PASS_DEF_MATERIALIZESPLATINITS
#include "tape/Codegen/CPU/Passes.h.inc"
} // namespace mlir::tape::cpu

using namespace mlir;

namespace {

/// The scalar every element of the statically shaped tensor `init` holds,
/// if taking it as a destination costs a copy that a private fill saves:
/// a splat constant (a read-only global), a fill that another op also uses
/// (`shared`: some value on the way has other users), or either seen
/// through reshapes, transposes and broadcasts (which copy the constant in
/// a pass of their own). Built at `b`'s insertion point if it must be.
static Value splatScalarOf(OpBuilder &b, Value init, bool shared = false) {
  auto type = dyn_cast<RankedTensorType>(init.getType());
  if (!type || !type.hasStaticShape())
    return {};
  shared |= !init.hasOneUse();
  Operation *def = init.getDefiningOp();
  if (isa_and_nonnull<tensor::CollapseShapeOp, tensor::ExpandShapeOp>(def))
    return splatScalarOf(b, def->getOperand(0), shared);
  if (auto transpose = dyn_cast_or_null<linalg::TransposeOp>(def))
    return transpose.hasPureTensorSemantics()
               ? splatScalarOf(b, transpose.getInput(), /*shared=*/true)
               : Value();
  if (auto broadcast = dyn_cast_or_null<linalg::BroadcastOp>(def))
    return broadcast.hasPureTensorSemantics()
               ? splatScalarOf(b, broadcast.getInput(), /*shared=*/true)
               : Value();
  if (auto fill = dyn_cast_or_null<linalg::FillOp>(def)) {
    if (!fill.hasPureTensorSemantics() || !shared)
      return {};
    return fill.getInputs()[0];
  }
  auto constant = dyn_cast_or_null<arith::ConstantOp>(def);
  auto splat = constant
                   ? dyn_cast<SplatElementsAttr>(constant.getValue())
                   : SplatElementsAttr();
  if (!splat)
    return {};
  auto element = splat.getSplatValue<Attribute>();
  if (!isa<FloatAttr, IntegerAttr>(element))
    return {};
  return arith::ConstantOp::create(b, constant.getLoc(),
                                   cast<TypedAttr>(element))
      .getResult();
}

/// Erases the op defining `value` if nothing uses it any more, and so on
/// up the ops it read from (not control flow, such as a loop).
static void eraseIfUnused(Value value) {
  Operation *def = value.getDefiningOp();
  if (!def || !def->use_empty() || isa<RegionBranchOpInterface>(def) ||
      !isMemoryEffectFree(def))
    return;
  SmallVector<Value> operands(def->getOperands());
  def->erase();
  for (Value operand : operands)
    eraseIfUnused(operand);
}

/// The read of iteration iv's slice, when `loop` runs iv over [0, N) by 1
/// and each iteration reads slice iv of the tensor it carries from `init`
/// along one dimension of size N (offset iv, size 1, the whole of every
/// other dimension) and writes it back in place of that slice, and does
/// nothing else with the tensor: the iterations then overwrite the tensor
/// whole, and each reads its slice before anything wrote it.
static tensor::ExtractSliceOp readOfOwnSlice(scf::ForOp loop,
                                             OpOperand &init) {
  std::optional<int64_t> lb = getConstantIntValue(loop.getLowerBound());
  std::optional<int64_t> ub = getConstantIntValue(loop.getUpperBound());
  std::optional<int64_t> step = getConstantIntValue(loop.getStep());
  if (!lb || !ub || !step || *lb != 0 || *step != 1)
    return {};
  BlockArgument carried = loop.getTiedLoopRegionIterArg(&init);
  auto type = dyn_cast<RankedTensorType>(carried.getType());
  if (!type || !type.hasStaticShape() || !carried.hasNUses(2))
    return {};
  tensor::ExtractSliceOp read;
  tensor::InsertSliceOp write;
  for (OpOperand &use : carried.getUses()) {
    if (auto e = dyn_cast<tensor::ExtractSliceOp>(use.getOwner()))
      read = e;
    else if (auto i = dyn_cast<tensor::InsertSliceOp>(use.getOwner());
             i && use.getOperandNumber() == 1)
      write = i;
  }
  OpOperand *yielded = loop.getTiedLoopYieldedValue(carried);
  if (!read || !write || yielded->get() != write.getResult() ||
      !write->hasOneUse() || read->getBlock() != loop.getBody() ||
      write->getBlock() != loop.getBody() || !read->isBeforeInBlock(write))
    return {};
  if (!llvm::equal(read.getMixedOffsets(), write.getMixedOffsets()) ||
      !llvm::equal(read.getMixedSizes(), write.getMixedSizes()) ||
      !llvm::equal(read.getMixedStrides(), write.getMixedStrides()))
    return {};
  // Offset iv along one dimension of size ub (size 1), 0 along the others
  // (their whole size), unit strides.
  int sliced = -1;
  for (int64_t d = 0; d < type.getRank(); ++d) {
    OpFoldResult offset = read.getMixedOffsets()[d];
    std::optional<int64_t> size = getConstantIntValue(read.getMixedSizes()[d]);
    std::optional<int64_t> stride =
        getConstantIntValue(read.getMixedStrides()[d]);
    if (!size || stride != 1)
      return {};
    if (auto value = dyn_cast<Value>(offset);
        value && value == loop.getInductionVar() && *size == 1 &&
        type.getDimSize(d) == *ub && sliced < 0) {
      sliced = d;
      continue;
    }
    if (getConstantIntValue(offset) != 0 || *size != type.getDimSize(d))
      return {};
  }
  return sliced < 0 ? tensor::ExtractSliceOp() : read;
}

struct TapeMaterializeSplatInitsPass
    : public mlir::tape::cpu::impl::MaterializeSplatInitsBase<
          TapeMaterializeSplatInitsPass> {
  void runOnOperation() override {
    // A loop that overwrites its splat init slice by slice starts from an
    // empty tensor, and each iteration fills its own slice just before
    // using it (where the kernels fold a zero fill), instead of the whole
    // tensor being filled before the loop.
    SmallVector<scf::ForOp> loops;
    getOperation().walk([&](scf::ForOp loop) { loops.push_back(loop); });
    for (scf::ForOp loop : loops) {
      for (OpOperand &init : loop.getInitArgsMutable()) {
        tensor::ExtractSliceOp read = readOfOwnSlice(loop, init);
        if (!read)
          continue;
        OpBuilder b(loop);
        Value old = init.get();
        Value scalar = splatScalarOf(b, old, /*shared=*/true);
        if (!scalar)
          continue;
        auto type = cast<RankedTensorType>(old.getType());
        init.set(tensor::EmptyOp::create(b, loop.getLoc(), type.getShape(),
                                         type.getElementType()));
        b.setInsertionPointAfter(read);
        auto fill = linalg::FillOp::create(b, read.getLoc(), scalar,
                                           read.getResult());
        read.getResult().replaceAllUsesExcept(fill.getResult(0), fill);
        eraseIfUnused(old);
      }
    }
    // Destinations of destination-style ops, and the initial values of
    // loops that carry a tensor (a loop's first iteration writes into it).
    SmallVector<OpOperand *> inits;
    getOperation().walk([&](Operation *op) {
      if (auto dps = dyn_cast<DestinationStyleOpInterface>(op)) {
        // A fill's own init is what it overwrites: nothing to gain.
        if (!dps.hasPureTensorSemantics() || isa<linalg::FillOp>(op))
          return;
        for (OpOperand &init : dps.getDpsInitsMutable())
          if (isa<RankedTensorType>(init.get().getType()))
            inits.push_back(&init);
      } else if (auto loop = dyn_cast<scf::ForOp>(op)) {
        for (OpOperand &init : loop.getInitArgsMutable())
          if (isa<RankedTensorType>(init.get().getType()))
            inits.push_back(&init);
      }
    });
    for (OpOperand *init : inits) {
      Operation *user = init->getOwner();
      OpBuilder b(user);
      Value old = init->get();
      Value scalar = splatScalarOf(b, old);
      if (!scalar)
        continue;
      auto type = cast<RankedTensorType>(old.getType());
      Value empty = tensor::EmptyOp::create(b, user->getLoc(), type.getShape(),
                                            type.getElementType());
      init->set(linalg::FillOp::create(b, user->getLoc(), scalar, empty)
                    .getResult(0));
      // The shared fill or constant goes with its last user.
      eraseIfUnused(old);
    }
  }
};

} // namespace
