// Model C of the benchmarks: an MLP 784-1024-1024-10 with two hidden ReLU
// layers, softmax cross-entropy (mean over a batch of 256, numerically
// stable through log-sum-exp), Adam with learning rate 1e-3 and Keras'
// defaults (beta1 0.9, beta2 0.999, epsilon 1e-7; see #tape.adam in
// docs/Dialect.md for the formula).
//
//   @tf.function
//   def train_step(x, labels):                 # x: [256, 784], labels one-hot [256, 10]
//       with tf.GradientTape() as tape:
//           h1 = tf.nn.relu(x @ w1 + b1)
//           h2 = tf.nn.relu(h1 @ w2 + b2)
//           logits = h2 @ w3 + b3
//           loss = tf.reduce_mean(
//               tf.nn.softmax_cross_entropy_with_logits(labels, logits))
//       grads = tape.gradient(loss, [w1, b1, w2, b2, w3, b3])
//       opt.apply_gradients(zip(grads, [w1, b1, w2, b2, w3, b3]))
//       return loss

module {
  tape.variable @w1 : tensor<784x1024xf32> = #tape.random_normal<stddev = 0.05, seed = 1>
  tape.variable @b1 : tensor<1024xf32> = #tape.zeros
  tape.variable @w2 : tensor<1024x1024xf32> = #tape.random_normal<stddev = 0.03, seed = 2>
  tape.variable @b2 : tensor<1024xf32> = #tape.zeros
  tape.variable @w3 : tensor<1024x10xf32> = #tape.random_normal<stddev = 0.03, seed = 3>
  tape.variable @b3 : tensor<10xf32> = #tape.zeros

  tape.step @train_step(%x: tensor<256x784xf32>, %labels: tensor<256x10xf32>) -> tensor<f32> {
    %w1 = tape.handle @w1 : !tape.resource<tensor<784x1024xf32>>
    %b1 = tape.handle @b1 : !tape.resource<tensor<1024xf32>>
    %w2 = tape.handle @w2 : !tape.resource<tensor<1024x1024xf32>>
    %b2 = tape.handle @b2 : !tape.resource<tensor<1024xf32>>
    %w3 = tape.handle @w3 : !tape.resource<tensor<1024x10xf32>>
    %b3 = tape.handle @b3 : !tape.resource<tensor<10xf32>>
    %zero = arith.constant 0.0 : f32

    %tape, %loss = tape.record {
      %eh = tensor.empty() : tensor<256x1024xf32>
      %zh = linalg.fill ins(%zero : f32) outs(%eh : tensor<256x1024xf32>) -> tensor<256x1024xf32>
      %zeros_h = arith.constant dense<0.0> : tensor<256x1024xf32>

      // First hidden layer: relu(x @ w1 + b1).
      %w1v = tape.read %w1 : !tape.resource<tensor<784x1024xf32>>
      %b1v = tape.read %b1 : !tape.resource<tensor<1024xf32>>
      %xw1 = linalg.matmul ins(%x, %w1v : tensor<256x784xf32>, tensor<784x1024xf32>)
                           outs(%zh : tensor<256x1024xf32>) -> tensor<256x1024xf32>
      %b1b = linalg.broadcast ins(%b1v : tensor<1024xf32>) outs(%eh : tensor<256x1024xf32>) dimensions = [0]
      %pre1 = arith.addf %xw1, %b1b : tensor<256x1024xf32>
      %h1 = arith.maximumf %pre1, %zeros_h : tensor<256x1024xf32>

      // Second hidden layer: relu(h1 @ w2 + b2).
      %w2v = tape.read %w2 : !tape.resource<tensor<1024x1024xf32>>
      %b2v = tape.read %b2 : !tape.resource<tensor<1024xf32>>
      %h1w2 = linalg.matmul ins(%h1, %w2v : tensor<256x1024xf32>, tensor<1024x1024xf32>)
                            outs(%zh : tensor<256x1024xf32>) -> tensor<256x1024xf32>
      %b2b = linalg.broadcast ins(%b2v : tensor<1024xf32>) outs(%eh : tensor<256x1024xf32>) dimensions = [0]
      %pre2 = arith.addf %h1w2, %b2b : tensor<256x1024xf32>
      %h2 = arith.maximumf %pre2, %zeros_h : tensor<256x1024xf32>

      // Output layer: logits = h2 @ w3 + b3.
      %w3v = tape.read %w3 : !tape.resource<tensor<1024x10xf32>>
      %b3v = tape.read %b3 : !tape.resource<tensor<10xf32>>
      %eo = tensor.empty() : tensor<256x10xf32>
      %zo = linalg.fill ins(%zero : f32) outs(%eo : tensor<256x10xf32>) -> tensor<256x10xf32>
      %h2w3 = linalg.matmul ins(%h2, %w3v : tensor<256x1024xf32>, tensor<1024x10xf32>)
                            outs(%zo : tensor<256x10xf32>) -> tensor<256x10xf32>
      %b3b = linalg.broadcast ins(%b3v : tensor<10xf32>) outs(%eo : tensor<256x10xf32>) dimensions = [0]
      %logits = arith.addf %h2w3, %b3b : tensor<256x10xf32>

      // log_softmax(logits) = shifted - log(sum(exp(shifted))), where
      // shifted = logits - max(logits) per row.
      %neg_inf = arith.constant 0xFF800000 : f32
      %er = tensor.empty() : tensor<256xf32>
      %minit = linalg.fill ins(%neg_inf : f32) outs(%er : tensor<256xf32>) -> tensor<256xf32>
      %rowmax = linalg.reduce ins(%logits : tensor<256x10xf32>) outs(%minit : tensor<256xf32>) dimensions = [1]
        (%in: f32, %acc: f32) {
          %m = arith.maximumf %in, %acc : f32
          linalg.yield %m : f32
        }
      %maxb = linalg.broadcast ins(%rowmax : tensor<256xf32>) outs(%eo : tensor<256x10xf32>) dimensions = [1]
      %shifted = arith.subf %logits, %maxb : tensor<256x10xf32>
      %exps = math.exp %shifted : tensor<256x10xf32>
      %sinit = linalg.fill ins(%zero : f32) outs(%er : tensor<256xf32>) -> tensor<256xf32>
      %sums = linalg.reduce ins(%exps : tensor<256x10xf32>) outs(%sinit : tensor<256xf32>) dimensions = [1]
        (%in: f32, %acc: f32) {
          %s = arith.addf %in, %acc : f32
          linalg.yield %s : f32
        }
      %lse = math.log %sums : tensor<256xf32>
      %lseb = linalg.broadcast ins(%lse : tensor<256xf32>) outs(%eo : tensor<256x10xf32>) dimensions = [1]
      %logp = arith.subf %shifted, %lseb : tensor<256x10xf32>

      // loss = -mean_over_batch(sum_over_classes(labels * logp)).
      %picked = arith.mulf %labels, %logp : tensor<256x10xf32>
      %e0 = tensor.empty() : tensor<f32>
      %tinit = linalg.fill ins(%zero : f32) outs(%e0 : tensor<f32>) -> tensor<f32>
      %total = linalg.reduce ins(%picked : tensor<256x10xf32>) outs(%tinit : tensor<f32>) dimensions = [0, 1]
        (%in: f32, %acc: f32) {
          %s = arith.addf %in, %acc : f32
          linalg.yield %s : f32
        }
      %neg_inv_batch = arith.constant dense<-0.00390625> : tensor<f32>
      %mean = arith.mulf %total, %neg_inv_batch : tensor<f32>
      tape.yield %mean : tensor<f32>
    } : tensor<f32>

    %g:6 = tape.gradient %tape (%loss : tensor<f32>)
        wrt (%w1, %b1, %w2, %b2, %w3, %b3
             : !tape.resource<tensor<784x1024xf32>>, !tape.resource<tensor<1024xf32>>,
               !tape.resource<tensor<1024x1024xf32>>, !tape.resource<tensor<1024xf32>>,
               !tape.resource<tensor<1024x10xf32>>, !tape.resource<tensor<10xf32>>)
    tape.apply_gradients #tape.adam<learning_rate = 0.001, beta1 = 0.9, beta2 = 0.999, epsilon = 1.0e-07>
        (%g#0, %g#1, %g#2, %g#3, %g#4, %g#5
         : tensor<784x1024xf32>, tensor<1024xf32>, tensor<1024x1024xf32>, tensor<1024xf32>,
           tensor<1024x10xf32>, tensor<10xf32>)
        to (%w1, %b1, %w2, %b2, %w3, %b3
            : !tape.resource<tensor<784x1024xf32>>, !tape.resource<tensor<1024xf32>>,
              !tape.resource<tensor<1024x1024xf32>>, !tape.resource<tensor<1024xf32>>,
              !tape.resource<tensor<1024x10xf32>>, !tape.resource<tensor<10xf32>>)
    tape.return %loss : tensor<f32>
  }
}
