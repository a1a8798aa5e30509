// RUN: tape-opt %s -split-input-file --tape-cpu-fuse-elementwise-loops | FileCheck %s
// Numbers: test/Tools/tape-run/optimizers.test checks Adam (whose three
// slot updates this pass merges) against the Keras formulas.

// Adam-like: m and v updated in place, then w from the new m and v: one
// loop that loads g, m, v, w once and yields the three new values (w is
// read through its output argument).
// CHECK-LABEL: func.func @adam_like
// CHECK: %[[S:.+]] = arith.mulf %{{.+}}, %{{.+}} : f32
// CHECK: linalg.generic
// CHECK-SAME: ins(%[[M:[^,]+]], %[[G:[^,]+]], %[[V:[^,]+]] : memref<16xf32>, memref<16xf32>, memref<16xf32>)
// CHECK-SAME: outs(%[[M]], %[[V]], %[[W:[^ ]+]] : memref<16xf32>, memref<16xf32>, memref<16xf32>)
// CHECK-NEXT: ^bb0(%[[m:[^:]+]]: f32, %[[g:[^:]+]]: f32, %[[v:[^:]+]]: f32, %{{[^:]+}}: f32, %{{[^:]+}}: f32, %[[w:[^:]+]]: f32):
// CHECK-NEXT: %[[M1:.+]] = arith.addf %[[m]], %[[g]]
// CHECK-NEXT: %[[G2:.+]] = arith.mulf %[[g]], %[[g]]
// CHECK-NEXT: %[[V1:.+]] = arith.addf %[[v]], %[[G2]]
// CHECK-NEXT: %[[Q:.+]] = arith.divf %[[M1]], %[[V1]]
// CHECK-NEXT: %[[Q2:.+]] = arith.mulf %[[Q]], %[[S]]
// CHECK-NEXT: %[[W1:.+]] = arith.subf %[[w]], %[[Q2]]
// CHECK-NEXT: linalg.yield %[[M1]], %[[V1]], %[[W1]] : f32, f32, f32
// CHECK-NOT: linalg.generic
#id = affine_map<(i) -> (i)>
func.func @adam_like(%g: memref<16xf32>, %m: memref<16xf32>, %v: memref<16xf32>, %w: memref<16xf32>, %lr: f32) {
  linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel"]}
      ins(%m, %g : memref<16xf32>, memref<16xf32>) outs(%m : memref<16xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.addf %a, %b : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel"]}
      ins(%v, %g : memref<16xf32>, memref<16xf32>) outs(%v : memref<16xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %s = arith.mulf %b, %b : f32
    %r = arith.addf %a, %s : f32
    linalg.yield %r : f32
  }
  // Scalar math between the loops does not stop the merge.
  %scale = arith.mulf %lr, %lr : f32
  linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel"]}
      ins(%m, %v : memref<16xf32>, memref<16xf32>) outs(%w : memref<16xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %q = arith.divf %a, %b : f32
    %q2 = arith.mulf %q, %scale : f32
    %r = arith.subf %o, %q2 : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// Kept apart: different domains (@shapes), a view operand (@view: it could
// overlap another operand at another index), an op with memory effects
// between (@store_between), a transposed map (@transposed).
// CHECK-LABEL: func.func @shapes
// CHECK-COUNT-2: linalg.generic
// CHECK-LABEL: func.func @view
// CHECK-COUNT-2: linalg.generic
// CHECK-LABEL: func.func @store_between
// CHECK: linalg.generic
// CHECK: memref.store
// CHECK: linalg.generic
// CHECK-LABEL: func.func @transposed
// CHECK-COUNT-2: linalg.generic
#id = affine_map<(i) -> (i)>
#id2 = affine_map<(i, j) -> (i, j)>
#t2 = affine_map<(i, j) -> (j, i)>
func.func @shapes(%a: memref<16xf32>, %b: memref<8xf32>) {
  linalg.generic {indexing_maps = [#id], iterator_types = ["parallel"]} outs(%a : memref<16xf32>) {
  ^bb0(%o: f32):
    %r = arith.addf %o, %o : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [#id], iterator_types = ["parallel"]} outs(%b : memref<8xf32>) {
  ^bb0(%o: f32):
    %r = arith.addf %o, %o : f32
    linalg.yield %r : f32
  }
  return
}
func.func @view(%a: memref<32xf32>, %b: memref<16xf32>) {
  %s = memref.subview %a[1] [16] [1] : memref<32xf32> to memref<16xf32, strided<[1], offset: 1>>
  %c = memref.subview %a[0] [16] [1] : memref<32xf32> to memref<16xf32, strided<[1]>>
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%b : memref<16xf32>) outs(%c : memref<16xf32, strided<[1]>>) {
  ^bb0(%i: f32, %o: f32):
    linalg.yield %i : f32
  }
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%s : memref<16xf32, strided<[1], offset: 1>>) outs(%b : memref<16xf32>) {
  ^bb0(%i: f32, %o: f32):
    linalg.yield %i : f32
  }
  return
}
func.func @store_between(%a: memref<16xf32>, %x: f32) {
  %c0 = arith.constant 0 : index
  linalg.generic {indexing_maps = [#id], iterator_types = ["parallel"]} outs(%a : memref<16xf32>) {
  ^bb0(%o: f32):
    %r = arith.addf %o, %o : f32
    linalg.yield %r : f32
  }
  memref.store %x, %a[%c0] : memref<16xf32>
  linalg.generic {indexing_maps = [#id], iterator_types = ["parallel"]} outs(%a : memref<16xf32>) {
  ^bb0(%o: f32):
    %r = arith.mulf %o, %o : f32
    linalg.yield %r : f32
  }
  return
}
func.func @transposed(%a: memref<4x4xf32>, %b: memref<4x4xf32>) {
  linalg.generic {indexing_maps = [#id2], iterator_types = ["parallel", "parallel"]} outs(%a : memref<4x4xf32>) {
  ^bb0(%o: f32):
    %r = arith.addf %o, %o : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [#t2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%a : memref<4x4xf32>) outs(%b : memref<4x4xf32>) {
  ^bb0(%i: f32, %o: f32):
    linalg.yield %i : f32
  }
  return
}

// -----

// Kept apart: the second body loads the first loop's output at another
// index (a captured buffer); in one loop it would read an element the first
// has not written yet. (Found by scripts/ad_difftest.py: a captured
// tensor read with tensor.extract inside a linalg body.)
// CHECK-LABEL: func.func @body_loads
// CHECK-COUNT-2: linalg.generic
#id1 = affine_map<(i) -> (i)>
func.func @body_loads(%x: memref<4xf32>, %t: memref<4xf32>, %y: memref<4xf32>) {
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  linalg.generic {indexing_maps = [#id1, #id1], iterator_types = ["parallel"]}
      ins(%x : memref<4xf32>) outs(%t : memref<4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %e = math.exp %a : f32
    linalg.yield %e : f32
  }
  linalg.generic {indexing_maps = [#id1, #id1], iterator_types = ["parallel"]}
      ins(%x : memref<4xf32>) outs(%y : memref<4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %i = linalg.index 0 : index
    %j = arith.addi %i, %c1 : index
    %k = arith.remui %j, %c4 : index
    %n = memref.load %t[%k] : memref<4xf32>
    %r = arith.addf %a, %n : f32
    linalg.yield %r : f32
  }
  return
}
