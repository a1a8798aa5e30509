// f = w^3, outer tape yields (f', f); d(f')/dw = 6w at w = 2 -> 12
tape.variable @w : tensor<f32> = dense<2.0>
tape.step @main() -> (tensor<f32>, tensor<f32>) {
  %w = tape.handle @w : !tape.resource<tensor<f32>>
  %t, %d1, %f = tape.record {
    %it, %iy = tape.record {
      %wv = tape.read %w : !tape.resource<tensor<f32>>
      %sq = arith.mulf %wv, %wv : tensor<f32>
      %cube = arith.mulf %sq, %wv : tensor<f32>
      tape.yield %cube : tensor<f32>
    } : tensor<f32>
    %g1 = tape.gradient %it (%iy : tensor<f32>) wrt (%w : !tape.resource<tensor<f32>>)
    tape.yield %g1, %iy : tensor<f32>, tensor<f32>
  } : tensor<f32>, tensor<f32>
  %g2 = tape.gradient %t (%d1 : tensor<f32>) wrt (%w : !tape.resource<tensor<f32>>)
  tape.return %d1, %g2 : tensor<f32>, tensor<f32>
}
