// The MNIST network of PyTorch's examples (pytorch/examples, mnist/main.py)
// as one compiled train step, in PyTorch's layouts (NCHW activations,
// OIHW filters, Linear weights as [out, in]) so a state_dict loads with
// --init as it is:
//
//   class Net(nn.Module):
//       def forward(self, x):                          # x: [64, 1, 28, 28]
//           x = F.relu(self.conv1(x))                  # conv 1->32 3x3
//           x = F.relu(self.conv2(x))                  # conv 32->64 3x3
//           x = F.max_pool2d(x, 2)
//           x = self.dropout1(x)                       # p = 0.25
//           x = torch.flatten(x, 1)                    # [64, 9216]
//           x = F.relu(self.fc1(x))                    # 9216 -> 128
//           x = self.dropout2(x)                       # p = 0.5
//           return F.log_softmax(self.fc2(x), dim=1)   # 128 -> 10
//
//   loss = F.nll_loss(model(x), labels)                # labels: int64 [64]
//   loss.backward(); optimizer.step()                  # Adam, lr 1e-3
//
// Dropout draws from tape.random_uniform: Philox keyed by the op's seed
// and the step count, so masks differ per step and are reproducible.

module {
  tape.variable @conv1.weight : tensor<32x1x3x3xf32> = #tape.random_normal<stddev = 0.33, seed = 1>
  tape.variable @conv1.bias : tensor<32xf32> = #tape.zeros
  tape.variable @conv2.weight : tensor<64x32x3x3xf32> = #tape.random_normal<stddev = 0.059, seed = 2>
  tape.variable @conv2.bias : tensor<64xf32> = #tape.zeros
  tape.variable @fc1.weight : tensor<128x9216xf32> = #tape.random_normal<stddev = 0.0104, seed = 3>
  tape.variable @fc1.bias : tensor<128xf32> = #tape.zeros
  tape.variable @fc2.weight : tensor<10x128xf32> = #tape.random_normal<stddev = 0.088, seed = 4>
  tape.variable @fc2.bias : tensor<10xf32> = #tape.zeros

  tape.step @train_step(%x: tensor<64x1x28x28xf32>, %labels: tensor<64xi64>) -> tensor<f32> {
    %hc1w = tape.handle @conv1.weight : !tape.resource<tensor<32x1x3x3xf32>>
    %hc1b = tape.handle @conv1.bias : !tape.resource<tensor<32xf32>>
    %hc2w = tape.handle @conv2.weight : !tape.resource<tensor<64x32x3x3xf32>>
    %hc2b = tape.handle @conv2.bias : !tape.resource<tensor<64xf32>>
    %hf1w = tape.handle @fc1.weight : !tape.resource<tensor<128x9216xf32>>
    %hf1b = tape.handle @fc1.bias : !tape.resource<tensor<128xf32>>
    %hf2w = tape.handle @fc2.weight : !tape.resource<tensor<10x128xf32>>
    %hf2b = tape.handle @fc2.bias : !tape.resource<tensor<10xf32>>
    %zero = arith.constant 0.0 : f32

    %tape, %loss = tape.record {
      // conv1 + bias, ReLU: [64, 32, 26, 26].
      %c1w = tape.read %hc1w : !tape.resource<tensor<32x1x3x3xf32>>
      %c1b = tape.read %hc1b : !tape.resource<tensor<32xf32>>
      %e1 = tensor.empty() : tensor<64x32x26x26xf32>
      %b1 = linalg.broadcast ins(%c1b : tensor<32xf32>) outs(%e1 : tensor<64x32x26x26xf32>) dimensions = [0, 2, 3]
      %conv1 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
          ins(%x, %c1w : tensor<64x1x28x28xf32>, tensor<32x1x3x3xf32>) outs(%b1 : tensor<64x32x26x26xf32>) -> tensor<64x32x26x26xf32>
      %zeros1 = arith.constant dense<0.0> : tensor<64x32x26x26xf32>
      %h1 = arith.maximumf %conv1, %zeros1 : tensor<64x32x26x26xf32>

      // conv2 + bias, ReLU: [64, 64, 24, 24].
      %c2w = tape.read %hc2w : !tape.resource<tensor<64x32x3x3xf32>>
      %c2b = tape.read %hc2b : !tape.resource<tensor<64xf32>>
      %e2 = tensor.empty() : tensor<64x64x24x24xf32>
      %b2 = linalg.broadcast ins(%c2b : tensor<64xf32>) outs(%e2 : tensor<64x64x24x24xf32>) dimensions = [0, 2, 3]
      %conv2 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
          ins(%h1, %c2w : tensor<64x32x26x26xf32>, tensor<64x32x3x3xf32>) outs(%b2 : tensor<64x64x24x24xf32>) -> tensor<64x64x24x24xf32>
      %zeros2 = arith.constant dense<0.0> : tensor<64x64x24x24xf32>
      %h2 = arith.maximumf %conv2, %zeros2 : tensor<64x64x24x24xf32>

      // 2x2 max-pool, stride 2: [64, 64, 12, 12].
      %ninf = arith.constant 0xFF800000 : f32
      %ep = tensor.empty() : tensor<64x64x12x12xf32>
      %pinit = linalg.fill ins(%ninf : f32) outs(%ep : tensor<64x64x12x12xf32>) -> tensor<64x64x12x12xf32>
      %window = tensor.empty() : tensor<2x2xf32>
      %pooled = linalg.pooling_nchw_max {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
          ins(%h2, %window : tensor<64x64x24x24xf32>, tensor<2x2xf32>) outs(%pinit : tensor<64x64x12x12xf32>) -> tensor<64x64x12x12xf32>

      // Dropout, p = 0.25: keep where u >= p, scale kept values by 1/(1-p).
      %u1 = tape.random_uniform {seed = 1 : i64} : tensor<64x64x12x12xf32>
      %p1 = arith.constant dense<0.25> : tensor<64x64x12x12xf32>
      %keep1 = arith.cmpf oge, %u1, %p1 : tensor<64x64x12x12xf32>
      %s1 = arith.constant dense<1.33333337> : tensor<64x64x12x12xf32>
      %scaled1 = arith.mulf %pooled, %s1 : tensor<64x64x12x12xf32>
      %zp = arith.constant dense<0.0> : tensor<64x64x12x12xf32>
      %d1 = arith.select %keep1, %scaled1, %zp : tensor<64x64x12x12xi1>, tensor<64x64x12x12xf32>

      // flatten, fc1 + bias, ReLU: [64, 128].
      %flat = tensor.collapse_shape %d1 [[0], [1, 2, 3]] : tensor<64x64x12x12xf32> into tensor<64x9216xf32>
      %f1w = tape.read %hf1w : !tape.resource<tensor<128x9216xf32>>
      %f1b = tape.read %hf1b : !tape.resource<tensor<128xf32>>
      %e3 = tensor.empty() : tensor<64x128xf32>
      %bb3 = linalg.broadcast ins(%f1b : tensor<128xf32>) outs(%e3 : tensor<64x128xf32>) dimensions = [0]
      %fc1 = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
          ins(%flat, %f1w : tensor<64x9216xf32>, tensor<128x9216xf32>) outs(%bb3 : tensor<64x128xf32>) -> tensor<64x128xf32>
      %zeros3 = arith.constant dense<0.0> : tensor<64x128xf32>
      %h3 = arith.maximumf %fc1, %zeros3 : tensor<64x128xf32>

      // Dropout, p = 0.5.
      %u2 = tape.random_uniform {seed = 2 : i64} : tensor<64x128xf32>
      %p2 = arith.constant dense<0.5> : tensor<64x128xf32>
      %keep2 = arith.cmpf oge, %u2, %p2 : tensor<64x128xf32>
      %s2 = arith.constant dense<2.0> : tensor<64x128xf32>
      %scaled2 = arith.mulf %h3, %s2 : tensor<64x128xf32>
      %d2 = arith.select %keep2, %scaled2, %zeros3 : tensor<64x128xi1>, tensor<64x128xf32>

      // fc2 + bias: logits [64, 10].
      %f2w = tape.read %hf2w : !tape.resource<tensor<10x128xf32>>
      %f2b = tape.read %hf2b : !tape.resource<tensor<10xf32>>
      %e4 = tensor.empty() : tensor<64x10xf32>
      %bb4 = linalg.broadcast ins(%f2b : tensor<10xf32>) outs(%e4 : tensor<64x10xf32>) dimensions = [0]
      %logits = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
          ins(%d2, %f2w : tensor<64x128xf32>, tensor<10x128xf32>) outs(%bb4 : tensor<64x10xf32>) -> tensor<64x10xf32>

      // log_softmax over classes: shifted - log(sum(exp(shifted))).
      %er = tensor.empty() : tensor<64xf32>
      %minit = linalg.fill ins(%ninf : f32) outs(%er : tensor<64xf32>) -> tensor<64xf32>
      %rowmax = linalg.reduce ins(%logits : tensor<64x10xf32>) outs(%minit : tensor<64xf32>) dimensions = [1]
        (%in: f32, %acc: f32) {
          %m = arith.maximumf %in, %acc : f32
          linalg.yield %m : f32
        }
      %maxb = linalg.broadcast ins(%rowmax : tensor<64xf32>) outs(%e4 : tensor<64x10xf32>) dimensions = [1]
      %shifted = arith.subf %logits, %maxb : tensor<64x10xf32>
      %exps = math.exp %shifted : tensor<64x10xf32>
      %sinit = linalg.fill ins(%zero : f32) outs(%er : tensor<64xf32>) -> tensor<64xf32>
      %sums = linalg.reduce ins(%exps : tensor<64x10xf32>) outs(%sinit : tensor<64xf32>) dimensions = [1]
        (%in: f32, %acc: f32) {
          %s = arith.addf %in, %acc : f32
          linalg.yield %s : f32
        }
      %lse = math.log %sums : tensor<64xf32>
      %lseb = linalg.broadcast ins(%lse : tensor<64xf32>) outs(%e4 : tensor<64x10xf32>) dimensions = [1]
      %logp = arith.subf %shifted, %lseb : tensor<64x10xf32>

      // nll_loss: -mean over the batch of logp[i, labels[i]], picked by
      // comparing the class index with the label.
      %picked = linalg.generic {
          indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>, affine_map<(i, j) -> (i, j)>],
          iterator_types = ["parallel", "parallel"]}
          ins(%logp, %labels : tensor<64x10xf32>, tensor<64xi64>) outs(%e4 : tensor<64x10xf32>) {
        ^bb0(%lp: f32, %label: i64, %out: f32):
          %j = linalg.index 1 : index
          %ji = arith.index_cast %j : index to i64
          %hit = arith.cmpi eq, %ji, %label : i64
          %v = arith.select %hit, %lp, %zero : f32
          linalg.yield %v : f32
      } -> tensor<64x10xf32>
      %e0 = tensor.empty() : tensor<f32>
      %tinit = linalg.fill ins(%zero : f32) outs(%e0 : tensor<f32>) -> tensor<f32>
      %total = linalg.reduce ins(%picked : tensor<64x10xf32>) outs(%tinit : tensor<f32>) dimensions = [0, 1]
        (%in: f32, %acc: f32) {
          %s = arith.addf %in, %acc : f32
          linalg.yield %s : f32
        }
      %neg_inv_batch = arith.constant dense<-0.015625> : tensor<f32>
      %mean = arith.mulf %total, %neg_inv_batch : tensor<f32>
      tape.yield %mean : tensor<f32>
    } : tensor<f32>

    %g:8 = tape.gradient %tape (%loss : tensor<f32>)
        wrt (%hc1w, %hc1b, %hc2w, %hc2b, %hf1w, %hf1b, %hf2w, %hf2b
             : !tape.resource<tensor<32x1x3x3xf32>>, !tape.resource<tensor<32xf32>>,
               !tape.resource<tensor<64x32x3x3xf32>>, !tape.resource<tensor<64xf32>>,
               !tape.resource<tensor<128x9216xf32>>, !tape.resource<tensor<128xf32>>,
               !tape.resource<tensor<10x128xf32>>, !tape.resource<tensor<10xf32>>)
    tape.apply_gradients #tape.adamw<learning_rate = 0.001, weight_decay = 0.0>
        (%g#0, %g#1, %g#2, %g#3, %g#4, %g#5, %g#6, %g#7
         : tensor<32x1x3x3xf32>, tensor<32xf32>, tensor<64x32x3x3xf32>, tensor<64xf32>,
           tensor<128x9216xf32>, tensor<128xf32>, tensor<10x128xf32>, tensor<10xf32>)
        to (%hc1w, %hc1b, %hc2w, %hc2b, %hf1w, %hf1b, %hf2w, %hf2b
            : !tape.resource<tensor<32x1x3x3xf32>>, !tape.resource<tensor<32xf32>>,
              !tape.resource<tensor<64x32x3x3xf32>>, !tape.resource<tensor<64xf32>>,
              !tape.resource<tensor<128x9216xf32>>, !tape.resource<tensor<128xf32>>,
              !tape.resource<tensor<10x128xf32>>, !tape.resource<tensor<10xf32>>)
    tape.return %loss : tensor<f32>
  }
}
