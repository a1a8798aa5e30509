#!/usr/bin/python3
"""Executes compiled matmuls against numpy float64: every combination of
transposed operands, sizes that are and are not multiples of the register
tile and of the cache blocks, and an accumulating output (C += A B); an
output that is zero-filled or holds a broadcast bias just before (the
kernel starts from zeros or the bias instead: C = bias + A B), a bias row
(one value per column, a linear layer's) or a bias column (one value per
row, a convolution's per channel, broadcast into [M, 2, N / 2] and
collapsed); and
the same matmuls written as linalg.generic (loops numbered k, m, n, the
operands swapped when B is transposed), which codegen turns back into
linalg.matmul (tape-cpu-specialize-contractions).

Usage: matmul_exec.py TAPE_RUN WORKDIR [tape-run options...]
"""
import os
import subprocess
import sys

import numpy as np

tape_run, work = sys.argv[1], sys.argv[2]
extra = sys.argv[3:]
rng = np.random.default_rng(7)

# (M, N, K): tiles of 6x16 / 8x32 and blocks of 252 rows, 256 deep;
# A^T of 300x9 and 64x64 fits in L1 and is read in place (attention's
# per-head product), larger ones are packed.
SHAPES = [(64, 256, 784), (37, 45, 153), (130, 33, 300), (6, 16, 2731),
          (300, 520, 9), (123, 1, 517), (1024, 1, 64), (64, 32, 64)]
RTOL = 2e-5


def generic_matmul(ash, bsh, m, n, ta, tb, t):
    """C += A B as a linalg.generic over loops (d0, d1, d2) = (k, m, n)."""
    amap = "(d0, d1)" if ta else "(d1, d0)"
    bmap = "(d2, d0)" if tb else "(d0, d2)"
    ins = [("%a", amap, t(ash)), ("%b", bmap, t(bsh))]
    if tb:
        ins.reverse()
    maps = ", ".join(f"affine_map<(d0, d1, d2) -> {mp}>" for _, mp, _ in ins)
    return (f"  %r = linalg.generic {{indexing_maps = [{maps}, "
            f"affine_map<(d0, d1, d2) -> (d1, d2)>], iterator_types = "
            f"[\"reduction\", \"parallel\", \"parallel\"]}} "
            f"ins({ins[0][0]}, {ins[1][0]} : {ins[0][2]}, {ins[1][2]}) "
            f"outs(%c : {t((m, n))}) {{\n"
            f"  ^bb0(%x: f32, %y: f32, %z: f32):\n"
            f"    %p = arith.mulf %x, %y : f32\n"
            f"    %s = arith.addf %z, %p : f32\n"
            f"    linalg.yield %s : f32\n"
            f"  }} -> {t((m, n))}")


