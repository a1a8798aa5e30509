//===- TapeOps.td - Operations of the tape dialect ---------*- tablegen -*-===//

#ifndef TAPE_DIALECT_TAPE_TAPEOPS_TD
#define TAPE_DIALECT_TAPE_TAPEOPS_TD

include "tape/Dialect/Tape/TapeDialect.td"
include "tape/Dialect/Tape/TapeTypes.td"
include "tape/Dialect/Tape/TapeAttributes.td"
include "tape/Dialect/Tape/TapeInterfaces.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/IR/OpAsmInterface.td"
include "mlir/IR/RegionKindInterface.td"
include "mlir/Interfaces/CallInterfaces.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"
include "mlir/Interfaces/FunctionInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

/// The state of all variables. Reads and assignments carry memory effects
/// on it, so upstream passes (CSE, canonicalisation, DCE) never reorder a
/// read across an assignment or drop an assignment.
def Tape_VariableResource : Resource<"::mlir::tape::VariableResource">;

def Tape_InitialValueAttr : Attr<Or<[
      CPred<"::llvm::isa<::mlir::DenseElementsAttr>($_self)">,
      CPred<"::llvm::isa<::mlir::tape::InitializerAttrInterface>($_self)">]>,
    "dense elements or an initializer attribute"> {
  let storageType = "::mlir::Attribute";
  let returnType = "::mlir::Attribute";
  let convertFromStorage = "$_self";
}

//===----------------------------------------------------------------------===//
// Variables
//===----------------------------------------------------------------------===//

/// Checked before the Symbol trait, so that a variable declared inside a
/// function gets a diagnostic that says why it is wrong.
def Tape_DeclaredAtModuleScope : NativeOpTrait<"DeclaredAtModuleScope"> {
  let cppNamespace = "::mlir::tape";
}

