// The seed's third program: the step only computes the loss and gradients,
// and the host loop applies the update with assign_sub outside the step.
//
//   @tf.function
//   def train_step(model, x, y_true):
//       with tf.GradientTape() as tape:
//           loss = tf.square(model(x) - y_true)
//       return loss, tape.gradient(loss, model.trainable_variables)
//
//   for i in range(3):
//       loss, gradients = train_step(model, x, y_true)
//       model.w.assign_sub(learning_rate * gradients[0])   # host code
//       model.b.assign_sub(learning_rate * gradients[1])   # host code
//
// The seed claims the loss stays flat. It does not: the step reads the
// variables through their handles at every call, so it sees the host's
// updates and prints the same values as the first program. What this costs
// is a round trip and an update that is not compiled with the step, which
// tape-verify-assignments reports as a host-side update.

module {
  tape.variable @weight : tensor<f32> = dense<1.0>
  tape.variable @bias : tensor<f32> = dense<0.0>

  tape.step @train_step(%x: tensor<f32>, %y_true: tensor<f32>)
      -> (tensor<f32>, tensor<f32>, tensor<f32>) {
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
    tape.return %loss, %g#0, %g#1 : tensor<f32>, tensor<f32>, tensor<f32>
  }

  // One iteration of the Python loop, including the host-side update.
  func.func @host_iteration() -> tensor<f32> {
    %x = arith.constant dense<2.0> : tensor<f32>
    %y_true = arith.constant dense<3.0> : tensor<f32>
    %lr = arith.constant dense<0.01> : tensor<f32>
    %loss, %gw, %gb = tape.call @train_step(%x, %y_true)
        : (tensor<f32>, tensor<f32>) -> (tensor<f32>, tensor<f32>, tensor<f32>)
    %w = tape.handle @weight : !tape.resource<tensor<f32>>
    %b = tape.handle @bias : !tape.resource<tensor<f32>>
    %dw = arith.mulf %lr, %gw : tensor<f32>
    tape.assign_sub %w, %dw : !tape.resource<tensor<f32>>
    %db = arith.mulf %lr, %gb : tensor<f32>
    tape.assign_sub %b, %db : !tape.resource<tensor<f32>>
    return %loss : tensor<f32>
  }
}
