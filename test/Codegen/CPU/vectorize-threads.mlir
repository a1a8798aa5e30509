// RUN: tape-opt %s --tape-cpu-vectorize="threads=2 vector-width=8" | FileCheck %s
// Numbers: test/Tools/tape-run/threads.test checks that threaded steps give
// the same bits as one thread.

// A large elementwise op: two blocks of 256 rows in an scf.forall (upstream
// scf-forall-to-parallel and convert-scf-to-openmp make it a worksharing
// loop), each tiled to vectors.
// CHECK-LABEL: func.func @large
// CHECK: scf.forall (%[[I:.+]]) = (0) to (512) step (256)
// CHECK: memref.subview %{{.+}}[%[[I]], 0] [256, 256] [1, 1]
// CHECK: scf.for
// CHECK: vector.transfer_read {{.*}} vector<1x8xf32>
#id = affine_map<(i, j) -> (i, j)>
func.func @large(%a: memref<512x256xf32>, %b: memref<512x256xf32>) {
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%a : memref<512x256xf32>) outs(%b : memref<512x256xf32>) {
  ^bb0(%i: f32, %o: f32):
    %r = arith.addf %i, %o : f32
    linalg.yield %r : f32
  }
  return
}

// Below min-parallel-elements, or reducing over the outermost loop: one
// thread.
// CHECK-LABEL: func.func @small_or_reducing
// CHECK-NOT: scf.forall
// CHECK: return
func.func @small_or_reducing(%a: memref<64x256xf32>, %big: memref<512x256xf32>, %c: memref<256xf32>) {
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%a : memref<64x256xf32>) outs(%a : memref<64x256xf32>) {
  ^bb0(%i: f32, %o: f32):
    %s = arith.addf %i, %o : f32
    linalg.yield %s : f32
  }
  linalg.reduce ins(%big : memref<512x256xf32>) outs(%c : memref<256xf32>) dimensions = [0]
    (%in: f32, %acc: f32) {
      %s = arith.addf %in, %acc : f32
      linalg.yield %s : f32
    }
  return
}

// Rows reduced along the innermost loop are independent: blocks of rows
// go to the threads.
// CHECK-LABEL: func.func @row_sums
// CHECK: scf.forall (%[[I:.+]]) = (0) to (512) step (256)
// CHECK: memref.subview %{{.+}}[%[[I]], 0] [256, 256] [1, 1]
// CHECK: vector.reduction <add>
func.func @row_sums(%big: memref<512x256xf32>, %r: memref<512xf32>) {
  linalg.reduce ins(%big : memref<512x256xf32>) outs(%r : memref<512xf32>) dimensions = [1]
    (%in: f32, %acc: f32) {
      %s = arith.addf %in, %acc : f32
      linalg.yield %s : f32
    }
  return
}

// Inside a loop already spread over threads, a large op runs on its
// thread: no nested forall.
// CHECK-LABEL: func.func @per_thread
// CHECK: scf.forall (%{{.+}}) in (2)
// CHECK-NOT: scf.forall
// CHECK: vector.transfer_read {{.*}} vector<1x8xf32>
// CHECK: return
func.func @per_thread(%a: memref<2x512x256xf32>, %b: memref<2x512x256xf32>) {
  scf.forall (%t) in (2) {
    %x = memref.subview %a[%t, 0, 0] [1, 512, 256] [1, 1, 1] : memref<2x512x256xf32> to memref<512x256xf32, strided<[256, 1], offset: ?>>
    %y = memref.subview %b[%t, 0, 0] [1, 512, 256] [1, 1, 1] : memref<2x512x256xf32> to memref<512x256xf32, strided<[256, 1], offset: ?>>
    linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%x : memref<512x256xf32, strided<[256, 1], offset: ?>>) outs(%y : memref<512x256xf32, strided<[256, 1], offset: ?>>) {
    ^bb0(%i: f32, %o: f32):
      %r = arith.addf %i, %o : f32
      linalg.yield %r : f32
    }
  }
  return
}
