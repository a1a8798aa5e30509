//===- TapeOps.cpp - Operations of the tape dialect -----------------------===//

#include "tape/Dialect/Tape/TapeOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/FunctionImplementation.h"
#include "llvm/ADT/STLExtras.h"

#include <cmath>

using namespace mlir;
using namespace mlir::tape;

//===----------------------------------------------------------------------===//
// custom<TypeAndInitialValue>: `: tensor<2xf32> = dense<[1.0, 2.0]>`
//===----------------------------------------------------------------------===//

static ParseResult parseTypeAndInitialValue(OpAsmParser &parser,
                                            TypeAttr &typeAttr,
                                            Attribute &initialValue) {
  Type type;
  if (parser.parseColonType(type) || parser.parseEqual())
    return failure();
  typeAttr = TypeAttr::get(type);
  // Dense elements take their type from the variable; initializer attributes
  // ignore the hint.
  return parser.parseAttribute(initialValue, type);
}

static void printTypeAndInitialValue(OpAsmPrinter &printer, Operation *,
                                     TypeAttr typeAttr,
                                     Attribute initialValue) {
  printer << ": " << typeAttr.getValue() << " = ";
  auto typed = dyn_cast<TypedAttr>(initialValue);
  if (typed && typed.getType() == typeAttr.getValue())
    printer.printAttributeWithoutType(initialValue);
  else
    printer.printAttribute(initialValue);
}

//===----------------------------------------------------------------------===//
// custom<SymbolVisibilityAndName>: `[private|public|nested] @name`
//===----------------------------------------------------------------------===//

static ParseResult parseSymbolVisibilityAndName(OpAsmParser &parser,
                                                StringAttr &visibility,
                                                StringAttr &name) {
  StringRef keyword;
  if (succeeded(parser.parseOptionalKeyword(&keyword,
                                            {"public", "private", "nested"})))
    visibility = parser.getBuilder().getStringAttr(keyword);
  return parser.parseSymbolName(name);
}

static void printSymbolVisibilityAndName(OpAsmPrinter &printer, Operation *,
                                         StringAttr visibility,
                                         StringAttr name) {
  if (visibility)
    printer << visibility.getValue() << ' ';
  printer.printSymbolName(name.getValue());
}

#define GET_OP_CLASSES
#include "tape/Dialect/Tape/TapeOps.cpp.inc"

#include "tape/Dialect/Tape/TapeOpInterfaces.cpp.inc"

//===----------------------------------------------------------------------===//
// VariableOp
//===----------------------------------------------------------------------===//

LogicalResult mlir::tape::verifyDeclaredAtModuleScope(Operation *op) {
  // A variable is state that outlives a call: declared inside a function it
  // would be re-created (and re-initialised) on every call.
  Operation *parent = op->getParentOp();
  if (parent && parent->hasTrait<OpTrait::SymbolTable>())
    return success();
  auto name = op->getAttrOfType<StringAttr>(SymbolTable::getSymbolAttrName());
  Operation *fn = op->getParentWithTrait<OpTrait::IsIsolatedFromAbove>();
  if (fn && !fn->hasTrait<OpTrait::SymbolTable>())
    return op->emitOpError("declares variable @")
           << (name ? name.getValue() : "?") << " inside '" << fn->getName()
           << "': a variable is state that must outlive one call; declare it "
              "at module scope and refer to it with tape.handle";
  return op->emitOpError("must be declared directly in a module");
}

LogicalResult VariableOp::verify() {
  RankedTensorType type = getValueType();
  Attribute init = getInitialValue();
  if (auto dense = dyn_cast<DenseElementsAttr>(init)) {
    if (dense.getType() != type)
      return emitOpError("initial value of type ")
             << dense.getType() << " does not match the variable type "
             << type;
  } else if (auto initializer = dyn_cast<InitializerAttrInterface>(init)) {
    if (failed(initializer.verifyForType(type, [&] { return emitOpError(); })))
      return failure();
  }
  if (getTrainable() && !isa<FloatType>(type.getElementType()))
    return emitOpError("trainable variable @")
           << getSymName() << " must have a float element type, got "
           << type.getElementType()
           << "; mark counters and other integer state {trainable = false}";
  return success();
}

