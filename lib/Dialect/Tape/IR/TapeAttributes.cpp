//===- TapeAttributes.cpp - Attributes of the tape dialect ----------------===//

#include "tape/Dialect/Tape/TapeAttributes.h"
#include "tape/Dialect/Tape/FloatBuilders.h"
#include "tape/Dialect/Tape/TapeDialect.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>
#include <cstring>
#include <variant>

using namespace mlir;
using namespace mlir::tape;

#include "tape/Dialect/Tape/TapeAttrInterfaces.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "tape/Dialect/Tape/TapeAttributes.cpp.inc"

void TapeDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "tape/Dialect/Tape/TapeAttributes.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// `<key = value, ...>` parameter lists
//===----------------------------------------------------------------------===//

namespace {
/// One named parameter of an attribute written as `<key = value, ...>`.
/// Parameters that are not required keep the value they were given before
/// parsing (their default).
struct NamedParam {
  llvm::StringLiteral name;
  std::variant<double *, bool *, uint64_t *> slot;
  bool required = false;
};
} // namespace

static ParseResult parseNamedParams(AsmParser &parser,
                                    MutableArrayRef<NamedParam> params) {
  llvm::SmallVector<bool> seen(params.size(), false);
  auto parseOne = [&]() -> ParseResult {
    llvm::SMLoc loc = parser.getCurrentLocation();
    StringRef key;
    if (parser.parseKeyword(&key) || parser.parseEqual())
      return failure();
    auto *it = llvm::find_if(
        params, [&](const NamedParam &p) { return p.name == key; });
    if (it == params.end()) {
      auto diag = parser.emitError(loc) << "unknown parameter '" << key
                                        << "'; expected one of:";
      for (const NamedParam &p : params)
        diag << " '" << p.name << "'";
      return failure();
    }
    size_t index = it - params.begin();
    if (seen[index])
      return parser.emitError(loc) << "parameter '" << key
                                   << "' is given twice";
    seen[index] = true;
    if (auto *d = std::get_if<double *>(&it->slot))
      return parser.parseFloat(**d);
    if (auto *b = std::get_if<bool *>(&it->slot)) {
      StringRef word;
      if (parser.parseKeyword(&word) || (word != "true" && word != "false"))
        return parser.emitError(loc) << "parameter '" << key
                                     << "' expects 'true' or 'false'";
      **b = word == "true";
      return success();
    }
    return parser.parseInteger(*std::get<uint64_t *>(it->slot));
  };
  llvm::SMLoc start = parser.getCurrentLocation();
  if (parser.parseCommaSeparatedList(AsmParser::Delimiter::LessGreater,
                                     parseOne))
    return failure();
  for (auto [p, wasSeen] : llvm::zip(params, seen))
    if (p.required && !wasSeen)
      return parser.emitError(start) << "missing required parameter '"
                                     << p.name << "'";
  return success();
}

static void printNamedParams(AsmPrinter &printer,
                             ArrayRef<NamedParam> params) {
  printer << '<';
  llvm::interleaveComma(params, printer, [&](const NamedParam &p) {
    printer << p.name << " = ";
    if (auto *d = std::get_if<double *>(&p.slot))
      printer.printFloat(llvm::APFloat(**d));
    else if (auto *b = std::get_if<bool *>(&p.slot))
      printer << (**b ? "true" : "false");
    else
      printer << *std::get<uint64_t *>(p.slot);
  });
  printer << '>';
}

static LogicalResult checkFinite(function_ref<InFlightDiagnostic()> emitError,
                                 StringRef name, double value, bool positive) {
  if (!std::isfinite(value))
    return emitError() << name << " must be finite, got " << value;
  if (positive ? value <= 0.0 : value < 0.0)
    return emitError() << name << " must be " << (positive ? "> 0" : ">= 0")
                       << ", got " << value;
  return success();
}

//===----------------------------------------------------------------------===//
// Initializers
//===----------------------------------------------------------------------===//

LogicalResult
ZerosAttr::verifyForType(RankedTensorType type,
                         function_ref<InFlightDiagnostic()> emitError) const {
  if (!type.getElementType().isIntOrFloat())
    return emitError() << "#tape.zeros needs an integer or float element type";
  return success();
}

