//===- OutlineLoopNests.cpp - One function per top-level loop nest --------===//
//
// A train step lowers to one function of hundreds of loop nests. LLVM's
// loop passes (induction variable simplification, loop rotation,
// unrolling) and its scheduler cost more than linearly in a function's
// size, so the step's compile time grew faster than its code. Each large
// top-level loop nest becomes a private, never-inlined function called in
// its place; the step is a sequence of calls.
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
/// recomputes instead (constants, views and subviews of passable values:
/// a strided view cannot be passed as a bare pointer), in an order that
/// defines each before its users. Fails if a value is neither.
LogicalResult collectInputs(Operation *op, SetVector<Value> &arguments,
                            SetVector<Operation *> &recomputed) {
  SetVector<Value> used;
  getUsedValuesDefinedAbove(op->getRegions(), used);
  used.insert(op->getOperands().begin(), op->getOperands().end());
  std::function<LogicalResult(Value)> visit = [&](Value v) -> LogicalResult {
    Operation *def = v.getDefiningOp();
    bool recomputable = def && def->getNumRegions() == 0 &&
                        isMemoryEffectFree(def) && def->getNumResults() == 1;
    if (recomputable && !isa<IndexType, IntegerType, FloatType>(v.getType())) {
      if (recomputed.contains(def))
        return success();
      for (Value operand : def->getOperands())
        if (failed(visit(operand)))
          return failure();
      recomputed.insert(def);
      return success();
    }
    if (recomputable && def->hasTrait<OpTrait::ConstantLike>()) {
      recomputed.insert(def);
      return success();
    }
    if (!isPassable(v.getType()))
      return failure();
    arguments.insert(v);
    return success();
  };
  for (Value v : used)
    if (failed(visit(v)))
      return failure();
  return success();
}

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
    SmallVector<func::FuncOp> functions(module.getOps<func::FuncOp>());
    for (func::FuncOp fn : functions) {
      if (fn.isExternal() || !fn.getBody().hasOneBlock())
        continue;
      unsigned count = 0;
      Operation *last = fn; // the outlined functions follow their caller
      for (Operation &op :
           llvm::make_early_inc_range(fn.getBody().front().without_terminator())) {
        if (op.getNumRegions() == 0 || op.getNumResults() != 0 ||
            countOps(&op) < minOps)
          continue;
        SetVector<Value> arguments;
        SetVector<Operation *> recomputed;
        if (failed(collectInputs(&op, arguments, recomputed)))
          continue;
        last = outline(fn, op, arguments, recomputed, count++, last, symbols);
      }
    }
  }

  /// Moves `op` into a new function placed after `after`; returns it.
  Operation *outline(func::FuncOp fn, Operation &op,
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
    func::CallOp::create(b, loc, outlined, arguments.getArrayRef());
    op.erase();
    return outlined;
  }
};

} // namespace
