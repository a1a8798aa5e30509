#!/usr/bin/python3
"""Per-step time of our compiled train steps against PyTorch, a hand-written
C++/OpenBLAS step and numpy, all measured in the same run (the machine is
shared and noisy: ratios are what to track, not absolute times).

Models (same math, same fp32 data and initial weights everywhere):
  A  the seed's single neuron (scalar w, b; x = 2, y = 3; SGD 0.01)
     examples/seed/1_assign_sub.mlir
  B  MLP 784-256-10, ReLU, softmax cross-entropy (mean), batch 64, SGD 0.1
     examples/mlp/mlp_sgd.mlir
  C  MLP 784-1024-1024-10, two hidden ReLU layers, batch 256, Adam 1e-3
     (beta1 0.9, beta2 0.999, epsilon 1e-7 in #tape.adam's formula, which
     is Keras': epsilon added to sqrt(v) of the uncorrected v; torch gets
     the per-step epsilon that makes its formula the same)
     benchmarks/models/mlp_c_adam.mlir
  D  logistic regression, 1000 features, batch 1024, SGD 0.1
     benchmarks/models/logreg.mlir

Before timing, every implementation's first loss must agree with ours
within 1e-4 (relative) and its second and third within 1e-3 (they check
the backward code and the optimizer); the script stops otherwise.

Columns (per-step median times, each at every --threads count):
  ours JIT   tape-run's median from --report-stats (with --num-threads=N,
             or --threads=N, when tape-run lists it; otherwise only at 1
             thread)
  ours AOT   tape-compile --header (--num-threads=N, or --threads=N, when
             listed; otherwise only at 1 thread), linked with
             benchmarks/aot/driver.c and the libraries the header names
  ours+blas  tape-run --blas (large matmuls call OpenBLAS), when listed
  loops      tape-run --no-vectorize, 1 thread only (--skip-loops skips it)
  torch      PyTorch eager (benchmarks/baselines/torch_steps.py):
             autograd + torch.optim, torch.set_num_threads(N) under
             OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=N
  hand       benchmarks/hand/hand.cpp: hand-derived backward with OpenBLAS
             sgemm (sgemv for D), SGD fused into the weight-gradient sgemm,
             fused elementwise loops, openblas_set_num_threads(N)
  numpy      benchmarks/baselines/numpy_steps.py, float32,
             OPENBLAS_NUM_THREADS=N
  X/ours     time of X over time of ours JIT: > 1 means we are faster.

GFLOP/s (models B, C, D): 3 matmuls per dense layer per step (forward,
input gradient, weight gradient), each 2*M*N*K, even for the first layer
whose input gradient nobody computes; bias, activation, loss and
optimizer work is not counted. "% sgemm" compares with OpenBLAS's sgemm
on 1024x1024x1024 measured in this run at the same thread count (the best
of 20 calls, before and after the models: the machine's peak).

Environment: OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE (this machine may
export them to pin AVX2 kernels) are unset for every command that uses
OpenBLAS: numpy, torch, hand, the sgemm measurement and ours+blas, so that
OpenBLAS picks its best kernels for this CPU; ours without BLAS runs with
the environment as it is (it does not read them).

Usage: /usr/bin/python3 benchmarks/train_steps.py --tape-run build/bin/tape-run
         --tape-compile build/bin/tape-compile [--steps N] [--threads 1,2]
         [--models A,B,C,D] [--skip-loops]
Dependencies: apt-get install python3-torch libopenblas-dev
libopenblas0-pthread (and g++); run it with /usr/bin/python3, which sees
Debian's numpy and torch.
"""
import argparse
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CBLAS_DIRS = ["/usr/include/x86_64-linux-gnu/openblas-pthread",
              "/usr/include/openblas", "/usr/include/x86_64-linux-gnu",
              "/usr/include"]

