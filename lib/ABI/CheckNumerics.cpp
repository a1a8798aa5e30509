//===- CheckNumerics.cpp - Find the op that produced the first NaN/Inf ----===//
//
// Calls a runtime checker after each op that can turn finite values into
// non-finite ones. The checker records the first failing site; the runtime
// turns it into an error naming the op and its source location.
//
//===----------------------------------------------------------------------===//

#include "tape/ABI/Passes.h"
#include "tape/Dialect/Tape/TapeDialect.h"
#include "tape/Support/FileLocation.h"

#include "tape/Codegen/Utils/MemRefPointer.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/Utils/MemRefUtils.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

namespace mlir::tape::abi {
#define GEN_PASS_DEF_CHECKNUMERICS
#include "tape/ABI/Passes.h.inc"
} // namespace mlir::tape::abi

using namespace mlir;
using namespace mlir::tape;

namespace {

struct TapeCheckNumericsPass
    : public mlir::tape::abi::impl::CheckNumericsBase<TapeCheckNumericsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<std::pair<Operation *, Value>> checks;
    module.walk([&](Operation *op) {
      if (auto linalgOp = dyn_cast<linalg::LinalgOp>(op)) {
        if (!computes(linalgOp) || !linalgOp.hasPureBufferSemantics())
          return;
        for (Value out : linalgOp.getDpsInits())
          if (isCheckableBuffer(out))
            checks.push_back({op, out});
        return;
      }
      if (op->getNumResults() != 1 || isa<arith::ConstantOp>(op) ||
          !isa<arith::ArithDialect, math::MathDialect>(op->getDialect()) ||
          !isa<Float32Type, Float64Type>(op->getResult(0).getType()) ||
          op->getParentOfType<linalg::LinalgOp>())
        return;
      checks.push_back({op, op->getResult(0)});
    });

    MLIRContext *ctx = &getContext();
    OpBuilder b(ctx);
    SmallVector<Attribute> sites;
    for (auto [op, value] : checks) {
      int32_t site = sites.size();
      sites.push_back(StringAttr::get(ctx, describe(op)));
      b.setInsertionPointAfter(op);
      Location loc = op->getLoc();
      Value siteValue = arith::ConstantIntOp::create(b, loc, site, 32);
      if (auto memref = dyn_cast<MemRefType>(value.getType())) {
        bool f32 = memref.getElementType().isF32();
        func::FuncOp checker = declare(
            module, f32 ? "__tape_check_numerics_f32"
                        : "__tape_check_numerics_f64",
            {LLVM::LLVMPointerType::get(ctx), b.getI64Type(), b.getI32Type()});
        Value pointer = mlir::tape::createElementPointer(b, loc, value).first;
        Value count = arith::ConstantIntOp::create(
            b, loc, memref.getNumElements(), 64);
        func::CallOp::create(b, loc, checker,
                             ValueRange{pointer, count, siteValue});
      } else {
        bool f32 = value.getType().isF32();
        func::FuncOp checker = declare(
            module, f32 ? "__tape_check_scalar_f32" : "__tape_check_scalar_f64",
            {value.getType(), b.getI32Type()});
        func::CallOp::create(b, loc, checker, ValueRange{value, siteValue});
      }
    }
    if (!sites.empty())
      module->setAttr(TapeDialect::NumericsSitesAttrHelper::getNameStr(),
                      ArrayAttr::get(ctx, sites));
  }

  /// Ops that only move or fill values cannot make a finite input
  /// non-finite (a fill with -inf, the start of a max reduction, is
  /// intended).
  static bool computes(linalg::LinalgOp op) {
    return !isa<linalg::FillOp, linalg::CopyOp, linalg::TransposeOp,
                linalg::BroadcastOp>(op.getOperation());
  }

  /// Statically shaped, contiguous f32/f64 memrefs: the checker scans a
  /// pointer and a count.
  static bool isCheckableBuffer(Value v) {
    auto type = dyn_cast<MemRefType>(v.getType());
    return type && type.hasStaticShape() &&
           isa<Float32Type, Float64Type>(type.getElementType()) &&
           memref::isStaticShapeAndContiguousRowMajor(type);
  }

  /// "'math.log' at file.mlir:12:5" (or without a location).
  static std::string describe(Operation *op) {
    // An elementwise op converted to linalg.generic is named by its one
    // payload op: the user wrote math.log, not a generic.
    StringRef name = op->getName().getStringRef();
    if (auto generic = dyn_cast<linalg::GenericOp>(op)) {
      Block &body = generic.getRegion().front();
      if (body.getOperations().size() == 2)
        name = body.front().getName().getStringRef();
    }
    std::string text = "'" + name.str() + "'";
    if (std::string where = ::tape::formatFileLocation(op->getLoc());
        !where.empty())
      text += " at " + where;
    return text;
  }

  static func::FuncOp declare(ModuleOp module, StringRef name,
                              ArrayRef<Type> inputs) {
    if (auto fn = module.lookupSymbol<func::FuncOp>(name))
      return fn;
    OpBuilder b = OpBuilder::atBlockBegin(module.getBody());
    auto fn = func::FuncOp::create(b, module.getLoc(), name,
                                   b.getFunctionType(inputs, {}));
    fn.setPrivate();
    return fn;
  }
};

} // namespace
