// An embedding row picked with tensor.extract inside a linalg body, at an
// index read from an integer input: out[i, j] = table[ids[i], j] * 2.
// Row 1 is picked twice, row 2 never: d sum(out) / d table = 2 * count.
tape.variable @table : tensor<3x2xf32> = dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]>
tape.step @main() -> (tensor<f32>, tensor<3x2xf32>) {
  %h = tape.handle @table : !tape.resource<tensor<3x2xf32>>
  %ids = arith.constant dense<[1, 0, 1]> : tensor<3xi32>
  %t, %l = tape.record {
    %e = tensor.empty() : tensor<3x2xf32>
    %g = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]}
      ins(%ids : tensor<3xi32>) outs(%e : tensor<3x2xf32>) {
    ^bb0(%id: i32, %o: f32):
      %tv = tape.read %h : !tape.resource<tensor<3x2xf32>>
      %r = arith.index_cast %id : i32 to index
      %j = linalg.index 1 : index
      %v = tensor.extract %tv[%r, %j] : tensor<3x2xf32>
      %two = arith.constant 2.0 : f32
      %m = arith.mulf %v, %two : f32
      linalg.yield %m : f32
    } -> tensor<3x2xf32>
    %z = arith.constant 0.0 : f32
    %e0 = tensor.empty() : tensor<f32>
    %i0 = linalg.fill ins(%z : f32) outs(%e0 : tensor<f32>) -> tensor<f32>
    %s = linalg.reduce ins(%g : tensor<3x2xf32>) outs(%i0 : tensor<f32>) dimensions = [0, 1]
      (%a: f32, %acc: f32) {
        %q = arith.addf %a, %acc : f32
        linalg.yield %q : f32
      }
    tape.yield %s : tensor<f32>
  } : tensor<f32>
  %d = tape.gradient %t (%l : tensor<f32>) wrt (%h : !tape.resource<tensor<3x2xf32>>)
  tape.return %l, %d : tensor<f32>, tensor<3x2xf32>
}