def Tape_VariableOp : Tape_Op<"variable", [Tape_DeclaredAtModuleScope, Symbol]> {
  let summary = "Declares a variable: named, typed, initialised state";
  let description = [{
    Declares state that lives across calls of a step, like `tf.Variable`.
    The value type is a statically shaped tensor (scalars are rank-0
    tensors). The initial value is dense elements of that type or an
    initializer attribute (`#tape.zeros`, `#tape.random_normal<...>`).
    `trainable` (default true) says whether `tape.gradient` may ask for the
    variable's gradient; optimizer slots and step counters are not
    trainable.

    Variables live at module scope; declaring one inside a step is an error
    (it would be re-created on every call). The op maps one-to-one onto a
    mutable `ml_program.global` with the same symbol, type and value.

    Example:

    ```mlir
    tape.variable @w : tensor<f32> = dense<1.0>
    tape.variable @w1 : tensor<784x256xf32> = #tape.random_normal<stddev = 0.05, seed = 7>
    tape.variable private @step : tensor<i64> = #tape.zeros {trainable = false}
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name,
                       OptionalAttr<StrAttr>:$sym_visibility,
                       TypeAttrOf<Tape_VariableValueType>:$type,
                       Tape_InitialValueAttr:$initial_value,
                       DefaultValuedAttr<BoolAttr, "true">:$trainable);
  let assemblyFormat = [{
    custom<SymbolVisibilityAndName>($sym_visibility, $sym_name)
    custom<TypeAndInitialValue>($type, $initial_value) attr-dict
  }];
  let extraClassDeclaration = [{
    ::mlir::RankedTensorType getValueType() {
      return ::llvm::cast<::mlir::RankedTensorType>(getType());
    }
    /// The initial value as dense elements (materialising initializers).
    ::mlir::DenseElementsAttr getInitialValueAsDense();
  }];
  let hasVerifier = 1;
}

def Tape_HandleOp : Tape_Op<"handle", [Pure,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>,
    DeclareOpInterfaceMethods<OpAsmOpInterface, ["getAsmResultNames"]>]> {
  let summary = "Refers to a variable by symbol";
  let description = [{
    Returns a handle to the module-level variable `@name`. The handle's
    value type must be the variable's type. Taking a handle reads nothing.

    Example:

    ```mlir
    %w = tape.handle @w : !tape.resource<tensor<f32>>
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$variable);
  let results = (outs Tape_Resource:$resource);
  let assemblyFormat = "$variable attr-dict `:` qualified(type($resource))";
}

def Tape_ReadOp : Tape_Op<"read", [
    MemoryEffects<[MemRead<Tape_VariableResource>]>,
    TypesMatchWith<"result type is the resource's value type", "resource",
                   "value", "::llvm::cast<::mlir::tape::ResourceType>($_self).getValueType()">]> {
  let summary = "Reads the current value of a variable";
  let description = [{
    Returns the variable's value as of this point in program order: every
    assignment made before it, in the step or in host code, is visible.

    Example:

    ```mlir
    %v = tape.read %w : !tape.resource<tensor<f32>>
    ```
  }];
  let arguments = (ins Tape_Resource:$resource);
  let results = (outs AnyRankedTensor:$value);
  let assemblyFormat = "$resource attr-dict `:` qualified(type($resource))";
}

class Tape_AssignLikeOp<string mnemonic, list<Trait> traits = []>
    : Tape_Op<mnemonic, !listconcat(traits, [
        TypesMatchWith<"value type is the resource's value type", "resource",
                       "value", "::llvm::cast<::mlir::tape::ResourceType>($_self).getValueType()">])> {
  let arguments = (ins Tape_Resource:$resource, AnyRankedTensor:$value);
  let assemblyFormat = "$resource `,` $value attr-dict `:` qualified(type($resource))";
}

def Tape_AssignOp : Tape_AssignLikeOp<"assign",
    [MemoryEffects<[MemWrite<Tape_VariableResource>]>]> {
  let summary = "Stores a new value into a variable";
  let description = [{
    `variable = value`. Later reads see the new value.

    Example:

    ```mlir
    tape.assign %w, %new : !tape.resource<tensor<f32>>
    ```
  }];
}

def Tape_AssignAddOp : Tape_AssignLikeOp<"assign_add",
    [MemoryEffects<[MemRead<Tape_VariableResource>, MemWrite<Tape_VariableResource>]>]> {
  let summary = "Adds a value to a variable in place";
  let description = [{
    `variable += value`.

    Example:

    ```mlir
    tape.assign_add %step, %one : !tape.resource<tensor<i64>>
    ```
  }];
}

def Tape_AssignSubOp : Tape_AssignLikeOp<"assign_sub",
    [MemoryEffects<[MemRead<Tape_VariableResource>, MemWrite<Tape_VariableResource>]>]> {
  let summary = "Subtracts a value from a variable in place";
  let description = [{
    `variable -= value`, e.g. the plain SGD update `w.assign_sub(lr * g)`.

    Example:

    ```mlir
    tape.assign_sub %w, %delta : !tape.resource<tensor<f32>>
    ```
  }];
}

//===----------------------------------------------------------------------===//
// Gradient tape
//===----------------------------------------------------------------------===//

def Tape_RecordOp : Tape_Op<"record", [SingleBlock, RecursiveMemoryEffects,
    DeclareOpInterfaceMethods<OpAsmOpInterface, ["getAsmResultNames"]>]> {
  let summary = "A gradient tape: records the ops of its region";
  let description = [{
    The analogue of `with tf.GradientTape() as t:`. The region runs once, in
    place, like any other code; its ops are recorded so that `tape.gradient`
    can differentiate the region's targets (the operands of its
    `tape.yield`) with respect to the variables read inside it and the
    tensors watched inside it (`tape.watch`).

    The first result is the tape token; the other results are the targets.
    A tape may be asked for gradients once, unless it is `persistent`.

    Example:

    ```mlir
    %t, %loss = tape.record {
      %wv = tape.read %w : !tape.resource<tensor<f32>>
      %l = arith.mulf %wv, %wv : tensor<f32>
      tape.yield %l : tensor<f32>
    } : tensor<f32>
    ```
  }];
  let arguments = (ins UnitAttr:$persistent);
  let results = (outs Tape_TapeType:$tape, Variadic<AnyType>:$targets);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    (`persistent` $persistent^)? $body attr-dict `:` type($targets)
  }];
  let hasVerifier = 1;
  let hasRegionVerifier = 1;
  let extraClassDeclaration = [{
    ::mlir::Block &getBodyBlock() { return getBody().front(); }
    /// The `tape.yield` that ends the region.
    YieldOp getYield();
    /// True if `value` is watched by a `tape.watch` inside this tape.
    bool isWatched(::mlir::Value value);
  }];
}

