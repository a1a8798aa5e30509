// d/dw of sum_{i<3} w*x  with x=2, w=1 -> 6
tape.variable @w : tensor<f32> = dense<1.0>
tape.step @main() -> (tensor<f32>, tensor<f32>) {
  %w = tape.handle @w : !tape.resource<tensor<f32>>
  %x = arith.constant dense<2.0> : tensor<f32>
  %z = arith.constant dense<0.0> : tensor<f32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %t, %l = tape.record {
    %r = scf.for %i = %c0 to %c3 step %c1 iter_args(%acc = %z) -> (tensor<f32>) {
      %wv = tape.read %w : !tape.resource<tensor<f32>>
      %p = arith.mulf %wv, %x : tensor<f32>
      %s = arith.addf %acc, %p : tensor<f32>
      scf.yield %s : tensor<f32>
    }
    tape.yield %r : tensor<f32>
  } : tensor<f32>
  %g = tape.gradient %t (%l : tensor<f32>) wrt (%w : !tape.resource<tensor<f32>>)
  tape.return %l, %g : tensor<f32>, tensor<f32>
}
