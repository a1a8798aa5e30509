//===- MaterializeRandom.cpp - tape.random_uniform to Philox --------------===//
//
// Lowers tape.random_uniform to a linalg.generic that evaluates
// Philox4x32-10 per element, keyed by the op's seed, with the element's
// linear index and the step count as the counter. The step count is a
// non-trainable variable per step, so checkpoints carry it.
//
//===----------------------------------------------------------------------===//

#include "tape/Dialect/Tape/Passes.h"
#include "tape/Dialect/Tape/TapeOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/SymbolTable.h"

#include "llvm/Support/MathExtras.h"

namespace mlir::tape {
#define GEN_PASS_DEF_TAPEMATERIALIZERANDOM
#include "tape/Dialect/Tape/Passes.h.inc"
} // namespace mlir::tape

using namespace mlir;
using namespace mlir::tape;

namespace {

// Philox4x32's multipliers and Weyl key increments (Random123).
constexpr uint32_t kPhiloxM0 = 0xD2511F53, kPhiloxM1 = 0xCD9E8D57;
constexpr uint32_t kPhiloxW0 = 0x9E3779B9, kPhiloxW1 = 0xBB67AE85;
constexpr int kPhiloxRounds = 10;

/// The low and high 32 bits of an i64.
std::pair<Value, Value> splitWords(OpBuilder &b, Location loc, Value v) {
  Type i32 = b.getI32Type();
  Value lo = arith::TruncIOp::create(b, loc, i32, v);
  Value shift = arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(32));
  Value hi = arith::TruncIOp::create(
      b, loc, i32, arith::ShRUIOp::create(b, loc, v, shift));
  return {lo, hi};
}

/// Emits Philox4x32-10 on scalars: `counter` is four i32 values, the key is
/// a compile-time constant. One round is
///   (hi0, lo0) = M0 * c0,  (hi1, lo1) = M1 * c2  (32 x 32 -> 64 bits),
///   c = (hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0),
/// and the key advances by (W0, W1) between rounds.
SmallVector<Value, 4> philox4x32(OpBuilder &b, Location loc,
                                 SmallVector<Value, 4> c, uint64_t seed) {
  Type i32 = b.getI32Type();
  auto constant = [&](uint32_t v) -> Value {
    return arith::ConstantOp::create(
        b, loc, b.getIntegerAttr(i32, static_cast<int32_t>(v)));
  };
  // The 64-bit product as i64 arithmetic (vectorized, that is one
  // vpmuludq per lane pair); arith.mului_extended would be shorter, but
  // arith-to-llvm converts it on 1-D vectors only.
  Type i64 = b.getI64Type();
  auto wideProduct = [&](Value x, uint32_t m) {
    Value wide = arith::ExtUIOp::create(b, loc, i64, x);
    Value factor = arith::ConstantOp::create(
        b, loc, b.getI64IntegerAttr(static_cast<int64_t>(m)));
    return splitWords(b, loc, arith::MulIOp::create(b, loc, wide, factor));
  };
  uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
  for (int round = 0; round < kPhiloxRounds; ++round) {
    auto [lo0, hi0] = wideProduct(c[0], kPhiloxM0);
    auto [lo1, hi1] = wideProduct(c[2], kPhiloxM1);
    Value x0 = arith::XOrIOp::create(
        b, loc, arith::XOrIOp::create(b, loc, hi1, c[1]), constant(k0));
    Value x2 = arith::XOrIOp::create(
        b, loc, arith::XOrIOp::create(b, loc, hi0, c[3]), constant(k1));
    c = {x0, lo1, x2, lo0};
    k0 += kPhiloxW0;
    k1 += kPhiloxW1;
  }
  return c;
}

