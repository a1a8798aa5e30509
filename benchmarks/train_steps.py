#!/usr/bin/python3
"""Per-step time of our compiled train steps against PyTorch, a hand-written
C++/OpenBLAS step and numpy, all measured in the same run (the machine is
shared and noisy: ratios are what to track, not absolute times).

Models (same math, same fp32 data and initial weights everywhere; E and
F also take int64 labels or tokens):
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
  E  the CNN example: pytorch/examples' MNIST net (conv 1->32, conv
     32->64, max-pool, dropout 0.25, linear 9216->128, dropout 0.5,
     linear 128->10, log-softmax, NLL against int64 labels), batch 64,
     Adam lr 1e-3 (#tape.adamw without decay, torch.optim.Adam's formula)
     examples/cnn/mnist_cnn.mlir; torch: examples/cnn/torch_reference.py's
     Net with dropout on, in training mode
  F  the GPT example: examples/gpt/gen_gpt.py's default GPT-2 (vocab 512,
     sequence 64, batch 4, 128 channels, 4 heads, 2 layers, int64 tokens
     and targets), AdamW lr 3e-4, eps 1e-8, weight decay 0.1 on the
     matrices; the .mlir is generated into the work directory; torch:
     examples/gpt/torch_reference.py's GPT
  E and F take their data and initial weights from the examples' data.py
  (10 batches), as benchmarks/examples_vs_torch.py does; they are not in
  the default --models (A,B,C,D): each of their compiles takes seconds
  (F about 10 s, and the script compiles each model several times), and
  only ours and torch run them. --models all (or E,F) runs them.

Before timing, every implementation's first loss must agree with ours
within 1e-4 (relative) and its second and third within 1e-3 (they check
the backward code and the optimizer); the script stops otherwise. E is
the exception: its step has dropout, whose masks come from our Philox
generator (tape.random_uniform) and are not torch's, and the model has no
switch to turn it off, so torch's losses on E are printed but not
compared (the per-step table marks E with *); ours JIT and AOT draw the
same masks and are compared with each other as for the other models.

Columns (per-step median times, each at every --threads count; each
cell the median of --rounds measurements taken in turn with the other
columns):
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
             OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=N; E, F: this
             script's torch_example_step (--torch-example), the examples'
             torch_reference.py models as examples_vs_torch.py runs them,
             torch.set_num_threads(N) under OMP_NUM_THREADS=N (Debian's
             torch runs its convolutions in oneDNN, threaded by OpenMP),
             OPENBLAS_NUM_THREADS=N and, as for A-D, OMP_WAIT_POLICY=
             passive (examples_vs_torch.py leaves libgomp's spinning
             default, with which a busy 2-core machine made torch's
             2-thread F step ~40x and E step ~3x slower)
  hand       benchmarks/hand/hand.cpp: hand-derived backward with OpenBLAS
             sgemm (sgemv for D), SGD fused into the weight-gradient sgemm,
             fused elementwise loops, openblas_set_num_threads(N)
  numpy      benchmarks/baselines/numpy_steps.py, float32,
             OPENBLAS_NUM_THREADS=N
  X/ours     time of X over time of ours JIT: > 1 means we are faster.
E and F run only ours JIT, ours AOT and torch: hand and numpy have no
version of them, plain loops would take many seconds per step, and
ours+blas is left out to bound the compile time ("-" in the tables).
The AOT driver reads each input in the element type the generated
header's model_train_step declares (float, or int64_t for E's labels and
F's tokens and targets; -DTAPE_IN<i>_T).

GFLOP/s (models B-F): 3 matmuls per dense layer per step (forward,
input gradient, weight gradient), each 2*M*N*K, even for the first layer
whose input gradient nobody computes; bias, activation, loss and
optimizer work is not counted. E and F count their matmul-shaped
products as benchmarks/examples_vs_torch.py does, 3 each: E's two
convolutions as im2col products (conv1's input gradient included) and
its two linear layers (4.61 GFLOP per step); F's qkv, output and MLP
projections, the two attention products per batch and head, and the
tied logits (0.755 GFLOP per step). "% sgemm" compares with OpenBLAS's
sgemm on 1024x1024x1024 measured in this run at the same thread count
(the best of 20 calls, before and after the models: the machine's peak).

Memory: peak RSS against the analytic size, variables + optimizer slots
+ gradients + activations (the whole dataset, which every implementation
keeps loaded, and 2 values per layer output). E and F: variables,
Adam's/AdamW's two slots and the gradients of the parameters in the
example's data.py, the dataset (float32 images and int64 labels, int64
tokens and targets) and 2 values per layer output of a batch (E: conv1,
conv2, pooling, fc1, fc2; F per layer: ln_1, qkv, attention scores,
attention output, its projection, ln_2, the MLP's 4C and its
projection, then ln_f and the logits).

Environment: OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE (this machine may
export them to pin AVX2 kernels) are unset for every command that uses
OpenBLAS: numpy, torch, hand, the sgemm measurement and ours+blas, so that
OpenBLAS picks its best kernels for this CPU; ours without BLAS runs with
the environment as it is (it does not read them).

Usage: /usr/bin/python3 benchmarks/train_steps.py --tape-run build/bin/tape-run
         --tape-compile build/bin/tape-compile [--steps N] [--threads 1,2]
         [--models A,B,C,D | E,F | all] [--skip-loops]
         [--openblas-coretype SkylakeX]
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

# The examples' models (benchmarks/examples_vs_torch.py's "cnn" and "gpt"):
# their own data.py makes the data and the initial weights, their
# torch_reference.py the PyTorch model. Only ours (JIT, AOT) and torch run
# them (`columns`); `unchecked`: columns whose losses are not compared with
# ours (E's dropout: our Philox masks are not torch's). `matmuls` (M, K, N)
# are the matmul-shaped products GFLOP/s counts, 3 per step each, as
# examples_vs_torch.py counts them: E's convolutions as im2col products
# (conv1's input gradient included, like a first dense layer), F's
# projections, MLP, attention products (per batch and head) and tied logits.
GPT = dict(V=512, T=64, B=4, C=128, NH=4, L=2)  # gen_gpt.py's defaults
MODELS.update({
    "E": dict(title="E MNIST CNN b64 Adam dropout", example="cnn",
              mlir="examples/cnn/mnist_cnn.mlir", layers=[],
              matmuls=[(64 * 26 * 26, 9, 32), (64 * 24 * 24, 288, 64),
                       (64, 9216, 128), (64, 128, 10)],
              optimizer="adam", batch=64, rows=640, scale=0.1,
              columns=("ours JIT", "ours AOT", "torch"),
              unchecked=("torch",)),
    "F": dict(title="F GPT-2 V512 T64 B4 C128 L2 AdamW", example="gpt",
              mlir=None, layers=[],  # generated: examples/gpt/gen_gpt.py
              matmuls=[(GPT["B"] * GPT["T"], GPT["C"], n * GPT["C"])
                       for _ in range(GPT["L"]) for n in (3, 1, 4)]
              + [(GPT["B"] * GPT["T"], 4 * GPT["C"], GPT["C"])] * GPT["L"]
              + [(GPT["B"] * GPT["NH"] * GPT["T"], GPT["C"] // GPT["NH"],
                  GPT["T"]),
                 (GPT["B"] * GPT["NH"] * GPT["T"], GPT["T"],
                  GPT["C"] // GPT["NH"])] * GPT["L"]
              + [(GPT["B"] * GPT["T"], GPT["C"], GPT["V"])],
              optimizer="adamw", batch=GPT["B"] * GPT["T"],
              rows=GPT["B"] * GPT["T"] * 10, scale=0.5,
              columns=("ours JIT", "ours AOT", "torch"), unchecked=()),
})
DEFAULT_MODELS = "A,B,C,D"  # E and F on request: they compile for seconds


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


def example_module(model, name):
    """examples/<cnn|gpt>/<name>.py of an example model, loaded under its
    own module name (both examples have a data.py)."""
    example = MODELS[model]["example"]
    key = f"_{example}_{name}"
    if key not in sys.modules:
        path = os.path.join(ROOT, "examples", example, f"{name}.py")
        spec = importlib.util.spec_from_file_location(key, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.modules[key] = module
    return sys.modules[key]


def model_file(model, work):
    """The model's .mlir: in the tree, or generated into `work` (F)."""
    if MODELS[model]["mlir"]:
        return os.path.join(ROOT, MODELS[model]["mlir"])
    return os.path.join(work, "model.mlir")


