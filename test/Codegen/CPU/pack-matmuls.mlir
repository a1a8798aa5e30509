// RUN: tape-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(tape-cpu-pack-matmuls{mr=6 nr=16 mc=252 kc=256 nc=1024 max-direct-b-bytes=0 direct-a=false}),canonicalize)' | FileCheck %s
// RUN: tape-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(tape-cpu-pack-matmuls{mr=6 nr=16 mc=252 kc=256 nc=1024 max-direct-b-bytes=0 direct-a=false parallel=true}))' | FileCheck --check-prefix=PAR %s
// RUN: tape-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(tape-cpu-pack-matmuls{mr=6 nr=16 mc=252 kc=256 nc=1024}),canonicalize)' | FileCheck --check-prefix=DIRECT %s
// Numbers: matmul-exec.test runs these kernels against numpy. The first
// two runs pack every operand (max-direct-b-bytes=0 direct-a=false); the
// third reads A, and an untransposed B of whole panels that fits, in place
// where their rows are laid out well.

// One pair of pack buffers per function, sized for its largest matmul;
// B panels are 16 wide, A panels 6 high, slices 196 deep (784 = 4 x 196).
// CHECK-LABEL: func.func @forward
// CHECK-DAG: %[[AP:.+]] = memref.alloc() : memref<11x196x6xf32>
// CHECK-DAG: %[[BP:.+]] = memref.alloc() : memref<16x196x16xf32>
// CHECK-NOT: linalg.matmul
// Pack B: one contiguous row of 16 per step.
// CHECK: vector.transfer_read %{{.+}} {in_bounds = [true]} : memref<784x256xf32>, vector<16xf32>
// CHECK: vector.store %{{.+}}, %[[BP]]
// Pack A: columns of 6, read as 6 rows of 8 contiguous elements and
// transposed in registers (64 rows = 10 full panels and one of 4: the
// rows past the matrix read as zeros); the 196 % 8 = 4 columns left of a
// slice one by one (clamped, zero-padded).
// CHECK: vector.transfer_read %{{.+}} {in_bounds = [false, true]} : memref<64x784xf32>, vector<6x8xf32>
// CHECK: vector.transpose %{{.+}}, [1, 0] : vector<6x8xf32> to vector<8x6xf32>
// CHECK-COUNT-8: vector.store %{{.+}}, %[[AP]]
// CHECK: arith.select
// CHECK: vector.from_elements {{.*}} : vector<6xf32>
// CHECK: vector.store %{{.+}}, %[[AP]]
// The register tile, one vector per row: this C tile and the next one down
// are prefetched (rows clamped to the matrix), 6 FMAs per depth step from
// zero, then each row (rows past 64 skipped) adds C and is written.
// CHECK-COUNT-12: memref.prefetch %{{.+}}, write, locality<3>, data : memref<64x256xf32>
// CHECK-NOT: memref.prefetch
// CHECK: scf.for
// CHECK: vector.load %[[BP]]{{.*}} : memref<16x196x16xf32>, vector<16xf32>
// CHECK: memref.load %[[AP]]
// CHECK: vector.broadcast
// CHECK-COUNT-6: vector.fma {{.*}} : vector<16xf32>
// CHECK: scf.if
// CHECK: vector.transfer_read %{{.+}} {in_bounds = [true]} : memref<64x256xf32>, vector<16xf32>
// CHECK: arith.addf
// CHECK: vector.transfer_write {{.*}} {in_bounds = [true]} : vector<16xf32>, memref<64x256xf32>
// Read in place: B (784 x 256 floats: 784 KiB, rows 1 KiB apart) and A
// (rows 3136 bytes apart): no pack buffer and no packing. The kernel
// loads 16 floats of B's row pc + p and broadcasts A's elements from its
// rows, those past the matrix (64 = 10 x 6 + 4) clamped to its last.
// DIRECT-LABEL: func.func @forward
// DIRECT-NOT: memref.alloc
// DIRECT-NOT: vector.store
// DIRECT: %[[ROW:.+]] = arith.minsi %{{.+}}, %c63 : index
// DIRECT: scf.for
// DIRECT: vector.load %arg1[%{{.+}}, %{{.+}}] : memref<784x256xf32>, vector<16xf32>
// DIRECT: memref.load %arg0[%[[ROW]], %{{.+}}] : memref<64x784xf32>
// DIRECT: vector.broadcast
// DIRECT-COUNT-6: vector.fma {{.*}} : vector<16xf32>
func.func @forward(%a: memref<64x784xf32>, %b: memref<784x256xf32>, %c: memref<64x256xf32>) {
  linalg.matmul ins(%a, %b : memref<64x784xf32>, memref<784x256xf32>) outs(%c : memref<64x256xf32>)
  return
}

