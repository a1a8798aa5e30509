tape.variable @w : tensor<3xf32> = dense<[1.0, 2.0, 3.0]>
tape.variable @acc : tensor<3xf32> = dense<0.0> {trainable = false}
tape.step @main() -> tensor<3xf32> {
  %w = tape.handle @w : !tape.resource<tensor<3xf32>>
  %a = tape.handle @acc : !tape.resource<tensor<3xf32>>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  scf.for %i = %c0 to %c4 step %c1 {
    %t, %l = tape.record {
      %wv = tape.read %w : !tape.resource<tensor<3xf32>>
      %sq = arith.mulf %wv, %wv : tensor<3xf32>
      tape.yield %sq : tensor<3xf32>
    } : tensor<3xf32>
    %g = tape.gradient %t (%l : tensor<3xf32>) wrt (%w : !tape.resource<tensor<3xf32>>)
    tape.assign_add %a, %g : !tape.resource<tensor<3xf32>>
  }
  %r = tape.read %a : !tape.resource<tensor<3xf32>>
  tape.return %r : tensor<3xf32>
}
