//===- EmptyArguments.cpp - Arguments without elements in the bare ABI ----===//
//
// Upstream's bare-pointer convention cannot take some memref types without
// elements (memref<2x0xf32>) and silently falls back to descriptors for the
// whole function. Such an argument holds nothing, so it is passed as
// memref<0xT> and its uses see an empty alloca of the original type.
//
//===----------------------------------------------------------------------===//

#include "tape/ABI/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

namespace mlir::tape::abi {
#define GEN_PASS_DEF_EMPTYARGUMENTS
#include "tape/ABI/Passes.h.inc"
} // namespace mlir::tape::abi

using namespace mlir;

namespace {

/// memref<0xT> for a statically shaped memref without elements, else null.
MemRefType emptyReplacement(Type type) {
  auto memref = dyn_cast<MemRefType>(type);
  if (!memref || !memref.hasStaticShape() || memref.getNumElements() != 0)
    return nullptr;
  auto flat = MemRefType::get({0}, memref.getElementType(), MemRefLayoutAttrInterface(),
                              memref.getMemorySpace());
  return flat == memref ? nullptr : flat;
}

struct EmptyArgumentsPass
    : public mlir::tape::abi::impl::EmptyArgumentsBase<EmptyArgumentsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    DenseSet<StringAttr> changed;
    for (auto fn : module.getOps<func::FuncOp>()) {
      if (fn.isExternal())
        continue;
      Block &entry = fn.getBody().front();
      SmallVector<Type> inputs(fn.getArgumentTypes());
      bool any = false;
      for (auto [i, arg] : llvm::enumerate(entry.getArguments())) {
        MemRefType flat = emptyReplacement(arg.getType());
        if (!flat)
          continue;
        OpBuilder b = OpBuilder::atBlockBegin(&entry);
        Value empty = memref::AllocaOp::create(b, fn.getLoc(),
                                               cast<MemRefType>(arg.getType()));
        arg.replaceAllUsesWith(empty);
        arg.setType(flat);
        inputs[i] = flat;
        any = true;
      }
      if (!any)
        continue;
      fn.setType(FunctionType::get(fn.getContext(), inputs,
                                   fn.getResultTypes()));
      changed.insert(fn.getSymNameAttr());
    }
    module.walk([&](func::CallOp call) {
      if (!changed.contains(call.getCalleeAttr().getAttr()))
        return;
      auto callee = module.lookupSymbol<func::FuncOp>(call.getCalleeAttr());
      OpBuilder b(call);
      for (auto [i, type] : llvm::enumerate(callee.getArgumentTypes()))
        if (call.getOperand(i).getType() != type)
          call->setOperand(i, memref::AllocaOp::create(
                                  b, call.getLoc(), cast<MemRefType>(type)));
    });
  }
};

} // namespace
