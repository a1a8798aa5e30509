//===- AllocateWorkspace.cpp - Temporaries into a caller's workspace ------===//
//
// Fixed-size temporaries of a step become views into one workspace buffer
// that the caller provides, so steps do no heap allocation. Temporaries
// whose lifetimes do not overlap share bytes: a lifetime runs from the
// alloc to the last top-level op that uses it or any view of it (a use
// inside a loop or branch keeps it alive for the whole loop or branch).
// Offsets are first-fit in program order. Callees get the bytes after the
// caller's.
//
// Allocations inside loops and branches are hoisted before this pass by
// upstream's buffer-hoisting and buffer-loop-hoisting, except a buffer a
// loop iteration yields to the next: a loop at the top level of a function
// that yields a fresh alloc gets two buffers and alternates between them
// (each iteration writes the one its loop-carried argument is not), so
// that a recurrence (an RNN's hidden state, the reverse sweep's adjoints)
// needs no allocation per iteration either.
//
//===----------------------------------------------------------------------===//

#include "tape/ABI/Passes.h"
#include "tape/Dialect/Tape/TapeDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

namespace mlir::tape::abi {
#define GEN_PASS_DEF_ALLOCATEWORKSPACE
#include "tape/ABI/Passes.h.inc"
} // namespace mlir::tape::abi

using namespace mlir;
using namespace mlir::tape;

namespace {

constexpr int64_t kAlignment = 64;

int64_t alignUp(int64_t n) { return (n + kAlignment - 1) / kAlignment * kAlignment; }

struct TapeAllocateWorkspacePass
    : public mlir::tape::abi::impl::AllocateWorkspaceBase<TapeAllocateWorkspacePass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<func::FuncOp> functions;
    for (auto fn : module.getOps<func::FuncOp>())
      if (fn->hasAttr(TapeDialect::LiftedAttrHelper::getNameStr()) &&
          !fn.isExternal())
        functions.push_back(fn);
    DenseMap<StringAttr, func::FuncOp> byName;
    for (func::FuncOp fn : functions)
      byName[fn.getSymNameAttr()] = fn;

