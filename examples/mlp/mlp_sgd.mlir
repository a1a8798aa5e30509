// An MLP train step: 784-256-10, ReLU, softmax cross-entropy (mean over a
// batch of 64, numerically stable through log-sum-exp), plain SGD with
// learning rate 0.1.
//
//   @tf.function
//   def train_step(x, labels):                 # x: [64, 784], labels one-hot [64, 10]
//       with tf.GradientTape() as tape:
//           h = tf.nn.relu(x @ w1 + b1)
//           logits = h @ w2 + b2
//           loss = tf.reduce_mean(
//               tf.nn.softmax_cross_entropy_with_logits(labels, logits))
//       grads = tape.gradient(loss, [w1, b1, w2, b2])
//       opt.apply_gradients(zip(grads, [w1, b1, w2, b2]))
//       return loss
//
//   def evaluate(x, labels):                   # forward only
//       logits = model(x)
//       return loss_fn(labels, logits), logits
//
// The forward pass and the loss are private functions that both the step
// (inside its recording, where calls are inlined) and @evaluate call;
// `tape-run --eval evaluate` prints the mean loss and the accuracy over a
// dataset without changing the variables.

module {
  tape.variable @w1 : tensor<784x256xf32> = #tape.random_normal<stddev = 0.05, seed = 1>
  tape.variable @b1 : tensor<256xf32> = #tape.zeros
  tape.variable @w2 : tensor<256x10xf32> = #tape.random_normal<stddev = 0.05, seed = 2>
  tape.variable @b2 : tensor<10xf32> = #tape.zeros

  // The forward pass: logits = relu(x @ w1 + b1) @ w2 + b2.
  func.func private @logits(%x: tensor<64x784xf32>) -> tensor<64x10xf32> {
    %w1 = tape.handle @w1 : !tape.resource<tensor<784x256xf32>>
    %b1 = tape.handle @b1 : !tape.resource<tensor<256xf32>>
    %w2 = tape.handle @w2 : !tape.resource<tensor<256x10xf32>>
    %b2 = tape.handle @b2 : !tape.resource<tensor<10xf32>>
    %zero = arith.constant 0.0 : f32
    // Hidden layer: relu(x @ w1 + b1).
    %w1v = tape.read %w1 : !tape.resource<tensor<784x256xf32>>
    %b1v = tape.read %b1 : !tape.resource<tensor<256xf32>>
    %e1 = tensor.empty() : tensor<64x256xf32>
    %z1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<64x256xf32>) -> tensor<64x256xf32>
    %xw1 = linalg.matmul ins(%x, %w1v : tensor<64x784xf32>, tensor<784x256xf32>)
                         outs(%z1 : tensor<64x256xf32>) -> tensor<64x256xf32>
    %b1b = linalg.broadcast ins(%b1v : tensor<256xf32>) outs(%e1 : tensor<64x256xf32>) dimensions = [0]
    %pre1 = arith.addf %xw1, %b1b : tensor<64x256xf32>
    %zeros1 = arith.constant dense<0.0> : tensor<64x256xf32>
    %h = arith.maximumf %pre1, %zeros1 : tensor<64x256xf32>

    // Output layer: logits = h @ w2 + b2.
    %w2v = tape.read %w2 : !tape.resource<tensor<256x10xf32>>
    %b2v = tape.read %b2 : !tape.resource<tensor<10xf32>>
    %e2 = tensor.empty() : tensor<64x10xf32>
    %z2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<64x10xf32>) -> tensor<64x10xf32>
    %hw2 = linalg.matmul ins(%h, %w2v : tensor<64x256xf32>, tensor<256x10xf32>)
                         outs(%z2 : tensor<64x10xf32>) -> tensor<64x10xf32>
    %b2b = linalg.broadcast ins(%b2v : tensor<10xf32>) outs(%e2 : tensor<64x10xf32>) dimensions = [0]
    %logits = arith.addf %hw2, %b2b : tensor<64x10xf32>
    return %logits : tensor<64x10xf32>
  }

  // Mean softmax cross-entropy of one-hot labels, through
  // log_softmax(logits) = shifted - log(sum(exp(shifted))), where
  // shifted = logits - max(logits) per row.
  func.func private @cross_entropy(%logits: tensor<64x10xf32>, %labels: tensor<64x10xf32>) -> tensor<f32> {
    %zero = arith.constant 0.0 : f32
    %e2 = tensor.empty() : tensor<64x10xf32>
    %neg_inf = arith.constant 0xFF800000 : f32
    %er = tensor.empty() : tensor<64xf32>
    %minit = linalg.fill ins(%neg_inf : f32) outs(%er : tensor<64xf32>) -> tensor<64xf32>
    %rowmax = linalg.reduce ins(%logits : tensor<64x10xf32>) outs(%minit : tensor<64xf32>) dimensions = [1]
      (%in: f32, %acc: f32) {
        %m = arith.maximumf %in, %acc : f32
        linalg.yield %m : f32
      }
    %maxb = linalg.broadcast ins(%rowmax : tensor<64xf32>) outs(%e2 : tensor<64x10xf32>) dimensions = [1]
    %shifted = arith.subf %logits, %maxb : tensor<64x10xf32>
    %exps = math.exp %shifted : tensor<64x10xf32>
    %sinit = linalg.fill ins(%zero : f32) outs(%er : tensor<64xf32>) -> tensor<64xf32>
    %sums = linalg.reduce ins(%exps : tensor<64x10xf32>) outs(%sinit : tensor<64xf32>) dimensions = [1]
      (%in: f32, %acc: f32) {
        %s = arith.addf %in, %acc : f32
        linalg.yield %s : f32
      }
    %lse = math.log %sums : tensor<64xf32>
    %lseb = linalg.broadcast ins(%lse : tensor<64xf32>) outs(%e2 : tensor<64x10xf32>) dimensions = [1]
    %logp = arith.subf %shifted, %lseb : tensor<64x10xf32>

    // loss = -mean_over_batch(sum_over_classes(labels * logp)).
    %picked = arith.mulf %labels, %logp : tensor<64x10xf32>
    %e0 = tensor.empty() : tensor<f32>
    %tinit = linalg.fill ins(%zero : f32) outs(%e0 : tensor<f32>) -> tensor<f32>
    %total = linalg.reduce ins(%picked : tensor<64x10xf32>) outs(%tinit : tensor<f32>) dimensions = [0, 1]
      (%in: f32, %acc: f32) {
        %s = arith.addf %in, %acc : f32
        linalg.yield %s : f32
      }
    %neg_inv_batch = arith.constant dense<-0.015625> : tensor<f32>
    %mean = arith.mulf %total, %neg_inv_batch : tensor<f32>
    return %mean : tensor<f32>
  }

  tape.step @train_step(%x: tensor<64x784xf32>, %labels: tensor<64x10xf32>) -> tensor<f32> {
    %w1 = tape.handle @w1 : !tape.resource<tensor<784x256xf32>>
    %b1 = tape.handle @b1 : !tape.resource<tensor<256xf32>>
    %w2 = tape.handle @w2 : !tape.resource<tensor<256x10xf32>>
    %b2 = tape.handle @b2 : !tape.resource<tensor<10xf32>>
    %tape, %loss = tape.record {
      %logits = func.call @logits(%x) : (tensor<64x784xf32>) -> tensor<64x10xf32>
      %mean = func.call @cross_entropy(%logits, %labels) : (tensor<64x10xf32>, tensor<64x10xf32>) -> tensor<f32>
      tape.yield %mean : tensor<f32>
    } : tensor<f32>

    %g:4 = tape.gradient %tape (%loss : tensor<f32>)
        wrt (%w1, %b1, %w2, %b2 : !tape.resource<tensor<784x256xf32>>, !tape.resource<tensor<256xf32>>,
                                  !tape.resource<tensor<256x10xf32>>, !tape.resource<tensor<10xf32>>)
    tape.apply_gradients #tape.sgd<learning_rate = 0.1>
        (%g#0, %g#1, %g#2, %g#3 : tensor<784x256xf32>, tensor<256xf32>, tensor<256x10xf32>, tensor<10xf32>)
        to (%w1, %b1, %w2, %b2 : !tape.resource<tensor<784x256xf32>>, !tape.resource<tensor<256xf32>>,
                                 !tape.resource<tensor<256x10xf32>>, !tape.resource<tensor<10xf32>>)
    tape.return %loss : tensor<f32>
  }

  // Evaluation: the mean loss and the logits of a batch, reading the
  // variables only (not a training function: the step count stays).
  func.func @evaluate(%x: tensor<64x784xf32>, %labels: tensor<64x10xf32>) -> (tensor<f32>, tensor<64x10xf32>) {
    %logits = func.call @logits(%x) : (tensor<64x784xf32>) -> tensor<64x10xf32>
    %loss = func.call @cross_entropy(%logits, %labels) : (tensor<64x10xf32>, tensor<64x10xf32>) -> tensor<f32>
    return %loss, %logits : tensor<f32>, tensor<64x10xf32>
  }
}
