// The seed's second program: a Keras-style model whose step updates its
// variables in-graph through optimizer.apply_gradients (SGD, lr = 0.01).
//
//   @tf.function
//   def train_step(model, x, y_true):
//       with tf.GradientTape() as tape:
//           loss = tf.square(model(x) - y_true)
//       gradients = tape.gradient(loss, model.trainable_variables)
//       model.optimizer.apply_gradients(zip(gradients, model.trainable_variables))
//       return loss
//
// The host loop calls it with x = 2, y_true = 3; three calls print the same
// values as the first program.

module {
  tape.variable @weight : tensor<f32> = dense<1.0>
  tape.variable @bias : tensor<f32> = dense<0.0>

  tape.step @train_step(%x: tensor<f32>, %y_true: tensor<f32>) -> tensor<f32> {
    %w = tape.handle @weight : !tape.resource<tensor<f32>>
    %b = tape.handle @bias : !tape.resource<tensor<f32>>

    %tape, %loss = tape.record {
      %wv = tape.read %w : !tape.resource<tensor<f32>>
      %bv = tape.read %b : !tape.resource<tensor<f32>>
      %xw = arith.mulf %x, %wv : tensor<f32>
      %y_pred = arith.addf %xw, %bv : tensor<f32>
      %err = arith.subf %y_pred, %y_true : tensor<f32>
      %sq = arith.mulf %err, %err : tensor<f32>
      tape.yield %sq : tensor<f32>
    } : tensor<f32>

    %g:2 = tape.gradient %tape (%loss : tensor<f32>)
        wrt (%w, %b : !tape.resource<tensor<f32>>, !tape.resource<tensor<f32>>)
    tape.apply_gradients #tape.sgd<learning_rate = 0.01>
        (%g#0, %g#1 : tensor<f32>, tensor<f32>)
        to (%w, %b : !tape.resource<tensor<f32>>, !tape.resource<tensor<f32>>)
    tape.return %loss : tensor<f32>
  }

  // One iteration of the Python loop: host code calling the compiled step.
  func.func @host_iteration() -> tensor<f32> {
    %x = arith.constant dense<2.0> : tensor<f32>
    %y_true = arith.constant dense<3.0> : tensor<f32>
    %loss = tape.call @train_step(%x, %y_true) : (tensor<f32>, tensor<f32>) -> tensor<f32>
    return %loss : tensor<f32>
  }
}
