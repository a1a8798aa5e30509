// variable read inside the callee: d/dw (w * 2) = 2
tape.variable @w : tensor<f32> = dense<3.0>
tape.step @inner(%x: tensor<f32>) -> tensor<f32> {
  %w = tape.handle @w : !tape.resource<tensor<f32>>
  %wv = tape.read %w : !tape.resource<tensor<f32>>
  %m = arith.mulf %wv, %x : tensor<f32>
  tape.return %m : tensor<f32>
}
tape.step @main() -> (tensor<f32>, tensor<f32>) {
  %w = tape.handle @w : !tape.resource<tensor<f32>>
  %x = arith.constant dense<2.0> : tensor<f32>
  %t, %l = tape.record {
    %r = tape.call @inner(%x) : (tensor<f32>) -> tensor<f32>
    tape.yield %r : tensor<f32>
  } : tensor<f32>
  %g = tape.gradient %t (%l : tensor<f32>) wrt (%w : !tape.resource<tensor<f32>>)
  tape.return %l, %g : tensor<f32>, tensor<f32>
}