// -----

// Transposed operands are transposed while packing: A^T's rows are A's
// columns (contiguous reads), B^T is read 16 rows of 8 at a time and
// transposed in registers (64 = 8 x 8: no column left over).
// CHECK-LABEL: func.func @transposed
// CHECK: vector.transfer_read %{{.+}} {in_bounds = [true, true]} : memref<48x64xf32>, vector<16x8xf32>
// CHECK: vector.transpose %{{.+}}, [1, 0] : vector<16x8xf32> to vector<8x16xf32>
// CHECK: vector.transfer_read %{{.+}} {in_bounds = [true]} : memref<64x96xf32>, vector<6xf32>
// CHECK-COUNT-6: vector.fma
func.func @transposed(%a: memref<64x96xf32>, %b: memref<48x64xf32>, %c: memref<96x48xf32>) {
  linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (k, m)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
    ins(%a, %b : memref<64x96xf32>, memref<48x64xf32>) outs(%c : memref<96x48xf32>)
  return
}

// -----

// Left to tape-cpu-vectorize: too small, narrower than a tile, f64, tensors.
// CHECK-LABEL: func.func @kept
// CHECK-NOT: memref.alloc
// CHECK-COUNT-4: linalg.matmul
func.func @kept(%s: memref<8x16xf32>, %q: memref<16x16xf32>, %x: memref<1024x1024xf32>, %v: memref<1024x10xf32>,
                %d: memref<64x64xf64>, %t: tensor<64x64xf32>) -> tensor<64x64xf32> {
  linalg.matmul ins(%s, %q : memref<8x16xf32>, memref<16x16xf32>) outs(%s : memref<8x16xf32>)
  linalg.matmul ins(%x, %v : memref<1024x1024xf32>, memref<1024x10xf32>) outs(%v : memref<1024x10xf32>)
  linalg.matmul ins(%d, %d : memref<64x64xf64>, memref<64x64xf64>) outs(%d : memref<64x64xf64>)
  %r = linalg.matmul ins(%t, %t : tensor<64x64xf32>, tensor<64x64xf32>) outs(%t : tensor<64x64xf32>) -> tensor<64x64xf32>
  return %r : tensor<64x64xf32>
}

// -----

// A zero fill just before is dropped: the first depth slice writes its tile
// without reading C, the later ones add to it.
// CHECK-LABEL: func.func @zero_filled
// CHECK-NOT: linalg.fill
// CHECK: %[[FIRST:.+]] = arith.cmpi eq, %{{.+}}, %c0
// CHECK: vector.fma
// CHECK: scf.if %[[FIRST]] -> (vector<16xf32>)
// CHECK-NEXT: scf.yield %{{.+}} : vector<16xf32>
// CHECK-NEXT: } else {
// CHECK-NEXT: vector.transfer_read
func.func @zero_filled(%a: memref<64x784xf32>, %b: memref<784x256xf32>, %c: memref<64x256xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%c : memref<64x256xf32>)
  linalg.matmul ins(%a, %b : memref<64x784xf32>, memref<784x256xf32>) outs(%c : memref<64x256xf32>)
  return
}

// -----

// A matmul that starts from a weight (a folded SGD update,
// tape-cpu-accumulate-into-matmuls) adds each slice's tile to it.
// CHECK-LABEL: func.func @accumulating
// CHECK-NOT: linalg.fill
// CHECK-COUNT-6: vector.fma {{.*}} : vector<16xf32>
// CHECK: %[[OLD:.+]] = vector.transfer_read %[[W:arg[0-9]+]][
// CHECK: %[[NEW:.+]] = arith.addf %{{.+}}, %[[OLD]]
// CHECK: vector.transfer_write %[[NEW]], %[[W]][
// CHECK: return
func.func @accumulating(%x: memref<64x784xf32>, %dz: memref<64x256xf32>, %w: memref<784x256xf32>) {
  linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (k, m)>, affine_map<(m, n, k) -> (k, n)>, affine_map<(m, n, k) -> (m, n)>]
    ins(%x, %dz : memref<64x784xf32>, memref<64x256xf32>) outs(%w : memref<784x256xf32>)
  return
}

// With parallel=true, packing a block of B (256 columns x 196 deep: large
// enough) and the loop over column panels of the kernel are scf.parallel;
// packing the 64-row A block (64 x 196) stays sequential.
// PAR-LABEL: func.func @forward
// PAR: scf.parallel
// PAR-NEXT: arith.constant 16
// PAR: vector.store {{.*}} : memref<16x196x16xf32>, vector<16xf32>
// PAR: scf.for
// PAR-NOT: scf.parallel
// PAR: vector.store {{.*}} : memref<11x196x6xf32>, vector<6xf32>
// PAR: scf.parallel
// PAR-NEXT: scf.for
// PAR-COUNT-6: vector.fma