DenseElementsAttr ZerosAttr::materialize(RankedTensorType type) const {
  Type elt = type.getElementType();
  if (auto ft = dyn_cast<FloatType>(elt))
    return DenseElementsAttr::get(type, FloatAttr::get(ft, 0.0));
  return DenseElementsAttr::get(type, IntegerAttr::get(elt, 0));
}

Attribute RandomNormalAttr::parse(AsmParser &parser, Type) {
  double mean = 0.0, stddev = 1.0;
  uint64_t seed = 0;
  NamedParam params[] = {{"mean", &mean},
                         {"stddev", &stddev},
                         {"seed", &seed, /*required=*/true}};
  if (parseNamedParams(parser, params))
    return {};
  return parser.getChecked<RandomNormalAttr>(parser.getContext(), APFloat(mean),
                                             APFloat(stddev), seed);
}

void RandomNormalAttr::print(AsmPrinter &printer) const {
  double mean = getMean().convertToDouble(),
         stddev = getStddev().convertToDouble();
  uint64_t seed = getSeed();
  NamedParam params[] = {
      {"mean", &mean}, {"stddev", &stddev}, {"seed", &seed}};
  printNamedParams(printer, params);
}

LogicalResult
RandomNormalAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                         APFloat meanValue,
                         APFloat stddevValue, uint64_t) {
  double mean = meanValue.convertToDouble();
  double stddev = stddevValue.convertToDouble();
  if (!std::isfinite(mean))
    return emitError() << "mean must be finite, got " << mean;
  return checkFinite(emitError, "stddev", stddev, /*positive=*/false);
}

LogicalResult
RandomNormalAttr::verifyForType(
    RankedTensorType type, function_ref<InFlightDiagnostic()> emitError) const {
  if (!isa<FloatType>(type.getElementType()))
    return emitError() << "#tape.random_normal needs a float element type, got "
                       << type.getElementType();
  return success();
}

/// SplitMix64: a tiny, well-mixed counter-based generator. Element `i` of a
/// tensor depends only on (seed, i), so materialisation is reproducible.
static uint64_t splitMix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

/// A double in (0, 1]: never 0, so log() below is finite.
static double unitInterval(uint64_t bits) {
  return (double((bits >> 11) + 1)) * 0x1.0p-53;
}

DenseElementsAttr RandomNormalAttr::materialize(RankedTensorType type) const {
  auto ft = cast<FloatType>(type.getElementType());
  int64_t n = type.getNumElements();
  uint64_t base = splitMix64(getSeed());
  double mean = getMean().convertToDouble();
  double stddev = getStddev().convertToDouble();
  auto element = [&](int64_t i) {
    double u1 = unitInterval(splitMix64(base ^ (2 * uint64_t(i))));
    double u2 = unitInterval(splitMix64(base ^ (2 * uint64_t(i) + 1)));
    double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
    llvm::APFloat v(mean + stddev * z);
    bool losesInfo;
    v.convert(ft.getFloatSemantics(), llvm::APFloat::rmNearestTiesToEven,
              &losesInfo);
    return v;
  };
  // Byte-sized elements go straight into the attribute's raw storage (the
  // size of the tensor, not 8 times that in APFloats).
  unsigned width = ft.getWidth();
  if (width == 16 || width == 32 || width == 64) {
    std::vector<char> raw(size_t(n) * (width / 8));
    for (int64_t i = 0; i < n; ++i) {
      uint64_t bits = element(i).bitcastToAPInt().getZExtValue();
      char *at = raw.data() + size_t(i) * (width / 8);
      if (width == 16) {
        uint16_t b = uint16_t(bits);
        std::memcpy(at, &b, 2);
      } else if (width == 32) {
        uint32_t b = uint32_t(bits);
        std::memcpy(at, &b, 4);
      } else {
        std::memcpy(at, &bits, 8);
      }
    }
    return DenseElementsAttr::getFromRawBuffer(type, raw);
  }
  llvm::SmallVector<llvm::APFloat> values;
  values.reserve(n);
  for (int64_t i = 0; i < n; ++i)
    values.push_back(element(i));
  return DenseElementsAttr::get(type, values);
}

//===----------------------------------------------------------------------===//
// Optimizers
//===----------------------------------------------------------------------===//