# name, model file, dense layers (batch, in, out), optimizer, dataset
# rows, scale of --steps (A is ~1000x faster than the others, C ~30x
# slower).
MODELS = {
    "A": dict(title="A seed neuron", mlir="examples/seed/1_assign_sub.mlir",
              layers=[], optimizer="sgd", scale=100.0),
    "B": dict(title="B MLP 784-256-10 b64", mlir="examples/mlp/mlp_sgd.mlir",
              layers=[(64, 784, 256), (64, 256, 10)], optimizer="sgd",
              rows=640, scale=1.0),
    "C": dict(title="C MLP 784-1024-1024-10 b256 Adam",
              mlir="benchmarks/models/mlp_c_adam.mlir",
              layers=[(256, 784, 1024), (256, 1024, 1024), (256, 1024, 10)],
              optimizer="adam", rows=1024, scale=0.25),
    "D": dict(title="D logreg 1000 b1024", mlir="benchmarks/models/logreg.mlir",
              layers=[(1024, 1000, 1)], optimizer="sgd", rows=1024,
              scale=1.0),
}


class Failure(Exception):
    pass


GNU_TIME = "/usr/bin/time"


def run(args, env=None, check=True):
    """Runs a command; returns (stdout, stderr, peak RSS in bytes, wall s).
    The peak RSS comes from GNU time (%M) when it is there: a child forked
    straight from this Python process inherits the parent's RSS high-water
    mark across exec, so wait4's ru_maxrss would never be below ours."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile("r") as rss_file:
        cmd = list(args)
        if os.access(GNU_TIME, os.X_OK):
            cmd = [GNU_TIME, "-f", "%M", "-o", rss_file.name] + cmd
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
        rss = usage.ru_maxrss * 1024
        kib = re.findall(r"^(\d+)$", rss_file.read(), re.M)
        if cmd[0] == GNU_TIME and kib:
            rss = int(kib[-1]) * 1024
    if check and p.returncode != 0:
        raise Failure(f"command failed ({p.returncode}): {' '.join(args)}\n"
                      f"{stderr.strip()[-2000:]}")
    return stdout, stderr, rss, wall


def last_json(stdout):
    for line in reversed(stdout.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise Failure(f"no JSON result in: {stdout[-500:]}")


def check_dependencies(opts):
    problems = []
    for tool in (opts.tape_run, opts.tape_compile):
        if not (os.path.isfile(tool) and os.access(tool, os.X_OK)):
            problems.append(f"{tool} is not an executable (build the project)")
    if importlib.util.find_spec("numpy") is None:
        problems.append("numpy is missing for this python "
                        f"({sys.executable}); run with /usr/bin/python3 "
                        "(apt-get install python3-numpy)")
    p = subprocess.run([sys.executable, "-c", "import torch"],
                       capture_output=True, text=True)
    if p.returncode != 0:
        problems.append("PyTorch is missing for this python: apt-get install "
                        "python3-torch (and run with /usr/bin/python3)")
    cblas = next((d for d in CBLAS_DIRS
                  if os.path.exists(os.path.join(d, "cblas.h"))
                  and "openblas_set_num_threads" in
                  open(os.path.join(d, "cblas.h"), errors="replace").read()),
                 None)
    if cblas is None:
        problems.append("OpenBLAS's cblas.h is missing: apt-get install "
                        "libopenblas-dev libopenblas0-pthread")
    for cc in ("g++", "cc"):
        if shutil.which(cc) is None:
            problems.append(f"{cc} is missing: apt-get install g++")
    if problems:
        raise Failure("missing dependencies:\n  " + "\n  ".join(problems))
    return cblas


def prepare(model, work):
    """Writes the model's data and initial weights as .npy (for tape-run,
    torch, numpy) and raw float32 .bin (hand, AOT driver) files."""
    import numpy as np
    rng = np.random.default_rng(5)
    if model == "A":
        return [], [], []
    if model in ("B", "C"):
        m = MODELS[model]
        x = rng.standard_normal((m["rows"], 784)).astype(np.float32)
        lab = np.eye(10, dtype=np.float32)[rng.integers(0, 10, m["rows"])]
        vals = {"x": x, "labels": lab}
        stddev = [0.05, 0.05] if model == "B" else [0.05, 0.03, 0.03]
        for i, ((_, k, n), sd) in enumerate(zip(m["layers"], stddev), 1):
            vals[f"w{i}"] = (rng.standard_normal((k, n)) * sd).astype(np.float32)
            vals[f"b{i}"] = np.zeros(n, np.float32)
        inputs, weights = ["x", "labels"], [k for k in vals if k[0] in "wb"]
    else:
        x = rng.standard_normal((1024, 1000)).astype(np.float32)
        y = (rng.random((1024, 1)) < 0.5).astype(np.float32)
        vals = {"x": x, "y": y,
                "w": (rng.standard_normal((1000, 1)) * 0.01).astype(np.float32),
                "b": np.zeros(1, np.float32)}
        inputs, weights = ["x", "y"], ["w", "b"]
    for k, v in vals.items():
        np.save(f"{work}/{k}.npy", v)
        v.tofile(f"{work}/{k}.bin")
    for i, k in enumerate(inputs):
        vals[k].tofile(f"{work}/in{i}.bin")
    per_batch = [vals[k][:m_batch(model)].size for k in inputs]
    return ([f"{work}/{k}.npy" for k in inputs],
            [f"{k}={work}/{k}.npy" for k in weights], per_batch)


def m_batch(model):
    return MODELS[model]["layers"][0][0]


def flops(model):
    return sum(3 * 2 * m * k * n for m, k, n in MODELS[model]["layers"])


def analytic_bytes(model):
    """Variables + optimizer slots + parameter gradients + activations, in
    bytes: activations = the whole dataset (every implementation keeps it
    loaded) + two values per layer output (pre-activation and activation;
    logits and softmax for the last layer)."""
    m = MODELS[model]
    if model == "A":
        params, acts = 2, 4  # w, b; x*w, y_pred, err, loss
    else:
        params = sum(k * n + n for _, k, n in m["layers"])
        _, k0, _ = m["layers"][0]
        acts = m["rows"] * (k0 + m["layers"][-1][2])
        acts += sum(2 * b * n for b, _, n in m["layers"])
    slots = 2 * params if m["optimizer"] == "adam" else 0
    return {"variables": 4 * params, "slots": 4 * slots,
            "gradients": 4 * params, "activations": 4 * acts,
            "total": 4 * (2 * params + slots + acts)}


class Tape:
    def __init__(self, opts):
        self.opts = opts
        self.run_help = run([opts.tape_run, "--help"])[0]
        self.compile_help = run([opts.tape_compile, "--help"])[0]
        # The flag that sets the compiled step's thread count, if any.
        flag = re.search(r"(--(?:num-)?threads)\b", self.run_help)
        self.threads = flag.group(1) if flag else None
        self.blas = re.search(r"--blas\b", self.run_help) is not None
        flag = re.search(r"(--(?:num-)?threads)\b", self.compile_help)
        self.aot_threads = flag.group(1) if flag else None

    def flags(self, threads, blas=False, loops=False):
        """tape-run flags for a configuration, or None where it is not
        supported."""
        extra = []
        if self.threads:
            extra.append(f"{self.threads}={threads}")
        elif threads != 1:
            return None
        if blas:
            if not self.blas:
                return None
            extra.append("--blas")
        if loops:
            extra.append("--no-vectorize")
        return extra

    def jit(self, model, inputs, inits, steps, extra, env):
        args = [self.opts.tape_run, os.path.join(ROOT, MODELS[model]["mlir"]),
                "--print-vars", "none"] + extra
        args += [a for i in inputs for a in ("--input", i)]
        args += [f"--init={i}" for i in inits]
        out, _, rss, _ = run(args + ["--steps", "3", "--precision", "0"],
                             env=env)
        losses = [float(v) for v in re.findall(r"Loss: (\S+?),?\s", out + "\n")]
        if steps == 0:  # only the losses
            return {"median_us": None, "losses": losses[:3], "rss": rss}
        _, err, rss, _ = run(args + ["--steps", str(steps), "--quiet",
                                     "--report-stats"], env=env)
        median = re.search(r"median ([\d.]+) us/call", err)
        if not median:
            raise Failure(f"no median in tape-run's --report-stats: {err[-500:]}")
        median = float(median.group(1))
        return {"median_us": median, "losses": losses[:3], "rss": rss}

    def jit_compile_time(self, model, inputs, inits, extra):
        args = [self.opts.tape_run, os.path.join(ROOT, MODELS[model]["mlir"]),
                "--print-vars", "none", "--steps", "0"] + extra
        args += [a for i in inputs for a in ("--input", i)]
        args += [f"--init={i}" for i in inits]
        return run(args)[3]

    def aot_build(self, model, threads, work):
        """Compiles the model to an object and links the driver; returns
        (driver path, tape-compile seconds, workspace bytes) or raises."""
        if threads != 1 and not self.aot_threads:
            return None
        d = os.path.join(work, f"aot{threads}")
        os.makedirs(d, exist_ok=True)
        args = [self.opts.tape_compile,
                os.path.join(ROOT, MODELS[model]["mlir"]),
                "-o", f"{d}/model.o", "--header", f"{d}/model.h"]
        if self.aot_threads:
            args.append(f"{self.aot_threads}={threads}")
        _, _, _, seconds = run(args)
        header = open(f"{d}/model.h").read()
        raw = re.search(r"void model_train_step_raw\(([^)]*)\)", header)
        if not raw:
            raise Failure("generated header has no model_train_step_raw")
        params = raw.group(1)
        n_in = len(re.findall(r"const float \*in\d", params))
        n_out = len(re.findall(r"(?<!const )float \*out\d", params))
        ws = re.search(r"workspace = aligned_alloc\(\d+, (\d+)\)", header)
        cmd = ["cc", "-O2", "-std=c11", f"-I{d}", '-DTAPE_HEADER="model.h"',
               f"-DTAPE_INPUTS={n_in}", f"-DTAPE_OUTPUTS={n_out}",
               os.path.join(HERE, "aot/driver.c"), f"{d}/model.o",
               "-o", f"{d}/driver"]
        # Libraries the header asks for ("link with ... (-L... -lomp)").
        libs = [f for group in re.findall(r"link with[^(]*\(([^)]*)\)", header)
                for f in group.split()]
        libs += [f"-Wl,-rpath,{f[2:]}" for f in libs if f.startswith("-L")]
        run(cmd + libs + ["-lm"])
        return f"{d}/driver", seconds, int(ws.group(1)) if ws else 0


def build_hand(work, cblas):
    exe = os.path.join(work, "hand")
    run(["g++", "-O3", "-march=native", "-fopenmp", "-std=c++17",
         os.path.join(HERE, "hand/hand.cpp"), "-o", exe, f"-I{cblas}",
         "-lopenblas"])
    return exe


def fmt_time(us):
    if us is None:
        return "-"
    if us < 10:
        return f"{us:.2f} us"
    if us < 1000:
        return f"{us:.1f} us"
    return f"{us / 1000:.2f} ms"


def fmt_bytes(b):
    if b is None:
        return "-"
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if b >= scale:
            return f"{b / scale:.1f} {unit}"
    return f"{b} B"


class LossMismatch(Exception):
    pass


def agree(name, model, ref, other):
    """Stops the run unless `other`'s losses match the reference's (the
    first implementation that ran): the first within 1e-4, relative, the
    second and third within 1e-3."""
    ref_name, ours = ref
    if len(other) < min(3, len(ours)):
        raise LossMismatch(f"{model}: {name} printed {len(other)} losses "
                           f"({other})")
    for i, (a, b) in enumerate(zip(ours, other)):
        tol = 1e-4 if i == 0 else 1e-3
        if abs(a - b) > tol * abs(a):
            raise LossMismatch(
                f"{model}: loss {i + 1} differs: {ref_name} {ours}, {name} "
                f"{other} (tolerance {tol}, relative)")


def print_table(header, rows, out=sys.stdout):
    widths = [max(len(str(r[i])) for r in [header] + rows)
              for i in range(len(header))]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(header, widths)) + " |"
    print(line, file=out)
    print("| " + " | ".join("-" * w for w in widths) + " |", file=out)
    for r in rows:
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths))
              + " |", file=out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tape-run", required=True)
    ap.add_argument("--tape-compile", required=True)
    ap.add_argument("--steps", type=int, default=200,
                    help="timed steps per measurement (A: 100x, C: 1/4)")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--models", default="A,B,C,D")
    ap.add_argument("--openblas-coretype", default="",
                    help="OPENBLAS_CORETYPE for the OpenBLAS users (numpy, "
                         "torch, hand, sgemm, ours+blas), e.g. SkylakeX where "
                         "OpenBLAS does not recognize the CPU")
    ap.add_argument("--skip-loops", action="store_true",
                    help="skip the slow plain-loops (--no-vectorize) column")
    opts = ap.parse_args()
    threads = [int(t) for t in opts.threads.split(",")]
    models = [m.strip().upper() for m in opts.models.split(",")]
    for m in models:
        if m not in MODELS:
            ap.error(f"unknown model {m} (A, B, C or D)")
    try:
        return bench(opts, threads, models)
    except (Failure, LossMismatch) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


def host_has_avx512():
    """True if the host CPU has AVX-512 (the register tiles are then 8x32)."""
    try:
        with open("/proc/cpuinfo") as f:
            return " avx512f" in f.read()
    except OSError:
        return False


def bench(opts, threads, models):
    cblas = check_dependencies(opts)
    base_env = dict(os.environ)
    blas_env = dict(os.environ, OMP_NUM_THREADS="1", OMP_WAIT_POLICY="passive")
    unset = [v for v in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
             if v in blas_env]
    for v in unset:
        blas_env.pop(v)
    if opts.openblas_coretype:
        # OpenBLAS's own detection can fail on a virtual CPU (a Xeon without
        # a model name runs its Prescott kernels at a quarter of the
        # machine's sgemm rate): name the kernels to use.
        blas_env["OPENBLAS_CORETYPE"] = opts.openblas_coretype
        print(f"note: OPENBLAS_CORETYPE={opts.openblas_coretype} for the "
              "OpenBLAS users")

    def env_for(n):
        return dict(blas_env, OPENBLAS_NUM_THREADS=str(n))

    load = os.getloadavg()[0]
    print(f"machine: {os.cpu_count()} CPUs, load average {load:.2f} at start"
          + (" (busy: expect noise)" if load > 0.5 else ""))
    if unset:
        print(f"note: {' and '.join(unset)} unset for the OpenBLAS users "
              "(numpy, torch, hand, sgemm, ours+blas); kept for ours")
    errors = []
    with tempfile.TemporaryDirectory() as work:
        tape = Tape(opts)
        print(f"tape-run: threads {tape.threads or 'no'}, "
              f"--blas {'yes' if tape.blas else 'no'}; tape-compile: "
              f"threads {tape.aot_threads or 'no'}")
        hand = build_hand(work, cblas)

        def measure_sgemm(sgemm):
            for n in threads:
                r = last_json(run([hand, "sgemm", "1024", "20", str(n)],
                                  env=env_for(n))[0])
                sgemm.setdefault(n, []).append(r["best_gflops"])
                print(f"OpenBLAS sgemm 1024^3, {n} thread(s): best "
                      f"{r['best_gflops']:.1f} GFLOP/s, median "
                      f"{r['gflops']:.1f} ({r['config']})", flush=True)

        sgemm = {}
        measure_sgemm(sgemm)
        results, memory = {}, {}
        for model in models:
            mwork = os.path.join(work, model)
            os.makedirs(mwork)
            inputs, inits, per_batch = prepare(model, mwork)
            steps = max(3, int(opts.steps * MODELS[model]["scale"]))
            mem = {"analytic": analytic_bytes(model)}
            aot = {}

            def implementations(n):
                """(column, function of the step count) for n threads."""
                impls = []
                extra = tape.flags(n)
                if extra is not None:
                    impls.append(("ours JIT", lambda k, e=extra: tape.jit(
                        model, inputs, inits, k, e, base_env)))
                if tape.aot_threads or n == 1:
                    def ours_aot(k):
                        if n not in aot:
                            aot[n] = tape.aot_build(model, n, mwork)
                        out, _, rss, _ = run([aot[n][0], mwork, str(k or 3)]
                                             + [str(p) for p in per_batch],
                                             env=base_env)
                        return dict(last_json(out), rss=rss)
                    impls.append(("ours AOT", ours_aot))
                extra = tape.flags(n, blas=True)
                if extra is not None:
                    impls.append(("ours+blas", lambda k, e=extra: tape.jit(
                        model, inputs, inits, k, e, env_for(n))))
                if n == 1 and not opts.skip_loops:
                    impls.append(("loops", lambda k: tape.jit(
                        model, inputs, inits, max(k // 10, 3) if k else 0,
                        tape.flags(1, loops=True), base_env)))

                def proc(args):
                    out, _, rss, _ = run(args, env=env_for(n))
                    return dict(last_json(out), rss=rss)
                impls.append(("torch", lambda k: proc(
                    [sys.executable, os.path.join(HERE, "baselines/torch_steps.py"),
                     model, mwork, str(k or 3), str(n)])))
                impls.append(("hand", lambda k: proc(
                    [hand, model, mwork, str(k or 3), str(n)])))
                impls.append(("numpy", lambda k: proc(
                    [sys.executable, os.path.join(HERE, "baselines/numpy_steps.py"),
                     model, mwork, str(k or 3)])))
                return impls

            # Correctness first: the first three losses of every
            # implementation (3 steps each), before any timing.
            print(f"\n{MODELS[model]['title']}: checking losses", flush=True)
            ref, broken = None, set()
            for col, fn in implementations(threads[0]):
                try:
                    r = fn(0)  # 0: only the losses (3 steps)
                except Failure as e:
                    broken.add(col)
                    errors.append(f"{model} {col}: {e}")
                    print(f"  {col:<10} FAILED: {str(e).splitlines()[0]}")
                    continue
                if ref is None:
                    ref = (col, r["losses"])
                agree(col, model, ref, r["losses"])
                print(f"  {col:<10} losses {r['losses']}", flush=True)
                for name in ("torch", "numpy"):
                    if col == name and not any("openblas" in b
                                               for b in r["blas"]):
                        print(f"  warning: {name} is not using OpenBLAS "
                              f"({r['blas']}); install libopenblas0-pthread")

            print(f"{MODELS[model]['title']}: timing {steps} steps",
                  flush=True)
            for n in threads:
                row = results[(model, n)] = {}
                for col, fn in implementations(n):
                    if col in broken:
                        row[col] = None
                        continue
                    try:
                        r = fn(steps)
                    except Failure as e:
                        row[col] = None
                        errors.append(f"{model} {col} {n} threads: {e}")
                        print(f"  {n} thr {col:<10} FAILED: "
                              f"{str(e).splitlines()[0]}")
                        continue
                    agree(col, model, ref, r["losses"])
                    row[col] = r
                    print(f"  {n} thr {col:<10} "
                          f"{fmt_time(r['median_us']):>10}", flush=True)
                    if n == threads[0] and col in ("ours JIT", "ours AOT",
                                                   "hand", "torch"):
                        mem[col] = r["rss"]
                    if n == threads[0] and col == "ours AOT" and \
                            r.get("hwm_kib", -1) > 0 and \
                            r.get("rss_start_kib", -1) > 0:
                        mem["ours AOT model"] = 1024 * (
                            r["hwm_kib"] - r["rss_start_kib"])
                if n == threads[0] and tape.flags(n) is not None \
                        and "ours JIT" not in broken:
                    try:
                        mem["jit_compile_s"] = tape.jit_compile_time(
                            model, inputs, inits, tape.flags(n))
                    except Failure as e:
                        errors.append(f"{model} tape-run --steps 0: {e}")
                if 1 in aot and aot[1]:
                    mem.update(compile_s=aot[1][1], workspace=aot[1][2])
            memory[model] = mem
        print()
        measure_sgemm(sgemm)
        print(f"load average {os.getloadavg()[0]:.2f} at the end")
    sgemm = {n: max(v) for n, v in sgemm.items()}
    report(results, memory, sgemm, models, threads, tape)
    if errors:
        print(f"\n{len(errors)} measurement(s) failed:", file=sys.stderr)
        for e in errors:
            print(f"--- {e}", file=sys.stderr)
        return 1
    return 0


COLUMNS = ["ours JIT", "ours AOT", "ours+blas", "loops", "torch", "hand",
           "numpy"]


def report(results, memory, sgemm, models, threads, tape):
    cols = [c for c in COLUMNS if any(c in r for r in results.values())]

    def cell(r, c, show):
        if c not in r:
            return "-"
        return "err" if r[c] is None else show(r[c]["median_us"])

    print("\nPer-step median time (X/ours = time of X / time of ours JIT: "
          "> 1 means we are faster; err: failed, see above)\n")
    header = ["model", "thr"] + cols + [f"{c}/ours" for c in
                                        ("hand", "torch", "numpy")]
    if "ours+blas" in cols:
        header.append("hand/ours+blas")
    rows = []
    for model in models:
        for n in threads:
            r = results[(model, n)]
            t = {c: v["median_us"] for c, v in r.items() if v}
            row = [MODELS[model]["title"], n] + [cell(r, c, fmt_time)
                                                 for c in cols]
            ours = t.get("ours JIT")
            for c in ("hand", "torch", "numpy"):
                row.append(f"{t[c] / ours:.2f}" if ours and c in t else "-")
            if "ours+blas" in cols:
                row.append(f"{t['hand'] / t['ours+blas']:.2f}"
                           if "ours+blas" in t and "hand" in t else "-")
            rows.append(row)
    print_table(header, rows)

    gcols = [c for c in cols if c != "loops"]
    rows = []
    for model in models:
        if model == "A":
            continue
        for n in threads:
            r = results[(model, n)]

            def show(us):
                g = flops(model) / (us * 1e3)
                return f"{g:.1f} ({100 * g / sgemm[n]:.0f}%)"
            rows.append([MODELS[model]["title"], n,
                         f"{flops(model) / 1e6:.1f}"]
                        + [cell(r, c, show) for c in gcols])
    if rows:
        print("\nAchieved GFLOP/s and % of OpenBLAS sgemm 1024^3 at the same "
              "thread count\n(3 matmuls of 2*M*N*K per dense layer per step, "
              "the first layer's input gradient included; sgemm: the best "
              "of 20 calls, before and after the models: "
              + ", ".join(f"{n} thread(s) {sgemm[n]:.1f} GFLOP/s"
                          for n in threads) + ")\n")
        print_table(["model", "thr", "MFLOP/step"] + gcols, rows)

    print(f"\nMemory: peak RSS of each process at {threads[0]} thread(s) "
          "against the analytic size (variables + optimizer slots + "
          "gradients + activations: the whole dataset and 2 values per "
          "layer output); ours' compile times\n")
    rows = []
    for model in models:
        m = memory[model]
        a = m["analytic"]

        def ratio(c):
            return f"{m[c] / a['total']:.3g}" if c in m else "-"
        rows.append([
            MODELS[model]["title"], fmt_bytes(a["total"]),
            f"{fmt_bytes(a['variables'])} / {fmt_bytes(a['slots'])} / "
            f"{fmt_bytes(a['gradients'])} / {fmt_bytes(a['activations'])}",
            fmt_bytes(m.get("ours JIT")), ratio("ours JIT"),
            fmt_bytes(m.get("ours AOT")), ratio("ours AOT"),
            fmt_bytes(m.get("ours AOT model")), ratio("ours AOT model"),
            fmt_bytes(m.get("workspace")),
            fmt_bytes(m.get("hand")), fmt_bytes(m.get("torch")),
            f"{m['compile_s']:.2f} s" if "compile_s" in m else "-",
            f"{m['jit_compile_s']:.2f} s" if "jit_compile_s" in m else "-"])
    print_table(["model", "analytic", "vars / slots / grads / acts",
                 "JIT RSS", "JIT/analytic", "AOT RSS", "AOT/analytic",
                 "AOT model", "model/analytic", "AOT workspace", "hand RSS", "torch RSS", "tape-compile",
                 "tape-run --steps 0"], rows)
    print("(AOT model: the AOT driver's peak RSS less its RSS when main "
          "starts, i.e. state, workspace and dataset without the program "
          "and its libraries)")
    print("(tape-compile: wall time of compiling the model to an object; "
          "tape-run --steps 0: JIT compile plus loading the data)")
    if not tape.threads:
        print("\nnote: tape-run has no --threads/--num-threads: ours JIT "
              "measured at 1 thread only")
    if not tape.aot_threads and any(n != 1 for n in threads):
        print("note: tape-compile has no --threads/--num-threads: ours AOT "
              "measured at 1 thread only")
    if not tape.blas:
        print("note: tape-run has no --blas: no ours+blas column")


if __name__ == "__main__":
    sys.exit(main())
