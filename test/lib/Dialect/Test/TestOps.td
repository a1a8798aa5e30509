//===- TestOps.td - A test-only dialect for rule registration -*- tablegen -*-===//

#ifndef TAPE_TEST_TESTOPS_TD
#define TAPE_TEST_TESTOPS_TD

include "mlir/IR/OpBase.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def TapeTest_Dialect : Dialect {
  let name = "tape_test";
  let cppNamespace = "::tape_test";
  let summary = "Test-only ops for the tape project's tests";
}

def TapeTest_CubeOp : Op<TapeTest_Dialect, "cube",
    [Pure, SameOperandsAndResultType]> {
  let summary = "x^3, elementwise; its gradient rule lives in the test library";
  let arguments = (ins AnyType:$input);
  let results = (outs AnyType:$output);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

#endif // TAPE_TEST_TESTOPS_TD
