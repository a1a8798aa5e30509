// The whole pipeline on the seed's first step: LLVM dialect only, with the
// bare-pointer ABI (state..., inputs..., outputs..., workspace).
// The state layout stays as a module attribute, for the runtime.
// RUN: tape-opt %tape_src_root/examples/seed/1_assign_sub.mlir --tape-to-llvm | FileCheck %s
// CHECK: module attributes {tape.state = [{{.*}}name = "weight"{{.*}}name = "bias"
// CHECK: llvm.func @train_step(%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr) attributes {tape.lifted = array<i64: 0, 3>, tape.step, tape.workspace_bytes = 64 : i64}
// CHECK-NOT: tape.{{[a-z_]+}} %
// CHECK-NOT: func.func
// CHECK-NOT: llvm.call @malloc

// The first stages alone end in plain tensor functions.
// RUN: tape-opt %tape_src_root/examples/seed/2_apply_gradients.mlir --tape-to-tensor | FileCheck --check-prefix=TENSOR %s
// TENSOR: func.func @train_step(%{{.*}}: tensor<f32>, %{{.*}}: tensor<f32>, %{{.*}}: tensor<f32>, %{{.*}}: tensor<f32>) -> (tensor<f32>, tensor<f32>, tensor<f32>) attributes {tape.lifted = array<i64: 2, 1>, tape.step}
// TENSOR-NOT: tape.{{[a-z_]+}} %
