"""Inputs of deploy.test.

  deploy_inputs.py adam SRC DST     the MLP with Adam in place of SGD
  deploy_inputs.py data DIR         one batch: x.npy, labels.npy for tape-run
                                    and the same floats raw (x.bin,
                                    labels.bin) for the C program
  deploy_inputs.py damage CKPT DIR  damaged copies of a checkpoint, each
                                    named for what is wrong with it
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


if __name__ == "__main__":
    {"adam": adam, "data": data, "damage": damage}[sys.argv[1]](*sys.argv[2:])