/// The learning rate as a scalar of `type`: the run-time value (a rank-0
/// tensor, converted if its width differs) when there is one, else the
/// attribute's constant.
static Value learningRateScalar(OpBuilder &b, Location loc, Value runtime,
                                double constant, FloatType type) {
  if (!runtime)
    return arith::ConstantOp::create(b, loc, FloatAttr::get(type, constant));
  Value v = tensor::ExtractOp::create(b, loc, runtime, ValueRange{});
  auto from = cast<FloatType>(v.getType());
  if (from.getWidth() < type.getWidth())
    v = arith::ExtFOp::create(b, loc, type, v);
  else if (from.getWidth() > type.getWidth())
    v = arith::TruncFOp::create(b, loc, type, v);
  return v;
}

/// A tensor shaped like `like` filled with the scalar `s`.
static Value splatLike(OpBuilder &b, Location loc, Value like, Value s) {
  auto type = cast<RankedTensorType>(like.getType());
  Value empty = tensor::EmptyOp::create(b, loc, type.getShape(),
                                        type.getElementType());
  return linalg::FillOp::create(b, loc, s, empty).getResult(0);
}

/// The learning rate shaped like `like`: the attribute's splat constant
/// (what the SGD-in-matmul fusion recognizes), or the run-time value
/// filled.
static Value learningRateLike(OpBuilder &b, Location loc, Value like,
                              Value runtime, double constant) {
  if (!runtime)
    return fb::constantLike(b, loc, like, constant);
  auto elt = cast<FloatType>(getElementTypeOrSelf(like.getType()));
  return splatLike(b, loc, like,
                   learningRateScalar(b, loc, runtime, constant, elt));
}

Attribute SGDAttr::parse(AsmParser &parser, Type) {
  double lr = 0.0, weightDecay = 0.0;
  NamedParam params[] = {{"learning_rate", &lr, /*required=*/true},
                         {"weight_decay", &weightDecay}};
  if (parseNamedParams(parser, params))
    return {};
  return parser.getChecked<SGDAttr>(parser.getContext(), APFloat(lr),
                                    APFloat(weightDecay));
}

void SGDAttr::print(AsmPrinter &printer) const {
  double lr = getLearningRate().convertToDouble(),
         weightDecay = getWeightDecay().convertToDouble();
  NamedParam params[] = {{"learning_rate", &lr}, {"weight_decay", &weightDecay}};
  // Without decay, the form every SGD had before it could decay.
  printNamedParams(printer, ArrayRef<NamedParam>(params).take_front(
                                weightDecay == 0.0 ? 1 : 2));
}

LogicalResult SGDAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                              APFloat learningRate, APFloat weightDecay) {
  if (failed(checkFinite(emitError, "learning_rate",
                         learningRate.convertToDouble(), false)) ||
      failed(checkFinite(emitError, "weight_decay",
                         weightDecay.convertToDouble(), false)))
    return failure();
  return success();
}

SmallVector<std::pair<StringRef, APFloat>>
SGDAttr::getHyperParameters() const {
  return {{"learning_rate", getLearningRate()},
          {"weight_decay", getWeightDecay()}};
}

SmallVector<StringRef> SGDAttr::getSlotNames() const { return {}; }
bool SGDAttr::needsStepCount() const { return false; }

// w <- w - lr g, or with decay w <- w - lr (g + wd w) (torch.optim.SGD's
// order of operations).
Value SGDAttr::buildUpdate(OpBuilder &b, Location loc, Value w, Value g,
                           ValueRange, Value, Value learningRate,
                           SmallVectorImpl<Value> &) const {
  double lr = getLearningRate().convertToDouble();
  double weightDecay = getWeightDecay().convertToDouble();
  if (weightDecay != 0.0)
    g = fb::add(b, loc, g,
                fb::mul(b, loc, w, fb::constantLike(b, loc, w, weightDecay)));
  return fb::sub(b, loc, w,
                 fb::mul(b, loc, learningRateLike(b, loc, g, learningRate, lr), g));
}

Attribute MomentumAttr::parse(AsmParser &parser, Type) {
  double lr = 0.0, momentum = 0.0;
  bool nesterov = false;
  NamedParam params[] = {{"learning_rate", &lr, /*required=*/true},
                         {"momentum", &momentum, /*required=*/true},
                         {"nesterov", &nesterov}};
  if (parseNamedParams(parser, params))
    return {};
  return parser.getChecked<MomentumAttr>(parser.getContext(), APFloat(lr),
                                         APFloat(momentum), nesterov);
}

