// sum_i x_i * temp with temp read from a variable (2.0), x = [1,2,3]: d/dtemp = 6
tape.variable @temp : tensor<f32> = dense<2.0>
tape.step @main() -> (tensor<f32>, tensor<f32>) {
  %h = tape.handle @temp : !tape.resource<tensor<f32>>
  %x = arith.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
  %t, %l = tape.record {
    %tv = tape.read %h : !tape.resource<tensor<f32>>
    %ts = tensor.extract %tv[] : tensor<f32>
    %e = tensor.empty() : tensor<3xf32>
    %y = linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> (i)>], iterator_types = ["parallel"]}
      ins(%x : tensor<3xf32>) outs(%e : tensor<3xf32>) {
    ^bb0(%a: f32, %o: f32):
      %m = arith.mulf %a, %ts : f32
      linalg.yield %m : f32
    } -> tensor<3xf32>
    %z = arith.constant 0.0 : f32
    %e0 = tensor.empty() : tensor<f32>
    %i0 = linalg.fill ins(%z : f32) outs(%e0 : tensor<f32>) -> tensor<f32>
    %s = linalg.reduce ins(%y : tensor<3xf32>) outs(%i0 : tensor<f32>) dimensions = [0]
      (%a: f32, %acc: f32) {
        %q = arith.addf %a, %acc : f32
        linalg.yield %q : f32
      }
    tape.yield %s : tensor<f32>
  } : tensor<f32>
  %g = tape.gradient %t (%l : tensor<f32>) wrt (%h : !tape.resource<tensor<f32>>)
  tape.return %l, %g : tensor<f32>, tensor<f32>
}