// -----

// A matmul inside a loop already spread over threads (a convolution's
// piece per thread) runs on its thread: its packing and panels are plain
// loops, and its pack buffers are allocated in the loop's body, one pair
// per iteration (tape-cpu-privatize-buffers gives each a slot).
// PAR-LABEL: func.func @per_thread
// PAR: memref.alloc() : memref<16x196x16xf32>
// PAR: scf.forall
// PAR-DAG: memref.alloc() : memref<11x196x6xf32>
// PAR-DAG: memref.alloc() : memref<16x196x16xf32>
// PAR-NOT: scf.parallel
// PAR: vector.fma
// PAR-NOT: scf.parallel
// PAR: return
func.func @per_thread(%a: memref<2x64x784xf32>, %b: memref<784x256xf32>, %c: memref<2x64x256xf32>, %d: memref<64x784xf32>, %e: memref<64x256xf32>) {
  linalg.matmul ins(%d, %b : memref<64x784xf32>, memref<784x256xf32>) outs(%e : memref<64x256xf32>)
  scf.forall (%t) in (2) {
    %a1 = memref.subview %a[%t, 0, 0] [1, 64, 784] [1, 1, 1] : memref<2x64x784xf32> to memref<64x784xf32, strided<[784, 1], offset: ?>>
    %c1 = memref.subview %c[%t, 0, 0] [1, 64, 256] [1, 1, 1] : memref<2x64x256xf32> to memref<64x256xf32, strided<[256, 1], offset: ?>>
    linalg.matmul ins(%a1, %b : memref<64x784xf32, strided<[784, 1], offset: ?>>, memref<784x256xf32>) outs(%c1 : memref<64x256xf32, strided<[256, 1], offset: ?>>)
  }
  return
}

// -----

// Packed after all: a B whose rows are 4 KiB apart (1024 columns: a
// panel's rows would share few L1 sets), a transposed B, a B over 1 MiB,
// and a view of B whose rows are not contiguous (every other column).
// DIRECT-LABEL: func.func @stride_4k
// DIRECT: memref.alloc() : memref<{{.+}}x16xf32>
// DIRECT-LABEL: func.func @transposed_b
// DIRECT: memref.alloc() : memref<{{.+}}x16xf32>
// DIRECT-LABEL: func.func @large_b
// DIRECT: memref.alloc() : memref<{{.+}}x16xf32>
// DIRECT-LABEL: func.func @strided_rows
// DIRECT: memref.alloc() : memref<{{.+}}x16xf32>
func.func @stride_4k(%a: memref<64x128xf32>, %b: memref<128x1024xf32>, %c: memref<64x1024xf32>) {
  linalg.matmul ins(%a, %b : memref<64x128xf32>, memref<128x1024xf32>) outs(%c : memref<64x1024xf32>)
  return
}
func.func @transposed_b(%a: memref<64x128xf32>, %b: memref<256x128xf32>, %c: memref<64x256xf32>) {
  linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
    ins(%a, %b : memref<64x128xf32>, memref<256x128xf32>) outs(%c : memref<64x256xf32>)
  return
}
func.func @large_b(%a: memref<64x1200xf32>, %b: memref<1200x256xf32>, %c: memref<64x256xf32>) {
  linalg.matmul ins(%a, %b : memref<64x1200xf32>, memref<1200x256xf32>) outs(%c : memref<64x256xf32>)
  return
}
func.func @strided_rows(%a: memref<64x128xf32>, %b: memref<128x256xf32, strided<[600, 2]>>, %c: memref<64x256xf32>) {
  linalg.matmul ins(%a, %b : memref<64x128xf32>, memref<128x256xf32, strided<[600, 2]>>) outs(%c : memref<64x256xf32>)
  return
}

// -----