void MomentumAttr::print(AsmPrinter &printer) const {
  double lr = getLearningRate().convertToDouble(),
         momentum = getMomentum().convertToDouble();
  bool nesterov = getNesterov();
  NamedParam params[] = {{"learning_rate", &lr},
                         {"momentum", &momentum},
                         {"nesterov", &nesterov}};
  printNamedParams(printer, params);
}

LogicalResult
MomentumAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                     APFloat learningRateValue,
                     APFloat momentumValue, bool) {
  double learningRate = learningRateValue.convertToDouble();
  double momentum = momentumValue.convertToDouble();
  if (failed(checkFinite(emitError, "learning_rate", learningRate, false)) ||
      failed(checkFinite(emitError, "momentum", momentum, false)))
    return failure();
  if (momentum > 1.0)
    return emitError() << "momentum must be in [0, 1], got " << momentum;
  return success();
}

SmallVector<std::pair<StringRef, APFloat>>
MomentumAttr::getHyperParameters() const {
  return {{"learning_rate", getLearningRate()},
          {"momentum", getMomentum()}};
}

SmallVector<StringRef> MomentumAttr::getSlotNames() const {
  return {"momentum"};
}
bool MomentumAttr::needsStepCount() const { return false; }

// v <- mu v - lr g; w <- w + v, or with Nesterov w <- w + mu v - lr g
// (tf.keras.optimizers.SGD).
Value MomentumAttr::buildUpdate(OpBuilder &b, Location loc, Value w, Value g,
                                ValueRange slots, Value, Value learningRate,
                                SmallVectorImpl<Value> &newSlots) const {
  double lr = getLearningRate().convertToDouble();
  double mu = getMomentum().convertToDouble();
  Value lrg = fb::mul(b, loc, learningRateLike(b, loc, g, learningRate, lr), g);
  Value vNew =
      fb::sub(b, loc, fb::mul(b, loc, fb::constantLike(b, loc, g, mu), slots[0]),
              lrg);
  newSlots.push_back(vNew);
  Value step =
      getNesterov()
          ? fb::sub(b, loc,
                    fb::mul(b, loc, fb::constantLike(b, loc, g, mu), vNew), lrg)
          : vNew;
  return fb::add(b, loc, w, step);
}

/// t = steps + 1, the number of the step being taken, as a float of type
/// `type` (the bias corrections' exponent).
static Value stepNumber(OpBuilder &b, Location loc, Value steps, Type type) {
  Value it = tensor::ExtractOp::create(b, loc, steps, ValueRange{});
  Value one = arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(1));
  return arith::SIToFPOp::create(b, loc, type,
                                 arith::AddIOp::create(b, loc, it, one));
}

Attribute AdamAttr::parse(AsmParser &parser, Type) {
  // Keras' defaults.
  double lr = 0.001, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-7;
  NamedParam params[] = {{"learning_rate", &lr},
                         {"beta1", &beta1},
                         {"beta2", &beta2},
                         {"epsilon", &epsilon}};
  if (parseNamedParams(parser, params))
    return {};
  return parser.getChecked<AdamAttr>(parser.getContext(), APFloat(lr),
                                     APFloat(beta1), APFloat(beta2),
                                     APFloat(epsilon));
}

void AdamAttr::print(AsmPrinter &printer) const {
  double lr = getLearningRate().convertToDouble(),
         beta1 = getBeta1().convertToDouble(),
         beta2 = getBeta2().convertToDouble(),
         epsilon = getEpsilon().convertToDouble();
  NamedParam params[] = {{"learning_rate", &lr},
                         {"beta1", &beta1},
                         {"beta2", &beta2},
                         {"epsilon", &epsilon}};
  printNamedParams(printer, params);
}

LogicalResult AdamAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                               APFloat learningRateValue,
                               APFloat beta1Value,
                               APFloat beta2Value,
                               APFloat epsilonValue) {
  double learningRate = learningRateValue.convertToDouble();
  double beta1 = beta1Value.convertToDouble();
  double beta2 = beta2Value.convertToDouble();
  double epsilon = epsilonValue.convertToDouble();
  if (failed(checkFinite(emitError, "learning_rate", learningRate, false)) ||
      failed(checkFinite(emitError, "epsilon", epsilon, true)))
    return failure();
  for (auto [name, beta] : {std::pair{"beta1", beta1}, {"beta2", beta2}})
    if (!(beta >= 0.0 && beta < 1.0))
      return emitError() << name << " must be in [0, 1), got " << beta;
  return success();
}

