//===- DataParallel.cpp - Gradients averaged over the processes -----------===//
//
// tape-data-parallel: every process runs the step on its own batch; the
// gradients of the variables are summed over the processes by one
// shard.all_reduce per gradient request (a flat buffer with a count
// element) and divided by the count, random draws take the process's
// block of the global draw, and every value written to a variable is
// checked to be the same on all processes.
//
//===----------------------------------------------------------------------===//

#include "tape/Dialect/Tape/Passes.h"
#include "tape/Dialect/Tape/TapeOps.h"
#include "tape/Dialect/Tape/TapeTypes.h"

#include "VariableWrites.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MPI/IR/MPI.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Shard/IR/ShardDialect.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/SymbolTable.h"

#include "llvm/ADT/MapVector.h"

namespace mlir::tape {
#define GEN_PASS_DEF_TAPEDATAPARALLEL
#include "tape/Dialect/Tape/Passes.h.inc"
} // namespace mlir::tape

using namespace mlir;
using namespace mlir::tape;

namespace {

/// The grid of all processes the all-reduces run over.
constexpr llvm::StringLiteral kProcessesGrid = "tape_processes";

/// True for a gradient of a variable (a resource source): the pass
/// replaces every use of it with the mean over the processes.
bool isAveragedGradient(Value v) {
  auto result = dyn_cast<OpResult>(v);
  auto gradient = result ? dyn_cast<GradientOp>(result.getOwner()) : nullptr;
  return gradient && isa<ResourceType>(
                         gradient.getSources()[result.getResultNumber()]
                             .getType());
}

/// Which values may differ from one process to another. The sources are a
/// function's inputs, the rank and what is computed from them; variables
/// are the same everywhere (the runtime starts all processes from the same
/// values and this pass keeps every write the same), and so are the
/// results of an all-reduce and the gradients of variables (their uses see
/// the mean). Conservative: a region op that holds or captures a
/// process-dependent value makes all its results and block arguments
/// process-dependent; a call's results vary when its arguments do or when
/// its callee's do with arguments that are the same everywhere.
class ProcessDependence {
public:
  /// True when `v` may differ between processes (the function around it
  /// called with arguments that may).
  bool varies(Value v) {
    Operation *fn = v.getParentRegion()->getParentOp();
    while (fn && !isa<FunctionOpInterface>(fn))
      fn = fn->getParentOp();
    if (!fn)
      return false;
    return analyze(cast<FunctionOpInterface>(fn), /*argumentsVary=*/true)
        .contains(v);
  }

  /// A process-dependent value that `v` is computed from and that is
  /// computed from no other one (an input, the rank, a region op that
  /// holds one), for the note of an error.
  Value origin(Value v) {
    while (Operation *def = v.getDefiningOp()) {
      if (isa<RandomUniformOp>(def))
        return v; // its offset is the rank's
      auto operands = def->getOperands();
      auto next = llvm::find_if(operands, [&](Value o) { return varies(o); });
      if (next == operands.end())
        return v;
      v = *next;
    }
    return v;
  }

private:
  using ValueSet = DenseSet<Value>;

  /// The process-dependent values of `fn`, to a fixed point.
  ValueSet &analyze(FunctionOpInterface fn, bool argumentsVary) {
    auto key = std::make_pair(fn.getOperation(), argumentsVary);
    auto found = results.find(key);
    if (found != results.end())
      return found->second;
    ValueSet &set = results[key];
    if (argumentsVary)
      for (Region &region : fn->getRegions())
        for (Block &block : region)
          for (BlockArgument arg : block.getArguments())
            set.insert(arg);
    size_t before;
    do {
      before = set.size();
      for (Region &region : fn->getRegions())
        visitRegion(region, set);
    } while (set.size() != before);
    return set;
  }

  /// Visits the ops of `region` in order; true when one of them uses or
  /// yields a process-dependent value.
  bool visitRegion(Region &region, ValueSet &set) {
    bool any = false;
    for (Block &block : region)
      for (Operation &op : block)
        any |= visitOp(&op, set);
    return any;
  }

