// One function per differentiation rule: the derived IR of each.
// Numbers are checked by executing these rules in gradcheck.test.
// RUN: tape-opt %s --tape-differentiate --split-input-file --mlir-print-local-scope | FileCheck %s

// CHECK-LABEL: func.func @addf
// CHECK-SAME: (%[[A:.*]]: tensor<4xf32>, %[[B:.*]]: tensor<4xf32>)
// CHECK: %[[D:.*]] = arith.constant dense<1.000000e+00>
// CHECK: return %[[D]], %[[D]]
func.func @addf(%a: tensor<4xf32>, %b: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %t, %y = tape.record {
    tape.watch %a : tensor<4xf32>
    tape.watch %b : tensor<4xf32>
    %r = arith.addf %a, %b : tensor<4xf32>
    tape.yield %r : tensor<4xf32>
  } : tensor<4xf32>
  %g:2 = tape.gradient %t (%y : tensor<4xf32>) wrt (%a, %b : tensor<4xf32>, tensor<4xf32>)
  return %g#0, %g#1 : tensor<4xf32>, tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @subf
// CHECK-SAME: (%[[A:.*]]: tensor<4xf32>, %[[B:.*]]: tensor<4xf32>)
// CHECK: %[[D:.*]] = arith.constant dense<1.000000e+00>
// CHECK: %[[N:.*]] = arith.negf %[[D]]
// CHECK: return %[[D]], %[[N]]
func.func @subf(%a: tensor<4xf32>, %b: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %t, %y = tape.record {
    tape.watch %a : tensor<4xf32>
    tape.watch %b : tensor<4xf32>
    %r = arith.subf %a, %b : tensor<4xf32>
    tape.yield %r : tensor<4xf32>
  } : tensor<4xf32>
  %g:2 = tape.gradient %t (%y : tensor<4xf32>) wrt (%a, %b : tensor<4xf32>, tensor<4xf32>)
  return %g#0, %g#1 : tensor<4xf32>, tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @mulf
// CHECK-SAME: (%[[A:.*]]: tensor<4xf32>, %[[B:.*]]: tensor<4xf32>)
// CHECK: %[[D:.*]] = arith.constant dense<1.000000e+00>
// CHECK: %[[GA:.*]] = arith.mulf %[[D]], %[[B]]
// CHECK: %[[GB:.*]] = arith.mulf %[[D]], %[[A]]
// CHECK: return %[[GA]], %[[GB]]
func.func @mulf(%a: tensor<4xf32>, %b: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %t, %y = tape.record {
    tape.watch %a : tensor<4xf32>
    tape.watch %b : tensor<4xf32>
    %r = arith.mulf %a, %b : tensor<4xf32>
    tape.yield %r : tensor<4xf32>
  } : tensor<4xf32>
  %g:2 = tape.gradient %t (%y : tensor<4xf32>) wrt (%a, %b : tensor<4xf32>, tensor<4xf32>)
  return %g#0, %g#1 : tensor<4xf32>, tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @divf
// CHECK-SAME: (%[[A:.*]]: tensor<4xf32>, %[[B:.*]]: tensor<4xf32>)
// CHECK: %[[Q:.*]] = arith.divf %[[A]], %[[B]]
// CHECK: %[[GA:.*]] = arith.divf %{{.*}}, %[[B]]
// CHECK: %[[M:.*]] = arith.mulf %[[GA]], %[[Q]]
// CHECK: %[[GB:.*]] = arith.negf %[[M]]
// CHECK: return %[[GA]], %[[GB]]
func.func @divf(%a: tensor<4xf32>, %b: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %t, %y = tape.record {
    tape.watch %a : tensor<4xf32>
    tape.watch %b : tensor<4xf32>
    %r = arith.divf %a, %b : tensor<4xf32>
    tape.yield %r : tensor<4xf32>
  } : tensor<4xf32>
  %g:2 = tape.gradient %t (%y : tensor<4xf32>) wrt (%a, %b : tensor<4xf32>, tensor<4xf32>)
  return %g#0, %g#1 : tensor<4xf32>, tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @negf
// CHECK-SAME: (%[[A:.*]]: tensor<4xf32>)
// CHECK: arith.negf %[[A]]
// CHECK: %[[D:.*]] = arith.constant dense<1.000000e+00>
// CHECK: %[[G:.*]] = arith.negf %[[D]] : tensor<4xf32>
// CHECK: return %[[G]]
func.func @negf(%a: tensor<4xf32>) -> (tensor<4xf32>) {
  %t, %y = tape.record {
    tape.watch %a : tensor<4xf32>
    %r = arith.negf %a : tensor<4xf32>
    tape.yield %r : tensor<4xf32>
  } : tensor<4xf32>
  %g = tape.gradient %t (%y : tensor<4xf32>) wrt (%a : tensor<4xf32>)
  return %g : tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @maximumf
// CHECK-SAME: (%[[A:.*]]: tensor<4xf32>, %[[B:.*]]: tensor<4xf32>)
// CHECK: %[[C:.*]] = arith.cmpf oge, %[[A]], %[[B]]
// CHECK: %[[GA:.*]] = arith.select %[[C]], %{{.*}}, %{{.*}}
// CHECK: %[[GB:.*]] = arith.select %[[C]], %{{.*}}, %{{.*}}
// CHECK: return %[[GA]], %[[GB]]
func.func @maximumf(%a: tensor<4xf32>, %b: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %t, %y = tape.record {
    tape.watch %a : tensor<4xf32>
    tape.watch %b : tensor<4xf32>
    %r = arith.maximumf %a, %b : tensor<4xf32>
    tape.yield %r : tensor<4xf32>
  } : tensor<4xf32>
  %g:2 = tape.gradient %t (%y : tensor<4xf32>) wrt (%a, %b : tensor<4xf32>, tensor<4xf32>)
  return %g#0, %g#1 : tensor<4xf32>, tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @minimumf
// CHECK-SAME: (%[[A:.*]]: tensor<4xf32>, %[[B:.*]]: tensor<4xf32>)
// CHECK: arith.cmpf ole, %[[A]], %[[B]]
func.func @minimumf(%a: tensor<4xf32>, %b: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %t, %y = tape.record {
    tape.watch %a : tensor<4xf32>
    tape.watch %b : tensor<4xf32>
    %r = arith.minimumf %a, %b : tensor<4xf32>
    tape.yield %r : tensor<4xf32>
  } : tensor<4xf32>
  %g:2 = tape.gradient %t (%y : tensor<4xf32>) wrt (%a, %b : tensor<4xf32>, tensor<4xf32>)
  return %g#0, %g#1 : tensor<4xf32>, tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @select
// CHECK-SAME: (%[[C:.*]]: tensor<4xi1>, %[[A:.*]]: tensor<4xf32>, %[[B:.*]]: tensor<4xf32>)
// CHECK: arith.select %[[C]], %[[A]], %[[B]]
// CHECK: %[[D:.*]] = arith.constant dense<1.000000e+00>
// CHECK: %[[Z:.*]] = arith.constant dense<0.000000e+00>
// CHECK: %[[GA:.*]] = arith.select %[[C]], %[[D]], %[[Z]]
// CHECK: %[[GB:.*]] = arith.select %[[C]], %[[Z]], %[[D]]
// CHECK: return %[[GA]], %[[GB]]
func.func @select(%c: tensor<4xi1>, %a: tensor<4xf32>, %b: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %t, %y = tape.record {
    tape.watch %a : tensor<4xf32>
    tape.watch %b : tensor<4xf32>
    %r = arith.select %c, %a, %b : tensor<4xi1>, tensor<4xf32>
    tape.yield %r : tensor<4xf32>
  } : tensor<4xf32>
  %g:2 = tape.gradient %t (%y : tensor<4xf32>) wrt (%a, %b : tensor<4xf32>, tensor<4xf32>)
  return %g#0, %g#1 : tensor<4xf32>, tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @extf
// CHECK-SAME: (%[[A:.*]]: tensor<4xf16>)
// CHECK: %[[G:.*]] = arith.truncf %{{.*}} : tensor<4xf32> to tensor<4xf16>
// CHECK: return %[[G]]
func.func @extf(%a: tensor<4xf16>) -> (tensor<4xf16>) {
  %t, %y = tape.record {
    tape.watch %a : tensor<4xf16>
    %r = arith.extf %a : tensor<4xf16> to tensor<4xf32>
    tape.yield %r : tensor<4xf32>
  } : tensor<4xf32>
  %g = tape.gradient %t (%y : tensor<4xf32>) wrt (%a : tensor<4xf16>)
  return %g : tensor<4xf16>
}

// -----

// CHECK-LABEL: func.func @truncf
// CHECK-SAME: (%[[A:.*]]: tensor<4xf32>)
// CHECK: %[[G:.*]] = arith.extf %{{.*}} : tensor<4xf16> to tensor<4xf32>
// CHECK: return %[[G]]
func.func @truncf(%a: tensor<4xf32>) -> (tensor<4xf32>) {
  %t, %y = tape.record {
    tape.watch %a : tensor<4xf32>
    %r = arith.truncf %a : tensor<4xf32> to tensor<4xf16>
    tape.yield %r : tensor<4xf16>
  } : tensor<4xf16>
  %g = tape.gradient %t (%y : tensor<4xf16>) wrt (%a : tensor<4xf32>)
  return %g : tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @exp
// CHECK-SAME: (%[[A:.*]]: tensor<4xf32>)
// CHECK: %[[E:.*]] = math.exp %[[A]]
// CHECK: %[[G:.*]] = arith.mulf %{{.*}}, %[[E]]
// CHECK: return %[[G]]
func.func @exp(%a: tensor<4xf32>) -> (tensor<4xf32>) {
  %t, %y = tape.record {
    tape.watch %a : tensor<4xf32>
    %r = math.exp %a : tensor<4xf32>
    tape.yield %r : tensor<4xf32>
  } : tensor<4xf32>
  %g = tape.gradient %t (%y : tensor<4xf32>) wrt (%a : tensor<4xf32>)
  return %g : tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @log
// CHECK-SAME: (%[[A:.*]]: tensor<4xf32>)
// CHECK: %[[G:.*]] = arith.divf %{{.*}}, %[[A]]
// CHECK: return %[[G]]
func.func @log(%a: tensor<4xf32>) -> (tensor<4xf32>) {
  %t, %y = tape.record {
    tape.watch %a : tensor<4xf32>
    %r = math.log %a : tensor<4xf32>
    tape.yield %r : tensor<4xf32>
  } : tensor<4xf32>
  %g = tape.gradient %t (%y : tensor<4xf32>) wrt (%a : tensor<4xf32>)
  return %g : tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @log1p
// CHECK-SAME: (%[[A:.*]]: tensor<4xf32>)
// CHECK: %[[P:.*]] = arith.addf %[[A]], %{{.*}}
// CHECK: %[[G:.*]] = arith.divf %{{.*}}, %[[P]]
// CHECK: return %[[G]]
func.func @log1p(%a: tensor<4xf32>) -> (tensor<4xf32>) {
  %t, %y = tape.record {
    tape.watch %a : tensor<4xf32>
    %r = math.log1p %a : tensor<4xf32>
    tape.yield %r : tensor<4xf32>
  } : tensor<4xf32>
  %g = tape.gradient %t (%y : tensor<4xf32>) wrt (%a : tensor<4xf32>)
  return %g : tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @tanh
// CHECK-SAME: (%[[A:.*]]: tensor<4xf32>)
// CHECK: %[[T:.*]] = math.tanh %[[A]]
// CHECK: %[[SQ:.*]] = arith.mulf %[[T]], %[[T]]
// CHECK: %[[S:.*]] = arith.subf %{{.*}}, %[[SQ]]
// CHECK: %[[G:.*]] = arith.mulf %{{.*}}, %[[S]]
// CHECK: return %[[G]]
func.func @tanh(%a: tensor<4xf32>) -> (tensor<4xf32>) {
  %t, %y = tape.record {
    tape.watch %a : tensor<4xf32>
    %r = math.tanh %a : tensor<4xf32>
    tape.yield %r : tensor<4xf32>
  } : tensor<4xf32>
  %g = tape.gradient %t (%y : tensor<4xf32>) wrt (%a : tensor<4xf32>)
  return %g : tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @sqrt
// CHECK-SAME: (%[[A:.*]]: tensor<4xf32>)
// CHECK: %[[S:.*]] = math.sqrt %[[A]]
// CHECK: %[[H:.*]] = arith.mulf %{{.*}}, %{{.*}}
// CHECK: %[[G:.*]] = arith.divf %[[H]], %[[S]]
// CHECK: return %[[G]]
func.func @sqrt(%a: tensor<4xf32>) -> (tensor<4xf32>) {
  %t, %y = tape.record {
    tape.watch %a : tensor<4xf32>
    %r = math.sqrt %a : tensor<4xf32>
    tape.yield %r : tensor<4xf32>
  } : tensor<4xf32>
  %g = tape.gradient %t (%y : tensor<4xf32>) wrt (%a : tensor<4xf32>)
  return %g : tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @rsqrt
// CHECK-SAME: (%[[A:.*]]: tensor<4xf32>)
// CHECK: %[[R:.*]] = math.rsqrt %[[A]]
// CHECK: %[[R2:.*]] = arith.mulf %[[R]], %[[R]]
// CHECK: %[[R3:.*]] = arith.mulf %[[R2]], %[[R]]
// CHECK: arith.constant dense<-5.000000e-01>
func.func @rsqrt(%a: tensor<4xf32>) -> (tensor<4xf32>) {
  %t, %y = tape.record {
    tape.watch %a : tensor<4xf32>
    %r = math.rsqrt %a : tensor<4xf32>
    tape.yield %r : tensor<4xf32>
  } : tensor<4xf32>
  %g = tape.gradient %t (%y : tensor<4xf32>) wrt (%a : tensor<4xf32>)
  return %g : tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @powf
// CHECK-SAME: (%[[A:.*]]: tensor<4xf32>, %[[B:.*]]: tensor<4xf32>)
// CHECK: %[[Z:.*]] = math.powf %[[A]], %[[B]]
// CHECK: %[[BM1:.*]] = arith.subf %[[B]], %{{.*}}
// CHECK: math.powf %[[A]], %[[BM1]]
// CHECK: math.log %[[A]]
func.func @powf(%a: tensor<4xf32>, %b: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %t, %y = tape.record {
    tape.watch %a : tensor<4xf32>
    tape.watch %b : tensor<4xf32>
    %r = math.powf %a, %b : tensor<4xf32>
    tape.yield %r : tensor<4xf32>
  } : tensor<4xf32>
  %g:2 = tape.gradient %t (%y : tensor<4xf32>) wrt (%a, %b : tensor<4xf32>, tensor<4xf32>)
  return %g#0, %g#1 : tensor<4xf32>, tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @sin
// CHECK-SAME: (%[[A:.*]]: tensor<4xf32>)
// CHECK: %[[C:.*]] = math.cos %[[A]]
// CHECK: %[[G:.*]] = arith.mulf %{{.*}}, %[[C]]
// CHECK: return %[[G]]
func.func @sin(%a: tensor<4xf32>) -> (tensor<4xf32>) {
  %t, %y = tape.record {
    tape.watch %a : tensor<4xf32>
    %r = math.sin %a : tensor<4xf32>
    tape.yield %r : tensor<4xf32>
  } : tensor<4xf32>
  %g = tape.gradient %t (%y : tensor<4xf32>) wrt (%a : tensor<4xf32>)
  return %g : tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @cos
// CHECK-SAME: (%[[A:.*]]: tensor<4xf32>)
// CHECK: %[[S:.*]] = math.sin %[[A]]
// CHECK: %[[M:.*]] = arith.mulf %{{.*}}, %[[S]]
// CHECK: %[[G:.*]] = arith.negf %[[M]]
// CHECK: return %[[G]]
func.func @cos(%a: tensor<4xf32>) -> (tensor<4xf32>) {
  %t, %y = tape.record {
    tape.watch %a : tensor<4xf32>
    %r = math.cos %a : tensor<4xf32>
    tape.yield %r : tensor<4xf32>
  } : tensor<4xf32>
  %g = tape.gradient %t (%y : tensor<4xf32>) wrt (%a : tensor<4xf32>)
  return %g : tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @absf
// CHECK-SAME: (%[[A:.*]]: tensor<4xf32>)
// CHECK: %[[P:.*]] = arith.cmpf ogt, %[[A]]
// CHECK: %[[N:.*]] = arith.cmpf olt, %[[A]]
// CHECK: %[[G:.*]] = arith.select %[[P]]
// CHECK: return %[[G]]
func.func @absf(%a: tensor<4xf32>) -> (tensor<4xf32>) {
  %t, %y = tape.record {
    tape.watch %a : tensor<4xf32>
    %r = math.absf %a : tensor<4xf32>
    tape.yield %r : tensor<4xf32>
  } : tensor<4xf32>
  %g = tape.gradient %t (%y : tensor<4xf32>) wrt (%a : tensor<4xf32>)
  return %g : tensor<4xf32>
}

// -----

// softmax: dx = y * (dy - sum(dy * y)) along the dimension.
// CHECK-LABEL: func.func @softmax
// CHECK: %[[Y:.*]] = linalg.softmax dimension(1)
// CHECK: %[[D:.*]] = arith.mulf %cst_{{.*}}, %{{.*}} : tensor<2x3xf32>
// CHECK: %[[P:.*]] = arith.mulf %[[D]], %[[Y]] : tensor<2x3xf32>
// CHECK: %[[S:.*]] = linalg.reduce ins(%[[P]]
// CHECK: %[[SB:.*]] = linalg.broadcast ins(%[[S]]
// CHECK: %[[DIFF:.*]] = arith.subf %[[D]], %[[SB]]
// CHECK: %[[G:.*]] = arith.mulf %[[Y]], %[[DIFF]]
// CHECK: return %[[G]]
func.func @softmax(%a: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %t, %y = tape.record {
    tape.watch %a : tensor<2x3xf32>
    %e = tensor.empty() : tensor<2x3xf32>
    %r = linalg.softmax dimension(1) ins(%a : tensor<2x3xf32>) outs(%e : tensor<2x3xf32>) -> tensor<2x3xf32>
    %w = arith.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
    %m = arith.mulf %r, %w : tensor<2x3xf32>
    tape.yield %m : tensor<2x3xf32>
  } : tensor<2x3xf32>
  %g = tape.gradient %t (%y : tensor<2x3xf32>) wrt (%a : tensor<2x3xf32>)
  return %g : tensor<2x3xf32>
}

// -----

// CHECK-LABEL: func.func @expand_shape
// CHECK-SAME: (%[[A:.*]]: tensor<6xf32>)
// CHECK: %[[G:.*]] = tensor.collapse_shape %{{.*}} {{\[\[}}0, 1]] : tensor<2x3xf32> into tensor<6xf32>
// CHECK: return %[[G]]
func.func @expand_shape(%a: tensor<6xf32>) -> (tensor<6xf32>) {
  %t, %y = tape.record {
    tape.watch %a : tensor<6xf32>
    %r = tensor.expand_shape %a [[0, 1]] output_shape [2, 3] : tensor<6xf32> into tensor<2x3xf32>
    tape.yield %r : tensor<2x3xf32>
  } : tensor<2x3xf32>
  %g = tape.gradient %t (%y : tensor<2x3xf32>) wrt (%a : tensor<6xf32>)
  return %g : tensor<6xf32>
}

// -----

// CHECK-LABEL: func.func @collapse_shape
// CHECK-SAME: (%[[A:.*]]: tensor<2x3xf32>)
// CHECK: %[[G:.*]] = tensor.expand_shape %{{.*}} {{\[\[}}0, 1]] output_shape [2, 3] : tensor<6xf32> into tensor<2x3xf32>
// CHECK: return %[[G]]
func.func @collapse_shape(%a: tensor<2x3xf32>) -> (tensor<2x3xf32>) {
  %t, %y = tape.record {
    tape.watch %a : tensor<2x3xf32>
    %r = tensor.collapse_shape %a [[0, 1]] : tensor<2x3xf32> into tensor<6xf32>
    tape.yield %r : tensor<6xf32>
  } : tensor<6xf32>
  %g = tape.gradient %t (%y : tensor<6xf32>) wrt (%a : tensor<2x3xf32>)
  return %g : tensor<2x3xf32>
}

// -----

// CHECK-LABEL: func.func @extract_slice
// CHECK-SAME: (%[[A:.*]]: tensor<4x4xf32>)
// CHECK: %[[Z:.*]] = arith.constant dense<0.000000e+00> : tensor<4x4xf32>
// CHECK: %[[G:.*]] = tensor.insert_slice %{{.*}} into %[[Z]][1, 2] [2, 2] [1, 1]
// CHECK: return %[[G]]
func.func @extract_slice(%a: tensor<4x4xf32>) -> (tensor<4x4xf32>) {
  %t, %y = tape.record {
    tape.watch %a : tensor<4x4xf32>
    %r = tensor.extract_slice %a[1, 2] [2, 2] [1, 1] : tensor<4x4xf32> to tensor<2x2xf32>
    tape.yield %r : tensor<2x2xf32>
  } : tensor<2x2xf32>
  %g = tape.gradient %t (%y : tensor<2x2xf32>) wrt (%a : tensor<4x4xf32>)
  return %g : tensor<4x4xf32>
}

// -----

// CHECK-LABEL: func.func @insert_slice
// CHECK-SAME: (%[[A:.*]]: tensor<2x2xf32>, %[[B:.*]]: tensor<4x4xf32>)
// CHECK: %[[GA:.*]] = tensor.extract_slice %[[D:.*]][1, 2] [2, 2] [1, 1]
// CHECK: %[[GB:.*]] = tensor.insert_slice %{{.*}} into %[[D]][1, 2] [2, 2] [1, 1]
// CHECK: return %[[GA]], %[[GB]]
func.func @insert_slice(%a: tensor<2x2xf32>, %b: tensor<4x4xf32>) -> (tensor<2x2xf32>, tensor<4x4xf32>) {
  %t, %y = tape.record {
    tape.watch %a : tensor<2x2xf32>
    tape.watch %b : tensor<4x4xf32>
    %r = tensor.insert_slice %a into %b[1, 2] [2, 2] [1, 1] : tensor<2x2xf32> into tensor<4x4xf32>
    tape.yield %r : tensor<4x4xf32>
  } : tensor<4x4xf32>
  %g:2 = tape.gradient %t (%y : tensor<4x4xf32>) wrt (%a, %b : tensor<2x2xf32>, tensor<4x4xf32>)
  return %g#0, %g#1 : tensor<2x2xf32>, tensor<4x4xf32>
}

// -----

// CHECK-LABEL: func.func @extract
// CHECK-SAME: (%[[A:.*]]: tensor<3xf32>)
// CHECK: %[[E:.*]] = tensor.extract %{{.*}}[%{{.*}}] : tensor<1xf32>
// CHECK: %[[G:.*]] = tensor.insert %[[E]] into %{{.*}}[%{{.*}}] : tensor<3xf32>
// CHECK: return %[[G]]
func.func @extract(%a: tensor<3xf32>) -> (tensor<3xf32>) {
  %t, %y = tape.record {
    tape.watch %a : tensor<3xf32>
    %c1 = arith.constant 1 : index
    %s = tensor.extract %a[%c1] : tensor<3xf32>
    %r = tensor.from_elements %s : tensor<1xf32>
    tape.yield %r : tensor<1xf32>
  } : tensor<1xf32>
  %g = tape.gradient %t (%y : tensor<1xf32>) wrt (%a : tensor<3xf32>)
  return %g : tensor<3xf32>
}

// -----

// CHECK-LABEL: func.func @insert
// CHECK-SAME: (%[[A:.*]]: tensor<f32>, %[[B:.*]]: tensor<3xf32>)
// CHECK: %[[GA:.*]] = tensor.extract %[[D:.*]][%{{.*}}] : tensor<3xf32>
// CHECK: %[[GB:.*]] = tensor.insert %{{.*}} into %[[D]][%{{.*}}] : tensor<3xf32>
// CHECK: %[[GAT:.*]] = tensor.insert %[[GA]] into %{{.*}}[] : tensor<f32>
// CHECK: return %[[GAT]], %[[GB]]
func.func @insert(%a: tensor<f32>, %b: tensor<3xf32>) -> (tensor<f32>, tensor<3xf32>) {
  %t, %y = tape.record {
    tape.watch %a : tensor<f32>
    tape.watch %b : tensor<3xf32>
    %s = tensor.extract %a[] : tensor<f32>
    %c1 = arith.constant 1 : index
    %r = tensor.insert %s into %b[%c1] : tensor<3xf32>
    tape.yield %r : tensor<3xf32>
  } : tensor<3xf32>
  %g:2 = tape.gradient %t (%y : tensor<3xf32>) wrt (%a, %b : tensor<f32>, tensor<3xf32>)
  return %g#0, %g#1 : tensor<f32>, tensor<3xf32>
}

// -----

// CHECK-LABEL: func.func @concat
// CHECK-SAME: (%[[A:.*]]: tensor<2xf32>, %[[B:.*]]: tensor<3xf32>)
// CHECK: %[[GA:.*]] = tensor.extract_slice %[[D:.*]][0] [2] [1] : tensor<5xf32> to tensor<2xf32>
// CHECK: %[[GB:.*]] = tensor.extract_slice %[[D]][2] [3] [1] : tensor<5xf32> to tensor<3xf32>
// CHECK: return %[[GA]], %[[GB]]
func.func @concat(%a: tensor<2xf32>, %b: tensor<3xf32>) -> (tensor<2xf32>, tensor<3xf32>) {
  %t, %y = tape.record {
    tape.watch %a : tensor<2xf32>
    tape.watch %b : tensor<3xf32>
    %r = tensor.concat dim(0) %a, %b : (tensor<2xf32>, tensor<3xf32>) -> tensor<5xf32>
    tape.yield %r : tensor<5xf32>
  } : tensor<5xf32>
  %g:2 = tape.gradient %t (%y : tensor<5xf32>) wrt (%a, %b : tensor<2xf32>, tensor<3xf32>)
  return %g#0, %g#1 : tensor<2xf32>, tensor<3xf32>
}
