"""Checkpoint files for checkpoint.test and test/AOT: read with NumPy, and
made damaged or in the earlier format (version 1, TAPECKP1) on purpose.

  checkpoint_files.py numpy TAPE_RUN WORK   trains the least-squares model
      of optimizers.py with Adam for 6 steps (tape-run --checkpoint) and
      checks with numpy.load alone that the checkpoint holds every variable
      and slot, with the values of the float64 reference of Adam's formula,
      and metadata.json that describes them
  checkpoint_files.py same A B              checks that the checkpoints A
      and B hold the same arrays bit for bit and the same metadata.json
      byte for byte (whoever wrote them: the zip records may differ)
  checkpoint_files.py damage CKPT DIR       damaged copies of the checkpoint
      CKPT, each named for what is wrong with it (see damage())
  checkpoint_files.py legacy CKPT OUT       the state of CKPT in format
      version 1 (TAPECKP1), as tape wrote checkpoints before

The checkpoint format is tape/Support/CheckpointFormat.h's. PyTorch reads a
checkpoint through NumPy: torch.from_numpy(numpy.load(path)["w"]).
"""
import io
import json
import os
import struct
import subprocess
import sys
import zipfile
import zlib

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import optimizers  # noqa: E402  (the model and Adam's reference)

DTYPES = {"float32": 0, "float64": 1, "int32": 2, "int64": 3}


def entries(path):
    """The archive's entries, in order: name -> bytes."""
    with zipfile.ZipFile(path) as z:
        return {i.filename: z.read(i.filename) for i in z.infolist()}