  bool visitOp(Operation *op, ValueSet &set) {
    bool operandVaries = llvm::any_of(
        op->getOperands(), [&](Value v) { return set.contains(v); });
    bool inside = false;
    for (Region &region : op->getRegions()) {
      inside |= visitRegion(region, set);
      region.walk([&](Operation *nested) {
        for (Value v : nested->getOperands())
          if (set.contains(v) && !region.isAncestor(v.getParentRegion()))
            inside = true; // captured from above
      });
    }
    if (operandVaries || inside)
      for (Region &region : op->getRegions())
        for (Block &block : region)
          for (BlockArgument arg : block.getArguments())
            set.insert(arg);
    bool resultsVary = operandVaries || inside || isa<mpi::CommRankOp>(op);
    if (isa<shard::AllReduceOp>(op))
      resultsVary = false;
    else if (auto call = dyn_cast<CallOpInterface>(op))
      resultsVary = operandVaries || calleeVaries(call);
    for (OpResult r : op->getResults())
      if (resultsVary && !isAveragedGradient(r))
        set.insert(r);
    return operandVaries || inside ||
           llvm::any_of(op->getResults(),
                        [&](Value r) { return set.contains(r); });
  }

  /// Whether a callee's results may differ between processes when its
  /// arguments do not. Unknown code may.
  bool calleeVaries(CallOpInterface call) {
    auto callee =
        dyn_cast_or_null<FunctionOpInterface>(call.resolveCallable());
    if (!callee || callee.getFunctionBody().empty())
      return true;
    auto known = calleeSummaries.find(callee);
    if (known != calleeSummaries.end())
      return known->second;
    calleeSummaries[callee] = true; // recursion: assume the worst
    ValueSet &set = analyze(callee, /*argumentsVary=*/false);
    bool varies = false;
    for (Block &block : callee.getFunctionBody())
      if (Operation *terminator = block.getTerminator();
          terminator && terminator->hasTrait<OpTrait::ReturnLike>())
        for (Value v : terminator->getOperands())
          varies |= set.contains(v);
    calleeSummaries[callee] = varies;
    return varies;
  }

  std::map<std::pair<Operation *, bool>, ValueSet> results;
  DenseMap<Operation *, bool> calleeSummaries;
};

/// Number of elements of a static shape.
int64_t elementCount(RankedTensorType type) {
  int64_t n = 1;
  for (int64_t d : type.getShape())
    n *= d;
  return n;
}

/// `v` as a one-dimensional tensor (a view, no copy).
Value flatten(OpBuilder &b, Location loc, Value v) {
  auto type = cast<RankedTensorType>(v.getType());
  auto flat = RankedTensorType::get({elementCount(type)},
                                    type.getElementType());
  if (type.getRank() == 1)
    return v;
  if (type.getRank() == 0)
    return tensor::ExpandShapeOp::create(b, loc, flat, v,
                                         ArrayRef<ReassociationIndices>{});
  ReassociationIndices all;
  for (int64_t d = 0; d < type.getRank(); ++d)
    all.push_back(d);
  return tensor::CollapseShapeOp::create(b, loc, flat, v,
                                         ArrayRef<ReassociationIndices>{all});
}

/// A one-dimensional `v` in the shape of `type` (a view, no copy).
Value unflatten(OpBuilder &b, Location loc, Value v, RankedTensorType type) {
  if (type.getRank() == 1)
    return v;
  if (type.getRank() == 0)
    return tensor::CollapseShapeOp::create(b, loc, type, v,
                                           ArrayRef<ReassociationIndices>{});
  ReassociationIndices all;
  for (int64_t d = 0; d < type.getRank(); ++d)
    all.push_back(d);
  return tensor::ExpandShapeOp::create(b, loc, type, v,
                                       ArrayRef<ReassociationIndices>{all});
}

/// `v / count`, elementwise, `count` a scalar.
Value divide(OpBuilder &b, Location loc, Value v, Value count) {
  auto type = cast<RankedTensorType>(v.getType());
  Value init =
      tensor::EmptyOp::create(b, loc, type.getShape(), type.getElementType());
  AffineMap identity = b.getMultiDimIdentityMap(type.getRank());
  SmallVector<utils::IteratorType> parallel(type.getRank(),
                                            utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{type}, ValueRange{v}, ValueRange{init},
      ArrayRef<AffineMap>{identity, identity}, parallel,
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        Value mean = arith::DivFOp::create(nb, nloc, args[0], count);
        linalg::YieldOp::create(nb, nloc, mean);
      });
  return generic.getResult(0);
}

class TapeDataParallelPass
    : public tape::impl::TapeDataParallelBase<TapeDataParallelPass> {
public:
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<StepOp> steps = llvm::to_vector(module.getOps<StepOp>());
    for (StepOp step : steps)
      if (failed(makeDataParallel(step)))
        return signalPassFailure();
    ProcessDependence dependence;
    bool writesOk = succeeded(checkWrites(module, dependence));
    bool collectivesOk = succeeded(checkCollectives(module, dependence));
    if (!writesOk || !collectivesOk)
      return signalPassFailure();
  }