/// The values of one random_uniform: a parallel linalg.generic with no
/// inputs whose body computes the element's linear index (plus the op's
/// offset), Philox of (index, steps) and the float from its leading bits.
LogicalResult lowerRandomUniform(RandomUniformOp op, Value stepsLo,
                                 Value stepsHi) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  auto type = cast<RankedTensorType>(op.getResult().getType());
  int64_t rank = type.getRank();
  SmallVector<int64_t> strides(rank, 1);
  int64_t count = 1;
  for (int64_t d = rank - 1; d >= 0; --d) {
    strides[d] = count;
    if (llvm::MulOverflow(count, type.getDimSize(d), count))
      return op.emitOpError("has more elements than a 64-bit index counts");
  }
  Value empty = tensor::EmptyOp::create(b, loc, type.getShape(),
                                        type.getElementType());
  SmallVector<AffineMap> maps = {b.getMultiDimIdentityMap(rank)};
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  uint64_t seed = static_cast<uint64_t>(op.getSeed());
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{type}, ValueRange{}, ValueRange{empty}, maps,
      iterators, [&](OpBuilder &nb, Location nloc, ValueRange) {
        Type i64 = nb.getI64Type();
        Value linear = arith::ConstantOp::create(nb, nloc, nb.getI64IntegerAttr(0));
        for (int64_t d = 0; d < rank; ++d) {
          Value index = arith::IndexCastUIOp::create(
              nb, nloc, i64, linalg::IndexOp::create(nb, nloc, d));
          Value stride = arith::ConstantOp::create(
              nb, nloc, nb.getI64IntegerAttr(strides[d]));
          linear = arith::AddIOp::create(
              nb, nloc, linear, arith::MulIOp::create(nb, nloc, index, stride));
        }
        // A draw with an offset is a block of a larger one (data
        // parallelism: this rank's rows of the global batch's draw).
        if (Value offset = op.getOffset())
          linear = arith::AddIOp::create(nb, nloc, linear, offset);
        auto [indexLo, indexHi] = splitWords(nb, nloc, linear);
        SmallVector<Value, 4> bits =
            philox4x32(nb, nloc, {indexLo, indexHi, stepsLo, stepsHi}, seed);
        Value result;
        if (type.getElementType().isF32()) {
          // (bits[0] >> 8) * 2^-24: the 24 bits a float32 holds exactly.
          Value shift = arith::ConstantOp::create(nb, nloc, nb.getI32IntegerAttr(8));
          Value top = arith::ShRUIOp::create(nb, nloc, bits[0], shift);
          Value asFloat = arith::UIToFPOp::create(nb, nloc, nb.getF32Type(), top);
          Value scale = arith::ConstantOp::create(
              nb, nloc, nb.getF32FloatAttr(0x1.0p-24f));
          result = arith::MulFOp::create(nb, nloc, asFloat, scale);
        } else {
          // ((bits[0] << 32 | bits[1]) >> 11) * 2^-53.
          Value hi = arith::ExtUIOp::create(nb, nloc, i64, bits[0]);
          Value lo = arith::ExtUIOp::create(nb, nloc, i64, bits[1]);
          Value c32 = arith::ConstantOp::create(nb, nloc, nb.getI64IntegerAttr(32));
          Value c11 = arith::ConstantOp::create(nb, nloc, nb.getI64IntegerAttr(11));
          Value word = arith::OrIOp::create(
              nb, nloc, arith::ShLIOp::create(nb, nloc, hi, c32), lo);
          Value top = arith::ShRUIOp::create(nb, nloc, word, c11);
          Value asFloat = arith::UIToFPOp::create(nb, nloc, nb.getF64Type(), top);
          Value scale = arith::ConstantOp::create(
              nb, nloc, nb.getF64FloatAttr(0x1.0p-53));
          result = arith::MulFOp::create(nb, nloc, asFloat, scale);
        }
        linalg::YieldOp::create(nb, nloc, result);
      });
  op.getResult().replaceAllUsesWith(generic.getResult(0));
  op.erase();
  return success();
}

struct TapeMaterializeRandomPass
    : public tape::impl::TapeMaterializeRandomBase<TapeMaterializeRandomPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    for (auto step : llvm::to_vector(module.getOps<StepOp>())) {
      SmallVector<RandomUniformOp> draws;
      step.walk([&](RandomUniformOp op) { draws.push_back(op); });
      if (draws.empty())
        continue;
      if (failed(lowerStep(step, draws, symbols)))
        return signalPassFailure();
    }
  }

  /// The step-count variable, its read at entry and increments before
  /// each return, then every draw of the step.
  LogicalResult lowerStep(StepOp step, ArrayRef<RandomUniformOp> draws,
                          SymbolTable &symbols) {
    MLIRContext *ctx = &getContext();
    Location loc = step.getLoc();
    auto i64 = RankedTensorType::get({}, IntegerType::get(ctx, 64));
    OpBuilder b(step);
    auto counter = VariableOp::create(
        b, loc, b.getStringAttr((step.getSymName() + "__random_steps").str()),
        StringAttr(), TypeAttr::get(i64), ZerosAttr::get(ctx),
        b.getBoolAttr(false));
    symbols.insert(counter); // renames on a clash
    auto resourceType = ResourceType::get(i64);

    b.setInsertionPointToStart(&step.getBody().front());
    Value handle = HandleOp::create(b, loc, resourceType, counter.getSymName());
    Value steps = tensor::ExtractOp::create(b, loc, ReadOp::create(b, loc, handle),
                                            ValueRange{});
    auto [stepsLo, stepsHi] = splitWords(b, loc, steps);

    step.walk([&](ReturnOp ret) {
      OpBuilder rb(ret);
      Value returnHandle =
          HandleOp::create(rb, ret.getLoc(), resourceType, counter.getSymName());
      Value one = arith::ConstantOp::create(
          rb, ret.getLoc(), DenseElementsAttr::get(i64, rb.getI64IntegerAttr(1)));
      AssignAddOp::create(rb, ret.getLoc(), returnHandle, one);
    });

    for (RandomUniformOp op : draws)
      if (failed(lowerRandomUniform(op, stepsLo, stepsHi)))
        return failure();
    return success();
  }
};

} // namespace
