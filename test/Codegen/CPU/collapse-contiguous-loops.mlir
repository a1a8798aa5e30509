// RUN: tape-opt %s -split-input-file --tape-cpu-collapse-contiguous-loops | FileCheck %s
// Numbers: test/Codegen/CPU/reduction-exec.test executes a bias gradient
// (sum over images and pixels) that this pass collapses, and the CNN's
// tests (test/Examples) every ReLU and its adjoint.

// A ReLU over a contiguous 4-D buffer: one loop over all of it.
// CHECK-LABEL: func.func @relu
// CHECK-DAG: %[[X:.+]] = memref.collapse_shape %{{.+}} {{\[\[}}0, 1, 2, 3]] : memref<4x8x6x6xf32> into memref<1152xf32>
// CHECK-DAG: %[[Y:.+]] = memref.collapse_shape %{{.+}} {{\[\[}}0, 1, 2, 3]] : memref<4x8x6x6xf32> into memref<1152xf32>
// CHECK: linalg.generic {{.+}} iterator_types = ["parallel"]}
// CHECK-SAME: ins(%[[X]] : memref<1152xf32>) outs(%[[Y]] : memref<1152xf32>)
// CHECK: arith.maximumf
// CHECK-NOT: linalg.generic
#id4 = affine_map<(n, c, h, w) -> (n, c, h, w)>
func.func @relu(%x: memref<4x8x6x6xf32>, %y: memref<4x8x6x6xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x : memref<4x8x6x6xf32>) outs(%y : memref<4x8x6x6xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.maximumf %a, %zero : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// A bias gradient: images and pixels are reductions, channels parallel.
// The two pixel loops merge; the images loop stays apart (a reduction
// beside a parallel loop), and so does the channels loop.
// CHECK-LABEL: func.func @bias_gradient
// CHECK: %[[G:.+]] = memref.collapse_shape %{{.+}} {{\[\[}}0], [1], [2, 3]] : memref<4x8x6x6xf32> into memref<4x8x36xf32>
// CHECK: linalg.generic {indexing_maps = [#[[IN:.+]], #[[OUT:.+]]], iterator_types = ["reduction", "parallel", "reduction"]}
// CHECK-SAME: ins(%[[G]] : memref<4x8x36xf32>) outs(%{{.+}} : memref<8xf32>)
#id4 = affine_map<(n, c, h, w) -> (n, c, h, w)>
#chan = affine_map<(n, c, h, w) -> (c)>
func.func @bias_gradient(%g: memref<4x8x6x6xf32>, %db: memref<8xf32>) {
  linalg.generic {indexing_maps = [#id4, #chan], iterator_types = ["reduction", "parallel", "reduction", "reduction"]}
      ins(%g : memref<4x8x6x6xf32>) outs(%db : memref<8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.addf %a, %o : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// A bias broadcast over channels: the bias reads the channel alone, so
// images and channels stay two loops; the pixels merge.
// CHECK-LABEL: func.func @bias_add
// CHECK-DAG: memref.collapse_shape %{{.+}} {{\[\[}}0], [1], [2, 3]] : memref<4x8x6x6xf32> into memref<4x8x36xf32>
// CHECK: linalg.generic {{.+}} iterator_types = ["parallel", "parallel", "parallel"]}
// CHECK-SAME: ins(%{{.+}}, %{{.+}} : memref<4x8x36xf32>, memref<8xf32>)
#id4 = affine_map<(n, c, h, w) -> (n, c, h, w)>
#chan = affine_map<(n, c, h, w) -> (c)>
func.func @bias_add(%x: memref<4x8x6x6xf32>, %b: memref<8xf32>, %y: memref<4x8x6x6xf32>) {
  linalg.generic {indexing_maps = [#id4, #chan, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x, %b : memref<4x8x6x6xf32>, memref<8xf32>) outs(%y : memref<4x8x6x6xf32>) {
  ^bb0(%a: f32, %c: f32, %o: f32):
    %r = arith.addf %a, %c : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// A view with rows of 8 of which it reads 6: its rows are not contiguous,
// so the row loop stays apart from the column loop; the two outer loops
// still merge (the view's planes are whole rows apart).
// CHECK-LABEL: func.func @strided_view
// CHECK: memref.collapse_shape %{{.+}} {{\[\[}}0, 1], [2]] : memref<4x6x6xf32, strided<[48, 8, 1]>> into memref<24x6xf32, strided<[8, 1]>>
// CHECK: linalg.generic {{.+}} iterator_types = ["parallel", "parallel"]}
#id3 = affine_map<(a, b, c) -> (a, b, c)>
func.func @strided_view(%x: memref<4x6x8xf32>, %y: memref<4x6x6xf32>) {
  %zero = arith.constant 0.0 : f32
  %v = memref.subview %x[0, 0, 0] [4, 6, 6] [1, 1, 1] : memref<4x6x8xf32> to memref<4x6x6xf32, strided<[48, 8, 1]>>
  linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%v : memref<4x6x6xf32, strided<[48, 8, 1]>>) outs(%y : memref<4x6x6xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.maximumf %a, %zero : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// Left alone: a transposed operand (its loops run in the other order), a
// body that reads linalg.index, and a contraction.
// CHECK-LABEL: func.func @left_alone
// CHECK-NOT: memref.collapse_shape
#id2 = affine_map<(i, j) -> (i, j)>
#tr = affine_map<(i, j) -> (j, i)>
#a = affine_map<(i, j, k) -> (i, k)>
#b = affine_map<(i, j, k) -> (k, j)>
#c = affine_map<(i, j, k) -> (i, j)>
func.func @left_alone(%x: memref<8x8xf32>, %y: memref<8x8xf32>, %z: memref<8x8xf32>) {
  linalg.generic {indexing_maps = [#tr, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%x : memref<8x8xf32>) outs(%y : memref<8x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    linalg.yield %a : f32
  }
  linalg.generic {indexing_maps = [#id2], iterator_types = ["parallel", "parallel"]}
      outs(%y : memref<8x8xf32>) {
  ^bb0(%o: f32):
    %i = linalg.index 0 : index
    %ii = arith.index_cast %i : index to i32
    %f = arith.sitofp %ii : i32 to f32
    linalg.yield %f : f32
  }
  linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %y : memref<8x8xf32>, memref<8x8xf32>) outs(%z : memref<8x8xf32>) {
  ^bb0(%p: f32, %q: f32, %o: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %o, %m : f32
    linalg.yield %s : f32
  }
  return
}