def prepare_example(model, work):
    """E, F: the example's data.py data and initial weights as .npy (for
    tape-run and torch) and raw .bin files in their own dtypes (the AOT
    driver: float32 images, int64 labels, tokens and targets); F's model
    written by gen_gpt.py."""
    import numpy as np
    data = example_module(model, "data")
    m = MODELS[model]
    if model == "E":
        a, b = data.dataset(m["rows"])
        weights = data.initial_weights()
        inputs = {"x": a, "labels": b}
    else:
        a, b = data.tokens(m["rows"], GPT["V"])
        weights = data.initial_weights(GPT["V"], GPT["T"], GPT["C"], GPT["L"])
        inputs = {"tokens": a, "targets": b}
        mlir = run([sys.executable,
                    os.path.join(ROOT, "examples/gpt/gen_gpt.py"),
                    "--vocab", str(GPT["V"]), "--seq", str(GPT["T"]),
                    "--batch", str(GPT["B"]), "--channels", str(GPT["C"]),
                    "--heads", str(GPT["NH"]), "--layers", str(GPT["L"])])[0]
        with open(model_file(model, work), "w") as f:
            f.write(mlir)
    for k, v in list(inputs.items()) + list(weights.items()):
        np.save(f"{work}/{k}.npy", v)
        v.tofile(f"{work}/{k}.bin")
    for i, v in enumerate(inputs.values()):
        v.tofile(f"{work}/in{i}.bin")
    per_batch = [v[:m["batch"]].size for v in inputs.values()]
    return ([f"{work}/{k}.npy" for k in inputs],
            [f"{k}={work}/{k}.npy" for k in weights], per_batch)