DenseElementsAttr VariableOp::getInitialValueAsDense() {
  Attribute init = getInitialValue();
  if (auto dense = dyn_cast<DenseElementsAttr>(init))
    return dense;
  return cast<InitializerAttrInterface>(init).materialize(getValueType());
}

//===----------------------------------------------------------------------===//
// HandleOp
//===----------------------------------------------------------------------===//

LogicalResult HandleOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  Operation *symbol =
      symbolTable.lookupNearestSymbolFrom(*this, getVariableAttr());
  if (!symbol)
    return emitOpError("refers to unknown variable ") << getVariableAttr();
  auto variable = dyn_cast<VariableOp>(symbol);
  if (!variable)
    return emitOpError("refers to ")
               .append(getVariableAttr(), ", which is a '", symbol->getName(),
                       "', not a tape.variable")
               .attachNote(symbol->getLoc())
           << "symbol defined here";
  auto resourceType = cast<ResourceType>(getResource().getType());
  if (resourceType.getValueType() != variable.getValueType())
    return emitOpError("handle of type ")
               .append(resourceType, " does not match variable ",
                       getVariableAttr(), " of type ", variable.getValueType())
               .attachNote(variable.getLoc())
           << "variable declared here";
  return success();
}

void HandleOp::getAsmResultNames(OpAsmSetValueNameFn setNameFn) {
  setNameFn(getResource(), getVariable());
}

//===----------------------------------------------------------------------===//
// RecordOp
//===----------------------------------------------------------------------===//

YieldOp RecordOp::getYield() {
  return cast<YieldOp>(getBodyBlock().getTerminator());
}