    // Callees first: a caller's workspace holds its callees'.
    DenseMap<func::FuncOp, int64_t> size;
    DenseSet<func::FuncOp> visiting;
    std::function<LogicalResult(func::FuncOp)> visit =
        [&](func::FuncOp fn) -> LogicalResult {
      if (size.count(fn))
        return success();
      if (!visiting.insert(fn).second)
        return fn.emitOpError("is recursive; tape-abi-allocate-workspace needs "
                              "an acyclic call graph");
      WalkResult walk = fn.walk([&](func::CallOp call) {
        auto it = byName.find(call.getCalleeAttr().getAttr());
        if (it != byName.end() && failed(visit(it->second)))
          return WalkResult::interrupt();
        return WalkResult::advance();
      });
      if (walk.wasInterrupted())
        return failure();
      // Temporaries become views of the caller's workspace, which must
      // never be freed: the pass runs before buffer deallocation.
      WalkResult freed = fn.walk([&](memref::DeallocOp dealloc) {
        dealloc.emitOpError("frees a buffer before "
                            "tape-abi-allocate-workspace ran")
                .attachNote()
            << "run tape-abi-allocate-workspace before buffer deallocation "
               "(as tape-to-llvm does)";
        return WalkResult::interrupt();
      });
      if (freed.wasInterrupted())
        return failure();
      size[fn] = rewrite(fn, byName, size);
      return success();
    };
    for (func::FuncOp fn : functions)
      if (failed(visit(fn)))
        return signalPassFailure();
  }

  /// The values that alias `root`: views and casts of it, what a region
  /// yields out of it, the region arguments it is passed to.
  static SmallVector<Value> aliases(Value root) {
    SmallVector<Value> worklist{root}, all{root};
    DenseSet<Value> seen{root};
    auto alias = [&](Value v) {
      if (isa<BaseMemRefType>(v.getType()) && seen.insert(v).second) {
        worklist.push_back(v);
        all.push_back(v);
      }
    };
    while (!worklist.empty()) {
      Value v = worklist.pop_back_val();
      for (OpOperand &use : v.getUses()) {
        Operation *owner = use.getOwner();
        for (Value r : owner->getResults())
          alias(r);
        if (owner->hasTrait<OpTrait::IsTerminator>())
          if (Operation *parent = owner->getParentOp())
            for (Value r : parent->getResults())
              alias(r);
        for (Region &region : owner->getRegions())
          for (Block &block : region)
            for (BlockArgument arg : block.getArguments())
              alias(arg);
      }
    }
    return all;
  }

  /// Gives each fresh buffer that an `scf.for` at the top level of `fn`
  /// yields to its next iteration two buffers before the loop, taking
  /// whichever the iteration's loop-carried argument is not:
  ///
  ///   %r = scf.for ... iter_args(%h = %init) {
  ///     %n = memref.alloc()            // written from %h
  ///     scf.yield %n
  ///   }
  ///
  /// becomes (with %a, %b then placed in the workspace like any temporary)
  ///
  ///   %a = memref.alloc()
  ///   %b = memref.alloc()
  ///   %r = scf.for ... iter_args(%h = %init) {
  ///     %n = arith.select (%h == %a), %b, %a
  ///     scf.yield %n
  ///   }
  ///
  /// Sound when the iteration's argument is dead once the iteration ends:
  /// no view of it is yielded (the next iteration then overwrites it).
  static void doubleBufferLoopCarried(func::FuncOp fn) {
    for (auto loop : llvm::make_early_inc_range(
             fn.getBody().front().getOps<scf::ForOp>())) {
      auto yield = cast<scf::YieldOp>(loop.getBody()->getTerminator());
      for (auto [k, yielded] : llvm::enumerate(yield.getOperands())) {
        auto alloc = yielded.getDefiningOp<memref::AllocOp>();
        BlockArgument carried = loop.getRegionIterArg(k);
        if (!alloc || alloc->getBlock() != loop.getBody() ||
            !isWorkspaceType(alloc.getType()) ||
            carried.getType() != alloc.getType() ||
            llvm::count(yield.getOperands(), yielded) != 1)
          continue;
        bool escapes = llvm::any_of(aliases(carried), [&](Value v) {
          return llvm::any_of(v.getUsers(), [&](Operation *user) {
            return user == yield.getOperation();
          });
        });
        if (escapes)
          continue;
        OpBuilder b(loop);
        Location loc = alloc.getLoc();
        auto first = cast<memref::AllocOp>(b.clone(*alloc));
        auto second = cast<memref::AllocOp>(b.clone(*alloc));
        b.setInsertionPoint(alloc);
        Value carriedAt =
            memref::ExtractAlignedPointerAsIndexOp::create(b, loc, carried);
        Value firstAt =
            memref::ExtractAlignedPointerAsIndexOp::create(b, loc, first);
        Value isFirst = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                              carriedAt, firstAt);
        Value other = arith::SelectOp::create(b, loc, isFirst, second, first);
        alloc.replaceAllUsesWith(other);
        alloc.erase();
      }
    }
  }

  /// A temporary the workspace can hold: a static, contiguous shape of
  /// plain elements in the default memory space.
  static bool isWorkspaceType(MemRefType type) {
    return type.hasStaticShape() && type.getLayout().isIdentity() &&
           !type.getMemorySpace() &&
           type.getElementType().isIntOrIndexOrFloat();
  }

  /// The position (in `body`) of the last op that uses `alloc` or a view
  /// of it; uses nested in regions count at their top-level ancestor.
  static int64_t lastUse(memref::AllocOp alloc, Block &body,
                         const DenseMap<Operation *, int64_t> &position,
                         int64_t start) {
    int64_t end = start;
    for (Value v : aliases(alloc.getResult()))
      for (Operation *user : v.getUsers())
        if (Operation *top = body.findAncestorOpInBlock(*user))
          end = std::max(end, position.lookup(top));
    return end;
  }

  /// Rewrites `fn` and returns its workspace size in bytes.
  int64_t rewrite(func::FuncOp fn,
                  const DenseMap<StringAttr, func::FuncOp> &byName,
                  const DenseMap<func::FuncOp, int64_t> &size) {
    doubleBufferLoopCarried(fn);
    Block &body = fn.getBody().front();
    DenseMap<Operation *, int64_t> position;
    for (auto [i, op] : llvm::enumerate(body))
      position[&op] = i;
    struct Slot {
      memref::AllocOp alloc;
      int64_t start, end, bytes, offset;
    };
    SmallVector<Slot> slots;
    for (Operation &op : body) {
      auto alloc = dyn_cast<memref::AllocOp>(op);
      if (!alloc)
        continue;
      MemRefType type = alloc.getType();
      if (!isWorkspaceType(type))
        continue;
      // Memory holds whole bytes per element (an i1 takes one, as LLVM
      // stores it), and index is 64-bit on our targets.
      Type element = type.getElementType();
      int64_t elementBytes =
          element.isIndex() ? 8
                            : (element.getIntOrFloatBitWidth() + 7) / 8;
      int64_t start = position[alloc];
      slots.push_back({alloc, start, lastUse(alloc, body, position, start),
                       alignUp(type.getNumElements() * elementBytes), 0});
    }
    // First fit: the lowest offset that no temporary alive at the same
    // time occupies.
    int64_t offset = 0;
    for (size_t i = 0; i < slots.size(); ++i) {
      Slot &slot = slots[i];
      int64_t at = 0;
      for (bool moved = true; moved;) {
        moved = false;
        for (size_t j = 0; j < i; ++j) {
          const Slot &other = slots[j];
          bool together = other.start <= slot.end && slot.start <= other.end;
          bool overlap = at < other.offset + other.bytes &&
                         other.offset < at + slot.bytes;
          if (together && overlap) {
            at = other.offset + other.bytes;
            moved = true;
          }
        }
      }
      slot.offset = at;
      offset = std::max(offset, at + slot.bytes);
    }
    SmallVector<std::pair<memref::AllocOp, int64_t>> allocs;
    for (const Slot &slot : slots)
      allocs.push_back({slot.alloc, slot.offset});
    // Callees use the bytes after this function's own temporaries.
    int64_t own = offset, callees = 0;
    SmallVector<func::CallOp> calls;
    fn.walk([&](func::CallOp call) {
      auto it = byName.find(call.getCalleeAttr().getAttr());
      if (it == byName.end())
        return;
      calls.push_back(call);
      callees = std::max(callees, size.lookup(it->second));
    });
    int64_t total = std::max<int64_t>(own + callees, kAlignment);

    MLIRContext *ctx = fn.getContext();
    auto wsType = MemRefType::get({total}, IntegerType::get(ctx, 8));
    unsigned index = fn.getNumArguments();
    if (failed(fn.insertArgument(index, wsType, DictionaryAttr::get(ctx),
                                 fn.getLoc())))
      return total;
    Value ws = fn.getArgument(index);
    OpBuilder b(ctx);
    for (auto [alloc, at] : allocs) {
      b.setInsertionPoint(alloc);
      Value off = arith::ConstantIndexOp::create(b, alloc.getLoc(), at);
      Value view = memref::ViewOp::create(b, alloc.getLoc(), alloc.getType(),
                                          ws, off, ValueRange{});
      alloc.replaceAllUsesWith(view);
      alloc.erase();
    }
    for (func::CallOp call : calls) {
      func::FuncOp callee = byName.lookup(call.getCalleeAttr().getAttr());
      int64_t calleeSize = size.lookup(callee);
      b.setInsertionPoint(call);
      Value off = arith::ConstantIndexOp::create(b, call.getLoc(), own);
      auto calleeType = MemRefType::get({calleeSize}, IntegerType::get(ctx, 8));
      Value view = memref::ViewOp::create(b, call.getLoc(), calleeType, ws,
                                          off, ValueRange{});
      SmallVector<Value> operands(call.getOperands());
      operands.push_back(view);
      auto newCall = func::CallOp::create(b, call.getLoc(),
                                          call.getCalleeAttr(),
                                          call.getResultTypes(), operands);
      call.replaceAllUsesWith(newCall.getResults());
      call.erase();
    }
    fn->setAttr(TapeDialect::WorkspaceBytesAttrHelper::getNameStr(),
                IntegerAttr::get(IntegerType::get(ctx, 64), total));
    return total;
  }
};

} // namespace