SmallVector<std::pair<StringRef, APFloat>>
AdamAttr::getHyperParameters() const {
  return {{"learning_rate", getLearningRate()},
          {"beta1", getBeta1()},
          {"beta2", getBeta2()},
          {"epsilon", getEpsilon()}};
}

SmallVector<StringRef> AdamAttr::getSlotNames() const {
  return {"adam_m", "adam_v"};
}
bool AdamAttr::needsStepCount() const { return true; }

// Keras' form, t = steps + 1:
//   m <- m + (g - m)(1 - beta1), v <- v + (g^2 - v)(1 - beta2),
//   w <- w - lr sqrt(1 - beta2^t) / (1 - beta1^t) * m / (sqrt(v) + eps).
// The step size is computed on scalars and splat to the variable's shape.
Value AdamAttr::buildUpdate(OpBuilder &b, Location loc, Value w, Value g,
                            ValueRange slots, Value steps, Value learningRate,
                            SmallVectorImpl<Value> &newSlots) const {
  double lr = getLearningRate().convertToDouble();
  double beta1 = getBeta1().convertToDouble();
  double beta2 = getBeta2().convertToDouble();
  double epsilon = getEpsilon().convertToDouble();
  auto type = cast<RankedTensorType>(g.getType());
  auto elt = cast<FloatType>(type.getElementType());
  Value t = stepNumber(b, loc, steps, elt);
  auto scalar = [&](double v) {
    return arith::ConstantOp::create(b, loc, FloatAttr::get(elt, v));
  };
  Value one = scalar(1.0);
  Value b1t = math::PowFOp::create(b, loc, scalar(beta1), t);
  Value b2t = math::PowFOp::create(b, loc, scalar(beta2), t);
  Value alpha = arith::DivFOp::create(
      b, loc,
      fb::mul(b, loc, learningRateScalar(b, loc, learningRate, lr, elt),
              math::SqrtOp::create(b, loc, fb::sub(b, loc, one, b2t))),
      fb::sub(b, loc, one, b1t));
  Value empty = tensor::EmptyOp::create(b, loc, type.getShape(), elt);
  Value alphaT = linalg::FillOp::create(b, loc, alpha, empty).getResult(0);
  Value m = slots[0], v = slots[1];
  Value mNew = fb::add(
      b, loc, m,
      fb::mul(b, loc, fb::sub(b, loc, g, m), fb::constantLike(b, loc, g, 1.0 - beta1)));
  Value vNew = fb::add(
      b, loc, v,
      fb::mul(b, loc, fb::sub(b, loc, fb::mul(b, loc, g, g), v),
              fb::constantLike(b, loc, g, 1.0 - beta2)));
  newSlots.append({mNew, vNew});
  Value denom = fb::add(b, loc, math::SqrtOp::create(b, loc, vNew),
                        fb::constantLike(b, loc, g, epsilon));
  Value update =
      arith::DivFOp::create(b, loc, fb::mul(b, loc, mNew, alphaT), denom);
  return fb::sub(b, loc, w, update);
}

//===----------------------------------------------------------------------===//
// AdamWAttr
//===----------------------------------------------------------------------===//

Attribute AdamWAttr::parse(AsmParser &parser, Type) {
  // PyTorch's defaults.
  double lr = 0.001, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8,
         weightDecay = 0.01;
  NamedParam params[] = {{"learning_rate", &lr},
                         {"beta1", &beta1},
                         {"beta2", &beta2},
                         {"epsilon", &epsilon},
                         {"weight_decay", &weightDecay}};
  if (parseNamedParams(parser, params))
    return {};
  return parser.getChecked<AdamWAttr>(parser.getContext(), APFloat(lr),
                                      APFloat(beta1), APFloat(beta2),
                                      APFloat(epsilon), APFloat(weightDecay));
}

void AdamWAttr::print(AsmPrinter &printer) const {
  double lr = getLearningRate().convertToDouble(),
         beta1 = getBeta1().convertToDouble(),
         beta2 = getBeta2().convertToDouble(),
         epsilon = getEpsilon().convertToDouble(),
         weightDecay = getWeightDecay().convertToDouble();
  NamedParam params[] = {{"learning_rate", &lr},
                         {"beta1", &beta1},
                         {"beta2", &beta2},
                         {"epsilon", &epsilon},
                         {"weight_decay", &weightDecay}};
  printNamedParams(printer, params);
}

