//===- TapeTypes.td - Types of the tape dialect ------------*- tablegen -*-===//

#ifndef TAPE_DIALECT_TAPE_TAPETYPES_TD
#define TAPE_DIALECT_TAPE_TAPETYPES_TD

include "tape/Dialect/Tape/TapeDialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/BuiltinTypes.td"

class Tape_Type<string name, string typeMnemonic, list<Trait> traits = []>
    : TypeDef<Tape_Dialect, name, traits> {
  let mnemonic = typeMnemonic;
}

def Tape_ResourceType : Tape_Type<"Resource", "resource"> {
  let summary = "A handle to a variable holding a value of the given type";
  let description = [{
    A `!tape.resource<T>` refers to a `tape.variable` whose value has type
    `T`, a statically shaped ranked tensor of floats or integers (scalars are
    rank-0 tensors). It is a reference, not a value: `tape.read` returns the
    variable's current value, and assignments through the handle are seen
    by every later read.

    Example:

    ```mlir
    %w = tape.handle @w : !tape.resource<tensor<784x256xf32>>
    ```
  }];
  let parameters = (ins "::mlir::RankedTensorType":$valueType);
  let assemblyFormat = "`<` $valueType `>`";
  let genVerifyDecl = 1;
  let builders = [
    TypeBuilderWithInferredContext<(ins "::mlir::RankedTensorType":$valueType), [{
      return $_get(valueType.getContext(), valueType);
    }]>
  ];
}

def Tape_TapeType : Tape_Type<"Tape", "tape"> {
  let summary = "A gradient tape produced by `tape.record`";
  let description = [{
    The token that names one recording (`tape.record`). `tape.gradient`
    takes it to say which recorded region to differentiate.

    Example:

    ```mlir
    %t, %loss = tape.record { ... } : tensor<f32>
    %g = tape.gradient %t (%loss : tensor<f32>) wrt (%w : !tape.resource<tensor<f32>>)
    ```
  }];
}

//===----------------------------------------------------------------------===//
// Type constraints
//===----------------------------------------------------------------------===//

def Tape_Resource : Type<CPred<"::llvm::isa<::mlir::tape::ResourceType>($_self)">,
    "tape resource", "::mlir::tape::ResourceType">;

def Tape_FloatTensor : TensorOf<[AnyFloat]>;

// The isa comes first: the conjunction short-circuits, and the other two
// predicates cast to a shaped type (a non-tensor type in the generic form
// crashed the verifier).
def Tape_VariableValueType : Type<And<[
    CPred<"::llvm::isa<::mlir::RankedTensorType>($_self)">,
    HasStaticShapePred,
    Or<[CPred<"::llvm::cast<::mlir::ShapedType>($_self).getElementType().isIntOrFloat()">]>]>,
    "statically shaped tensor of integers or floats">;

#endif // TAPE_DIALECT_TAPE_TAPETYPES_TD
