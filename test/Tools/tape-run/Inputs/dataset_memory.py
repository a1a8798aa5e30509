"""Peak memory of tape-run training on a large dataset: the dataset is
memory-mapped and used in place, so the run's peak resident memory grows
by the dataset's size once (its pages), not by a copy more.

Runs the MLP for one shuffled epoch over a ~130 MiB float32 dataset and
over a 640-row one, and compares the peaks --report-stats prints.

Usage: dataset_memory.py TAPE_RUN MODEL WORKDIR
"""
import os
import re
import subprocess
import sys

import numpy as np

tape_run, model, work = sys.argv[1:4]
ROWS = 43008  # 672 batches of 64: 784 * 4 * 43008 bytes = 128.6 MiB
rng = np.random.default_rng(5)


def save(prefix, rows):
    x = np.lib.format.open_memmap(f"{work}/{prefix}x.npy", mode="w+",
                                  dtype=np.float32, shape=(rows, 784))
    for i in range(0, rows, 4096):
        x[i:i + 4096] = rng.standard_normal((min(4096, rows - i), 784))
    x.flush()
    del x
    labels = np.eye(10, dtype=np.float32)[rng.integers(0, 10, rows)]
    np.save(f"{work}/{prefix}labels.npy", labels)
    return (os.path.getsize(f"{work}/{prefix}x.npy") +
            os.path.getsize(f"{work}/{prefix}labels.npy"))


def peak(prefix):
    out = subprocess.run(
        [tape_run, model, "--steps", str(ROWS // 64), "--quiet",
         "--shuffle-seed", "3", "--report-stats",
         "--input", f"{work}/{prefix}x.npy",
         "--input", f"{work}/{prefix}labels.npy"],
        check=True, capture_output=True, text=True).stderr
    return float(re.search(r"peak resident memory: ([0-9.]+) MiB", out)[1])


big = save("big_", ROWS) / 2**20
save("small_", 640)
grown = peak("big_") - peak("small_")
print(f"dataset {big:.1f} MiB; peak memory grew by {grown:.1f} MiB "
      f"({grown / big:.2f}x the dataset)")
if grown > 1.2 * big:
    print("FAIL: more than 1.2x the dataset: it was copied")
    sys.exit(1)
print("PASS")
