//===- UpdateStateInPlace.cpp - Drop the state results after bufferization ===//

#include "tape/ABI/Passes.h"
#include "tape/Dialect/Tape/TapeOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/SymbolTable.h"

namespace mlir::tape::abi {
#define GEN_PASS_DEF_UPDATESTATEINPLACE
#include "tape/ABI/Passes.h.inc"
} // namespace mlir::tape::abi

using namespace mlir;
using namespace mlir::tape;

namespace {

struct TapeUpdateStateInPlacePass
    : public mlir::tape::abi::impl::UpdateStateInPlaceBase<
          TapeUpdateStateInPlacePass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto state = module->getAttrOfType<ArrayAttr>(
        TapeDialect::StateAttrHelper::getNameStr());
    if (!state)
      return; // nothing was lifted
    unsigned n = state.size();
    SmallVector<func::FuncOp> lifted;
    for (auto fn : module.getOps<func::FuncOp>())
      if (fn->hasAttr(TapeDialect::LiftedAttrHelper::getNameStr()) &&
          !fn.isExternal())
        lifted.push_back(fn);

    // Callers first: a call's state results become the buffers it passed,
    // so that a caller returning them returns its own arguments.
    DenseSet<StringAttr> names;
    for (func::FuncOp fn : lifted)
      names.insert(fn.getSymNameAttr());
    SmallVector<func::CallOp> calls;
    module.walk([&](func::CallOp call) {
      if (names.contains(call.getCalleeAttr().getAttr()))
        calls.push_back(call);
    });
    for (func::CallOp call : calls) {
      OpBuilder b(call);
      auto newCall = func::CallOp::create(
          b, call.getLoc(), call.getCalleeAttr(),
          TypeRange(call.getResultTypes()).drop_front(n), call.getOperands());
      // The callee updated the buffers the caller passed.
      for (unsigned i = 0; i < n; ++i)
        call.getResult(i).replaceAllUsesWith(call.getOperand(i));
      for (auto [old, now] : llvm::zip(call.getResults().drop_front(n),
                                       newCall.getResults()))
        old.replaceAllUsesWith(now);
      call.erase();
    }

    for (func::FuncOp fn : lifted) {
      FunctionType type = fn.getFunctionType();
      if (type.getNumInputs() < n || type.getNumResults() < n) {
        fn.emitOpError("does not take and return the ")
            << n << " state buffers that convert-tape-to-func adds";
        return signalPassFailure();
      }
      for (unsigned i = 0; i < n; ++i)
        if (!isa<MemRefType>(type.getInput(i))) {
          fn.emitOpError("state argument #")
              << i << " is not bufferized; run one-shot-bufferize with "
                      "bufferize-function-boundaries first";
          return signalPassFailure();
        }
      bool failedCopy = false;
      fn.walk([&](func::ReturnOp ret) {
        OpBuilder b(ret);
        for (unsigned i = 0; i < n; ++i) {
          Value result = ret.getOperand(i);
          Value arg = fn.getArgument(i);
          if (result == arg)
            continue;
          if (result.getType() != arg.getType()) {
            ret.emitOpError("returns state #")
                << i << " with type " << result.getType() << " for "
                << arg.getType();
            failedCopy = true;
            return;
          }
          if (reportCopies)
            ret.emitRemark("variable ")
                << cast<DictionaryAttr>(state[i]).get("name")
                << " is copied into its buffer instead of updated in place";
          linalg::CopyOp::create(b, ret.getLoc(), result, arg);
        }
        // Callers provide one out-parameter per result: a value returned
        // as two results gets a buffer of its own for the second.
        SmallVector<Value> outputs;
        DenseSet<Value> seen;
        for (Value v : ret.getOperands().drop_front(n)) {
          auto type = dyn_cast<MemRefType>(v.getType());
          if (type && !seen.insert(v).second && type.hasStaticShape()) {
            Value copy = memref::AllocOp::create(b, ret.getLoc(), type);
            linalg::CopyOp::create(b, ret.getLoc(), v, copy);
            v = copy;
          }
          outputs.push_back(v);
        }
        func::ReturnOp::create(b, ret.getLoc(), outputs);
        ret.erase();
      });
      if (failedCopy)
        return signalPassFailure();
      fn.setFunctionType(FunctionType::get(
          fn.getContext(), type.getInputs(), type.getResults().drop_front(n)));
      if (auto resAttrs = fn.getResAttrsAttr())
        fn.setResAttrsAttr(ArrayAttr::get(
            fn.getContext(), resAttrs.getValue().drop_front(n)));
    }

  }
};

} // namespace
