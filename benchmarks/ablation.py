#!/usr/bin/python3
"""The measured effect of each optimization in the tape-to-llvm pipeline:
per-step median times of models B, C and D with one optimization turned
off at a time, as ratios against the full pipeline measured in the same
run (> 1: the optimization makes the step that much faster).

Rows (each a tape-run flag against the default pipeline):
  register tiles      --no-vectorize (plain loops)
  packed kernels      --no-pack (register tiles on unpacked operands)
  SGD in the matmul   --no-fuse-updates (dW written, then w -= lr * dW)
  tiles for the CPU   --vector-bits 512 on an AVX2 machine (AVX-512-sized 8x32
                      tiles, which spill on 16 registers), --vector-bits 256
                      on an AVX-512 one
  elementwise fusion  --check-numerics (fusion off, plus the checks: an
                      upper bound on fusion's effect and the checks' cost)
and two additions measured the other way round (ratio of full / with):
  2 threads           --num-threads 2
  BLAS calls          --blas (OpenBLAS for large matmuls)

Usage: ablation.py --tape-run build/bin/tape-run [--steps N] [--models B,C,D]
                   [--only SUBSTRING] [--repeat N]
--only keeps the rows whose name contains SUBSTRING; --repeat measures
each pair N times, alternating, and reports the median ratio (for small
effects on a noisy machine).
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import train_steps  # noqa: E402  (data generation shared with it)

OFF = [("register tiles", ["--no-vectorize"]),
       ("packed kernels", ["--no-pack"]),
       ("SGD update in the matmul", ["--no-fuse-updates"]),
       ("tiles for the CPU", ["--vector-bits",
                              "256" if train_steps.host_has_avx512() else
                              "512"]),
       ("elementwise fusion", ["--check-numerics"])]
ON = [("2 threads", ["--num-threads", "2"]),
      ("BLAS calls", ["--blas"])]


def median_us(tape_run, model, inputs, inits, steps, flags, env):
    args = [tape_run, os.path.join(ROOT, train_steps.MODELS[model]["mlir"]),
            "--steps", str(steps), "--quiet", "--report-stats",
            "--print-vars", "none"] + flags
    args += [a for i in inputs for a in ("--input", i)]
    args += [f"--init={i}" for i in inits]
    p = subprocess.run(args, capture_output=True, text=True, env=env)
    if p.returncode:
        sys.exit(f"tape-run failed ({' '.join(flags)}):\n{p.stderr[-2000:]}")
    return float(re.search(r"median ([\d.]+) us/call", p.stderr).group(1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tape-run", required=True)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--models", default="B,C,D")
    ap.add_argument("--only", default="")
    ap.add_argument("--repeat", type=int, default=1)
    opts = ap.parse_args()
    # OpenBLAS (for the BLAS row) picks its kernels for this CPU.
    env = dict(os.environ)
    env.pop("OPENBLAS_CORETYPE", None)
    env.pop("OPENBLAS_L2_SIZE", None)
    models = opts.models.split(",")
    rows = {}
    with tempfile.TemporaryDirectory() as work:
        for model in models:
            os.makedirs(f"{work}/{model}")
            inputs, inits, _ = train_steps.prepare(model, f"{work}/{model}")
            steps = max(5, int(opts.steps * train_steps.MODELS[model]["scale"]))
            def full_us():
                return median_us(opts.tape_run, model, inputs, inits, steps,
                                 [], env)

            def ratio(flags, n, on_over_off):
                # Alternate the two configurations; the median ratio.
                ratios = []
                for _ in range(opts.repeat):
                    full = full_us()
                    t = median_us(opts.tape_run, model, inputs, inits, n,
                                  flags, env)
                    ratios.append(full / t if on_over_off else t / full)
                return sorted(ratios)[len(ratios) // 2]

            rows.setdefault("full pipeline (us/step)", {})[model] = full_us()
            for name, flags in OFF:
                if opts.only not in name:
                    continue
                n = max(3, steps // 10) if "--no-vectorize" in flags else steps
                rows.setdefault(f"{name}: off / on", {})[model] = \
                    ratio(flags, n, False)
            for name, flags in ON:
                if opts.only not in name:
                    continue
                rows.setdefault(f"{name}: without / with", {})[model] = \
                    ratio(flags, steps, True)
    print("| effect | " + " | ".join(train_steps.MODELS[m]["title"]
                                     for m in models) + " |")
    print("| --- |" + " --- |" * len(models))
    for name, values in rows.items():
        cells = [f"{values[m]:.0f}" if "us/step" in name else
                 f"{values[m]:.2f}x" for m in models]
        print(f"| {name} | " + " | ".join(cells) + " |")
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f} "
          f"(2 cores; > 1 means something else was running)")


if __name__ == "__main__":
    main()