LogicalResult AdamWAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                APFloat learningRate, APFloat beta1,
                                APFloat beta2, APFloat epsilon,
                                APFloat weightDecay) {
  if (failed(AdamAttr::verify(emitError, learningRate, beta1, beta2,
                              epsilon)) ||
      failed(checkFinite(emitError, "weight_decay",
                         weightDecay.convertToDouble(), false)))
    return failure();
  return success();
}

SmallVector<std::pair<StringRef, APFloat>>
AdamWAttr::getHyperParameters() const {
  return {{"learning_rate", getLearningRate()},
          {"beta1", getBeta1()},
          {"beta2", getBeta2()},
          {"epsilon", getEpsilon()},
          {"weight_decay", getWeightDecay()}};
}

SmallVector<StringRef> AdamWAttr::getSlotNames() const {
  return {"adamw_m", "adamw_v"};
}
bool AdamWAttr::needsStepCount() const { return true; }

// PyTorch's form (torch.optim.AdamW, single-tensor), t = steps + 1:
//   w <- w (1 - lr wd),
//   m <- m + (g - m)(1 - beta1), v <- v beta2 + g^2 (1 - beta2),
//   w <- w - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps).
// The bias corrections in float64 (PyTorch computes them in Python),
// rounded once to the variable's type.
Value AdamWAttr::buildUpdate(OpBuilder &b, Location loc, Value w, Value g,
                             ValueRange slots, Value steps, Value learningRate,
                             SmallVectorImpl<Value> &newSlots) const {
  double lr = getLearningRate().convertToDouble();
  double beta1 = getBeta1().convertToDouble();
  double beta2 = getBeta2().convertToDouble();
  double epsilon = getEpsilon().convertToDouble();
  double weightDecay = getWeightDecay().convertToDouble();
  auto type = cast<RankedTensorType>(g.getType());
  auto elt = cast<FloatType>(type.getElementType());
  Type f64 = b.getF64Type();
  Value t = stepNumber(b, loc, steps, f64);
  auto f64Const = [&](double v) {
    return arith::ConstantOp::create(b, loc, FloatAttr::get(f64, v));
  };
  Value one = f64Const(1.0);
  Value bc1 = fb::sub(b, loc, one,
                      math::PowFOp::create(b, loc, f64Const(beta1), t));
  Value bc2 = fb::sub(b, loc, one,
                      math::PowFOp::create(b, loc, f64Const(beta2), t));
  // Scalars of the variable's type, splat to its shape.
  Value empty = tensor::EmptyOp::create(b, loc, type.getShape(), elt);
  auto splat = [&](Value scalar64) {
    Value scalar = elt.isF64()
                       ? scalar64
                       : arith::TruncFOp::create(b, loc, elt, scalar64);
    return linalg::FillOp::create(b, loc, scalar, empty).getResult(0);
  };
  Value lr64 = learningRateScalar(b, loc, learningRate, lr, cast<FloatType>(f64));
  Value stepSize = splat(arith::DivFOp::create(b, loc, lr64, bc1));
  Value bc2Sqrt = splat(math::SqrtOp::create(b, loc, bc2));
  Value decayed = w;
  if (weightDecay != 0.0)
    decayed = fb::mul(
        b, loc, w,
        learningRate
            ? splat(fb::sub(b, loc, one,
                            fb::mul(b, loc, lr64, f64Const(weightDecay))))
            : fb::constantLike(b, loc, w, 1.0 - lr * weightDecay));
  Value m = slots[0], v = slots[1];
  Value mNew = fb::add(b, loc, m,
                       fb::mul(b, loc, fb::sub(b, loc, g, m),
                               fb::constantLike(b, loc, g, 1.0 - beta1)));
  Value vNew = fb::add(b, loc, fb::mul(b, loc, v, fb::constantLike(b, loc, g, beta2)),
                       fb::mul(b, loc, fb::mul(b, loc, g, g),
                               fb::constantLike(b, loc, g, 1.0 - beta2)));
  newSlots.append({mNew, vNew});
  Value denom = fb::add(b, loc,
                        fb::div(b, loc, math::SqrtOp::create(b, loc, vNew), bc2Sqrt),
                        fb::constantLike(b, loc, g, epsilon));
  Value update = fb::mul(b, loc, stepSize, fb::div(b, loc, mNew, denom));
  return fb::sub(b, loc, decayed, update);
}