// A packed after all when its rows are 4 KiB apart (1024 columns), and
// A^T (stored K x M) of 128x64: its panels are copies of 6-element runs of
// its rows, which the kernel then reads contiguously instead of a new
// cache line per depth step.
// DIRECT-LABEL: func.func @a_stride_4k
// DIRECT: memref.alloc() : memref<{{.+}}x6xf32>
// DIRECT-LABEL: func.func @a_transposed
// DIRECT: %[[AP:.+]] = memref.alloc() : memref<{{.+}}x6xf32>
// DIRECT: vector.transfer_read %arg0[%{{.+}}, %{{.+}}], %{{.+}} : memref<128x64xf32>, vector<6xf32>
// DIRECT: vector.store %{{.+}}, %[[AP]]
// DIRECT: vector.fma
// ... unless all of A^T fits in a third of L1 (64x48, 12 KiB): read in
// place, a depth step's 6 elements adjacent.
// DIRECT-LABEL: func.func @a_transposed_small
// DIRECT-NOT: memref.alloc() : memref<{{.+}}x6xf32>
// DIRECT: scf.for
// DIRECT: memref.load %arg0[%{{.+}}, %{{.+}}] : memref<64x48xf32>
// DIRECT: vector.fma
func.func @a_stride_4k(%a: memref<64x1024xf32>, %b: memref<1024x128xf32>, %c: memref<64x128xf32>) {
  linalg.matmul ins(%a, %b : memref<64x1024xf32>, memref<1024x128xf32>) outs(%c : memref<64x128xf32>)
  return
}
func.func @a_transposed(%a: memref<128x64xf32>, %b: memref<128x256xf32>, %c: memref<64x256xf32>) {
  linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (k, m)>, affine_map<(m, n, k) -> (k, n)>, affine_map<(m, n, k) -> (m, n)>]
    ins(%a, %b : memref<128x64xf32>, memref<128x256xf32>) outs(%c : memref<64x256xf32>)
  return
}
func.func @a_transposed_small(%a: memref<64x48xf32>, %b: memref<64x256xf32>, %c: memref<48x256xf32>) {
  linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (k, m)>, affine_map<(m, n, k) -> (k, n)>, affine_map<(m, n, k) -> (m, n)>]
    ins(%a, %b : memref<64x48xf32>, memref<64x256xf32>) outs(%c : memref<48x256xf32>)
  return
}

// -----

// A bias row broadcast into C just before the matmul is dropped: each
// kernel reads bias[col0 : +16] once, and the first slice adds it to its
// tile where it would add C (later slices, 784 = 4 x 196 deep, read C).
// CHECK-LABEL: func.func @bias
// CHECK-NOT: linalg.broadcast
// CHECK: %[[FIRST:.+]] = arith.cmpi eq, %{{.+}}, %c0 : index
// CHECK: vector.fma
// CHECK: %[[BIAS:.+]] = vector.transfer_read %arg3[%{{.+}}], %{{.+}} {in_bounds = [true]} : memref<256xf32>, vector<16xf32>
// CHECK: scf.if %[[FIRST]] -> (vector<16xf32>) {
// CHECK-NEXT: scf.yield %[[BIAS]] : vector<16xf32>
// CHECK-NEXT: } else {
// CHECK-NEXT: vector.transfer_read %arg2
// CHECK: vector.transfer_write %{{.+}}, %arg2
// A broadcast along the other dimension (a value per row: a
// convolution's bias per output channel) starts each row of the first
// slice's tile from bias[row].
// CHECK-LABEL: func.func @column_bias
// CHECK-NOT: linalg.broadcast
// CHECK: vector.fma
// CHECK: scf.if %{{.+}} -> (vector<16xf32>) {
// CHECK-NEXT: %[[B:.+]] = memref.load %arg3[%{{.+}}] : memref<64xf32>
// CHECK-NEXT: %[[ROW:.+]] = vector.broadcast %[[B]] : f32 to vector<16xf32>
// CHECK-NEXT: scf.yield %[[ROW]] : vector<16xf32>
func.func @bias(%a: memref<64x784xf32>, %b: memref<784x256xf32>, %c: memref<64x256xf32>, %bias: memref<256xf32>) {
  linalg.broadcast ins(%bias : memref<256xf32>) outs(%c : memref<64x256xf32>) dimensions = [0]
  linalg.matmul ins(%a, %b : memref<64x784xf32>, memref<784x256xf32>) outs(%c : memref<64x256xf32>)
  return
}
func.func @column_bias(%a: memref<64x784xf32>, %b: memref<784x256xf32>, %c: memref<64x256xf32>, %bias: memref<64xf32>) {
  linalg.broadcast ins(%bias : memref<64xf32>) outs(%c : memref<64x256xf32>) dimensions = [1]
  linalg.matmul ins(%a, %b : memref<64x784xf32>, memref<784x256xf32>) outs(%c : memref<64x256xf32>)
  return
}

// -----

