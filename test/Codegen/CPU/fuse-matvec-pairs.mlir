// RUN: tape-opt %s -split-input-file --tape-cpu-fuse-matvec-pairs=block-bytes=1024 --canonicalize --cse | FileCheck %s
// RUN: tape-opt %s -split-input-file --tape-cpu-fuse-matvec-pairs="block-bytes=1024 threads=2" --canonicalize --cse | FileCheck %s --check-prefix=THREADS

// Logistic regression's products: z = X w + b, dz from z and the labels,
// then w's gradient X^T dz accumulated into w (an SGD update). With 1 KiB
// blocks (8 rows of 32 features), one loop over the 64 rows computes each
// block's z (onto its bias), dz and share of the gradient; z is also
// returned whole, for the loss, which sums over all rows after the loop.
// CHECK-LABEL: func.func @logistic
// CHECK: %[[LOOP:.+]]:2 = scf.for %[[I:.+]] = %c0 to %c64 step %c8 iter_args(%[[G:.+]] = %{{.+}}, %[[Z:.+]] = %{{.+}}) -> (tensor<32x1xf32>, tensor<64x1xf32>)
// CHECK:   %[[XI:.+]] = tensor.extract_slice %{{.+}}[%[[I]], 0] [8, 32] [1, 1] : tensor<64x32xf32> to tensor<8x32xf32>
// CHECK:   linalg.generic {{.*}} ins(%{{.+}} : tensor<1xf32>) outs(%{{.+}} : tensor<8x1xf32>)
// CHECK:   %[[ZI:.+]] = linalg.matmul ins(%[[XI]], %{{.+}} : tensor<8x32xf32>, tensor<32x1xf32>) outs(%{{.+}} : tensor<8x1xf32>)
// CHECK:   %[[DZ:.+]] = linalg.generic {{.*}} ins(%[[ZI]], %{{.+}} : tensor<8x1xf32>, tensor<8x1xf32>)
// CHECK:   linalg.matmul indexing_maps = {{.*}} ins(%{{.+}}, %[[DZ]] : tensor<8x32xf32>, tensor<8x1xf32>) outs(%[[G]] : tensor<32x1xf32>)
// CHECK:   tensor.insert_slice %[[ZI]] into %[[Z]][%[[I]], 0] [8, 1] [1, 1]
// CHECK:   scf.yield
// CHECK: linalg.reduce ins(%[[LOOP]]#1 : tensor<64x1xf32>)
// CHECK: return %[[LOOP]]#0
// With two threads, each takes 32 rows (an scf.forall) and sums its
// blocks' shares into a contiguous gradient of its own (a copy of its
// slot of the partial sums), stored into the slot; the partial sums are
// added to w after the loop.
// THREADS-LABEL: func.func @logistic
// THREADS: %[[W:.+]] = bufferization.alloc_tensor() copy(%arg1) : tensor<32x1xf32>
// THREADS: %[[PARTS:.+]] = linalg.fill {{.*}} -> tensor<32x1x2xf32>
// THREADS: %[[ALL:.+]]:2 = scf.forall (%[[T:.+]]) = (0) to (64) step (32) shared_outs(%[[P:.+]] = %[[PARTS]], %[[Z:.+]] = %{{.+}})
// THREADS:   %[[SLOT:.+]] = tensor.extract_slice %[[P]][0, 0, %{{.+}}] [32, 1, 1] [1, 1, 1]
// THREADS:   %[[OWN:.+]] = bufferization.alloc_tensor() copy(%[[SLOT]]) : tensor<32x1xf32>
// THREADS:   %[[BLOCKS:.+]]:2 = scf.for %{{.+}} = %c0 to %c32 step %c8 iter_args(%{{.+}} = %[[OWN]], %{{.+}} = %{{.+}})
// THREADS:     linalg.matmul ins({{.*}} : tensor<8x32xf32>, tensor<32x1xf32>)
// THREADS:     linalg.matmul indexing_maps = {{.*}} : tensor<8x32xf32>, tensor<8x1xf32>)
// THREADS:   scf.forall.in_parallel
// THREADS:     tensor.parallel_insert_slice %[[BLOCKS]]#0 into %[[P]]
// THREADS:     tensor.parallel_insert_slice %[[BLOCKS]]#1 into %[[Z]]
// THREADS: %[[G:.+]] = linalg.reduce ins(%[[ALL]]#0 : tensor<32x1x2xf32>) outs(%[[W]] : tensor<32x1xf32>) dimensions = [2]
// THREADS: linalg.reduce ins(%[[ALL]]#1 : tensor<64x1xf32>)
// THREADS: return %[[G]]
#rows = affine_map<(i, j) -> (i, j)>
#bias = affine_map<(i, j) -> (j)>
func.func @logistic(%x: tensor<64x32xf32>, %w: tensor<32x1xf32>, %b: tensor<1xf32>,
                    %y: tensor<64x1xf32>) -> (tensor<32x1xf32>, tensor<f32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64x1xf32>
  %bb = linalg.generic {indexing_maps = [#bias, #rows], iterator_types = ["parallel", "parallel"]}
      ins(%b : tensor<1xf32>) outs(%e : tensor<64x1xf32>) {
  ^bb0(%in: f32, %o: f32):
    linalg.yield %in : f32
  } -> tensor<64x1xf32>
  %z = linalg.matmul ins(%x, %w : tensor<64x32xf32>, tensor<32x1xf32>) outs(%bb : tensor<64x1xf32>) -> tensor<64x1xf32>
  %dz = linalg.generic {indexing_maps = [#rows, #rows, #rows], iterator_types = ["parallel", "parallel"]}
      ins(%z, %y : tensor<64x1xf32>, tensor<64x1xf32>) outs(%e : tensor<64x1xf32>) {
  ^bb0(%zi: f32, %yi: f32, %o: f32):
    %d = arith.subf %zi, %yi : f32
    linalg.yield %d : f32
  } -> tensor<64x1xf32>
  %g = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (k, m)>, affine_map<(m, n, k) -> (k, n)>, affine_map<(m, n, k) -> (m, n)>]
      ins(%x, %dz : tensor<64x32xf32>, tensor<64x1xf32>) outs(%w : tensor<32x1xf32>) -> tensor<32x1xf32>
  %e0 = tensor.empty() : tensor<f32>
  %f = linalg.fill ins(%zero : f32) outs(%e0 : tensor<f32>) -> tensor<f32>
  %loss = linalg.reduce ins(%z : tensor<64x1xf32>) outs(%f : tensor<f32>) dimensions = [0, 1]
    (%in: f32, %acc: f32) {
      %s = arith.addf %in, %acc : f32
      linalg.yield %s : f32
    }
  return %g, %loss : tensor<32x1xf32>, tensor<f32>
}

// -----

// Left alone: the gradient's vector comes from a product of another
// matrix; the pair's matrix fits in one block; and a gradient whose
// vector passes through a reduction over the rows (here a softmax-like
// normalization), which a block cannot compute alone.
// CHECK-LABEL: func.func @other_matrix
// CHECK-NOT: scf.for
// CHECK-LABEL: func.func @one_block
// CHECK-NOT: scf.for
// CHECK-LABEL: func.func @through_a_reduction
// CHECK-NOT: scf.for
// CHECK: return
// THREADS-LABEL: func.func @other_matrix
// THREADS-NOT: scf.for
// THREADS-LABEL: func.func @one_block
// THREADS-NOT: scf.for
// THREADS-LABEL: func.func @through_a_reduction
// THREADS-NOT: scf.for
// THREADS: return
#rows = affine_map<(i, j) -> (i, j)>
#all = affine_map<(i, j) -> ()>
#transA = [affine_map<(m, n, k) -> (k, m)>, affine_map<(m, n, k) -> (k, n)>, affine_map<(m, n, k) -> (m, n)>]
func.func @other_matrix(%x: tensor<64x32xf32>, %v: tensor<64x32xf32>, %w: tensor<32x1xf32>,
                        %init: tensor<64x1xf32>) -> tensor<32x1xf32> {
  %z = linalg.matmul ins(%v, %w : tensor<64x32xf32>, tensor<32x1xf32>) outs(%init : tensor<64x1xf32>) -> tensor<64x1xf32>
  %g = linalg.matmul indexing_maps = #transA
      ins(%x, %z : tensor<64x32xf32>, tensor<64x1xf32>) outs(%w : tensor<32x1xf32>) -> tensor<32x1xf32>
  return %g : tensor<32x1xf32>
}

func.func @one_block(%x: tensor<8x32xf32>, %w: tensor<32x1xf32>,
                     %init: tensor<8x1xf32>) -> tensor<32x1xf32> {
  %z = linalg.matmul ins(%x, %w : tensor<8x32xf32>, tensor<32x1xf32>) outs(%init : tensor<8x1xf32>) -> tensor<8x1xf32>
  %g = linalg.matmul indexing_maps = #transA
      ins(%x, %z : tensor<8x32xf32>, tensor<8x1xf32>) outs(%w : tensor<32x1xf32>) -> tensor<32x1xf32>
  return %g : tensor<32x1xf32>
}

func.func @through_a_reduction(%x: tensor<64x32xf32>, %w: tensor<32x1xf32>,
                               %init: tensor<64x1xf32>, %s0: tensor<f32>) -> tensor<32x1xf32> {
  %z = linalg.matmul ins(%x, %w : tensor<64x32xf32>, tensor<32x1xf32>) outs(%init : tensor<64x1xf32>) -> tensor<64x1xf32>
  %s = linalg.generic {indexing_maps = [#rows, #all], iterator_types = ["reduction", "reduction"]}
      ins(%z : tensor<64x1xf32>) outs(%s0 : tensor<f32>) {
  ^bb0(%in: f32, %acc: f32):
    %a = arith.addf %in, %acc : f32
    linalg.yield %a : f32
  } -> tensor<f32>
  %e = tensor.empty() : tensor<64x1xf32>
  %n = linalg.generic {indexing_maps = [#rows, #all, #rows], iterator_types = ["parallel", "parallel"]}
      ins(%z, %s : tensor<64x1xf32>, tensor<f32>) outs(%e : tensor<64x1xf32>) {
  ^bb0(%zi: f32, %si: f32, %o: f32):
    %d = arith.divf %zi, %si : f32
    linalg.yield %d : f32
  } -> tensor<64x1xf32>
  %g = linalg.matmul indexing_maps = #transA
      ins(%x, %n : tensor<64x32xf32>, tensor<64x1xf32>) outs(%w : tensor<32x1xf32>) -> tensor<32x1xf32>
  return %g : tensor<32x1xf32>
}

// -----

// Two gradients of one forward product: the first is fused (and returns z
// for the other), the second then reads z from the loop and is left as it
// was.
// CHECK-LABEL: func.func @two_gradients
// CHECK: %[[LOOP:.+]]:2 = scf.for
// CHECK: linalg.generic {{.*}} ins(%[[LOOP]]#1 : tensor<64x1xf32>)
// CHECK: linalg.matmul indexing_maps = {{.*}} ins(%arg0, %{{.+}} : tensor<64x32xf32>, tensor<64x1xf32>)
#rows = affine_map<(i, j) -> (i, j)>
#transA = [affine_map<(m, n, k) -> (k, m)>, affine_map<(m, n, k) -> (k, n)>, affine_map<(m, n, k) -> (m, n)>]
func.func @two_gradients(%x: tensor<64x32xf32>, %w: tensor<32x1xf32>, %v: tensor<32x1xf32>,
                         %init: tensor<64x1xf32>) -> (tensor<32x1xf32>, tensor<32x1xf32>) {
  %z = linalg.matmul ins(%x, %w : tensor<64x32xf32>, tensor<32x1xf32>) outs(%init : tensor<64x1xf32>) -> tensor<64x1xf32>
  %e = tensor.empty() : tensor<64x1xf32>
  %d1 = linalg.generic {indexing_maps = [#rows, #rows], iterator_types = ["parallel", "parallel"]}
      ins(%z : tensor<64x1xf32>) outs(%e : tensor<64x1xf32>) {
  ^bb0(%zi: f32, %o: f32):
    %n = arith.negf %zi : f32
    linalg.yield %n : f32
  } -> tensor<64x1xf32>
  %d2 = linalg.generic {indexing_maps = [#rows, #rows], iterator_types = ["parallel", "parallel"]}
      ins(%z : tensor<64x1xf32>) outs(%e : tensor<64x1xf32>) {
  ^bb0(%zi: f32, %o: f32):
    %m = arith.mulf %zi, %zi : f32
    linalg.yield %m : f32
  } -> tensor<64x1xf32>
  %g1 = linalg.matmul indexing_maps = #transA
      ins(%x, %d1 : tensor<64x32xf32>, tensor<64x1xf32>) outs(%w : tensor<32x1xf32>) -> tensor<32x1xf32>
  %g2 = linalg.matmul indexing_maps = #transA
      ins(%x, %d2 : tensor<64x32xf32>, tensor<64x1xf32>) outs(%v : tensor<32x1xf32>) -> tensor<32x1xf32>
  return %g1, %g2 : tensor<32x1xf32>, tensor<32x1xf32>
}
