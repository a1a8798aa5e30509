//===- VerifySizes.cpp - Types too large to allocate are refused ----------===//
//
// Every statically shaped type in the module, as a value's type or inside an
// attribute, must have an element count and byte size that fit in 64 bits
// and at most kMaxBytes: later sizes (buffers, the state layout, the AOT
// header, workspaces) are products of these and cannot overflow then.
//
//===----------------------------------------------------------------------===//

#include "tape/Dialect/Tape/Passes.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/Support/MathExtras.h"

namespace mlir::tape {
#define GEN_PASS_DEF_TAPEVERIFYSIZES
#include "tape/Dialect/Tape/Passes.h.inc"
} // namespace mlir::tape

using namespace mlir;

namespace {

/// 2^47 bytes: the user address space of x86-64 (and AArch64 with 48-bit
/// addresses, less the kernel's half).
constexpr uint64_t kMaxBytes = uint64_t(1) << 47;

/// Why `type` cannot be allocated, or "" when it can.
std::string tooLarge(ShapedType type) {
  if (!type.hasStaticShape())
    return "";
  uint64_t elements = 1;
  for (int64_t d : type.getShape())
    if (__builtin_mul_overflow(elements, uint64_t(d), &elements))
      return "its element count overflows 64 bits";
  Type element = type.getElementType();
  uint64_t bits = element.isIntOrIndexOrFloat()
                      ? (element.isIndex() ? 64 : element.getIntOrFloatBitWidth())
                      : 64;
  uint64_t bytes;
  if (__builtin_mul_overflow(elements, (bits + 7) / 8, &bytes))
    return "it holds " + std::to_string(elements) +
           " elements and its byte size overflows 64 bits";
  if (bytes > kMaxBytes)
    return "it holds " + std::to_string(elements) + " elements, " +
           std::to_string(bytes) +
           " bytes, more than a process can address (2^47 bytes)";
  return "";
}

struct TapeVerifySizesPass
    : public tape::impl::TapeVerifySizesBase<TapeVerifySizesPass> {
  void runOnOperation() override {
    bool failed = false;
    auto check = [&](Operation *op, Type root) {
      root.walk([&](ShapedType type) {
        std::string why = tooLarge(type);
        if (why.empty() || failed)
          return;
        op->emitError() << "type " << type << " is too large: " << why;
        failed = true;
      });
    };
    getOperation()->walk([&](Operation *op) {
      if (failed)
        return WalkResult::interrupt();
      for (Type t : op->getResultTypes())
        check(op, t);
      for (Region &region : op->getRegions())
        for (Block &block : region)
          for (Type t : block.getArgumentTypes())
            check(op, t);
      op->getAttrDictionary().walk([&](Type t) { check(op, t); });
      return failed ? WalkResult::interrupt() : WalkResult::advance();
    });
    if (failed)
      signalPassFailure();
  }
};

} // namespace
