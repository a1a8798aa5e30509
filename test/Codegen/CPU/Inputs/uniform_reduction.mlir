// sum_j sin(v) over a filled 2x2 tensor: 2 sin(v) per row, v = -0.6378...
// (2 sin(v) = -1.190883895).
tape.variable @v1 : tensor<f64> = dense<-6.37815634338930182e-01>
tape.step @f() -> tensor<2xf64> {
  %h1 = tape.handle @v1 : !tape.resource<tensor<f64>>
  %r2 = tape.read %h1 : !tape.resource<tensor<f64>>
  %e3 = tensor.empty() : tensor<2x2xf64>
  %s5 = tensor.extract %r2[] : tensor<f64>
  %b4 = linalg.fill ins(%s5 : f64) outs(%e3 : tensor<2x2xf64>) -> tensor<2x2xf64>
  %z9 = arith.constant 0.0 : f64
  %e6 = tensor.empty() : tensor<2xf64>
  %x7 = linalg.fill ins(%z9 : f64) outs(%e6 : tensor<2xf64>) -> tensor<2xf64>
  %x8 = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>], iterator_types = ["parallel", "reduction"]} ins(%b4 : tensor<2x2xf64>) outs(%x7 : tensor<2xf64>) {
  ^bb0(%a10: f64, %o11: f64):
    %s12 = math.sin %a10 : f64
    %s13 = arith.addf %o11, %s12 : f64
    linalg.yield %s13 : f64
  } -> tensor<2xf64>
  tape.return %x8 : tensor<2xf64>
}
