"""Writes examples/mlp/mlp_sgd.mlir or examples/cnn/mnist_cnn.mlir with
batch B instead of 64, for a process's share of a data-parallel global
batch (test/Tools/tape-run/data-parallel.test, benchmarks/data_parallel.py):
every batch-shaped tensor type (the leading 64 of the activations and
dropout masks, the labels and the per-row vectors of the loss) and the
loss's -1/64. Weights with a dimension of 64 (the CNN's conv2) stay.

Usage: batch_variant.py MODEL B OUT
"""
import re
import sys

ACTIVATIONS = (r"tensor<64x(1x28x28|32x26x26|64x24x24|64x12x12|9216x|128x|"
               r"10x|784x|256x)")
# Per-row vectors of the loss (row max, sums, log-sum-exp); the CNN's
# conv2.bias is also tensor<64xf32>, on other lines.
ROWS = re.compile(r"%(er|minit|rowmax|sinit|sums|lse)\b")


def write(model, batch, out):
    source = open(model).read()
    count = len(re.findall(ACTIVATIONS, source))
    assert count > 10, count
    source = re.sub(ACTIVATIONS, rf"tensor<{batch}x\1", source)
    source = source.replace("tensor<64xi64>", f"tensor<{batch}xi64>")
    lines = []
    for line in source.split("\n"):
        if ROWS.search(line) and not line.lstrip().startswith("//"):
            line = line.replace("tensor<64xf32>", f"tensor<{batch}xf32>")
        lines.append(line)
    source = "\n".join(lines)
    assert source.count("dense<-0.015625>") == 1
    source = source.replace("dense<-0.015625>", f"dense<{-1.0 / batch!r}>")
    open(out, "w").write(source)


if __name__ == "__main__":
    write(sys.argv[1], int(sys.argv[2]), sys.argv[3])
