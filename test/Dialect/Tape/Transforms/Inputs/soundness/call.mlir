// d/dw (w^2) through a func.call at w=3 -> 6
tape.variable @w : tensor<f32> = dense<3.0>
func.func private @sq(%a: tensor<f32>) -> tensor<f32> {
  %m = arith.mulf %a, %a : tensor<f32>
  return %m : tensor<f32>
}
tape.step @main() -> (tensor<f32>, tensor<f32>) {
  %w = tape.handle @w : !tape.resource<tensor<f32>>
  %t, %l = tape.record {
    %wv = tape.read %w : !tape.resource<tensor<f32>>
    %r = func.call @sq(%wv) : (tensor<f32>) -> tensor<f32>
    tape.yield %r : tensor<f32>
  } : tensor<f32>
  %g = tape.gradient %t (%l : tensor<f32>) wrt (%w : !tape.resource<tensor<f32>>)
  tape.return %l, %g : tensor<f32>, tensor<f32>
}