def Tape_YieldOp : Tape_Op<"yield", [Pure, Terminator, ReturnLike,
    HasParent<"RecordOp">]> {
  let summary = "Ends a recording region and yields its targets";
  let description = [{
    Example:

    ```mlir
    tape.yield %loss : tensor<f32>
    ```
  }];
  let arguments = (ins Variadic<AnyType>:$values);
  let assemblyFormat = "($values^ `:` type($values))? attr-dict";
  let builders = [OpBuilder<(ins), [{ /* nothing to yield */ }]>];
}

def Tape_WatchOp : Tape_Op<"watch"> {
  let summary = "Asks the tape to track a tensor defined outside it";
  let description = [{
    The analogue of `tape.watch(x)`: inside a recording region, marks a
    float tensor defined outside the region as a differentiation source, so
    that `tape.gradient` may ask for the gradient with respect to it.
    Variables need no watch: reading one inside the region records it.

    Example:

    ```mlir
    %t, %y = tape.record {
      tape.watch %x : tensor<4xf32>
      %y = math.exp %x : tensor<4xf32>
      tape.yield %y : tensor<4xf32>
    } : tensor<4xf32>
    ```
  }];
  let arguments = (ins Tape_FloatTensor:$value);
  let assemblyFormat = "$value attr-dict `:` type($value)";
  let hasVerifier = 1;
}

