//===- MatmulUpdate.cpp - An SGD-style update fed by one matmul -----------===//

#include "MatmulUpdate.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;

/// The buffer `v` is a view of (through subviews, casts, reshapes).
static Value rootBuffer(Value v) {
  while (auto view = v.getDefiningOp<ViewLikeOpInterface>())
    v = view.getViewSource();
  return v;
}

static bool usesBuffer(Operation *op, Value root) {
  WalkResult result = op->walk([&](Operation *nested) {
    for (Value operand : nested->getOperands())
      if (isa<BaseMemRefType>(operand.getType()) &&
          rootBuffer(operand) == root)
        return WalkResult::interrupt();
    return WalkResult::advance();
  });
  return result.wasInterrupted();
}

/// For a body computing `w + alpha * g` from the block arguments `w` (any
/// of `ws`) and `g`: alpha.
static std::optional<float> matchAxpy(Block &body, ArrayRef<Value> ws,
                                      Value g) {
  if (body.getOperations().size() > 3)
    return std::nullopt;
  Value result = body.getTerminator()->getOperand(0);
  bool subtract = false;
  Value w, term;
  if (auto sub = result.getDefiningOp<arith::SubFOp>()) {
    subtract = true;
    w = sub.getLhs();
    term = sub.getRhs();
  } else if (auto add = result.getDefiningOp<arith::AddFOp>()) {
    bool lhsIsW = llvm::is_contained(ws, add.getLhs());
    w = lhsIsW ? add.getLhs() : add.getRhs();
    term = lhsIsW ? add.getRhs() : add.getLhs();
  } else {
    return std::nullopt;
  }
  if (!llvm::is_contained(ws, w))
    return std::nullopt;
  float scale = 1;
  if (term != g) {
    auto mul = term.getDefiningOp<arith::MulFOp>();
    if (!mul)
      return std::nullopt;
    Value factor = mul.getLhs() == g ? mul.getRhs() : mul.getLhs();
    FloatAttr constant;
    if ((mul.getLhs() != g && mul.getRhs() != g) ||
        !matchPattern(factor, m_Constant(&constant)))
      return std::nullopt;
    scale = constant.getValue().convertToFloat();
  }
  return subtract ? -scale : scale;
}

std::optional<tape::MatmulUpdate>
tape::matchMatmulUpdate(linalg::MatmulOp op) {
  if (!op.hasPureBufferSemantics())
    return std::nullopt;
  Value g = op.getDpsInits()[0];
  auto alloc = g.getDefiningOp<memref::AllocOp>();
  if (!alloc || alloc->getBlock() != op->getBlock())
    return std::nullopt;

  MatmulUpdate found{};
  found.gradient = alloc;
  for (Operation *user : g.getUsers()) {
    if (user == op)
      continue;
    if (user->getBlock() != op->getBlock())
      return std::nullopt;
    if (auto fill = dyn_cast<linalg::FillOp>(user)) {
      FloatAttr value;
      if (found.fill || !fill.hasPureBufferSemantics() ||
          !fill->isBeforeInBlock(op) ||
          !matchPattern(fill.getInputs()[0], m_Constant(&value)) ||
          !value.getValue().isZero())
        return std::nullopt;
      found.fill = fill;
    } else if (auto generic = dyn_cast<linalg::GenericOp>(user)) {
      if (found.update || !op->isBeforeInBlock(generic))
        return std::nullopt;
      found.update = generic;
    } else {
      return std::nullopt;
    }
  }
  if (!found.fill || !found.update)
    return std::nullopt;

  // The update: elementwise, in place on w, reading g once.
  linalg::GenericOp update = found.update;
  if (!update.hasPureBufferSemantics() || update.getNumDpsInits() != 1 ||
      update.getNumDpsInputs() > 2 ||
      update.getNumParallelLoops() != update.getNumLoops() ||
      !llvm::all_of(update.getIndexingMapsArray(),
                    [](AffineMap m) { return m.isIdentity(); }))
    return std::nullopt;
  Value w = update.getDpsInits()[0];
  if (w == g || w.getType() != g.getType())
    return std::nullopt;
  Block &body = update.getRegion().front();
  SmallVector<Value> wArgs{body.getArgument(update.getNumDpsInputs())};
  Value gArg;
  for (OpOperand *inputOperand : update.getDpsInputOperands()) {
    OpOperand &input = *inputOperand;
    Value arg = body.getArgument(input.getOperandNumber());
    if (input.get() == w)
      wArgs.push_back(arg);
    else if (input.get() == g && !gArg)
      gArg = arg;
    else
      return std::nullopt;
  }
  if (!gArg)
    return std::nullopt;
  std::optional<float> alpha = matchAxpy(body, wArgs, gArg);
  if (!alpha)
    return std::nullopt;
  found.alpha = *alpha;
  found.target = w;

  // Writing w at the matmul instead of at the update must not change what
  // anything reads: the matmul's operands and the ops in between stay off w.
  Value root = rootBuffer(w);
  for (Value input : op.getDpsInputs())
    if (rootBuffer(input) == root)
      return std::nullopt;
  for (Operation *between = op->getNextNode(); between != update;
       between = between->getNextNode())
    if (usesBuffer(between, root))
      return std::nullopt;
  return found;
}

void tape::eraseFusedUpdate(const MatmulUpdate &update) {
  update.update->erase();
  update.fill->erase();
  update.gradient->erase();
}
