// An LSTM train step with the time loop as an scf.for: 8 steps of a batch
// of 16 sequences, 32 inputs, 64 hidden units, a linear read-out of the
// last hidden state to 10 outputs, mean squared error, plain SGD.
//
//   def train_step(x, y):                  # x: [8, 16, 32], y: [16, 10]
//       with tf.GradientTape() as tape:
//           h = c = zeros([16, 64])
//           for t in range(8):
//               z = x[t] @ wx + h @ wh + b  # gates i, f, g, o: [16, 4 * 64]
//               i, f, o = sigmoid(z_i), sigmoid(z_f), sigmoid(z_o)
//               c = f * c + i * tanh(z_g)
//               h = o * tanh(c)
//           loss = mean((h @ wy - y) ** 2)
//       grads = tape.gradient(loss, [wx, wh, b, wy])
//       opt.apply_gradients(zip(grads, [wx, wh, b, wy]))
//       return loss
//
// The reverse sweep stores h and c of every iteration (8 x 2 x 16 x 64
// floats) and walks the loop backwards; the stores come from the step's
// workspace, so a call makes no heap allocation.

#map_b = affine_map<(d0, d1) -> (d1)>
#map_id = affine_map<(d0, d1) -> (d0, d1)>

module {
  tape.variable @wx : tensor<32x256xf32> = #tape.random_normal<stddev = 0.1, seed = 1>
  tape.variable @wh : tensor<64x256xf32> = #tape.random_normal<stddev = 0.1, seed = 2>
  tape.variable @b : tensor<256xf32> = #tape.zeros
  tape.variable @wy : tensor<64x10xf32> = #tape.random_normal<stddev = 0.1, seed = 3>

  tape.step @train_step(%x: tensor<8x16x32xf32>, %y: tensor<16x10xf32>) -> tensor<f32> {
    %hwx = tape.handle @wx : !tape.resource<tensor<32x256xf32>>
    %hwh = tape.handle @wh : !tape.resource<tensor<64x256xf32>>
    %hb = tape.handle @b : !tape.resource<tensor<256xf32>>
    %hwy = tape.handle @wy : !tape.resource<tensor<64x10xf32>>
    %zero = arith.constant 0.0 : f32
    %one = arith.constant 1.0 : f32
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c8 = arith.constant 8 : index

    %tape, %loss = tape.record {
      %wx = tape.read %hwx : !tape.resource<tensor<32x256xf32>>
      %wh = tape.read %hwh : !tape.resource<tensor<64x256xf32>>
      %b = tape.read %hb : !tape.resource<tensor<256xf32>>
      %e64 = tensor.empty() : tensor<16x64xf32>
      %h0 = linalg.fill ins(%zero : f32) outs(%e64 : tensor<16x64xf32>) -> tensor<16x64xf32>
      %e256 = tensor.empty() : tensor<16x256xf32>
      %z256 = linalg.fill ins(%zero : f32) outs(%e256 : tensor<16x256xf32>) -> tensor<16x256xf32>

      %hT, %cT = scf.for %t = %c0 to %c8 step %c1
          iter_args(%h = %h0, %c = %h0) -> (tensor<16x64xf32>, tensor<16x64xf32>) {
        %xt = tensor.extract_slice %x[%t, 0, 0] [1, 16, 32] [1, 1, 1]
            : tensor<8x16x32xf32> to tensor<16x32xf32>
        %xw = linalg.matmul ins(%xt, %wx : tensor<16x32xf32>, tensor<32x256xf32>)
                            outs(%z256 : tensor<16x256xf32>) -> tensor<16x256xf32>
        %hw = linalg.matmul ins(%h, %wh : tensor<16x64xf32>, tensor<64x256xf32>)
                            outs(%xw : tensor<16x256xf32>) -> tensor<16x256xf32>
        // z = xw + hw + b; the gates' nonlinearities in one generic:
        // sigmoid on i, f, o (columns 0-63, 64-127, 192-255), tanh on g.
        %z = linalg.generic {indexing_maps = [#map_id, #map_b, #map_id],
                             iterator_types = ["parallel", "parallel"]}
            ins(%hw, %b : tensor<16x256xf32>, tensor<256xf32>) outs(%e256 : tensor<16x256xf32>) {
        ^bb0(%v: f32, %bias: f32, %out: f32):
          %s = arith.addf %v, %bias : f32
          linalg.yield %s : f32
        } -> tensor<16x256xf32>
        %zi = tensor.extract_slice %z[0, 0] [16, 64] [1, 1] : tensor<16x256xf32> to tensor<16x64xf32>
        %zf = tensor.extract_slice %z[0, 64] [16, 64] [1, 1] : tensor<16x256xf32> to tensor<16x64xf32>
        %zg = tensor.extract_slice %z[0, 128] [16, 64] [1, 1] : tensor<16x256xf32> to tensor<16x64xf32>
        %zo = tensor.extract_slice %z[0, 192] [16, 64] [1, 1] : tensor<16x256xf32> to tensor<16x64xf32>
        %gates:2 = linalg.generic {indexing_maps = [#map_id, #map_id, #map_id, #map_id, #map_id, #map_id, #map_id],
                                 iterator_types = ["parallel", "parallel"]}
            ins(%zi, %zf, %zg, %zo, %c : tensor<16x64xf32>, tensor<16x64xf32>, tensor<16x64xf32>,
                                         tensor<16x64xf32>, tensor<16x64xf32>)
            outs(%e64, %e64 : tensor<16x64xf32>, tensor<16x64xf32>) {
        ^bb0(%ai: f32, %af: f32, %ag: f32, %ao: f32, %cp: f32, %oh: f32, %oc: f32):
          %ni = arith.negf %ai : f32
          %ei = math.exp %ni : f32
          %di = arith.addf %ei, %one : f32
          %si = arith.divf %one, %di : f32
          %nf = arith.negf %af : f32
          %ef = math.exp %nf : f32
          %df = arith.addf %ef, %one : f32
          %sf = arith.divf %one, %df : f32
          %no = arith.negf %ao : f32
          %eo = math.exp %no : f32
          %do = arith.addf %eo, %one : f32
          %so = arith.divf %one, %do : f32
          %tg = math.tanh %ag : f32
          %fc = arith.mulf %sf, %cp : f32
          %ig = arith.mulf %si, %tg : f32
          %cn = arith.addf %fc, %ig : f32
          %tc = math.tanh %cn : f32
          %hn = arith.mulf %so, %tc : f32
          linalg.yield %hn, %cn : f32, f32
        } -> (tensor<16x64xf32>, tensor<16x64xf32>)
        scf.yield %gates#0, %gates#1 : tensor<16x64xf32>, tensor<16x64xf32>
      }

      // loss = mean((hT @ wy - y)^2).
      %wy = tape.read %hwy : !tape.resource<tensor<64x10xf32>>
      %e10 = tensor.empty() : tensor<16x10xf32>
      %z10 = linalg.fill ins(%zero : f32) outs(%e10 : tensor<16x10xf32>) -> tensor<16x10xf32>
      %p = linalg.matmul ins(%hT, %wy : tensor<16x64xf32>, tensor<64x10xf32>)
                         outs(%z10 : tensor<16x10xf32>) -> tensor<16x10xf32>
      %d = arith.subf %p, %y : tensor<16x10xf32>
      %sq = arith.mulf %d, %d : tensor<16x10xf32>
      %e0 = tensor.empty() : tensor<f32>
      %s0 = linalg.fill ins(%zero : f32) outs(%e0 : tensor<f32>) -> tensor<f32>
      %sum = linalg.reduce ins(%sq : tensor<16x10xf32>) outs(%s0 : tensor<f32>) dimensions = [0, 1]
        (%in: f32, %acc: f32) {
          %a = arith.addf %in, %acc : f32
          linalg.yield %a : f32
        }
      %inv = arith.constant dense<0.00625> : tensor<f32>
      %mean = arith.mulf %sum, %inv : tensor<f32>
      tape.yield %mean : tensor<f32>
    } : tensor<f32>

    %g:4 = tape.gradient %tape (%loss : tensor<f32>)
        wrt (%hwx, %hwh, %hb, %hwy : !tape.resource<tensor<32x256xf32>>, !tape.resource<tensor<64x256xf32>>,
                                     !tape.resource<tensor<256xf32>>, !tape.resource<tensor<64x10xf32>>)
    tape.apply_gradients #tape.sgd<learning_rate = 0.1>
        (%g#0, %g#1, %g#2, %g#3 : tensor<32x256xf32>, tensor<64x256xf32>, tensor<256xf32>, tensor<64x10xf32>)
        to (%hwx, %hwh, %hb, %hwy : !tape.resource<tensor<32x256xf32>>, !tape.resource<tensor<64x256xf32>>,
                                    !tape.resource<tensor<256xf32>>, !tape.resource<tensor<64x10xf32>>)
    tape.return %loss : tensor<f32>
  }
}
