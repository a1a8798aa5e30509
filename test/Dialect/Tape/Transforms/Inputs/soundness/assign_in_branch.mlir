// Gradient accumulation with an assignment in a branch: on even steps the
// gradient 2w is added, on odd steps nothing; the step count decides.
tape.variable @w : tensor<2xf32> = dense<[1.0, -2.0]>
tape.variable @acc : tensor<2xf32> = dense<0.0> {trainable = false}
tape.variable @n : tensor<i64> = dense<0> {trainable = false}
tape.step @main() -> tensor<2xf32> {
  %w = tape.handle @w : !tape.resource<tensor<2xf32>>
  %a = tape.handle @acc : !tape.resource<tensor<2xf32>>
  %hn = tape.handle @n : !tape.resource<tensor<i64>>
  %t, %l = tape.record {
    %wv = tape.read %w : !tape.resource<tensor<2xf32>>
    %sq = arith.mulf %wv, %wv : tensor<2xf32>
    tape.yield %sq : tensor<2xf32>
  } : tensor<2xf32>
  %g = tape.gradient %t (%l : tensor<2xf32>) wrt (%w : !tape.resource<tensor<2xf32>>)
  %nv = tape.read %hn : !tape.resource<tensor<i64>>
  %ns = tensor.extract %nv[] : tensor<i64>
  %two = arith.constant 2 : i64
  %rem = arith.remsi %ns, %two : i64
  %zero = arith.constant 0 : i64
  %even = arith.cmpi eq, %rem, %zero : i64
  scf.if %even {
    tape.assign_add %a, %g : !tape.resource<tensor<2xf32>>
  }
  %one = arith.constant dense<1> : tensor<i64>
  tape.assign_add %hn, %one : !tape.resource<tensor<i64>>
  %r = tape.read %a : !tape.resource<tensor<2xf32>>
  tape.return %r : tensor<2xf32>
}
