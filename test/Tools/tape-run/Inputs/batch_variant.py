"""Writes examples/mlp/mlp_sgd.mlir or examples/cnn/mnist_cnn.mlir with
batch B instead of 64: every batch-shaped tensor type (the leading 64 of
the activations, the labels and the per-row vectors of the loss) and the
loss's -1/64. Weights whose dimensions are 64 (the CNN's conv2) stay.

Usage: batch_variant.py MODEL B OUT
"""
import re
import sys

model, batch, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
source = open(model).read()
activations = r"tensor<64x(1x28x28|32x26x26|64x24x24|64x12x12|9216x|128x|10x|784x|256x)"
count = len(re.findall(activations, source))
source = re.sub(activations, rf"tensor<{batch}x\1", source)
source = source.replace("tensor<64xi64>", f"tensor<{batch}xi64>")
# Per-row vectors of the loss (row max, sums, log-sum-exp); the CNN's
# conv2.bias is also tensor<64xf32>, on other lines.
rows = re.compile(r"%(er|minit|rowmax|sinit|sums|lse)\b")
lines = []
for line in source.split("\n"):
    if rows.search(line) and not line.lstrip().startswith("//"):
        line = line.replace("tensor<64xf32>", f"tensor<{batch}xf32>")
    lines.append(line)
source = "\n".join(lines)
assert source.count("dense<-0.015625>") == 1
source = source.replace("dense<-0.015625>", f"dense<{-1.0 / batch!r}>")
assert count > 10, count
open(out, "w").write(source)