def write_zip(path, files, method=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", method) as z:
        for name, data in files.items():
            z.writestr(name, data)


def npy(array):
    b = io.BytesIO()
    np.save(b, array)
    return b.getvalue()


def check_numpy(tape_run, work):
    attr = ("#tape.adam<learning_rate = 0.1, beta1 = 0.9, beta2 = 0.999, "
            "epsilon = 1.0e-07>")
    path = work + "/least_squares.mlir"
    with open(path, "w") as f:
        f.write(optimizers.MODEL.replace("OPTIMIZER", attr))
    ckpt = work + "/least_squares.ckpt"
    subprocess.run([tape_run, path, "--steps", str(optimizers.STEPS),
                    "--quiet", "--checkpoint", ckpt], check=True)
    want = optimizers.reference("adam", lr=0.1, b1=0.9, b2=0.999, eps=1e-7)
    with np.load(ckpt) as archive:
        files = list(archive.files)
        arrays = {n: archive[n] for n in files if n != "metadata.json"}
        meta = json.loads(archive["metadata.json"])
    assert files[-1] == "metadata.json", files
    assert sorted(arrays) == sorted(want), (sorted(arrays), sorted(want))
    for name, value in arrays.items():
        expected = np.asarray(want[name])
        kind = np.float32 if expected.dtype.kind == "f" else np.int64
        assert value.dtype == kind, (name, value.dtype)
        assert value.shape == expected.shape, (name, value.shape)
        assert np.allclose(value, expected, rtol=optimizers.RTOL_ADAM,
                           atol=1e-7), (name, value, expected)
    print("PASS numpy.load: %d arrays (%s) match Adam's float64 reference"
          % (len(arrays), ", ".join(files[:-1])))
    assert meta["format"] == "tape-checkpoint" and meta["version"] == 2
    assert meta["step_count"] == optimizers.STEPS, meta["step_count"]
    assert len(meta["fingerprint"]) == 64
    int(meta["fingerprint"], 16)
    described = [v["name"] for v in meta["variables"]]
    assert described == files[:-1], (described, files)
    for v in meta["variables"]:
        a = arrays[v["name"]]
        assert v["entry"] == v["name"] + ".npy"
        assert v["dtype"] == str(a.dtype) and v["shape"] == list(a.shape), v
        assert v["trainable"] == (v["name"] in ("w", "b")), v
    print("PASS metadata.json: step_count %d, fingerprint, %d variables "
          "with their dtypes and shapes" % (meta["step_count"],
                                            len(described)))


def same(a, b):
    ea, eb = entries(a), entries(b)
    assert list(ea) == list(eb), (list(ea), list(eb))
    assert ea["metadata.json"] == eb["metadata.json"]
    for name in ea:
        if name.endswith(".npy"):
            x = np.load(io.BytesIO(ea[name]))
            y = np.load(io.BytesIO(eb[name]))
            assert x.dtype == y.dtype and x.shape == y.shape, name
            assert x.tobytes() == y.tobytes(), name
    print("same: %d arrays bit for bit, metadata.json byte for byte, "
          "step_count %d" % (len(ea) - 1,
                             json.loads(ea["metadata.json"])["step_count"]))


def legacy_bytes(path):
    """The state of checkpoint `path` in format version 1."""
    e = entries(path)
    meta = json.loads(e["metadata.json"])
    layout = struct.pack("<I", len(meta["variables"]))
    data = b""
    for v in meta["variables"]:
        name = v["name"].encode()
        layout += struct.pack("<I", len(name)) + name
        layout += struct.pack("<II", DTYPES[v["dtype"]], len(v["shape"]))
        layout += b"".join(struct.pack("<q", d) for d in v["shape"])
        array = np.load(io.BytesIO(e[v["entry"]]))
        data += np.ascontiguousarray(array).tobytes()
    body = (b"TAPECKP1" + struct.pack("<IQ", 1, meta["step_count"]) + layout
            + data)
    return body + struct.pack("<I", zlib.crc32(body) & 0xFFFFFFFF)


def damage(path, out):
    d = open(path, "rb").read()
    e = entries(path)
    meta = json.loads(e["metadata.json"])
    first = meta["variables"][0]
    array = np.load(io.BytesIO(e[first["entry"]]))
    assert array.ndim == 2 and array.shape[0] != array.shape[1]

    def variant(changes):
        files = dict(e)
        for name, data in changes.items():
            if data is None:
                del files[name]
            else:
                files[name] = data
        return files

    # A byte in the middle of the first array's data: its CRC fails.
    at = d.index(e[first["entry"]]) + len(e[first["entry"]]) // 2
    other = dict(meta, version=3)
    archives = {
        # The first array with its dimensions swapped: same size, other
        # shape; the metadata as it was.
        "wrong_shape": variant(
            {first["entry"]: npy(np.ascontiguousarray(array.T))}),
        # metadata.json of a newer format version.
        "version": variant(
            {"metadata.json": json.dumps(other).encode()}),
        # metadata.json cut in the middle.
        "bad_json": variant({"metadata.json": e["metadata.json"][
            : len(e["metadata.json"]) // 2]}),
        # The arrays without metadata.json (what --save-vars writes).
        "no_metadata": variant({"metadata.json": None}),
        # One more array.
        "extra_array": variant({"nope.npy": npy(np.zeros(3, np.float32))}),
    }
    for name, files in archives.items():
        write_zip(out + "/" + name, files)
    # Every entry deflated (numpy.savez_compressed writes such archives).
    write_zip(out + "/compressed", e, zipfile.ZIP_DEFLATED)
    files = {
        "truncated": d[: len(d) // 2],
        "truncated_magic": d[:5],
        "corrupt": d[:at] + bytes([d[at] ^ 1]) + d[at + 1:],
        "trailing": d + b"\0",
        "not_a_checkpoint": b"# not a checkpoint\n" * 8,
        "empty": b"",
        "old_format": legacy_bytes(path),
    }
    for name, contents in files.items():
        open(out + "/" + name, "wb").write(contents)


def main():
    command = sys.argv[1]
    if command == "numpy":
        check_numpy(*sys.argv[2:4])
    elif command == "same":
        same(*sys.argv[2:4])
    elif command == "damage":
        damage(*sys.argv[2:4])
    elif command == "legacy":
        open(sys.argv[3], "wb").write(legacy_bytes(sys.argv[2]))
    else:
        sys.exit("unknown command " + command)


if __name__ == "__main__":
    main()