bool RecordOp::isWatched(Value value) {
  bool watched = false;
  getBody().walk([&](WatchOp watch) {
    if (watch.getValue() == value) {
      watched = true;
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return watched;
}

void RecordOp::getAsmResultNames(OpAsmSetValueNameFn setNameFn) {
  setNameFn(getTape(), "tape");
  if (!getTargets().empty())
    setNameFn(getTargets().front(), "target");
}

LogicalResult RecordOp::verify() {
  if (getPersistent())
    return success();
  auto gradients = llvm::make_filter_range(
      getTape().getUsers(), [](Operation *op) { return isa<GradientOp>(op); });
  auto count = llvm::range_size(gradients);
  if (count > 1)
    return emitOpError("tape is asked for gradients ")
           << count << " times but is not persistent; mark it "
           << "'tape.record persistent' to ask more than once";
  return success();
}

LogicalResult RecordOp::verifyRegions() {
  if (getBody().empty() ||
      !isa<YieldOp>(getBodyBlock().back()))
    return emitOpError("region must end with tape.yield");
  if (getBodyBlock().getNumArguments() != 0)
    return emitOpError("region must not have arguments");
  YieldOp yield = getYield();
  if (yield.getValues().getTypes() != getTargets().getTypes())
    return yield.emitOpError("yields ")
           << yield.getValues().size() << " values of types "
           << yield.getValues().getTypes()
           << " but the enclosing tape.record has targets of types "
           << getTargets().getTypes();
  return success();
}

//===----------------------------------------------------------------------===//
// WatchOp
//===----------------------------------------------------------------------===//

LogicalResult WatchOp::verify() {
  auto record = (*this)->getParentOfType<RecordOp>();
  if (!record)
    return emitOpError("must be inside a tape.record region");
  if (record.getBody().isAncestor(getValue().getParentRegion()))
    return emitOpError("watches a value defined inside the recording region; "
                       "watch a tensor defined before the tape.record");
  return success();
}

//===----------------------------------------------------------------------===//
// RandomUniformOp
//===----------------------------------------------------------------------===//

LogicalResult RandomUniformOp::verify() {
  auto type = dyn_cast<RankedTensorType>(getResult().getType());
  if (!type || !type.hasStaticShape())
    return emitOpError("needs a statically shaped result, got ")
           << getResult().getType();
  if (!type.getElementType().isF32() && !type.getElementType().isF64())
    return emitOpError("draws f32 or f64 values, not ")
           << type.getElementType();
  if (!(*this)->getParentOfType<StepOp>())
    return emitOpError("must be inside a tape.step: its values are keyed by "
                       "the step count");
  return success();
}

//===----------------------------------------------------------------------===//
// ClipByGlobalNormOp
//===----------------------------------------------------------------------===//

LogicalResult ClipByGlobalNormOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> location, ValueRange operands,
    DictionaryAttr, OpaqueProperties, RegionRange,
    SmallVectorImpl<Type> &inferredReturnTypes) {
  if (operands.empty())
    return emitOptionalError(location, "'tape.clip_by_global_norm' op needs "
                                       "at least one gradient");
  for (Value gradient : operands)
    inferredReturnTypes.push_back(gradient.getType());
  // The global norm: a scalar of the first gradient's element type (the
  // verifier requires one element type).
  inferredReturnTypes.push_back(RankedTensorType::get(
      {}, getElementTypeOrSelf(operands.front().getType())));
  return success();
}

LogicalResult ClipByGlobalNormOp::verify() {
  if (getGradients().empty())
    return emitOpError("needs at least one gradient");
  Type element = getElementTypeOrSelf(getGradients().front().getType());
  for (auto [i, gradient] : llvm::enumerate(getGradients())) {
    auto type = dyn_cast<RankedTensorType>(gradient.getType());
    if (!type || !type.hasStaticShape())
      return emitOpError("gradient #")
             << i << " must be a statically shaped tensor, got "
             << gradient.getType();
    if (type.getElementType() != element)
      return emitOpError("gradient #")
             << i << " has element type " << type.getElementType()
             << " but gradient #0 has " << element
             << "; the global norm is computed in one type";
  }
  double maxNorm = getMaxNorm().convertToDouble();
  if (!std::isfinite(maxNorm) || maxNorm <= 0.0)
    return emitOpError("max_norm must be finite and > 0, got ") << maxNorm;
  return success();
}

/// The non-trainable variable behind `resource` when it is a tape.handle of
/// one ({trainable = false}: optimizer slots, counters, statistics), else
/// null. Gradients with respect to such a variable and optimizer updates of
/// it are refused: the flag is the user's statement that nothing trains it.
static VariableOp nonTrainableVariableOf(Value resource,
                                         SymbolTableCollection &symbolTable) {
  auto handle = resource.getDefiningOp<HandleOp>();
  if (!handle)
    return nullptr;
  auto variable = symbolTable.lookupNearestSymbolFrom<VariableOp>(
      handle, handle.getVariableAttr());
  return variable && !variable.getTrainable() ? variable : nullptr;
}

//===----------------------------------------------------------------------===//
// GradientOp
//===----------------------------------------------------------------------===//

RecordOp GradientOp::getRecord() { return getTape().getDefiningOp<RecordOp>(); }

/// The gradient of a source has the source's value type: the variable's type
/// for a resource, the tensor's own type otherwise.
static Type gradientTypeOf(Type sourceType) {
  if (auto resource = dyn_cast<ResourceType>(sourceType))
    return resource.getValueType();
  return sourceType;
}

LogicalResult GradientOp::inferReturnTypes(
    MLIRContext *, std::optional<Location>, ValueRange operands,
    DictionaryAttr, OpaqueProperties properties, RegionRange,
    SmallVectorImpl<Type> &inferredReturnTypes) {
  GradientOp::Adaptor adaptor(operands, nullptr, properties);
  for (Value source : adaptor.getSources())
    inferredReturnTypes.push_back(gradientTypeOf(source.getType()));
  return success();
}

LogicalResult GradientOp::verify() {
  RecordOp record = getRecord();
  if (!record)
    return emitOpError("tape operand must be produced by tape.record");
  if (getTargets().empty())
    return emitOpError("needs at least one target");
  for (auto [i, target] : llvm::enumerate(getTargets())) {
    if (target.getDefiningOp() != record.getOperation())
      return emitOpError("target #")
                 .append(i, " is not a result of the tape.record that "
                            "produced the tape")
                 .attachNote(record.getLoc())
             << "tape recorded here";
  }
  if (getSources().empty())
    return emitOpError("needs at least one source");
  for (auto [i, source] : llvm::enumerate(getSources())) {
    Type type = source.getType();
    if (isa<ResourceType>(type)) {
      if (!isa<FloatType>(cast<ResourceType>(type).getValueType()
                              .getElementType()))
        return emitOpError("source #")
               << i << " is a variable of type "
               << cast<ResourceType>(type).getValueType()
               << "; gradients exist only for float variables";
      continue;
    }
    auto tensor = dyn_cast<RankedTensorType>(type);
    if (!tensor || !isa<FloatType>(tensor.getElementType()))
      return emitOpError("source #")
             << i << " must be a resource or a float tensor, got " << type;
    if (!record.isWatched(source))
      return emitOpError("source #")
                 .append(i, " is a tensor that the tape does not watch; add "
                            "'tape.watch' for it inside the recording region")
                 .attachNote(record.getLoc())
             << "tape recorded here";
  }
  return success();
}

LogicalResult GradientOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  for (auto [i, source] : llvm::enumerate(getSources()))
    if (VariableOp variable = nonTrainableVariableOf(source, symbolTable))
      return emitOpError("source #")
                 .append(i, " is variable @", variable.getSymName(),
                         ", which is not trainable; take the gradient of a "
                         "tensor read from it and watched (tape.watch), or "
                         "drop {trainable = false}")
                 .attachNote(variable.getLoc())
             << "declared {trainable = false} here";
  return success();
}

//===----------------------------------------------------------------------===//
// StepOp
//===----------------------------------------------------------------------===//

void StepOp::build(OpBuilder &builder, OperationState &state, StringRef name,
                   FunctionType type) {
  state.addAttribute(SymbolTable::getSymbolAttrName(),
                     builder.getStringAttr(name));
  state.addAttribute(getFunctionTypeAttrName(state.name), TypeAttr::get(type));
  state.addRegion();
}

ParseResult StepOp::parse(OpAsmParser &parser, OperationState &result) {
  auto buildFuncType = [](Builder &builder, ArrayRef<Type> argTypes,
                          ArrayRef<Type> results,
                          function_interface_impl::VariadicFlag,
                          std::string &) {
    return builder.getFunctionType(argTypes, results);
  };
  return function_interface_impl::parseFunctionOp(
      parser, result, /*allowVariadic=*/false,
      getFunctionTypeAttrName(result.name), buildFuncType,
      getArgAttrsAttrName(result.name), getResAttrsAttrName(result.name));
}

void StepOp::print(OpAsmPrinter &printer) {
  function_interface_impl::printFunctionOp(
      printer, *this, /*isVariadic=*/false, getFunctionTypeAttrName(),
      getArgAttrsAttrName(), getResAttrsAttrName());
}

LogicalResult StepOp::verify() {
  if (getBody().empty())
    return emitOpError("@") << getSymName()
                            << " has no body: a step is compiled from its "
                               "body and cannot be external";
  for (Type type : getFunctionType().getInputs())
    if (isa<TapeType>(type))
      return emitOpError("a gradient tape cannot cross a step boundary");
  for (Type type : getFunctionType().getResults())
    if (isa<TapeType>(type))
      return emitOpError("a gradient tape cannot cross a step boundary");
  return success();
}

//===----------------------------------------------------------------------===//
// ReturnOp
//===----------------------------------------------------------------------===//

LogicalResult ReturnOp::verify() {
  auto step = (*this)->getParentOfType<StepOp>();
  ArrayRef<Type> results = step.getFunctionType().getResults();
  if (getOperands().size() != results.size())
    return emitOpError("returns ")
           << getOperands().size() << " values but step @" << step.getSymName()
           << " declares " << results.size() << " results";
  for (auto [i, pair] : llvm::enumerate(llvm::zip(getOperandTypes(), results)))
    if (std::get<0>(pair) != std::get<1>(pair))
      return emitOpError("result #")
             << i << " has type " << std::get<0>(pair) << " but step @"
             << step.getSymName() << " declares " << std::get<1>(pair);
  return success();
}

//===----------------------------------------------------------------------===//
// CallOp
//===----------------------------------------------------------------------===//

LogicalResult CallOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  Operation *symbol = symbolTable.lookupNearestSymbolFrom(*this, getCalleeAttr());
  if (!symbol)
    return emitOpError("calls unknown step ") << getCalleeAttr();
  auto step = dyn_cast<StepOp>(symbol);
  if (!step)
    return emitOpError("calls ")
               .append(getCalleeAttr(), ", which is a '", symbol->getName(),
                       "', not a tape.step; use func.call for host functions")
               .attachNote(symbol->getLoc())
           << "symbol defined here";
  if (step.getFunctionType() != getCalleeType())
    return emitOpError("call type ")
               .append(getCalleeType(), " does not match the type of step ",
                       getCalleeAttr(), ": ", step.getFunctionType())
               .attachNote(step.getLoc())
           << "step defined here";
  return success();
}

