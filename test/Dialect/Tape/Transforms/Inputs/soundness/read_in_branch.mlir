// d/dw (w*w) inside an scf.if (true) at w=3 -> 6
tape.variable @w : tensor<f32> = dense<3.0>
tape.step @main() -> (tensor<f32>, tensor<f32>) {
  %w = tape.handle @w : !tape.resource<tensor<f32>>
  %z = arith.constant dense<0.0> : tensor<f32>
  %true = arith.constant true
  %t, %l = tape.record {
    %r = scf.if %true -> (tensor<f32>) {
      %wv = tape.read %w : !tape.resource<tensor<f32>>
      %p = arith.mulf %wv, %wv : tensor<f32>
      scf.yield %p : tensor<f32>
    } else {
      scf.yield %z : tensor<f32>
    }
    tape.yield %r : tensor<f32>
  } : tensor<f32>
  %g = tape.gradient %t (%l : tensor<f32>) wrt (%w : !tape.resource<tensor<f32>>)
  tape.return %l, %g : tensor<f32>, tensor<f32>
}
