//===- OutlineLoopNests.cpp - One function per top-level loop nest --------===//
//
// A train step lowers to one function of hundreds of loop nests. LLVM's
// loop passes (induction variable simplification, loop rotation,
// unrolling) and its scheduler cost more than linearly in a function's
// size, so the step's compile time grew faster than its code. Each large
// top-level loop nest becomes a private, never-inlined function called in
// its place; the step is a sequence of calls. Nests that differ only in
// the buffers they touch (a network's layers) share one function.
//
//===----------------------------------------------------------------------===//

#include "tape/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/RegionUtils.h"

namespace mlir::tape::cpu {
#define GEN_PASS_DEF_OUTLINELOOPNESTS
#include "tape/Codegen/CPU/Passes.h.inc"
} // namespace mlir::tape::cpu

using namespace mlir;

namespace {

/// True if the bare-pointer calling convention can pass `type`.
bool isPassable(Type type) {
  if (isa<IndexType, IntegerType, FloatType>(type))
    return true;
  auto memref = dyn_cast<MemRefType>(type);
  return memref && memref.hasStaticShape() && memref.getLayout().isIdentity();
}

/// Collects, for the values `op` uses from above, the arguments the
/// outlined function takes (`arguments`) and the side-effect-free ops it
/// recomputes instead (constants, and views of passable values that are
/// not passable themselves: a strided subview cannot be passed as a bare
/// pointer), in an order that defines each before its users. A passable
/// view is passed, not recomputed: its offset into the workspace then
/// stays in the caller, and two nests that differ only in which buffers
/// they touch become the same function. Fails if a value is neither.
LogicalResult collectInputs(Operation *op, SetVector<Value> &arguments,
                            SetVector<Operation *> &recomputed) {
  SetVector<Value> used;
  getUsedValuesDefinedAbove(op->getRegions(), used);
  used.insert(op->getOperands().begin(), op->getOperands().end());
  std::function<LogicalResult(Value)> visit = [&](Value v) -> LogicalResult {
    Operation *def = v.getDefiningOp();
    bool recomputable = def && def->getNumRegions() == 0 &&
                        isMemoryEffectFree(def) && def->getNumResults() == 1;
    if (recomputable && def->hasTrait<OpTrait::ConstantLike>()) {
      recomputed.insert(def);
      return success();
    }
    if (isPassable(v.getType())) {
      arguments.insert(v);
      return success();
    }
    if (!recomputable || isa<IndexType, IntegerType, FloatType>(v.getType()))
      return failure();
    if (recomputed.contains(def))
      return success();
    for (Value operand : def->getOperands())
      if (failed(visit(operand)))
        return failure();
    recomputed.insert(def);
    return success();
  };
  for (Value v : used)
    if (failed(visit(v)))
      return failure();
  return success();
}

/// True if an op inside `op` frees a buffer defined outside it (the
/// `scf.if { memref.dealloc }` that ownership-based deallocation emits).
/// Such a nest stays in place: the bare-pointer convention passes only
/// the aligned pointer, and `free` needs the allocated one.
bool freesBufferFromAbove(Operation *op) {
  WalkResult result = op->walk([&](MemoryEffectOpInterface effects) {
    SmallVector<MemoryEffects::EffectInstance> instances;
    effects.getEffects(instances);
    for (const MemoryEffects::EffectInstance &effect : instances) {
      Value value = effect.getValue();
      if (isa<MemoryEffects::Free>(effect.getEffect()) &&
          (!value || !op->isAncestor(value.getParentRegion()->getParentOp())))
        return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return result.wasInterrupted();
}

/// True if `v` is a buffer its function allocates on the heap (the
/// deallocation's small bookkeeping arrays, a buffer a loop carries). A
/// nest that uses one stays in place: LLVM removes a `malloc` whose
/// memory does not leave its function, and a call would let it escape.
bool isHeapAllocation(Value v) { return v.getDefiningOp<memref::AllocOp>(); }

int64_t countOps(Operation *op) {
  int64_t n = 0;
  op->walk([&](Operation *) { ++n; });
  return n;
}

struct OutlineLoopNestsPass
    : public mlir::tape::cpu::impl::OutlineLoopNestsBase<OutlineLoopNestsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    candidates.clear();
    SmallVector<func::FuncOp> functions(module.getOps<func::FuncOp>());
    for (func::FuncOp fn : functions) {
      if (fn.isExternal() || !fn.getBody().hasOneBlock())
        continue;
      unsigned count = 0;
      Operation *last = fn; // the outlined functions follow their caller
      for (Operation &op :
           llvm::make_early_inc_range(fn.getBody().front().without_terminator())) {
        if (op.getNumRegions() == 0 || op.getNumResults() != 0 ||
            countOps(&op) < minOps || freesBufferFromAbove(&op))
          continue;
        SetVector<Value> arguments;
        SetVector<Operation *> recomputed;
        if (failed(collectInputs(&op, arguments, recomputed)) ||
            llvm::any_of(arguments, isHeapAllocation))
          continue;
        auto [outlined, call] =
            outline(fn, op, arguments, recomputed, count++, last, symbols);
        SmallVector<func::FuncOp> &alike =
            candidates[{outlined.getFunctionType(), countOps(outlined)}];
        if (func::FuncOp same = findEquivalent(outlined, alike)) {
          call.setCallee(same.getSymName());
          symbols.erase(outlined);
          continue;
        }
        alike.push_back(outlined);
        last = outlined;
      }
    }
  }

  /// The function among `alike` (outlined before, with the same signature
  /// and size) whose body equals that of `outlined` up to locations, or
  /// null. Layers of a network repeat their nests with other buffers;
  /// their code is compiled once.
  static func::FuncOp findEquivalent(func::FuncOp outlined,
                                     ArrayRef<func::FuncOp> alike) {
    for (func::FuncOp other : alike)
      if (OperationEquivalence::isRegionEquivalentTo(
              &other.getBody(), &outlined.getBody(),
              OperationEquivalence::IgnoreLocations))
        return other;
    return {};
  }

  /// The outlined functions of this run so far, by signature and size.
  DenseMap<std::pair<Type, int64_t>, SmallVector<func::FuncOp>> candidates;

  /// Moves `op` into a new function placed after `after`; returns it and
  /// the call that replaces `op`.
  std::pair<func::FuncOp, func::CallOp> outline(func::FuncOp fn, Operation &op,
                     const SetVector<Value> &arguments,
                     const SetVector<Operation *> &recomputed, unsigned index,
                     Operation *after, SymbolTable &symbols) {
    OpBuilder b(fn->getContext());
    b.setInsertionPointAfter(after);
    Location loc = op.getLoc();
    SmallVector<Type> types;
    for (Value v : arguments)
      types.push_back(v.getType());
    auto outlined = func::FuncOp::create(
        b, loc, (fn.getName() + "__loop" + Twine(index)).str(),
        b.getFunctionType(types, {}));
    outlined.setPrivate();
    // Internal linkage (two objects tape-compile wrote link together), and
    // never inlined: LLVM would put a function with one caller right back.
    // Both reach llvm.func through the conversion to LLVM.
    outlined->setAttr("llvm.linkage", LLVM::LinkageAttr::get(
                                          b.getContext(), LLVM::Linkage::Internal));
    outlined->setAttr("passthrough", b.getArrayAttr({b.getStringAttr("noinline")}));
    symbols.insert(outlined, std::next(Block::iterator(after)));
    Block *body = outlined.addEntryBlock();
    IRMapping mapping;
    for (auto [value, arg] : llvm::zip(arguments, body->getArguments()))
      mapping.map(value, arg);
    OpBuilder inside = OpBuilder::atBlockBegin(body);
    // Recomputed ops in an order that defines operands first: the order
    // they appear in the caller.
    SmallVector<Operation *> ordered(recomputed.begin(), recomputed.end());
    llvm::sort(ordered, [](Operation *x, Operation *y) {
      return x->getBlock() == y->getBlock() ? x->isBeforeInBlock(y) : x < y;
    });
    for (Operation *def : ordered)
      inside.clone(*def, mapping);
    inside.clone(op, mapping);
    func::ReturnOp::create(inside, loc);
    b.setInsertionPoint(&op);
    auto call = func::CallOp::create(b, loc, outlined, arguments.getArrayRef());
    op.erase();
    return {outlined, call};
  }
};

} // namespace
