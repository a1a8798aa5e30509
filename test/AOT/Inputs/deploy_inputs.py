"""Inputs of deploy.test.

  deploy_inputs.py adam SRC DST     the MLP with Adam in place of SGD
  deploy_inputs.py data DIR         one batch: x.npy, labels.npy for tape-run
                                    and the same floats raw (x.bin,
                                    labels.bin) for the C program
  deploy_inputs.py npz NPZ DIR      from the variables NPZ (tape-run
                                    --save-vars): partial.npz (w1 and b2
                                    only, as float64) and .npz files that
                                    --weights refuses, each named for what
                                    is wrong with it
"""
import sys

import numpy as np


def adam(src, dst):
    text = open(src).read()
    old = "#tape.sgd<learning_rate = 0.1>"
    assert old in text
    open(dst, "w").write(text.replace(old, "#tape.adam<learning_rate = 0.001>"))


def data(out):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((64, 784)).astype(np.float32)
    labels = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 64)]
    np.save(out + "/x.npy", x)
    np.save(out + "/labels.npy", labels)
    x.tofile(out + "/x.bin")
    labels.tofile(out + "/labels.bin")


def npz(path, out):
    with np.load(path) as archive:
        arrays = {name: archive[name] for name in archive.files}
    np.savez(out + "/partial.npz", w1=arrays["w1"].astype(np.float64),
             b2=arrays["b2"].astype(np.float64))
    np.savez(out + "/extra.npz", **arrays, nope=np.zeros(3, np.float32))
    np.savez(out + "/wrong_shape.npz",
             **dict(arrays, w1=np.ascontiguousarray(arrays["w1"].T)))
    open(out + "/not_a_zip.npz", "wb").write(b"# not a zip\n" * 8)


if __name__ == "__main__":
    {"adam": adam, "data": data, "npz": npz}[sys.argv[1]](*sys.argv[2:])