//===----------------------------------------------------------------------===//
// ApplyGradientsOp
//===----------------------------------------------------------------------===//

LogicalResult
ApplyGradientsOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  for (auto [i, resource] : llvm::enumerate(getVariables()))
    if (VariableOp variable = nonTrainableVariableOf(resource, symbolTable))
      return emitOpError("variable #")
                 .append(i, " is @", variable.getSymName(),
                         ", which is not trainable: an optimizer updates only "
                         "trainable variables; update it with tape.assign, or "
                         "drop {trainable = false}")
                 .attachNote(variable.getLoc())
             << "declared {trainable = false} here";
  return success();
}

LogicalResult ApplyGradientsOp::verify() {
  if (getGradients().size() != getVariables().size())
    return emitOpError("has ")
           << getGradients().size() << " gradients for "
           << getVariables().size() << " variables";
  if (Value lr = getLearningRate()) {
    auto type = cast<RankedTensorType>(lr.getType());
    if (type.getRank() != 0)
      return emitOpError("learning_rate must be a rank-0 tensor, got ")
             << lr.getType();
    for (auto [i, gradient] : llvm::enumerate(getGradients()))
      if (getElementTypeOrSelf(gradient.getType()) != type.getElementType())
        return emitOpError("learning_rate has element type ")
               << type.getElementType() << " but gradient #" << i << " has "
               << getElementTypeOrSelf(gradient.getType());
  }
  for (auto [i, pair] :
       llvm::enumerate(llvm::zip(getGradients(), getVariables()))) {
    auto [gradient, variable] = pair;
    RankedTensorType valueType =
        cast<ResourceType>(variable.getType()).getValueType();
    if (gradient.getType() != valueType)
      return emitOpError("gradient #")
             << i << " has type " << gradient.getType()
             << " but variable #" << i << " has type " << valueType;
  }
  // The hyper-parameters are written in f64 and built as constants of the
  // variables' element type: each must stay finite and, when not zero,
  // not round to zero there (a learning rate of 1e39 is inf in f32).
  auto optimizer = cast<OptimizerAttrInterface>(getOptimizer());
  for (auto [i, variable] : llvm::enumerate(getVariables())) {
    auto element = dyn_cast<FloatType>(
        cast<ResourceType>(variable.getType()).getValueType().getElementType());
    if (!element)
      continue;
    for (auto [name, value] : optimizer.getHyperParameters()) {
      APFloat converted = value;
      bool losesInfo = false;
      converted.convert(element.getFloatSemantics(),
                        APFloat::rmNearestTiesToEven, &losesInfo);
      bool overflows = !converted.isFinite() && value.isFinite();
      bool vanishes = converted.isZero() && !value.isZero();
      if (overflows || vanishes)
        return emitOpError()
               << name << " = " << value.convertToDouble() << " is "
               << (overflows ? "not finite" : "zero") << " in " << element
               << ", the element type of variable #" << i;
    }
  }
  return success();
}
