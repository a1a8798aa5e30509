// RUN: tape-opt %s -split-input-file --tape-cpu-sums-of-disjoint-slices | FileCheck %s
// Numbers: gpt.test (losses against PyTorch) adds the cotangents of q, k
// and v this way; gradient-check tests of slices run the whole pipeline.

// q, k and v's cotangents, each inserted into zeros and added: one chain
// of insertions, which covers the whole tensor and so starts from empty.
// CHECK-LABEL: func.func @qkv
// CHECK-NOT: arith.addf
// CHECK: %[[E:.+]] = tensor.empty() : tensor<4x3x8xf32>
// CHECK: %[[V:.+]] = tensor.insert_slice %arg2 into %[[E]][0, 2, 0]
// CHECK: %[[K:.+]] = tensor.insert_slice %arg1 into %[[V]][0, 1, 0]
// CHECK: %[[Q:.+]] = tensor.insert_slice %arg0 into %[[K]][0, 0, 0]
// CHECK: return %[[Q]]
func.func @qkv(%q: tensor<4x1x8xf32>, %k: tensor<4x1x8xf32>, %v: tensor<4x1x8xf32>) -> tensor<4x3x8xf32> {
  %zeros = arith.constant dense<0.0> : tensor<4x3x8xf32>
  %dv = tensor.insert_slice %v into %zeros[0, 2, 0] [4, 1, 8] [1, 1, 1] : tensor<4x1x8xf32> into tensor<4x3x8xf32>
  %dk = tensor.insert_slice %k into %zeros[0, 1, 0] [4, 1, 8] [1, 1, 1] : tensor<4x1x8xf32> into tensor<4x3x8xf32>
  %s = arith.addf %dv, %dk : tensor<4x3x8xf32>
  %dq = tensor.insert_slice %q into %zeros[0, 0, 0] [4, 1, 8] [1, 1, 1] : tensor<4x1x8xf32> into tensor<4x3x8xf32>
  %t = arith.addf %s, %dq : tensor<4x3x8xf32>
  return %t : tensor<4x3x8xf32>
}

// -----

// Two of three slices: the rest stays zero, so the zeros stay (as a fill).
// CHECK-LABEL: func.func @partial
// CHECK: %[[Z:.+]] = linalg.fill
// CHECK: %[[A:.+]] = tensor.insert_slice %arg0 into %[[Z]][0, 0, 0]
// CHECK: %[[B:.+]] = tensor.insert_slice %arg1 into %[[A]][0, 1, 0]
// CHECK: return %[[B]]
func.func @partial(%q: tensor<4x1x8xf32>, %k: tensor<4x1x8xf32>) -> tensor<4x3x8xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x3x8xf32>
  %zeros = linalg.fill ins(%zero : f32) outs(%e : tensor<4x3x8xf32>) -> tensor<4x3x8xf32>
  %dq = tensor.insert_slice %q into %zeros[0, 0, 0] [4, 1, 8] [1, 1, 1] : tensor<4x1x8xf32> into tensor<4x3x8xf32>
  %dk = tensor.insert_slice %k into %zeros[0, 1, 0] [4, 1, 8] [1, 1, 1] : tensor<4x1x8xf32> into tensor<4x3x8xf32>
  %s = arith.addf %dq, %dk : tensor<4x3x8xf32>
  return %s : tensor<4x3x8xf32>
}

// -----

// Left as sums: overlapping slices, an addend that is not zero in the
// slice, slices into something other than zeros, and dynamic offsets.
// CHECK-LABEL: func.func @overlap
// CHECK: arith.addf
// CHECK-LABEL: func.func @dense_addend
// CHECK: arith.addf
// CHECK-LABEL: func.func @not_zeros
// CHECK: arith.addf
// CHECK-LABEL: func.func @dynamic_offset
// CHECK: arith.addf
func.func @overlap(%a: tensor<4x2x8xf32>, %b: tensor<4x2x8xf32>) -> tensor<4x3x8xf32> {
  %zeros = arith.constant dense<0.0> : tensor<4x3x8xf32>
  %x = tensor.insert_slice %a into %zeros[0, 0, 0] [4, 2, 8] [1, 1, 1] : tensor<4x2x8xf32> into tensor<4x3x8xf32>
  %y = tensor.insert_slice %b into %zeros[0, 1, 0] [4, 2, 8] [1, 1, 1] : tensor<4x2x8xf32> into tensor<4x3x8xf32>
  %s = arith.addf %x, %y : tensor<4x3x8xf32>
  return %s : tensor<4x3x8xf32>
}
func.func @dense_addend(%a: tensor<4x1x8xf32>, %d: tensor<4x3x8xf32>) -> tensor<4x3x8xf32> {
  %zeros = arith.constant dense<0.0> : tensor<4x3x8xf32>
  %x = tensor.insert_slice %a into %zeros[0, 0, 0] [4, 1, 8] [1, 1, 1] : tensor<4x1x8xf32> into tensor<4x3x8xf32>
  %s = arith.addf %d, %x : tensor<4x3x8xf32>
  return %s : tensor<4x3x8xf32>
}
func.func @not_zeros(%a: tensor<4x1x8xf32>, %b: tensor<4x1x8xf32>) -> tensor<4x3x8xf32> {
  %ones = arith.constant dense<1.0> : tensor<4x3x8xf32>
  %x = tensor.insert_slice %a into %ones[0, 0, 0] [4, 1, 8] [1, 1, 1] : tensor<4x1x8xf32> into tensor<4x3x8xf32>
  %y = tensor.insert_slice %b into %ones[0, 1, 0] [4, 1, 8] [1, 1, 1] : tensor<4x1x8xf32> into tensor<4x3x8xf32>
  %s = arith.addf %x, %y : tensor<4x3x8xf32>
  return %s : tensor<4x3x8xf32>
}
func.func @dynamic_offset(%a: tensor<4x1x8xf32>, %b: tensor<4x1x8xf32>, %i: index) -> tensor<4x3x8xf32> {
  %zeros = arith.constant dense<0.0> : tensor<4x3x8xf32>
  %x = tensor.insert_slice %a into %zeros[0, %i, 0] [4, 1, 8] [1, 1, 1] : tensor<4x1x8xf32> into tensor<4x3x8xf32>
  %y = tensor.insert_slice %b into %zeros[0, 1, 0] [4, 1, 8] [1, 1, 1] : tensor<4x1x8xf32> into tensor<4x3x8xf32>
  %s = arith.addf %x, %y : tensor<4x3x8xf32>
  return %s : tensor<4x3x8xf32>
}