private:
  /// The values to average at one point, grouped by element type (one
  /// buffer, one all-reduce each).
  using Bucket = llvm::MapVector<Type, SmallVector<Value>>;

  LogicalResult makeDataParallel(StepOp step) {
    if (step.getBody().empty())
      return success();
    if (failed(offsetRandomDraws(step)))
      return failure();
    // Which scalar float results differ between processes, with the
    // gradients of variables counted as the means they will be.
    ProcessDependence dependence;
    SmallVector<ReturnOp> returns;
    step.walk([&](ReturnOp r) { returns.push_back(r); });
    SmallVector<GradientOp> gradients;
    step.walk([&](GradientOp g) { gradients.push_back(g); });

    // Scalar results computed before the last gradient request of the
    // step's body go into its buffer (no all-reduce of their own).
    Block &entry = step.getBody().front();
    GradientOp last;
    for (GradientOp g : gradients)
      if (g->getBlock() == &entry)
        last = g;
    llvm::MapVector<Operation *, SmallVector<Value>> foldedInto;
    llvm::MapVector<ReturnOp, SmallVector<unsigned>> ownAllReduce;
    for (ReturnOp ret : returns) {
      for (auto [i, v] : llvm::enumerate(ret.getOperands())) {
        auto type = dyn_cast<RankedTensorType>(v.getType());
        if (!type || !isa<FloatType>(type.getElementType()) ||
            !type.hasStaticShape() || elementCount(type) != 1 ||
            !dependence.varies(v))
          continue;
        bool before = last && returns.size() == 1 &&
                      ret->getBlock() == &entry &&
                      (isa<BlockArgument>(v)
                           ? cast<BlockArgument>(v).getOwner() == &entry
                           : v.getDefiningOp()->getBlock() == &entry &&
                                 v.getDefiningOp()->isBeforeInBlock(last));
        if (before) {
          if (!llvm::is_contained(foldedInto[last], v))
            foldedInto[last].push_back(v);
        } else {
          ownAllReduce[ret].push_back(i);
        }
      }
    }

    for (GradientOp g : gradients) {
      Bucket bucket;
      for (auto [source, result] :
           llvm::zip(g.getSources(), g.getGradients()))
        if (isa<ResourceType>(source.getType()) && !result.use_empty())
          bucket[cast<RankedTensorType>(result.getType()).getElementType()]
              .push_back(result);
      for (Value v : foldedInto.lookup(g.getOperation()))
        bucket[cast<RankedTensorType>(v.getType()).getElementType()]
            .push_back(v);
      // The uses to redirect, taken before the packing adds its own.
      DenseMap<Value, SmallVector<OpOperand *>> uses;
      for (auto &[type, values] : bucket)
        for (Value v : values)
          for (OpOperand &use : v.getUses())
            if (isAveragedGradient(v) || isa<ReturnOp>(use.getOwner()))
              uses[v].push_back(&use);
      OpBuilder b(g->getContext());
      b.setInsertionPointAfter(g);
      DenseMap<Value, Value> means;
      if (failed(average(b, g.getLoc(), bucket, means)))
        return failure();
      // Every use of a gradient sees the mean; a folded result is the
      // mean only where the step returns it (the gradient request keeps
      // the process's own loss as its target).
      for (auto &[v, list] : uses)
        for (OpOperand *use : list)
          use->set(means.lookup(v));
    }

    for (auto &[ret, indices] : ownAllReduce) {
      Bucket bucket;
      for (unsigned i : indices) {
        Value v = ret.getOperand(i);
        SmallVector<Value> &values =
            bucket[cast<RankedTensorType>(v.getType()).getElementType()];
        if (!llvm::is_contained(values, v))
          values.push_back(v);
      }
      OpBuilder b(ret);
      DenseMap<Value, Value> means;
      if (failed(average(b, ret.getLoc(), bucket, means)))
        return failure();
      for (unsigned i : indices)
        ret->setOperand(i, means.lookup(ret.getOperand(i)));
    }
    return success();
  }

  /// Gives every random draw of `step` the offset `rank * count`: this
  /// process's block of the draw N times as large.
  LogicalResult offsetRandomDraws(StepOp step) {
    SmallVector<RandomUniformOp> draws;
    step.walk([&](RandomUniformOp op) { draws.push_back(op); });
    if (draws.empty())
      return success();
    Location loc = step.getLoc();
    OpBuilder b = OpBuilder::atBlockBegin(&step.getBody().front());
    Value world = mpi::CommWorldOp::create(
        b, loc, mpi::CommType::get(b.getContext()));
    auto rankOp = mpi::CommRankOp::create(b, loc, /*retval=*/Type(),
                                          b.getI32Type(), world);
    Value rank =
        arith::ExtUIOp::create(b, loc, b.getI64Type(), rankOp.getRank());
    for (RandomUniformOp draw : draws) {
      int64_t count =
          elementCount(cast<RankedTensorType>(draw.getResult().getType()));
      Value n = arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(count));
      Value offset = arith::MulIOp::create(b, loc, rank, n);
      if (Value own = draw.getOffset()) {
        OpBuilder at(draw);
        offset = arith::AddIOp::create(at, draw.getLoc(), own, offset);
      }
      draw.getOffsetMutable().assign(offset);
    }
    return success();
  }

  /// The symbol of the grid of all processes (declared once).
  StringRef processesGrid() {
    if (!grid.empty())
      return grid;
    ModuleOp module = getOperation();
    OpBuilder b(module.getContext());
    auto op = shard::GridOp::create(b, module.getLoc(), kProcessesGrid,
                                    ArrayRef<int64_t>{ShapedType::kDynamic});
    // Renamed on a clash with a symbol of the module.
    SymbolTable(module).insert(op, module.getBody()->begin());
    grid = op.getSymName().str();
    return grid;
  }

  /// Emits, at `b`, one all-reduce per element type of `bucket` and
  /// records the mean of each value in `means`.
  LogicalResult average(OpBuilder &b, Location loc, const Bucket &bucket,
                        DenseMap<Value, Value> &means) {
    for (auto &[elementType, values] : bucket) {
      if (!elementType.isF32() && !elementType.isF64())
        return emitError(values.front().getLoc())
               << "data-parallel: cannot average " << elementType
               << " values over the processes (MPI sums f32 and f64); "
                  "compute this gradient in f32";
      int64_t total = 1; // the count element
      for (Value v : values) {
        int64_t n = elementCount(cast<RankedTensorType>(v.getType()));
        if (llvm::AddOverflow(total, n, total))
          return emitError(loc) << "data-parallel: the gradients of one "
                                   "request have more elements than 64 bits "
                                   "count";
      }
      auto flatType = RankedTensorType::get({total}, elementType);
      Value buffer = tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{total},
                                             elementType);
      int64_t offset = 0;
      SmallVector<int64_t> offsets;
      for (Value v : values) {
        Value flat = flatten(b, loc, v);
        int64_t n = cast<RankedTensorType>(flat.getType()).getDimSize(0);
        buffer = tensor::InsertSliceOp::create(
            b, loc, flat, buffer, ArrayRef<OpFoldResult>{b.getIndexAttr(offset)},
            ArrayRef<OpFoldResult>{b.getIndexAttr(n)},
            ArrayRef<OpFoldResult>{b.getIndexAttr(1)});
        offsets.push_back(offset);
        offset += n;
      }
      auto oneType = RankedTensorType::get({1}, elementType);
      Value one = arith::ConstantOp::create(
          b, loc,
          DenseElementsAttr::get(oneType, b.getFloatAttr(elementType, 1.0)));
      buffer = tensor::InsertSliceOp::create(
          b, loc, one, buffer, ArrayRef<OpFoldResult>{b.getIndexAttr(offset)},
          ArrayRef<OpFoldResult>{b.getIndexAttr(1)},
          ArrayRef<OpFoldResult>{b.getIndexAttr(1)});
      Value sum = shard::AllReduceOp::create(
          b, loc, flatType, processesGrid(), ArrayRef<int16_t>{0}, buffer,
          shard::ReductionKind::Sum);
      Value last = arith::ConstantIndexOp::create(b, loc, offset);
      Value count =
          tensor::ExtractOp::create(b, loc, sum, ValueRange{last});
      for (auto [v, at] : llvm::zip(values, offsets)) {
        auto type = cast<RankedTensorType>(v.getType());
        int64_t n = elementCount(type);
        Value slice = tensor::ExtractSliceOp::create(
            b, loc, RankedTensorType::get({n}, elementType), sum,
            ArrayRef<OpFoldResult>{b.getIndexAttr(at)},
            ArrayRef<OpFoldResult>{b.getIndexAttr(n)},
            ArrayRef<OpFoldResult>{b.getIndexAttr(1)});
        means[v] = divide(b, loc, unflatten(b, loc, slice, type), count);
      }
    }
    return success();
  }

  /// Every value written to a variable must be the same on all processes.
  LogicalResult checkWrites(ModuleOp module, ProcessDependence &dependence) {
    bool ok = true;
    auto check = [&](Operation *op, Value value, StringAttr variable) {
      if (!dependence.varies(value))
        return;
      InFlightDiagnostic d = op->emitError()
          << "data-parallel: the value written to "
          << (variable ? "@" + variable.getValue().str()
                       : std::string("a variable"))
          << " may differ between processes: it is computed from this "
             "process's inputs, a gradient with respect to a tensor or a "
             "random draw, not only from variables, constants and mean "
             "gradients, so the processes' variables would drift apart";
      Value origin = dependence.origin(value);
      if (auto arg = dyn_cast<BlockArgument>(origin))
        d.attachNote(arg.getLoc())
            << "it depends on input #" << arg.getArgNumber()
            << " of the function";
      else
        d.attachNote(origin.getLoc())
            << "it depends on this process-dependent value";
      d.attachNote() << "compute the update from gradients (averaged over "
                        "the processes), or compile without data-parallel";
      ok = false;
    };
    module.walk([&](Operation *op) {
      if (std::optional<Write> write = asWrite(op)) {
        check(op, write->value, variableOf(write->resource));
        return;
      }
      if (auto apply = dyn_cast<ApplyGradientsOp>(op))
        for (auto [g, resource] :
             llvm::zip(apply.getGradients(), apply.getVariables()))
          check(op, g, variableOf(resource));
    });
    return success(ok);
  }

  /// Every process must reach every all-reduce (and every call of a
  /// function that runs one) the same number of times: one under a
  /// condition or a trip count that may differ between processes would
  /// leave the others waiting for it.
  LogicalResult checkCollectives(ModuleOp module,
                                 ProcessDependence &dependence) {
    // The functions that run an all-reduce, directly or through calls.
    DenseSet<Operation *> collective;
    auto isCollective = [&](Operation *op) {
      if (isa<shard::AllReduceOp>(op))
        return true;
      auto call = dyn_cast<CallOpInterface>(op);
      Operation *callee = call ? call.resolveCallable() : nullptr;
      return callee && collective.contains(callee);
    };
    for (bool changed = true; changed;) {
      changed = false;
      module.walk([&](FunctionOpInterface fn) {
        if (collective.contains(fn))
          return;
        WalkResult found = fn.walk([&](Operation *op) {
          return isCollective(op) ? WalkResult::interrupt()
                                  : WalkResult::advance();
        });
        if (found.wasInterrupted()) {
          collective.insert(fn);
          changed = true;
        }
      });
    }
    bool ok = true;
    module.walk([&](Operation *op) {
      if (!isCollective(op))
        return;
      for (Operation *at = op->getParentOp();
           at && !isa<FunctionOpInterface>(at); at = at->getParentOp()) {
        Value control = processDependentControl(at, dependence);
        if (!control)
          continue;
        InFlightDiagnostic d =
            op->emitError()
            << "data-parallel: every process must run this "
            << (isa<shard::AllReduceOp>(op) ? "all-reduce of gradients"
                                            : "call (it all-reduces gradients)")
            << " together, but it is inside '" << at->getName()
            << "', whose condition or trip count may differ between "
               "processes: the others would wait for it forever";
        d.attachNote(control.getLoc())
            << "this process-dependent value decides it";
        ok = false;
        return;
      }
    });
    return success(ok);
  }

  /// The operand of a control-flow op that decides whether or how often
  /// its regions run, if it may differ between processes.
  static Value processDependentControl(Operation *op,
                                       ProcessDependence &dependence) {
    SmallVector<Value> control;
    if (auto ifOp = dyn_cast<scf::IfOp>(op))
      control.push_back(ifOp.getCondition());
    else if (auto forOp = dyn_cast<scf::ForOp>(op))
      control.append({forOp.getLowerBound(), forOp.getUpperBound(),
                      forOp.getStep()});
    else if (auto whileOp = dyn_cast<scf::WhileOp>(op))
      control.push_back(whileOp.getConditionOp().getCondition());
    else if (auto switchOp = dyn_cast<scf::IndexSwitchOp>(op))
      control.push_back(switchOp.getArg());
    for (Value v : control)
      if (dependence.varies(v))
        return v;
    return {};
  }

  std::string grid;
};

} // namespace
