// Model D of the benchmarks: logistic regression, 1000 features, batch
// 1024, SGD 0.1, mean binary cross-entropy in its stable form
// max(z, 0) - y*z + log1p(exp(-|z|)).
module {
  tape.variable @w : tensor<1000x1xf32> = #tape.random_normal<stddev = 0.01, seed = 3>
  tape.variable @b : tensor<1xf32> = #tape.zeros

  tape.step @train_step(%x: tensor<1024x1000xf32>, %y: tensor<1024x1xf32>) -> tensor<f32> {
    %hw = tape.handle @w : !tape.resource<tensor<1000x1xf32>>
    %hb = tape.handle @b : !tape.resource<tensor<1xf32>>
    %zero = arith.constant 0.0 : f32
    %t, %loss = tape.record {
      %w = tape.read %hw : !tape.resource<tensor<1000x1xf32>>
      %b = tape.read %hb : !tape.resource<tensor<1xf32>>
      %e = tensor.empty() : tensor<1024x1xf32>
      %z0 = linalg.fill ins(%zero : f32) outs(%e : tensor<1024x1xf32>) -> tensor<1024x1xf32>
      %xw = linalg.matmul ins(%x, %w : tensor<1024x1000xf32>, tensor<1000x1xf32>) outs(%z0 : tensor<1024x1xf32>) -> tensor<1024x1xf32>
      %bb = linalg.broadcast ins(%b : tensor<1xf32>) outs(%e : tensor<1024x1xf32>) dimensions = [0]
      %z = arith.addf %xw, %bb : tensor<1024x1xf32>
      %zeros = arith.constant dense<0.0> : tensor<1024x1xf32>
      %relu = arith.maximumf %z, %zeros : tensor<1024x1xf32>
      %yz = arith.mulf %y, %z : tensor<1024x1xf32>
      %abs = math.absf %z : tensor<1024x1xf32>
      %nabs = arith.negf %abs : tensor<1024x1xf32>
      %ex = math.exp %nabs : tensor<1024x1xf32>
      %sp = math.log1p %ex : tensor<1024x1xf32>
      %a = arith.subf %relu, %yz : tensor<1024x1xf32>
      %l = arith.addf %a, %sp : tensor<1024x1xf32>
      %e0 = tensor.empty() : tensor<f32>
      %i0 = linalg.fill ins(%zero : f32) outs(%e0 : tensor<f32>) -> tensor<f32>
      %s = linalg.reduce ins(%l : tensor<1024x1xf32>) outs(%i0 : tensor<f32>) dimensions = [0, 1]
        (%in: f32, %acc: f32) {
          %r = arith.addf %in, %acc : f32
          linalg.yield %r : f32
        }
      %inv = arith.constant dense<0.0009765625> : tensor<f32>
      %mean = arith.mulf %s, %inv : tensor<f32>
      tape.yield %mean : tensor<f32>
    } : tensor<f32>
    %g:2 = tape.gradient %t (%loss : tensor<f32>) wrt (%hw, %hb : !tape.resource<tensor<1000x1xf32>>, !tape.resource<tensor<1xf32>>)
    tape.apply_gradients #tape.sgd<learning_rate = 0.1> (%g#0, %g#1 : tensor<1000x1xf32>, tensor<1xf32>)
        to (%hw, %hb : !tape.resource<tensor<1000x1xf32>>, !tape.resource<tensor<1xf32>>)
    tape.return %loss : tensor<f32>
  }
}