def case(m, n, k, ta, tb, fill=False, generic=False, bias=False,
         per_row=False):
    ash = (k, m) if ta else (m, k)
    bsh = (n, k) if tb else (k, n)
    a = rng.standard_normal(ash).astype(np.float32)
    b = rng.standard_normal(bsh).astype(np.float32)
    c = rng.standard_normal((m, n)).astype(np.float32)
    d = rng.standard_normal((m if per_row else n,)).astype(np.float32)
    name = f"{m}x{n}x{k}{'_ta' if ta else ''}{'_tb' if tb else ''}" + \
        ("_fill" if fill else "") + ("_bias" if bias else "") + \
        ("_per_row" if per_row else "") + \
        ("_generic" if generic else "")
    operands = (("a", a), ("b", b), ("c", c)) + ((("d", d),) if bias else ())
    for v, arr in operands:
        np.save(f"{work}/{name}_{v}.npy", arr)
    if fill:  # C = A B into a zero-filled output (the kernel drops the fill)
        c = np.zeros((m, n), np.float32)
    if bias:  # C = bias + A B, the bias broadcast first
        c = np.broadcast_to(d[:, None] if per_row else d, (m, n))
    t = lambda s: f"tensor<{s[0]}x{s[1]}xf32>"
    lines = [f"func.func @main(%a: {t(ash)}, %b: {t(bsh)}, %c: {t((m, n))}"
             + (f", %d: tensor<{len(d)}xf32>" if bias else "") +
             f") -> {t((m, n))} {{"]
    av, bv = "%a", "%b"
    if fill:
        lines.append("  %zero = arith.constant 0.0 : f32")
        lines.append(f"  %cz = linalg.fill ins(%zero : f32) outs(%c : {t((m, n))})"
                     f" -> {t((m, n))}")
    if bias and not per_row:
        lines.append(f"  %cz = linalg.broadcast ins(%d : tensor<{n}xf32>) "
                     f"outs(%c : {t((m, n))}) dimensions = [0]")
    if bias and per_row:  # as a convolution's image: [M, 2, N / 2]
        t3 = f"tensor<{m}x2x{n // 2}xf32>"
        lines.append(f"  %e = tensor.empty() : {t3}")
        lines.append(f"  %c3 = linalg.broadcast ins(%d : tensor<{m}xf32>) "
                     f"outs(%e : {t3}) dimensions = [1, 2]")
        lines.append(f"  %cz = tensor.collapse_shape %c3 [[0], [1, 2]] : "
                     f"{t3} into {t((m, n))}")
    # Transposes as reverse-mode AD writes them: indexing maps that read
    # the stored operand (A stored K x M, B stored N x K).
    maps = ""
    if ta or tb:
        amap = "(d2, d0)" if ta else "(d0, d2)"
        bmap = "(d1, d2)" if tb else "(d2, d1)"
        maps = (f" indexing_maps = [affine_map<(d0, d1, d2) -> {amap}>, "
                f"affine_map<(d0, d1, d2) -> {bmap}>, "
                f"affine_map<(d0, d1, d2) -> (d0, d1)>]")
    if generic:
        lines.append(generic_matmul(ash, bsh, m, n, ta, tb, t))
    else:
        lines.append(f"  %r = linalg.matmul{maps} ins({av}, {bv} : {t(ash)}, "
                     f"{t(bsh)}) outs({'%cz' if fill or bias else '%c'} : "
                     f"{t((m, n))}) -> {t((m, n))}")
    lines.append(f"  return %r : {t((m, n))}")
    lines.append("}")
    src = f"{work}/{name}.mlir"
    with open(src, "w") as f:
        f.write("\n".join(lines) + "\n")
    p = subprocess.run([tape_run, src, "--entry", "main", "--print-outputs",
                        "--precision", "0"] + extra +
                       [a for v, _ in operands for a in
                        ("--input", f"{work}/{name}_{v}.npy")],
                       capture_output=True, text=True)
    if p.returncode:
        return name, False, p.stderr[-2000:]
    got = np.array([float(x) for x in p.stdout.split(":", 1)[1].split()])
    A = a.astype(np.float64).T if ta else a.astype(np.float64)
    B = b.astype(np.float64).T if tb else b.astype(np.float64)
    want = (c.astype(np.float64) + A @ B).ravel()
    scale = np.abs(c.astype(np.float64)).ravel() + \
        (np.abs(A) @ np.abs(B)).ravel()
    err = np.max(np.abs(got - want) / np.maximum(scale, 1.0))
    return name, err <= RTOL, f"max relative error {err:.1e}"


failed = 0
for m, n, k in SHAPES:
    for ta in (False, True):
        for tb in (False, True):
            name, ok, msg = case(m, n, k, ta, tb)
            print(f"{'PASS' if ok else 'FAIL'} {name}: {msg}")
            failed += not ok
# Zero-filled outputs, over several depth slices.
FILLED = [(64, 256, 784), (130, 33, 300), (6, 16, 2731)]
for m, n, k in FILLED:
    name, ok, msg = case(m, n, k, False, True, fill=True)
    print(f"{'PASS' if ok else 'FAIL'} {name}: {msg}")
    failed += not ok
# A bias row broadcast into the output: over several depth slices, partial
# column panels, and a B read in place.
BIASED = [(64, 256, 784, True), (130, 33, 300, False), (37, 45, 153, True),
          (256, 128, 512, False)]
for m, n, k, tb in BIASED:
    name, ok, msg = case(m, n, k, False, tb, bias=True)
    print(f"{'PASS' if ok else 'FAIL'} {name}: {msg}")
    failed += not ok
# A bias column (a value per row) broadcast into the 3-d output a 2-d C
# collapses: over several depth slices, a last partial row panel, A read
# transposed, and the conv2 shape of the MNIST CNN.
PER_ROW = [(64, 256, 784, False), (130, 34, 300, False), (37, 46, 153, True),
           (64, 576, 288, False)]
for m, n, k, ta in PER_ROW:
    name, ok, msg = case(m, n, k, ta, False, bias=True, per_row=True)
    print(f"{'PASS' if ok else 'FAIL'} {name}: {msg}")
    failed += not ok
# Written as generics.
GENERIC = [(64, 256, 784), (37, 45, 153), (123, 1, 517)]
for m, n, k in GENERIC:
    for ta in (False, True):
        for tb in (False, True):
            name, ok, msg = case(m, n, k, ta, tb, generic=True)
            print(f"{'PASS' if ok else 'FAIL'} {name}: {msg}")
            failed += not ok
total = 4 * len(SHAPES) + len(FILLED) + len(BIASED) + len(PER_ROW) + \
    4 * len(GENERIC)
print(f"matmul_exec: {total - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
