//===- FuseElementwiseLoops.cpp - One loop for neighbouring updates -------===//
//
// Upstream elementwise fusion works on tensors and fuses a producer into its
// consumer only when the consumer is its sole user. An optimizer's update
// is several in-place updates of state buffers that read each other's new
// values (Adam: m, then v, then w from m and v): after bufferization they
// are neighbouring loops over the same domain, each streaming its operands
// from memory again. On buffers, two neighbouring elementwise generics whose
// indexing maps are all identities can always become one loop: iteration i
// of either only touches element i of every operand, so doing both at i
// before moving on keeps every value each one reads.
//
//===----------------------------------------------------------------------===//

#include "tape/Codegen/CPU/Passes.h"

#include "IdentityElementwise.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mlir::tape::cpu {
#define GEN_PASS_DEF_FUSEELEMENTWISELOOPS
#include "tape/Codegen/CPU/Passes.h.inc"
} // namespace mlir::tape::cpu

using namespace mlir;

/// An elementwise generic on whole, statically shaped buffers: all loops
/// parallel, every map an identity, every operand a function argument or an
/// allocation (a view could partly overlap another operand), and a body
/// that touches no memory itself (a load from a captured buffer could read
/// an element the other loop has not written yet).
static bool isElementwiseOnWholeBuffers(Operation *op) {
  auto generic = dyn_cast<linalg::GenericOp>(op);
  if (!generic || !generic.hasPureBufferSemantics() ||
      generic.getNumLoops() == 0 || !tape::isIdentityElementwise(generic))
    return false;
  bool bodyTouchesMemory =
      generic.getRegion()
          .walk([](Operation *nested) {
            return isMemoryEffectFree(nested) ? WalkResult::advance()
                                              : WalkResult::interrupt();
          })
          .wasInterrupted();
  if (bodyTouchesMemory)
    return false;
  return llvm::all_of(generic->getOperands(), [](Value v) {
    auto type = dyn_cast<MemRefType>(v.getType());
    return type && type.hasStaticShape() && type.getLayout().isIdentity() &&
           (isa<BlockArgument>(v) || v.getDefiningOp<memref::AllocOp>());
  });
}

static bool sameDomain(linalg::GenericOp a, linalg::GenericOp b) {
  return a.getStaticLoopRanges() == b.getStaticLoopRanges();
}

/// One generic doing `first` then `second` at every index; inserted at
/// `second` (anything between them is free of memory effects).
static linalg::GenericOp merge(linalg::GenericOp first,
                               linalg::GenericOp second) {
  SmallVector<Value> inputs(first.getDpsInputs());
  SmallVector<Value> outputs(first.getDpsInits());
  for (Value v : second.getDpsInputs())
    if (!llvm::is_contained(outputs, v) && !llvm::is_contained(inputs, v))
      inputs.push_back(v);
  for (Value v : second.getDpsInits())
    if (!llvm::is_contained(outputs, v))
      outputs.push_back(v);

  unsigned rank = first.getNumLoops();
  MLIRContext *ctx = first.getContext();
  SmallVector<AffineMap> maps(inputs.size() + outputs.size(),
                              AffineMap::getMultiDimIdentityMap(rank, ctx));
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  OpBuilder b(second);
  auto fused = linalg::GenericOp::create(
      b, FusedLoc::get(ctx, {first.getLoc(), second.getLoc()}), inputs,
      outputs, maps, iterators,
      [&](OpBuilder &nb, Location loc, ValueRange args) {
        // The value each buffer holds at this index so far.
        llvm::DenseMap<Value, Value> current;
        for (auto [i, v] : llvm::enumerate(inputs))
          current[v] = args[i];
        for (auto [i, v] : llvm::enumerate(outputs))
          current.try_emplace(v, args[inputs.size() + i]);
        for (linalg::GenericOp op : {first, second}) {
          Block &body = op.getRegion().front();
          IRMapping map;
          for (OpOperand &operand : op->getOpOperands())
            map.map(body.getArgument(operand.getOperandNumber()),
                    current.lookup(operand.get()));
          for (Operation &nested : body.without_terminator())
            nb.clone(nested, map);
          for (auto [init, yielded] :
               llvm::zip(op.getDpsInits(), body.getTerminator()->getOperands()))
            current[init] = map.lookupOrDefault(yielded);
        }
        SmallVector<Value> results;
        for (Value v : outputs)
          results.push_back(current.lookup(v));
        linalg::YieldOp::create(nb, loc, results);
      });
  first.erase();
  second.erase();
  return fused;
}

namespace {

struct TapeFuseElementwiseLoopsPass
    : public mlir::tape::cpu::impl::FuseElementwiseLoopsBase<
          TapeFuseElementwiseLoopsPass> {
  void runOnOperation() override {
    getOperation().walk([](Block *block) {
      linalg::GenericOp open; // the last loop, still open to fusion
      for (Operation &op : llvm::make_early_inc_range(*block)) {
        if (isElementwiseOnWholeBuffers(&op)) {
          auto generic = cast<linalg::GenericOp>(op);
          open = open && sameDomain(open, generic) ? merge(open, generic)
                                                   : generic;
          continue;
        }
        // Pure ops (constants, scalar math) may sit between two loops.
        if (!isMemoryEffectFree(&op) || op.getNumRegions())
          open = nullptr;
      }
    });
  }
};

} // namespace
