// The seed's first program: a single neuron trained by a step that computes
// the loss under a gradient tape and updates both variables in-graph with
// assign_sub.
//
//   @tf.function
//   def train_step():
//       with tf.GradientTape() as tape:
//           loss = tf.square(x * w + b - y_true)
//       gradients = tape.gradient(loss, [w, b])
//       w.assign_sub(learning_rate * gradients[0])
//       b.assign_sub(learning_rate * gradients[1])
//       return loss, w, b
//
// With w = 1, b = 0, x = 2, y = 3, lr = 0.01, three calls print
//   Loss: 1,      Weight: 1.04,   Bias: 0.02
//   Loss: 0.81,   Weight: 1.076,  Bias: 0.038
//   Loss: 0.6561, Weight: 1.1084, Bias: 0.0542

module {
  tape.variable @weight : tensor<f32> = dense<1.0>
  tape.variable @bias : tensor<f32> = dense<0.0>

  tape.step @train_step() -> (tensor<f32>, tensor<f32>, tensor<f32>) {
    // x, y_true and the learning rate are constants captured by the trace.
    %x = arith.constant dense<2.0> : tensor<f32>
    %y_true = arith.constant dense<3.0> : tensor<f32>
    %lr = arith.constant dense<0.01> : tensor<f32>
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
    %dw = arith.mulf %lr, %g#0 : tensor<f32>
    tape.assign_sub %w, %dw : !tape.resource<tensor<f32>>
    %db = arith.mulf %lr, %g#1 : tensor<f32>
    tape.assign_sub %b, %db : !tape.resource<tensor<f32>>

    %w_new = tape.read %w : !tape.resource<tensor<f32>>
    %b_new = tape.read %b : !tape.resource<tensor<f32>>
    tape.return %loss, %w_new, %b_new : tensor<f32>, tensor<f32>, tensor<f32>
  }
}
