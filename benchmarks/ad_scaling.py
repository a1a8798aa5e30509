#!/usr/bin/python3
"""How tape-differentiate scales with program size.

Generates recording regions of N ops, two shapes of program:
  chain: a long elementwise chain on a small tensor (sin, mul, add, exp...);
  mlp:   stacked dense layers (matmul + broadcast bias + relu) ending in a
         sum, so linalg rules and broadcasts dominate;
and times `tape-opt --tape-differentiate` and `--tape-verify-assignments`
on each with --mlir-timing (best of --repeat runs): the pass alone, and for
the AD pass the whole run including parsing and printing. Prints the pass time per op, which stays flat when the pass is
linear, and for the MLP how many forward values the backward code keeps
alive (forward results used after the first backward op).
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

CHAIN_OPS = ["math.sin", "arith.mulf", "arith.addf", "math.exp", "math.tanh"]


def chain(n):
    lines = ["func.func @f(%x: tensor<8xf32>) -> tensor<8xf32> {",
             "  %t, %y = tape.record {", "    tape.watch %x : tensor<8xf32>"]
    prev = "%x"
    for i in range(n):
        op = CHAIN_OPS[i % len(CHAIN_OPS)]
        if op in ("arith.mulf", "arith.addf"):
            lines.append(f"    %v{i} = {op} {prev}, %x : tensor<8xf32>")
        else:
            lines.append(f"    %v{i} = {op} {prev} : tensor<8xf32>")
        prev = f"%v{i}"
    lines += [f"    tape.yield {prev} : tensor<8xf32>", "  } : tensor<8xf32>",
              "  %g = tape.gradient %t (%y : tensor<8xf32>) wrt (%x : tensor<8xf32>)",
              "  return %g : tensor<8xf32>", "}"]
    return "\n".join(lines) + "\n"


def mlp(layers):
    """A train step whose dense layers share one weight variable; each layer
    is 6 ops: empty, fill, matmul, broadcast, addf, maximumf."""
    w = 16
    t = f"tensor<4x{w}xf32>"
    wt = f"tensor<{w}x{w}xf32>"
    r = f"!tape.resource<{wt}>"
    lines = [f"tape.variable @w : {wt} = #tape.random_normal<stddev = 0.1, seed = 1>",
             f"tape.step @f(%x: {t}, %b: tensor<{w}xf32>) -> tensor<f32> {{",
             "  %zero = arith.constant 0.0 : f32",
             f"  %zeros = arith.constant dense<0.0> : {t}",
             f"  %hw = tape.handle @w : {r}",
             "  %t, %y = tape.record {",
             f"    %wv = tape.read %hw : {r}"]
    prev = "%x"
    for i in range(layers):
        lines += [
            f"    %e{i} = tensor.empty() : {t}",
            f"    %z{i} = linalg.fill ins(%zero : f32) outs(%e{i} : {t}) -> {t}",
            f"    %m{i} = linalg.matmul ins({prev}, %wv : {t}, {wt}) outs(%z{i} : {t}) -> {t}",
            f"    %bb{i} = linalg.broadcast ins(%b : tensor<{w}xf32>) outs(%e{i} : {t}) dimensions = [0]",
            f"    %a{i} = arith.addf %m{i}, %bb{i} : {t}",
            f"    %h{i} = arith.maximumf %a{i}, %zeros : {t}"]
        prev = f"%h{i}"
    lines += [
        "    %ze = tensor.empty() : tensor<f32>",
        "    %zi = linalg.fill ins(%zero : f32) outs(%ze : tensor<f32>) -> tensor<f32>",
        f"    %l = linalg.reduce ins({prev} : {t}) outs(%zi : tensor<f32>) dimensions = [0, 1]",
        "      (%in: f32, %acc: f32) {",
        "        %s = arith.addf %in, %acc : f32",
        "        linalg.yield %s : f32",
        "      }",
        "    tape.yield %l : tensor<f32>", "  } : tensor<f32>",
        f"  %g = tape.gradient %t (%y : tensor<f32>) wrt (%hw : {r})",
        f"  tape.apply_gradients #tape.sgd<learning_rate = 0.01> (%g : {wt}) to (%hw : {r})",
        "  tape.return %y : tensor<f32>", "}"]
    return "\n".join(lines) + "\n"


def best_times(cmd, repeat, pass_name="TapeDifferentiate"):
    """(pass seconds, whole-run seconds), each the best of `repeat` runs."""
    best_pass = best_total = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        p = subprocess.run(cmd + ["--mlir-timing", "-o", os.devnull],
                           check=True, capture_output=True, text=True)
        best_total = min(best_total, time.perf_counter() - start)
        m = re.search(r"([\d.]+) \(\s*[\d.]+%\)\s+" + pass_name, p.stderr)
        best_pass = min(best_pass, float(m.group(1)))
    return best_pass, best_total


def live_forward_values(ir_text):
    """Forward values (defined before the first backward op, the seed
    constant of 1.0) that are used after it."""
    lines = ir_text.splitlines()
    seed = next(i for i, l in enumerate(lines)
                if "arith.constant dense<1.000000e+00>" in l)
    defined = set()
    for l in lines[:seed]:
        m = re.match(r"\s*(%[\w#]+)(:\d+)? = ", l)
        if m:
            defined.add(m.group(1))
    used = set()
    for l in lines[seed:]:
        used.update(re.findall(r"%[\w]+", l))
    return len(defined & used)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tape-opt", required=True)
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--repeat", type=int, default=3)
    opts = ap.parse_args()
    sizes = [int(s) for s in opts.sizes.split(",")]
    print(f"{'program':<8} {'ops':>8} {'AD pass s':>10} {'whole run s':>12} "
          f"{'AD us/op':>9} {'verify s':>9} {'verify us/op':>13} "
          f"{'fwd values kept':>16}")
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("chain", "mlp"):
            for n in sizes:
                text = chain(n) if kind == "chain" else mlp(max(1, n // 6))
                ops = n if kind == "chain" else max(1, n // 6) * 6
                path = os.path.join(tmp, f"{kind}{n}.mlir")
                with open(path, "w") as f:
                    f.write(text)
                ad, total = best_times(
                    [opts.tape_opt, path, "--tape-differentiate"], opts.repeat)
                verify, _ = best_times(
                    [opts.tape_opt, path, "--tape-verify-assignments"],
                    opts.repeat, "TapeVerifyAssignments")
                kept = ""
                if kind == "mlp":
                    out = subprocess.run(
                        [opts.tape_opt, path, "--tape-differentiate"],
                        check=True, capture_output=True, text=True).stdout
                    kept = str(live_forward_values(out))
                print(f"{kind:<8} {ops:>8} {ad:>10.3f} {total:>12.3f} "
                      f"{ad / ops * 1e6:>9.2f} {verify:>9.3f} "
                      f"{verify / ops * 1e6:>13.2f} {kept:>16}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