def prepare(model, work):
    """Writes the model's data and initial weights as .npy (for tape-run,
    torch, numpy) and raw float32 .bin (hand, AOT driver) files."""
    import numpy as np
    rng = np.random.default_rng(5)
    if "example" in MODELS[model]:
        return prepare_example(model, work)
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
    m = MODELS[model]
    return sum(3 * 2 * b * k * n for b, k, n in m.get("matmuls", m["layers"]))


def analytic_bytes(model):
    """Variables + optimizer slots + parameter gradients + activations, in
    bytes: activations = the whole dataset (every implementation keeps it
    loaded) + two values per layer output (pre-activation and activation;
    logits and softmax for the last layer). E, F: the parameters of the
    example's data.py, the dataset (float32 images, int64 labels, tokens
    and targets) and two float32 values per layer output of one batch."""
    m = MODELS[model]
    if "example" in m:
        data = example_module(model, "data")
        if model == "E":
            shapes = data.SHAPES.values()
            dataset = m["rows"] * (28 * 28 * 4 + 8)
            # conv1, conv2, pooling, fc1, fc2, per image
            outputs = m["batch"] * (32 * 26 * 26 + 64 * 24 * 24
                                    + 64 * 12 * 12 + 128 + 10)
        else:
            shapes = [shape for shape, _ in data.parameters(
                GPT["V"], GPT["T"], GPT["C"], GPT["L"]).values()]
            dataset = 2 * m["rows"] * 8
            # per token and layer: ln_1 C, qkv 3C, scores NH*T, attention
            # C, projection C, ln_2 C, MLP 4C, projection C; ln_f, logits
            per_layer = 12 * GPT["C"] + GPT["NH"] * GPT["T"]
            outputs = m["batch"] * (GPT["L"] * per_layer + GPT["C"] + GPT["V"])
        dataset += 4 * 2 * outputs
        params = 0
        for shape in shapes:
            size = 1
            for d in shape:
                size *= d
            params += size
        slots = 2 * params  # Adam's and AdamW's m and v
        return {"variables": 4 * params, "slots": 4 * slots,
                "gradients": 4 * params, "activations": dataset,
                "total": 4 * (2 * params + slots) + dataset}
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
        self.files = {}  # model -> .mlir path, where not in the tree (F)

    def file(self, model):
        return self.files.get(model) or model_file(model, None)

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
        args = [self.opts.tape_run, self.file(model),
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
        args = [self.opts.tape_run, self.file(model),
                "--print-vars", "none", "--steps", "0"] + extra
        args += [a for i in inputs for a in ("--input", i)]
        args += [f"--init={i}" for i in inits]
        return run(args)[3]

    # C element types of the step's inputs in the generated header, and
    # the numpy dtypes of the in<i>.bin files they read.
    C_TYPES = {"float": "float32", "double": "float64", "int64_t": "int64",
               "int32_t": "int32", "int8_t": "int8", "uint8_t": "uint8",
               "bool": "bool"}

    def aot_build(self, model, threads, work, input_dtypes=()):
        """Compiles the model to an object and links the driver; returns
        (driver path, tape-compile seconds, workspace bytes) or raises.
        input_dtypes: the numpy dtype names of the in<i>.bin files, which
        must be the element types the header declares."""
        if threads != 1 and not self.aot_threads:
            return None
        d = os.path.join(work, f"aot{threads}")
        os.makedirs(d, exist_ok=True)
        args = [self.opts.tape_compile, self.file(model),
                "-o", f"{d}/model.o", "--header", f"{d}/model.h"]
        if self.aot_threads:
            args.append(f"{self.aot_threads}={threads}")
        _, _, _, seconds = run(args)
        header = open(f"{d}/model.h").read()
        raw = re.search(r"void model_train_step_raw\(([^)]*)\)", header)
        if not raw:
            raise Failure("generated header has no model_train_step_raw")
        params = raw.group(1)
        in_types = re.findall(r"const (\w+) \*in\d+\b", params)
        n_out = len(re.findall(r"(?<!const )\b\w+ \*out\d+\b", params))
        ws = re.search(r"workspace = aligned_alloc\(\d+, (\d+)\)", header)
        if input_dtypes and [self.C_TYPES.get(t) for t in in_types] != \
                list(input_dtypes):
            raise Failure(f"{model}: the header's step takes {in_types}, the "
                          f"inputs are {list(input_dtypes)}")
        cmd = ["cc", "-O2", "-std=c11", "-Werror=incompatible-pointer-types",
               f"-I{d}", '-DTAPE_HEADER="model.h"',
               f"-DTAPE_INPUTS={len(in_types)}", f"-DTAPE_OUTPUTS={n_out}"]
        cmd += [f"-DTAPE_IN{i}_T={t}" for i, t in enumerate(in_types)]
        cmd += [os.path.join(HERE, "aot/driver.c"), f"{d}/model.o",
                "-o", f"{d}/driver"]
        # Libraries the header asks for ("/* Link with: -L... -lomp -lm */").
        libs = [f for group in re.findall(r"Link with:([^*]*)\*/", header)
                for f in group.split()]
        libs += [f"-Wl,-rpath,{f[2:]}" for f in libs if f.startswith("-L")]
        run(cmd + libs + ["-lm"])
        return f"{d}/driver", seconds, int(ws.group(1)) if ws else 0


def torch_example_step(argv):
    """E, F in PyTorch eager: `train_steps.py --torch-example MODEL WORKDIR
    STEPS THREADS` (train_steps.py runs itself so). The example's
    torch_reference.py model (E: Net with dropout 0.25 / 0.5 turned on, in
    training mode; F: GPT), the weights and data prepare_example wrote,
    torch.optim.Adam(lr=1e-3) (E, #tape.adamw with no decay) or AdamW
    (F: lr 3e-4, eps 1e-8, decay 0.1 on the matrices only), as
    examples_vs_torch.py runs them; step k takes batch k mod (batches).
    Prints one JSON line like baselines/torch_steps.py's."""
    import numpy as np
    import torch
    import torch.nn.functional as F
    model, work, steps, threads = argv[0], argv[1], int(argv[2]), int(argv[3])
    torch.set_num_threads(threads)
    torch.manual_seed(0)  # E's dropout masks: the same in every run
    sys.path.insert(0, os.path.join(ROOT, "examples", MODELS[model]["example"]))
    import torch_reference as ref
    if model == "E":
        net = ref.Net()
        net.dropout1.p, net.dropout2.p = 0.25, 0.5
        names = ("x", "labels")
    else:
        if (ref.V, ref.T, ref.B, ref.C, ref.NH, ref.L) != tuple(GPT.values()):
            sys.exit("examples/gpt/torch_reference.py's configuration is not "
                     f"train_steps.py's {GPT}")
        import model as gpt
        net = gpt.GPT(ref.V, ref.T, ref.B, ref.C, ref.NH, ref.L)
        names = ("tokens", "targets")
    net.train()
    with torch.no_grad():  # every parameter from data.py's weights
        for name, p in net.named_parameters():
            p.copy_(torch.from_numpy(np.load(f"{work}/{name}.npy")))
    if model == "E":
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    else:
        opt = torch.optim.AdamW(
            [{"params": [p for p in net.parameters() if p.dim() == 2],
              "weight_decay": 0.1},
             {"params": [p for p in net.parameters() if p.dim() != 2],
              "weight_decay": 0.0}],
            lr=3e-4, betas=(0.9, 0.999), eps=1e-8)
    a, b = (torch.from_numpy(np.load(f"{work}/{n}.npy")) for n in names)
    rows = MODELS[model]["batch"]
    batches = a.shape[0] // rows
    times, losses = [], []
    for k in range(steps):
        sl = slice((k % batches) * rows, (k % batches + 1) * rows)
        t = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        if model == "E":
            loss = F.nll_loss(net(a[sl]), b[sl])
        else:
            loss = gpt.loss(net(a[sl].view(ref.B, ref.T)),
                            b[sl].view(ref.B, ref.T))
        loss.backward()
        opt.step()
        times.append(time.perf_counter() - t)
        if len(losses) < 3:
            losses.append(float(loss))
    times.sort()
    blas = sorted({l.split()[-1] for l in open("/proc/self/maps")
                   if "blas" in l.lower()
                   and l.split()[-1].endswith(tuple("0123456789o"))})
    print(json.dumps({"median_us": times[len(times) // 2] * 1e6,
                      "min_us": times[0] * 1e6, "losses": losses,
                      "blas": blas, "torch": torch.__version__,
                      "threads": torch.get_num_threads(),
                      "mkldnn": torch.backends.mkldnn.is_available()}))
    return 0


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
                    help="timed steps per measurement (A: 100x, C: 1/4, "
                         "E: 1/10, F: 1/2; at least 3)")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--rounds", type=int, default=3,
                    help="measurements of each cell, taken in turn with the "
                    "other columns; the table shows the median (default 3)")
    ap.add_argument("--models", default=DEFAULT_MODELS,
                    help=f"comma-separated, of {','.join(MODELS)}, or all "
                         f"(default {DEFAULT_MODELS}: E and F take seconds "
                         "to compile, each compile of them again)")
    ap.add_argument("--openblas-coretype", default="",
                    help="OPENBLAS_CORETYPE for the OpenBLAS users (numpy, "
                         "torch, hand, sgemm, ours+blas), e.g. SkylakeX where "
                         "OpenBLAS does not recognize the CPU")
    ap.add_argument("--skip-loops", action="store_true",
                    help="skip the slow plain-loops (--no-vectorize) column")
    opts = ap.parse_args()
    threads = [int(t) for t in opts.threads.split(",")]
    models = [m.strip().upper() for m in opts.models.split(",")]
    if models == ["ALL"]:
        models = list(MODELS)
    for m in models:
        if m not in MODELS:
            ap.error(f"unknown model {m} ({', '.join(MODELS)} or all)")
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
    import numpy as np
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

    def example_torch_env(n):
        # E, F as examples_vs_torch.py runs them: torch's convolutions
        # (oneDNN) and its other kernels thread through OpenMP, so
        # OMP_NUM_THREADS=N. OMP_WAIT_POLICY stays passive as for A-D:
        # with libgomp's default (spinning) policy, a second thread on a
        # busy 2-core machine took torch from ~25 ms to ~1 s per F step
        # and from ~130 ms to ~420 ms per E step.
        return dict(env_for(n), OMP_NUM_THREADS=str(n))

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
            if not MODELS[model]["mlir"]:
                tape.files[model] = model_file(model, mwork)
            input_dtypes = [np.load(i, mmap_mode="r").dtype.name
                            for i in inputs]
            steps = max(3, int(opts.steps * MODELS[model]["scale"]))
            mem = {"analytic": analytic_bytes(model)}
            aot = {}
            unchecked = MODELS[model].get("unchecked", ())

            def implementations(n):
                """(column, function of the step count) for n threads."""
                columns = MODELS[model].get("columns", COLUMNS)
                return [(c, f) for c, f in all_implementations(n)
                        if c in columns]

            def all_implementations(n):
                impls = []
                extra = tape.flags(n)
                if extra is not None:
                    impls.append(("ours JIT", lambda k, e=extra: tape.jit(
                        model, inputs, inits, k, e, base_env)))
                if tape.aot_threads or n == 1:
                    def ours_aot(k):
                        if n not in aot:
                            aot[n] = tape.aot_build(model, n, mwork,
                                                    input_dtypes)
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
                if "example" in MODELS[model]:
                    def torch_example(k):
                        out, _, rss, _ = run(
                            [sys.executable, os.path.abspath(__file__),
                             "--torch-example", model, mwork, str(k or 3),
                             str(n)], env=example_torch_env(n))
                        return dict(last_json(out), rss=rss)
                    impls.append(("torch", torch_example))
                else:
                    impls.append(("torch", lambda k: proc(
                        [sys.executable,
                         os.path.join(HERE, "baselines/torch_steps.py"),
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
                if col in unchecked:
                    print(f"  {col:<10} losses {r['losses']} (not compared: "
                          "dropout masks differ)", flush=True)
                else:
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
                # --rounds rounds, each column once per round in turn, so
                # that a burst of load on the shared machine hits one
                # round of one column, not a whole column: each cell is
                # the run with the median of the rounds' medians.
                runs = {}
                for round_ in range(opts.rounds):
                    for col, fn in implementations(n):
                        if col in broken or (col in row and row[col] is None):
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
                        if col not in unchecked:
                            agree(col, model, ref, r["losses"])
                        runs.setdefault(col, []).append(r)
                        print(f"  {n} thr {col:<10} "
                              f"{fmt_time(r['median_us']):>10} (round "
                              f"{round_ + 1}/{opts.rounds})", flush=True)
                for col, rs in runs.items():
                    if row.get(col, True) is None:
                        continue
                    rs.sort(key=lambda r: r["median_us"])
                    r = row[col] = rs[(len(rs) - 1) // 2]
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
            name = MODELS[model]["title"]
            if MODELS[model].get("unchecked"):
                name += " *"
            row = [name, n] + [cell(r, c, fmt_time) for c in cols]
            ours = t.get("ours JIT")
            for c in ("hand", "torch", "numpy"):
                row.append(f"{t[c] / ours:.2f}" if ours and c in t else "-")
            if "ours+blas" in cols:
                row.append(f"{t['hand'] / t['ours+blas']:.2f}"
                           if "ours+blas" in t and "hand" in t else "-")
            rows.append(row)
    print_table(header, rows)
    for model in models:
        if MODELS[model].get("unchecked"):
            print(f"(* {MODELS[model]['title']}: "
                  f"{' and '.join(MODELS[model]['unchecked'])}'s losses not "
                  "compared with ours: the step has dropout, whose masks come "
                  "from our Philox generator and differ from torch's; ours JIT "
                  "and AOT, with the same masks, are)")
    if any("columns" in MODELS[m] for m in models):
        print("(" + ", ".join(m for m in models if "columns" in MODELS[m])
              + ": only ours and torch run them; -: not applicable)")

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
              "the first layer's input gradient included"
              + ("; E, F: 3 per matmul-shaped product: E's convolutions as "
                 "im2col products and its linear layers, F's projections, "
                 "MLP, attention products and tied logits"
                 if any("matmuls" in MODELS[m] for m in models) else "")
              + "; sgemm: the best of 20 calls, before and after the models: "
              + ", ".join(f"{n} thread(s) {sgemm[n]:.1f} GFLOP/s"
                          for n in threads) + ")\n")
        print_table(["model", "thr", "MFLOP/step"] + gcols, rows)

    print(f"\nMemory: peak RSS of each process at {threads[0]} thread(s) "
          "against the analytic size (variables + optimizer slots + "
          "gradients + activations: the whole dataset and 2 values per "
          "layer output"
          + ("; E, F: of one batch, E's conv1, conv2, pooling and linear "
             "outputs, F's per-layer outputs and the logits"
             if any("example" in MODELS[m] for m in models) else "")
          + "); ours' compile times\n")
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
    if sys.argv[1:2] == ["--torch-example"]:
        sys.exit(torch_example_step(sys.argv[2:]))
    sys.exit(main())