def Tape_RandomUniformOp : Tape_Op<"random_uniform", [Pure]> {
  let summary = "Uniform random numbers in [0, 1), new at every step";
  let description = [{
    Draws a tensor of independent uniform values in `[0, 1)` inside a
    `tape.step`, for dropout and other in-step noise. The generator is
    counter-based, Philox4x32-10 (Salmon et al., SC'11; the generator of
    PyTorch's CUDA backend and JAX's `rbg` keys): element `i` of the
    result is a function of the 64-bit `seed`, the number of completed
    calls of the enclosing step, and `i` alone:

      bits = philox4x32_10(counter = (i mod 2^32, i div 2^32,
                                      steps mod 2^32, steps div 2^32),
                           key = (seed mod 2^32, seed div 2^32))
      f32: (bits[0] >> 8) * 2^-24
      f64: ((bits[0] * 2^32 + bits[1]) >> 11) * 2^-53

    So the values differ from one step to the next, repeat exactly when a
    run is repeated, survive checkpoint and resume bit for bit (the step
    count is a variable, `@<step>__random_steps`, saved with the others),
    and do not depend on the number of threads. Two ops with the same seed
    and shape draw the same values: give each its own seed. The op has no
    gradient (nothing flows into it).

    The optional `offset` (an i64) moves the draw along the counter:
    element `i` takes the bits of index `offset + i`, so a draw of `n`
    elements at offset `k * n` is block `k` of a draw `m` times as large
    (row-major: rows `k * r` to `(k + 1) * r - 1` of a draw whose first
    dimension is `m * r`). `tape-data-parallel` gives rank `k` that
    offset: each rank's dropout masks are its rows of the single-process
    mask of the global batch.

    `tape-materialize-random` lowers it to a `linalg.generic`.

    Example (dropout with p = 0.25):

    ```mlir
    %u = tape.random_uniform {seed = 1 : i64} : tensor<64x128xf32>
    %keep = arith.cmpf oge, %u, %p : tensor<64x128xf32>
    ```
  }];
  let arguments = (ins I64Attr:$seed, Optional<I64>:$offset);
  let results = (outs Tape_FloatTensor:$result);
  let assemblyFormat = "(`offset` $offset^)? attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Tape_StopGradientOp : Tape_Op<"stop_gradient", [Pure,
    SameOperandsAndResultType]> {
  let summary = "Identity that blocks the gradient";
  let description = [{
    Returns its operand unchanged; the tape treats the result as a constant,
    so no gradient flows through it (like `tf.stop_gradient`).

    Example:

    ```mlir
    %c = tape.stop_gradient %x : tensor<4xf32>
    ```
  }];
  let arguments = (ins AnyType:$input);
  let results = (outs AnyType:$output);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def Tape_GradientOp : Tape_Op<"gradient", [AttrSizedOperandSegments,
    DeclareOpInterfaceMethods<InferTypeOpInterface>,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "Gradients of recorded targets with respect to sources";
  let description = [{
    The analogue of `t.gradient(targets, sources)`. Returns, per source,
    the gradient of the sum of all elements of all targets with respect to
    it (TensorFlow's convention for non-scalar and several targets). A
    source is a resource (the gradient has the variable's value type) or a
    tensor watched by the tape (the gradient has the tensor's type).

    Every target must be a result of the `tape.record` that produced
    `%tape`. A source the targets do not depend on gets zeros, and
    `tape-differentiate` warns about it.

    Example:

    ```mlir
    %gw, %gb = tape.gradient %t (%loss : tensor<f32>)
                   wrt (%w, %b : !tape.resource<tensor<f32>>, !tape.resource<tensor<f32>>)
    ```
  }];
  let arguments = (ins Tape_TapeType:$tape, Variadic<Tape_FloatTensor>:$targets,
                       Variadic<AnyType>:$sources);
  let results = (outs Variadic<AnyRankedTensor>:$gradients);
  let assemblyFormat = [{
    $tape ` ` `(` $targets `:` type($targets) `)`
    `wrt` ` ` `(` $sources `:` qualified(type($sources)) `)` attr-dict
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    RecordOp getRecord();
  }];
}

//===----------------------------------------------------------------------===//
// Steps
//===----------------------------------------------------------------------===//

def Tape_StepOp : Tape_Op<"step", [AutomaticAllocationScope,
    FunctionOpInterface, IsolatedFromAbove, CallableOpInterface]> {
  let summary = "A function that is compiled whole (like @tf.function)";
  let description = [{
    A train step: forward pass under a tape, gradients and variable updates,
    compiled into one native function. Variables are reached through
    `tape.handle`, never passed by value, so each call reads their current
    values. Host code (`func.func`) calls a step with `tape.call`.

    Example:

    ```mlir
    tape.step @train_step(%x: tensor<f32>, %y: tensor<f32>) -> tensor<f32> {
      ...
      tape.return %loss : tensor<f32>
    }
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name,
                       TypeAttrOf<FunctionType>:$function_type,
                       OptionalAttr<StrAttr>:$sym_visibility,
                       OptionalAttr<DictArrayAttr>:$arg_attrs,
                       OptionalAttr<DictArrayAttr>:$res_attrs);
  let regions = (region AnyRegion:$body);
  let hasCustomAssemblyFormat = 1;
  let hasVerifier = 1;
  let builders = [OpBuilder<(ins "::llvm::StringRef":$name,
                                 "::mlir::FunctionType":$type)>];
  let extraClassDeclaration = [{
    /// FunctionOpInterface.
    ::llvm::ArrayRef<::mlir::Type> getArgumentTypes() {
      return getFunctionType().getInputs();
    }
    ::llvm::ArrayRef<::mlir::Type> getResultTypes() {
      return getFunctionType().getResults();
    }
    ::mlir::Region *getCallableRegion() { return &getBody(); }
    bool isDeclaration() { return getBody().empty(); }
  }];
}

def Tape_ReturnOp : Tape_Op<"return", [Pure, HasParent<"StepOp">,
    ReturnLike, Terminator]> {
  let summary = "Returns from a step";
  let description = [{
    Example:

    ```mlir
    tape.return %loss : tensor<f32>
    ```
  }];
  let arguments = (ins Variadic<AnyType>:$operands);
  let assemblyFormat = "attr-dict ($operands^ `:` type($operands))?";
  let builders = [OpBuilder<(ins), [{ /* no operands */ }]>];
  let hasVerifier = 1;
}

def Tape_CallOp : Tape_Op<"call", [CallOpInterface,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "Calls a step, usually from host code";
  let description = [{
    Runs the step `@callee`. From a host function (`func.func`) this is the
    boundary between host code and compiled code, like calling a
    `tf.function` from Python.

    Example:

    ```mlir
    %loss = tape.call @train_step(%x, %y) : (tensor<f32>, tensor<f32>) -> tensor<f32>
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$callee, Variadic<AnyType>:$operands,
                       OptionalAttr<DictArrayAttr>:$arg_attrs,
                       OptionalAttr<DictArrayAttr>:$res_attrs);
  let results = (outs Variadic<AnyType>);
  let assemblyFormat = [{
    $callee `(` $operands `)` attr-dict `:` functional-type($operands, results)
  }];
  let extraClassDeclaration = [{
    ::mlir::FunctionType getCalleeType() {
      return ::mlir::FunctionType::get(getContext(), getOperandTypes(),
                                       getResultTypes());
    }
    /// CallOpInterface.
    ::mlir::CallInterfaceCallable getCallableForCallee() {
      return (*this)->getAttrOfType<::mlir::SymbolRefAttr>("callee");
    }
    void setCalleeFromCallable(::mlir::CallInterfaceCallable callee) {
      (*this)->setAttr("callee", ::llvm::cast<::mlir::SymbolRefAttr>(callee));
    }
    ::mlir::Operation::operand_range getArgOperands() { return getOperands(); }
    ::mlir::MutableOperandRange getArgOperandsMutable() {
      return getOperandsMutable();
    }
  }];
}

//===----------------------------------------------------------------------===//
// Optimizers
//===----------------------------------------------------------------------===//

def Tape_ClipByGlobalNormOp : Tape_Op<"clip_by_global_norm", [Pure,
    DeclareOpInterfaceMethods<InferTypeOpInterface>]> {
  let summary = "Scales gradients so that their global L2 norm is at most "
                "max_norm";
  let description = [{
    The analogue of `torch.nn.utils.clip_grad_norm_(params, max_norm)`
    and `tf.clip_by_global_norm`: with `n_i` the L2 norm of gradient `i`
    and `n = sqrt(sum_i n_i^2)` their global norm, every gradient is
    multiplied by `min(1, max_norm / (n + 1e-6))` (PyTorch's formula).
    The second result is `n`, before clipping, as a rank-0 tensor of the
    gradients' element type. All gradients share one element type.
    `tape-materialize-optimizers` lowers it to reductions and arithmetic.

    Example:

    ```mlir
    %clipped:2, %norm = tape.clip_by_global_norm %gw, %gb {max_norm = 1.0 : f64}
        : tensor<4x3xf32>, tensor<3xf32>
    // %norm: the global norm before clipping, a tensor<f32>
    ```
  }];
  let arguments = (ins Variadic<Tape_FloatTensor>:$gradients,
                       F64Attr:$max_norm);
  let results = (outs Variadic<Tape_FloatTensor>:$clipped,
                      Tape_FloatTensor:$norm);
  let assemblyFormat = "$gradients attr-dict `:` type($gradients)";
  let hasVerifier = 1;
}

def Tape_ApplyGradientsOp : Tape_Op<"apply_gradients", [AttrSizedOperandSegments,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>,
    MemoryEffects<[MemRead<Tape_VariableResource>, MemWrite<Tape_VariableResource>]>]> {
  let summary = "Applies an optimizer update to variables";
  let description = [{
    The analogue of `optimizer.apply_gradients(zip(grads, vars))`: updates
    each variable in place from its gradient. Gradient `i` must have the
    value type of variable `i`. Optimizers with state (momentum, Adam) get
    their slot variables from `tape-materialize-optimizers`, which rewrites
    this op into reads, arithmetic and assignments.

    Example:

    ```mlir
    tape.apply_gradients #tape.sgd<learning_rate = 0.01>
        (%gw, %gb : tensor<f32>, tensor<f32>)
        to (%w, %b : !tape.resource<tensor<f32>>, !tape.resource<tensor<f32>>)
    ```

    The learning rate can be a value instead of the optimizer's constant:
    `learning_rate(%lr : tensor<f32>)`, a rank-0 tensor of the gradients'
    element type, replaces the attribute's `learning_rate` wherever the
    optimizer uses it (AdamW's decoupled decay `1 - lr * weight_decay`
    included, as PyTorch's schedulers change it). A schedule is then
    ordinary code in the step: computed from a step-count variable
    (linear warmup, cosine decay, step decay) or fed as an input.

    ```mlir
    tape.apply_gradients #tape.adamw<weight_decay = 0.1> (%g : tensor<4xf32>)
        to (%w : !tape.resource<tensor<4xf32>>) learning_rate(%lr : tensor<f32>)
    ```
  }];
  let arguments = (ins Tape_OptimizerAttrInterface:$optimizer,
                       Variadic<Tape_FloatTensor>:$gradients,
                       Variadic<Tape_Resource>:$variables,
                       Optional<Tape_FloatTensor>:$learningRate);
  let assemblyFormat = [{
    $optimizer ` ` `(` $gradients `:` type($gradients) `)`
    `to` ` ` `(` $variables `:` qualified(type($variables)) `)`
    (`learning_rate` `(` $learningRate^ `:` type($learningRate) `)`)? attr-dict
  }];
  let hasVerifier = 1;
}

#endif // TAPE_DIALECT_TAPE_TAPEOPS_TD