//===----------------------------------------------------------------------===//
// AdadeltaAttr
//===----------------------------------------------------------------------===//

Attribute AdadeltaAttr::parse(AsmParser &parser, Type) {
  // PyTorch's defaults.
  double lr = 1.0, rho = 0.9, epsilon = 1e-6, weightDecay = 0.0;
  NamedParam params[] = {{"learning_rate", &lr},
                         {"rho", &rho},
                         {"epsilon", &epsilon},
                         {"weight_decay", &weightDecay}};
  if (parseNamedParams(parser, params))
    return {};
  return parser.getChecked<AdadeltaAttr>(parser.getContext(), APFloat(lr),
                                         APFloat(rho), APFloat(epsilon),
                                         APFloat(weightDecay));
}

void AdadeltaAttr::print(AsmPrinter &printer) const {
  double lr = getLearningRate().convertToDouble(),
         rho = getRho().convertToDouble(),
         epsilon = getEpsilon().convertToDouble(),
         weightDecay = getWeightDecay().convertToDouble();
  NamedParam params[] = {{"learning_rate", &lr},
                         {"rho", &rho},
                         {"epsilon", &epsilon},
                         {"weight_decay", &weightDecay}};
  printNamedParams(printer, params);
}

LogicalResult AdadeltaAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                   APFloat learningRate, APFloat rhoValue,
                                   APFloat epsilon, APFloat weightDecay) {
  if (failed(checkFinite(emitError, "learning_rate",
                         learningRate.convertToDouble(), false)) ||
      failed(checkFinite(emitError, "epsilon", epsilon.convertToDouble(),
                         true)) ||
      failed(checkFinite(emitError, "weight_decay",
                         weightDecay.convertToDouble(), false)))
    return failure();
  double rho = rhoValue.convertToDouble();
  if (!(rho >= 0.0 && rho < 1.0))
    return emitError() << "rho must be in [0, 1), got " << rho;
  return success();
}

SmallVector<std::pair<StringRef, APFloat>>
AdadeltaAttr::getHyperParameters() const {
  return {{"learning_rate", getLearningRate()},
          {"rho", getRho()},
          {"epsilon", getEpsilon()},
          {"weight_decay", getWeightDecay()}};
}

SmallVector<StringRef> AdadeltaAttr::getSlotNames() const {
  return {"adadelta_v", "adadelta_u"};
}
bool AdadeltaAttr::needsStepCount() const { return false; }

// PyTorch's form (torch.optim.Adadelta, single-tensor):
//   g <- g + wd w,   v <- v rho + g^2 (1 - rho),
//   d = sqrt(u + eps) / sqrt(v + eps) * g,
//   u <- u rho + d^2 (1 - rho),   w <- w - lr d.
Value AdadeltaAttr::buildUpdate(OpBuilder &b, Location loc, Value w, Value g,
                                ValueRange slots, Value /*steps*/,
                                Value learningRate,
                                SmallVectorImpl<Value> &newSlots) const {
  double lr = getLearningRate().convertToDouble();
  double rho = getRho().convertToDouble();
  double epsilon = getEpsilon().convertToDouble();
  double weightDecay = getWeightDecay().convertToDouble();
  auto constant = [&](double v) { return fb::constantLike(b, loc, g, v); };
  if (weightDecay != 0.0)
    g = fb::add(b, loc, g, fb::mul(b, loc, w, constant(weightDecay)));
  Value v = slots[0], u = slots[1];
  Value vNew = fb::add(b, loc, fb::mul(b, loc, v, constant(rho)),
                       fb::mul(b, loc, fb::mul(b, loc, g, g), constant(1.0 - rho)));
  Value std = math::SqrtOp::create(b, loc, fb::add(b, loc, vNew, constant(epsilon)));
  Value delta = fb::mul(
      b, loc,
      fb::div(b, loc,
              math::SqrtOp::create(b, loc, fb::add(b, loc, u, constant(epsilon))),
              std),
      g);
  Value uNew = fb::add(b, loc, fb::mul(b, loc, u, constant(rho)),
                       fb::mul(b, loc, fb::mul(b, loc, delta, delta),
                               constant(1.0 - rho)));
  newSlots.append({vNew, uNew});
  return fb::sub(b, loc, w,
                 fb::mul(b, loc, delta, learningRateLike(b, loc, delta, learningRate, lr)));
}
