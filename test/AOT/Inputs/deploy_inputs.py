"""Inputs of deploy.test.

  deploy_inputs.py adam SRC DST     the MLP with Adam in place of SGD
  deploy_inputs.py data DIR         one batch: x.npy, labels.npy for tape-run
                                    and the same floats raw (x.bin,
                                    labels.bin) for the C program
  deploy_inputs.py damage CKPT DIR  damaged copies of a checkpoint, each
                                    named for what is wrong with it
  deploy_inputs.py npz NPZ DIR      from the variables NPZ (tape-run
                                    --save-vars): partial.npz (w1 and b2
                                    only, as float64) and .npz files that
                                    --weights refuses, each named for what
                                    is wrong with it
"""
import struct
import sys
import zlib

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


def with_crc(body):
    return body + struct.pack("<I", zlib.crc32(body) & 0xFFFFFFFF)


def damage(path, out):
    d = open(path, "rb").read()
    body = d[:-4]
    assert d[:8] == b"TAPECKP1" and with_crc(body) == d
    # Find the first variable's dims in the layout.
    (count,) = struct.unpack_from("<I", d, 20)
    (name_len,) = struct.unpack_from("<I", d, 24)
    at = 28 + name_len
    dtype, rank = struct.unpack_from("<II", d, at)
    assert rank == 2, rank
    dims = struct.unpack_from("<qq", d, at + 8)
    files = {
        # A well-formed checkpoint whose first variable has its dimensions
        # swapped: same size, other shape.
        "wrong_shape": with_crc(
            body[: at + 8] + struct.pack("<qq", dims[1], dims[0])
            + body[at + 24:]),
        "version": with_crc(body[:8] + struct.pack("<I", 2) + body[12:]),
        "truncated": d[: len(d) // 2],
        "truncated_layout": d[:30],
        "truncated_magic": d[:5],
        "corrupt": d[:-100] + bytes([d[-100] ^ 1]) + d[-99:],
        "trailing": d + b"\0",
        "not_a_checkpoint": b"# not a checkpoint\n" * 8,
        "empty": b"",
    }
    for name, contents in files.items():
        open(out + "/" + name, "wb").write(contents)


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
    {"adam": adam, "data": data, "damage": damage,
     "npz": npz}[sys.argv[1]](*sys.argv[2:])
