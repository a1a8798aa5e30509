// Loss sum(log(w - x)): log of a negative number is NaN.
module {
  tape.variable @w : tensor<4xf32> = dense<[1.0, 2.0, 3.0, 4.0]>
  tape.step @train_step(%x: tensor<4xf32>) -> tensor<f32> {
    %h = tape.handle @w : !tape.resource<tensor<4xf32>>
    %tape, %loss = tape.record {
      %w = tape.read %h : !tape.resource<tensor<4xf32>>
      %d = arith.subf %w, %x : tensor<4xf32>
      %l = math.log %d : tensor<4xf32>
      %e = tensor.empty() : tensor<f32>
      %zero = arith.constant 0.0 : f32
      %z = linalg.fill ins(%zero : f32) outs(%e : tensor<f32>) -> tensor<f32>
      %s = linalg.reduce ins(%l : tensor<4xf32>) outs(%z : tensor<f32>) dimensions = [0]
        (%in: f32, %acc: f32) {
          %a = arith.addf %in, %acc : f32
          linalg.yield %a : f32
        }
      tape.yield %s : tensor<f32>
    } : tensor<f32>
    %g = tape.gradient %tape (%loss : tensor<f32>) wrt (%h : !tape.resource<tensor<4xf32>>)
    tape.apply_gradients #tape.sgd<learning_rate = 0.1> (%g : tensor<4xf32>) to (%h : !tape.resource<tensor<4xf32>>)
    tape.return %loss : tensor<f32>
  }
}