// A convolution's image: the bias per channel is broadcast into the
// [channels, h, w] slice that C collapses to [channels, h * w], and the
// im2col copy into a fresh buffer comes between. Neither it nor the
// collapses touch C's buffer (a fresh allocation): the broadcast is folded.
// CHECK-LABEL: func.func @convolution_bias
// CHECK-NOT: linalg.generic
// CHECK: memref.copy
// CHECK-NOT: linalg.generic
// CHECK: memref.load %arg2[%{{.+}}] : memref<64xf32>
// But not when something between reads C's buffer, writes the bias, or
// touches a buffer that may alias C (a loop's iteration argument).
// CHECK-LABEL: func.func @c_read_between
// CHECK: linalg.generic
// CHECK: memref.copy
// CHECK-LABEL: func.func @bias_written_between
// CHECK: linalg.generic
// CHECK: memref.copy
// CHECK-LABEL: func.func @unknown_buffer_between
// CHECK: linalg.generic
// CHECK: memref.copy
#bias_map = affine_map<(d0, d1, d2) -> (d0)>
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @convolution_bias(%w: memref<64x288xf32>, %image: memref<288x576xf32>, %bias: memref<64xf32>) -> memref<64x24x24xf32> {
  %out = memref.alloc() : memref<64x24x24xf32>
  linalg.generic {indexing_maps = [#bias_map, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%bias : memref<64xf32>) outs(%out : memref<64x24x24xf32>) {
  ^bb0(%in: f32, %o: f32):
    linalg.yield %in : f32
  }
  %cols = memref.alloc() : memref<288x576xf32>
  memref.copy %image, %cols : memref<288x576xf32> to memref<288x576xf32>
  %c = memref.collapse_shape %out [[0], [1, 2]] : memref<64x24x24xf32> into memref<64x576xf32>
  linalg.matmul ins(%w, %cols : memref<64x288xf32>, memref<288x576xf32>) outs(%c : memref<64x576xf32>)
  return %out : memref<64x24x24xf32>
}
func.func @c_read_between(%w: memref<64x288xf32>, %image: memref<288x576xf32>, %bias: memref<64xf32>, %keep: memref<64x24x24xf32>) -> memref<64x24x24xf32> {
  %out = memref.alloc() : memref<64x24x24xf32>
  linalg.generic {indexing_maps = [#bias_map, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%bias : memref<64xf32>) outs(%out : memref<64x24x24xf32>) {
  ^bb0(%in: f32, %o: f32):
    linalg.yield %in : f32
  }
  memref.copy %out, %keep : memref<64x24x24xf32> to memref<64x24x24xf32>
  %c = memref.collapse_shape %out [[0], [1, 2]] : memref<64x24x24xf32> into memref<64x576xf32>
  linalg.matmul ins(%w, %image : memref<64x288xf32>, memref<288x576xf32>) outs(%c : memref<64x576xf32>)
  return %out : memref<64x24x24xf32>
}
func.func @bias_written_between(%w: memref<64x288xf32>, %image: memref<288x576xf32>, %bias: memref<64xf32>, %new: memref<64xf32>) -> memref<64x24x24xf32> {
  %out = memref.alloc() : memref<64x24x24xf32>
  linalg.generic {indexing_maps = [#bias_map, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%bias : memref<64xf32>) outs(%out : memref<64x24x24xf32>) {
  ^bb0(%in: f32, %o: f32):
    linalg.yield %in : f32
  }
  memref.copy %new, %bias : memref<64xf32> to memref<64xf32>
  %c = memref.collapse_shape %out [[0], [1, 2]] : memref<64x24x24xf32> into memref<64x576xf32>
  linalg.matmul ins(%w, %image : memref<64x288xf32>, memref<288x576xf32>) outs(%c : memref<64x576xf32>)
  return %out : memref<64x24x24xf32>
}
func.func @unknown_buffer_between(%w: memref<64x288xf32>, %image: memref<288x576xf32>, %bias: memref<64xf32>, %flag: i1) -> memref<64x24x24xf32> {
  %out = memref.alloc() : memref<64x24x24xf32>
  %other = memref.alloc() : memref<64x24x24xf32>
  linalg.generic {indexing_maps = [#bias_map, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%bias : memref<64xf32>) outs(%out : memref<64x24x24xf32>) {
  ^bb0(%in: f32, %o: f32):
    linalg.yield %in : f32
  }
  %either = arith.select %flag, %out, %other : memref<64x24x24xf32>
  memref.copy %other, %either : memref<64x24x24xf32> to memref<64x24x24xf32>
  %c = memref.collapse_shape %out [[0], [1, 2]] : memref<64x24x24xf32> into memref<64x576xf32>
  linalg.matmul ins(%w, %image : memref<64x288xf32>, memref<288x576xf32>) outs(%c : memref<64x576xf32>)
  return %out : memref<64x24x24xf32>
}
