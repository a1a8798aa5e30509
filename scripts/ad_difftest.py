#!/usr/bin/python3
"""Randomized differential tester of tape-differentiate.

Generates random train steps and checks every compiled gradient against
float64 central finite differences, executed through the whole
tape-to-llvm pipeline (tape-run). Each program has several variables
(float64 tensors, every one a gradient source) and computes a loss from a
random expression over them built from the supported constructs:

  arith/math elementwise ops, linalg.generic (elementwise with broadcast
  inputs, sum and max reductions, linalg.index, captured scalars and
  tensors read with tensor.extract at computed indices), linalg named ops
  (matmul, transpose, broadcast, reduce), scf.for (static and run-time
  trip counts, nested), scf.if (on constant and run-time conditions),
  scf.while, func.call of helpers that read variables themselves,

with every tape.read placed at a random depth: at the top of the
recording region, or inside a loop body, a branch, a linalg body or a
callee. The module holds

  @g   a tape.step: the expression under tape.record, tape.gradient with
       respect to every variable, returning the gradients;
  @f   a tape.step: the same expression without a tape, returning the sum
       of the loss's elements;
  @main a host function: calls @g, then for every element of every
       variable assigns it +-h, calls @f, restores it; returns everything
       as one float64 tensor, printed exactly by tape-run.

A program passes when |ad - fd| <= rtol * max(1, |fd|) for every element
(h = 1e-6, rtol = 1e-5), and fails when a gradient differs or the
compiler rejects a program built only from supported constructs (so a
rejection is a failure too). Usage:

  ad_difftest.py --tape-run build/bin/tape-run --programs 40 --seed 1
  ad_difftest.py ... --keep DIR     # keep the failing programs
"""
import argparse
import concurrent.futures
import os
import random
import struct
import subprocess
import sys
import tempfile

H = 1e-6
RTOL = 1e-5


def ttype(shape):
    return "tensor<" + "".join(f"{d}x" for d in shape) + "f64>"


def dense(values, shape):
    def nest(vals, shp):
        if not shp:
            return format(float(vals[0]), ".17e")
        step = len(vals) // shp[0]
        return "[" + ", ".join(nest(vals[i * step:(i + 1) * step], shp[1:])
                               for i in range(shp[0])) + "]"
    return f"dense<{nest(values, shape)}> : {ttype(shape)}"


def size(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def unravel(k, shape):
    idx = []
    for d in reversed(shape):
        idx.append(k % d)
        k //= d
    return list(reversed(idx))


class Program:
    """One random program: variables, helpers and the loss expression."""

    def __init__(self, rng, max_depth):
        self.rng = rng
        self.max_depth = max_depth
        self.counter = 0
        # The working shape of the expression: a matrix, so that matmul,
        # transposes, broadcasts and reductions all apply.
        self.shape = rng.choice([[2, 3], [3, 3], [2, 2]])
        rows, cols = self.shape
        self.vars = []  # (name, shape, values)
        nvars = rng.randint(2, 4)
        for i in range(nvars):
            shape = rng.choice([self.shape, self.shape, [cols], []])
            values = [rng.uniform(-1.5, 1.5) for _ in range(size(shape))]
            self.vars.append((f"v{i}", shape, values))
        # A square matrix variable for matmuls: [cols, cols].
        self.vars.append(("m", [cols, cols],
                          [rng.uniform(-1.0, 1.0) for _ in range(cols * cols)]))
        self.helpers = []
        self.used_ops = set()

    def fresh(self, prefix="x"):
        self.counter += 1
        return f"%{prefix}{self.counter}"

    # -- building blocks -------------------------------------------------

    def T(self):
        return ttype(self.shape)

    def read(self, out, var):
        name, shape, _ = var
        h = self.fresh("h")
        r = self.fresh("r")
        out.append(f"{h} = tape.handle @{name} : !tape.resource<{ttype(shape)}>")
        out.append(f"{r} = tape.read {h} : !tape.resource<{ttype(shape)}>")
        return r, shape

    def to_work_shape(self, out, value, shape):
        """Broadcasts a variable's value (matrix, row vector or scalar) to
        the working shape."""
        T = self.T()
        if shape == self.shape:
            return value
        e = self.fresh("e")
        out.append(f"{e} = tensor.empty() : {T}")
        r = self.fresh("b")
        if shape == []:
            s = self.fresh("s")
            out.append(f"{s} = tensor.extract {value}[] : tensor<f64>")
            out.append(f"{r} = linalg.fill ins({s} : f64) outs({e} : {T}) -> {T}")
            self.used_ops.add("linalg.fill")
        else:
            out.append(f"{r} = linalg.broadcast ins({value} : {ttype(shape)}) "
                       f"outs({e} : {T}) dimensions = [0]")
            self.used_ops.add("linalg.broadcast")
        return r

    def const(self, out):
        vals = [self.rng.uniform(-1, 1) for _ in range(size(self.shape))]
        c = self.fresh("c")
        out.append(f"{c} = arith.constant {dense(vals, self.shape)}")
        return c

    def pick_var(self):
        return self.rng.choice(self.vars[:-1])

    # -- tensor expressions of the working shape --------------------------

    def expr(self, out, depth, scope):
        """Emits ops computing a tensor of the working shape; returns it.
        `scope`: values of the working shape usable here."""
        rng = self.rng
        T = self.T()
        leaf_p = 0.15 + 0.15 * depth
        if depth >= self.max_depth or rng.random() < leaf_p:
            k = rng.random()
            if k < 0.55:
                value, shape = self.read(out, self.pick_var())
                return self.to_work_shape(out, value, shape)
            if k < 0.85 and scope:
                return rng.choice(scope)
            return self.const(out)
        kind = rng.choice(["unary", "unary", "binary", "binary", "for",
                           "for_dynamic", "if", "if_dynamic", "while",
                           "generic", "generic_gather", "reduce",
                           "named", "matmul", "call"])
        getattr(self, "gen_" + kind)(out, depth, scope)
        return self.last

    def gen_unary(self, out, depth, scope):
        T = self.T()
        x = self.expr(out, depth + 1, scope)
        op = self.rng.choice(["tanh", "sin", "cos", "exp_tanh", "neg", "sq",
                              "log1psq", "sqrt1psq", "sigmoid", "erf",
                              "atan", "cbrt1p", "asinh", "sinh_tanh",
                              "expm1_tanh"])
        r = self.fresh()
        if op in ("tanh", "sin", "cos", "erf", "atan", "asinh"):
            out.append(f"{r} = math.{op} {x} : {T}")
            self.used_ops.add(f"math.{op}")
        elif op in ("exp_tanh", "sinh_tanh", "expm1_tanh"):
            fn = {"exp_tanh": "exp", "sinh_tanh": "sinh",
                  "expm1_tanh": "expm1"}[op]
            t = self.fresh()
            out.append(f"{t} = math.tanh {x} : {T}")
            out.append(f"{r} = math.{fn} {t} : {T}")
            self.used_ops.update({"math.tanh", f"math.{fn}"})
        elif op == "neg":
            out.append(f"{r} = arith.negf {x} : {T}")
        elif op == "sq":
            out.append(f"{r} = arith.mulf {x}, {x} : {T}")
        elif op in ("log1psq", "sqrt1psq", "cbrt1p"):
            sq = self.fresh()
            one = self.fresh()
            p = self.fresh()
            out.append(f"{sq} = arith.mulf {x}, {x} : {T}")
            out.append(f"{one} = arith.constant dense<1.0> : {T}")
            out.append(f"{p} = arith.addf {sq}, {one} : {T}")
            fn = {"log1psq": "math.log", "sqrt1psq": "math.sqrt",
                  "cbrt1p": "math.cbrt"}[op]
            out.append(f"{r} = {fn} {p} : {T}")
            self.used_ops.add(fn)
        else:  # sigmoid
            n = self.fresh()
            e = self.fresh()
            one = self.fresh()
            d = self.fresh()
            out.append(f"{n} = arith.negf {x} : {T}")
            out.append(f"{e} = math.exp {n} : {T}")
            out.append(f"{one} = arith.constant dense<1.0> : {T}")
            out.append(f"{d} = arith.addf {one}, {e} : {T}")
            out.append(f"{r} = arith.divf {one}, {d} : {T}")
        self.last = r

    def gen_binary(self, out, depth, scope):
        T = self.T()
        a = self.expr(out, depth + 1, scope)
        b = self.expr(out, depth + 1, scope)
        op = self.rng.choice(["addf", "subf", "mulf", "div"])
        r = self.fresh()
        if op == "div":
            sq = self.fresh()
            one = self.fresh()
            p = self.fresh()
            out.append(f"{sq} = arith.mulf {b}, {b} : {T}")
            out.append(f"{one} = arith.constant dense<1.0> : {T}")
            out.append(f"{p} = arith.addf {sq}, {one} : {T}")
            out.append(f"{r} = arith.divf {a}, {p} : {T}")
        else:
            out.append(f"{r} = arith.{op} {a}, {b} : {T}")
        self.last = r

    def loop(self, out, depth, scope, upper):
        T = self.T()
        init = self.expr(out, depth + 1, scope)
        c0, c1 = self.fresh("i"), self.fresh("i")
        out.append(f"{c0} = arith.constant 0 : index")
        out.append(f"{c1} = arith.constant 1 : index")
        iv, acc, r = self.fresh("iv"), self.fresh("acc"), self.fresh()
        body = []
        e = self.expr(body, depth + 1, scope + [acc])
        t = self.fresh()
        half = self.fresh()
        m = self.fresh()
        nxt = self.fresh()
        body.append(f"{t} = math.tanh {acc} : {T}")
        body.append(f"{half} = arith.constant dense<0.5> : {T}")
        body.append(f"{m} = arith.mulf {t}, {half} : {T}")
        body.append(f"{nxt} = arith.addf {m}, {e} : {T}")
        out.append(f"{r} = scf.for {iv} = {c0} to {upper} step {c1} "
                   f"iter_args({acc} = {init}) -> ({T}) {{")
        out.extend("  " + l for l in body)
        out.append(f"  scf.yield {nxt} : {T}")
        out.append("}")
        self.last = r

    def gen_for(self, out, depth, scope):
        n = self.fresh("i")
        out.append(f"{n} = arith.constant {self.rng.randint(1, 3)} : index")
        self.used_ops.add("scf.for")
        self.loop(out, depth, scope, n)

    def trips(self, out):
        """A trip count the compiler cannot see: read from a variable."""
        h, r, s, n = (self.fresh("h"), self.fresh("r"), self.fresh("s"),
                      self.fresh("i"))
        out.append(f"{h} = tape.handle @trips : !tape.resource<tensor<i64>>")
        out.append(f"{r} = tape.read {h} : !tape.resource<tensor<i64>>")
        out.append(f"{s} = tensor.extract {r}[] : tensor<i64>")
        out.append(f"{n} = arith.index_cast {s} : i64 to index")
        return n

    def gen_for_dynamic(self, out, depth, scope):
        self.used_ops.add("scf.for (run-time trip count)")
        self.loop(out, depth, scope, self.trips(out))

    def branch(self, out, depth, scope, cond):
        T = self.T()
        r = self.fresh()
        then, els = [], []
        a = self.expr(then, depth + 1, scope)
        b = self.expr(els, depth + 1, scope)
        out.append(f"{r} = scf.if {cond} -> ({T}) {{")
        out.extend("  " + l for l in then)
        out.append(f"  scf.yield {a} : {T}")
        out.append("} else {")
        out.extend("  " + l for l in els)
        out.append(f"  scf.yield {b} : {T}")
        out.append("}")
        self.last = r

    def gen_if(self, out, depth, scope):
        c = self.fresh("p")
        out.append(f"{c} = arith.constant {self.rng.choice(['true', 'false'])}")
        self.used_ops.add("scf.if")
        self.branch(out, depth, scope, c)

    def gen_if_dynamic(self, out, depth, scope):
        n = self.trips(out)
        k, c = self.fresh("i"), self.fresh("p")
        out.append(f"{k} = arith.constant {self.rng.randint(1, 3)} : index")
        out.append(f"{c} = arith.cmpi sge, {n}, {k} : index")
        self.used_ops.add("scf.if")
        self.branch(out, depth, scope, c)

    def gen_while(self, out, depth, scope):
        """Runs `x <- 0.5 tanh(x) + e` while a counter is below the
        run-time trip count."""
        T = self.T()
        init = self.expr(out, depth + 1, scope)
        n = self.trips(out)
        c0, c1 = self.fresh("i"), self.fresh("i")
        out.append(f"{c0} = arith.constant 0 : index")
        out.append(f"{c1} = arith.constant 1 : index")
        r, k, x, k2, x2 = (self.fresh(), self.fresh("k"), self.fresh("w"),
                           self.fresh("k"), self.fresh("w"))
        cond = self.fresh("p")
        body = []
        e = self.expr(body, depth + 1, scope + [x2])
        t, half, m, nxt, kn = (self.fresh(), self.fresh(), self.fresh(),
                               self.fresh(), self.fresh("k"))
        out.append(f"{r}:2 = scf.while ({k} = {c0}, {x} = {init}) : "
                   f"(index, {T}) -> (index, {T}) {{")
        out.append(f"  {cond} = arith.cmpi slt, {k}, {n} : index")
        out.append(f"  scf.condition({cond}) {k}, {x} : index, {T}")
        out.append(f"}} do {{")
        out.append(f"^bb0({k2}: index, {x2}: {T}):")
        out.extend("  " + l for l in body)
        out.append(f"  {t} = math.tanh {x2} : {T}")
        out.append(f"  {half} = arith.constant dense<0.5> : {T}")
        out.append(f"  {m} = arith.mulf {t}, {half} : {T}")
        out.append(f"  {nxt} = arith.addf {m}, {e} : {T}")
        out.append(f"  {kn} = arith.addi {k2}, {c1} : index")
        out.append(f"  scf.yield {kn}, {nxt} : index, {T}")
        out.append("}")
        self.used_ops.add("scf.while")
        self.last = f"{r}#1"

    def scalar_body(self, body, args, depth, dims):
        """A scalar expression over block arguments, captured scalars and
        variables read inside the body; returns its name."""
        rng = self.rng
        vals = list(args)
        for _ in range(rng.randint(0, 2)):
            var = self.pick_var()
            value, shape = self.read(body, var)
            s = self.fresh("s")
            if shape == []:
                body.append(f"{s} = tensor.extract {value}[] : tensor<f64>")
            else:
                # An element picked at computed indices: the adjoint
                # scatters into the captured (hoisted) read.
                idx = []
                for d in range(len(shape)):
                    ix = self.fresh("ix")
                    src = dims[d] if d < len(dims) else 0
                    body.append(f"{ix} = linalg.index {src} : index")
                    if shape[d] != self.shape[src]:
                        c = self.fresh("i")
                        body.append(f"{c} = arith.constant {shape[d]} : index")
                        m = self.fresh("ix")
                        body.append(f"{m} = arith.remui {ix}, {c} : index")
                        ix = m
                    idx.append(ix)
                body.append(f"{s} = tensor.extract {value}[{', '.join(idx)}] : "
                            f"{ttype(shape)}")
            vals.append(s)
        x = rng.choice(vals)
        for _ in range(rng.randint(1, 3)):
            y = rng.choice(vals)
            r = self.fresh("s")
            op = rng.choice(["addf", "mulf", "subf", "tanh", "sin"])
            if op in ("tanh", "sin"):
                body.append(f"{r} = math.{op} {x} : f64")
            else:
                body.append(f"{r} = arith.{op} {x}, {y} : f64")
            x = r
            vals.append(r)
        # Position-dependent: linalg.index as a float.
        if rng.random() < 0.3:
            ix, i64, f, r = (self.fresh("ix"), self.fresh("n"),
                             self.fresh("s"), self.fresh("s"))
            body.append(f"{ix} = linalg.index {dims[-1]} : index")
            body.append(f"{i64} = arith.index_cast {ix} : index to i64")
            body.append(f"{f} = arith.sitofp {i64} : i64 to f64")
            body.append(f"{r} = arith.addf {x}, {f} : f64")
            x = r
        return x

    def gen_generic(self, out, depth, scope):
        T = self.T()
        rows, cols = self.shape
        n = self.rng.randint(1, 2)
        ins = [self.expr(out, depth + 1, scope) for _ in range(n)]
        maps = ["affine_map<(i, j) -> (i, j)>"] * n
        types = [T] * n
        # Sometimes a broadcast row vector input.
        if self.rng.random() < 0.4:
            var = self.rng.choice([v for v in self.vars[:-1]
                                   if v[1] == [cols]] or [None])
            if var:
                value, _ = self.read(out, var)
                ins.append(value)
                maps.append("affine_map<(i, j) -> (j)>")
                types.append(ttype([cols]))
        e, r = self.fresh("e"), self.fresh()
        out.append(f"{e} = tensor.empty() : {T}")
        args = [self.fresh("a") for _ in ins]
        o = self.fresh("o")
        body = []
        s = self.scalar_body(body, args, depth, [0, 1])
        out.append(f"{r} = linalg.generic {{indexing_maps = [{', '.join(maps)}, "
                   f"affine_map<(i, j) -> (i, j)>], iterator_types = "
                   f"[\"parallel\", \"parallel\"]}} ins({', '.join(ins)} : "
                   f"{', '.join(types)}) outs({e} : {T}) {{")
        out.append(f"^bb0({', '.join(a + ': f64' for a in args)}, {o}: f64):")
        out.extend("  " + l for l in body)
        out.append(f"  linalg.yield {s} : f64")
        out.append(f"}} -> {T}")
        self.used_ops.add("linalg.generic")
        self.last = r

    def gen_generic_gather(self, out, depth, scope):
        """An embedding-like lookup: each row picks a row of a captured
        matrix at an index computed from a non-differentiable value."""
        T = self.T()
        rows, cols = self.shape
        table = self.expr(out, depth + 1, scope)
        e, r, o = self.fresh("e"), self.fresh(), self.fresh("o")
        ix, j, c, k, v = (self.fresh("ix"), self.fresh("ix"), self.fresh("i"),
                          self.fresh("ix"), self.fresh("s"))
        shift = self.rng.randint(0, rows - 1)
        out.append(f"{e} = tensor.empty() : {T}")
        out.append(f"{r} = linalg.generic {{indexing_maps = "
                   f"[affine_map<(i, j) -> (i, j)>], iterator_types = "
                   f"[\"parallel\", \"parallel\"]}} outs({e} : {T}) {{")
        out.append(f"^bb0({o}: f64):")
        out.append(f"  {ix} = linalg.index 0 : index")
        out.append(f"  {j} = linalg.index 1 : index")
        out.append(f"  {c} = arith.constant {shift} : index")
        out.append(f"  {k} = arith.addi {ix}, {c} : index")
        rr, m = self.fresh("i"), self.fresh("ix")
        out.append(f"  {rr} = arith.constant {rows} : index")
        out.append(f"  {m} = arith.remui {k}, {rr} : index")
        out.append(f"  {v} = tensor.extract {table}[{m}, {j}] : {T}")
        out.append(f"  linalg.yield {v} : f64")
        out.append(f"}} -> {T}")
        self.used_ops.add("linalg.generic (captured tensor)")
        self.last = r

    def gen_reduce(self, out, depth, scope):
        """A sum or max over the columns, broadcast back."""
        T = self.T()
        rows, cols = self.shape
        x = self.expr(out, depth + 1, scope)
        kind = self.rng.choice(["sum", "sum", "max", "named_sum"])
        R = ttype([rows])
        e, init, red = self.fresh("e"), self.fresh(), self.fresh()
        z = self.fresh("z")
        start = "0.0" if kind != "max" else "0xFFF0000000000000"
        out.append(f"{z} = arith.constant {start} : f64")
        out.append(f"{e} = tensor.empty() : {R}")
        out.append(f"{init} = linalg.fill ins({z} : f64) outs({e} : {R}) -> {R}")
        a, acc, v, s = (self.fresh("a"), self.fresh("o"), self.fresh("s"),
                        self.fresh("s"))
        comb = "arith.maximumf" if kind == "max" else "arith.addf"
        if kind == "named_sum":
            out.append(f"{red} = linalg.reduce ins({x} : {T}) outs({init} : {R}) "
                       f"dimensions = [1]")
            out.append(f"  ({a}: f64, {acc}: f64) {{")
            out.append(f"    {s} = arith.addf {a}, {acc} : f64")
            out.append(f"    linalg.yield {s} : f64")
            out.append("  }")
            self.used_ops.add("linalg.reduce")
        else:
            out.append(f"{red} = linalg.generic {{indexing_maps = "
                       f"[affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>], "
                       f"iterator_types = [\"parallel\", \"reduction\"]}} "
                       f"ins({x} : {T}) outs({init} : {R}) {{")
            out.append(f"^bb0({a}: f64, {acc}: f64):")
            out.append(f"  {v} = math.sin {a} : f64")
            out.append(f"  {s} = {comb} {acc}, {v} : f64")
            out.append(f"  linalg.yield {s} : f64")
            out.append(f"}} -> {R}")
            self.used_ops.add(f"linalg.generic ({kind} reduction)")
        e2, r = self.fresh("e"), self.fresh()
        out.append(f"{e2} = tensor.empty() : {T}")
        out.append(f"{r} = linalg.broadcast ins({red} : {R}) outs({e2} : {T}) "
                   f"dimensions = [1]")
        self.last = r

    def gen_named(self, out, depth, scope):
        """A transpose pair (square) or an elementwise named op."""
        T = self.T()
        rows, cols = self.shape
        x = self.expr(out, depth + 1, scope)
        if rows == cols and self.rng.random() < 0.5:
            e, r = self.fresh("e"), self.fresh()
            out.append(f"{e} = tensor.empty() : {T}")
            out.append(f"{r} = linalg.transpose ins({x} : {T}) outs({e} : {T}) "
                       f"permutation = [1, 0]")
            self.used_ops.add("linalg.transpose")
        else:
            y = self.expr(out, depth + 1, scope)
            e, r = self.fresh("e"), self.fresh()
            op = self.rng.choice(["add", "mul", "sub"])
            out.append(f"{e} = tensor.empty() : {T}")
            out.append(f"{r} = linalg.{op} ins({x}, {y} : {T}, {T}) "
                       f"outs({e} : {T}) -> {T}")
            self.used_ops.add(f"linalg.{op}")
        self.last = r

    def gen_matmul(self, out, depth, scope):
        self.gen_matmul_with(out, self.expr(out, depth + 1, scope))

    def gen_matmul_with(self, out, x):
        T = self.T()
        m, mshape = self.read(out, self.vars[-1])
        z, e, init, r = (self.fresh("z"), self.fresh("e"), self.fresh(),
                         self.fresh())
        out.append(f"{z} = arith.constant 0.0 : f64")
        out.append(f"{e} = tensor.empty() : {T}")
        out.append(f"{init} = linalg.fill ins({z} : f64) outs({e} : {T}) -> {T}")
        M = ttype(mshape)
        if self.rng.random() < 0.5:
            out.append(f"{r} = linalg.matmul ins({x}, {m} : {T}, {M}) "
                       f"outs({init} : {T}) -> {T}")
        else:  # m transposed, through the indexing maps
            out.append(f"{r} = linalg.matmul indexing_maps = ["
                       f"affine_map<(d0, d1, d2) -> (d0, d2)>, "
                       f"affine_map<(d0, d1, d2) -> (d1, d2)>, "
                       f"affine_map<(d0, d1, d2) -> (d0, d1)>] "
                       f"ins({x}, {m} : {T}, {M}) outs({init} : {T}) -> {T}")
        self.used_ops.add("linalg.matmul")
        self.last = r

    def gen_call(self, out, depth, scope):
        """A helper function that takes a value and reads a variable."""
        T = self.T()
        x = self.expr(out, depth + 1, scope)
        name = f"helper{len(self.helpers)}"
        self.helpers.append(None)  # reserve the name
        slot = len(self.helpers) - 1
        arg = self.fresh("arg")
        body = []
        y = self.expr(body, depth + 1, [arg])
        r = self.fresh()
        body.append(f"{r} = arith.mulf {y}, {arg} : {T}")
        self.helpers[slot] = (
            f"func.func private @{name}({arg}: {T}) -> {T} {{\n"
            + "\n".join("  " + l for l in body)
            + f"\n  return {r} : {T}\n}}")
        c = self.fresh()
        out.append(f"{c} = func.call @{name}({x}) : ({T}) -> {T}")
        self.used_ops.add("func.call")
        self.last = c

    # -- the module -------------------------------------------------------

    def build(self):
        body = []
        loss = self.expr(body, 0, [])
        # Make sure every variable is read somewhere (so that each is a
        # connected source): add a term per variable, at a random depth.
        for var in self.vars:
            if var is self.vars[-1]:
                self.gen_matmul_with(body, self.const(body))
                w = self.last
            else:
                value, shape = self.read(body, var)
                w = self.to_work_shape(body, value, shape)
            t, s = self.fresh(), self.fresh()
            body.append(f"{t} = math.tanh {w} : {self.T()}")
            body.append(f"{s} = arith.addf {loss}, {t} : {self.T()}")
            loss = s
        return body, loss

    def module(self, trips):
        body, loss = self.build()
        T = self.T()
        lines = []
        for name, shape, values in self.vars:
            lines.append(f"tape.variable @{name} : {ttype(shape)} = "
                         f"{dense(values, shape).rsplit(' : ', 1)[0]}")
        lines.append(f"tape.variable @trips : tensor<i64> = dense<{trips}> "
                     f"{{trainable = false}}")
        lines.extend(self.helpers)
        grad_types = [ttype(s) for _, s, _ in self.vars]
        handles = []
        hdecl = []
        for name, shape, _ in self.vars:
            h = f"%src_{name}"
            handles.append(h)
            hdecl.append(f"  {h} = tape.handle @{name} : "
                         f"!tape.resource<{ttype(shape)}>")
        res_types = ", ".join(f"!tape.resource<{t}>" for t in grad_types)
        lines.append(f"tape.step @g() -> ({', '.join(grad_types)}) {{")
        lines.extend(hdecl)
        lines.append("  %tp, %loss = tape.record {")
        lines.extend("    " + l for l in body)
        # Half the programs reduce the loss to a scalar on the tape, per
        # row and then in total (as a mean of per-example losses does),
        # instead of seeding the gradient with a tensor of ones: the
        # total's adjoint then feeds the rows' broadcast, the pattern
        # whose fusion once counted the seed once per column. Drawn after
        # the program, so a seed's programs stay what they were.
        target, TT = loss, T
        if self.rng.random() < 0.5:
            rows = self.shape[0]
            R = ttype([rows])
            lines += [
                "    %lz = arith.constant 0.0 : f64",
                f"    %le = tensor.empty() : {R}",
                f"    %li = linalg.fill ins(%lz : f64) outs(%le : {R}) -> {R}",
                f"    %lrows = linalg.reduce ins({loss} : {T}) outs(%li : {R}) dimensions = [1]",
                "      (%la: f64, %lacc: f64) {",
                "        %ls = arith.addf %la, %lacc : f64",
                "        linalg.yield %ls : f64",
                "      }",
                "    %lte = tensor.empty() : tensor<f64>",
                "    %lti = linalg.fill ins(%lz : f64) outs(%lte : tensor<f64>) -> tensor<f64>",
                f"    %ltotal = linalg.reduce ins(%lrows : {R}) outs(%lti : tensor<f64>) dimensions = [0]",
                "      (%la: f64, %lacc: f64) {",
                "        %ls = arith.addf %la, %lacc : f64",
                "        linalg.yield %ls : f64",
                "      }",
            ]
            target, TT = "%ltotal", "tensor<f64>"
            self.used_ops.add("loss reduced on the tape (rows, then total)")
        lines.append(f"    tape.yield {target} : {TT}")
        lines.append(f"  }} : {TT}")
        lines.append(f"  %grads:{len(handles)} = tape.gradient %tp "
                     f"(%loss : {TT}) wrt ({', '.join(handles)} : {res_types})")
        lines.append("  tape.return " + ", ".join(
            f"%grads#{i}" for i in range(len(handles)))
            + f" : {', '.join(grad_types)}")
        lines.append("}")
        lines.append("tape.step @f() -> tensor<f64> {")
        lines.extend("  " + l for l in body)
        dims = ", ".join(str(i) for i in range(len(self.shape)))
        lines += [
            "  %fz = arith.constant 0.0 : f64",
            "  %fe = tensor.empty() : tensor<f64>",
            "  %fi = linalg.fill ins(%fz : f64) outs(%fe : tensor<f64>) -> tensor<f64>",
            f"  %fs = linalg.reduce ins({loss} : {T}) outs(%fi : tensor<f64>) "
            f"dimensions = [{dims}]",
            "    (%fx: f64, %facc: f64) {",
            "      %fsum = arith.addf %fx, %facc : f64",
            "      linalg.yield %fsum : f64",
            "    }",
            "  tape.return %fs : tensor<f64>",
            "}",
        ]
        # @main: gradients, then f at every element moved by +-h.
        main = []
        printed = []
        k = [0]

        def fresh():
            k[0] += 1
            return f"%m{k[0]}"
        gs = [fresh() for _ in self.vars]
        main.append(f"  {', '.join(gs)} = tape.call @g() : () -> "
                    f"({', '.join(grad_types)})")
        for g, (name, shape, values) in zip(gs, self.vars):
            for j in range(size(shape)):
                idx = []
                for d in unravel(j, shape):
                    c = fresh()
                    main.append(f"  {c} = arith.constant {d} : index")
                    idx.append(c)
                e = fresh()
                main.append(f"  {e} = tensor.extract {g}[{', '.join(idx)}] : "
                            f"{ttype(shape)}")
                printed.append(e)
        for name, shape, values in self.vars:
            h = fresh()
            rt = f"!tape.resource<{ttype(shape)}>"
            main.append(f"  {h} = tape.handle @{name} : {rt}")
            for j in range(size(shape)):
                for sign in (1.0, -1.0):
                    moved = list(values)
                    moved[j] += sign * H
                    c = fresh()
                    main.append(f"  {c} = arith.constant {dense(moved, shape)}")
                    main.append(f"  tape.assign {h}, {c} : {rt}")
                    t, r = fresh(), fresh()
                    main.append(f"  {t} = tape.call @f() : () -> tensor<f64>")
                    main.append(f"  {r} = tensor.extract {t}[] : tensor<f64>")
                    printed.append(r)
            base = fresh()
            main.append(f"  {base} = arith.constant {dense(values, shape)}")
            main.append(f"  tape.assign {h}, {base} : {rt}")
        n = len(printed)
        main.append(f"  %all = tensor.from_elements {', '.join(printed)} : "
                    f"tensor<{n}xf64>")
        main.append(f"  return %all : tensor<{n}xf64>")
        lines.append(f"func.func @main() -> tensor<{n}xf64> {{")
        lines.extend(main)
        lines.append("}")
        return "\n".join(lines) + "\n"


def run_program(index, opts):
    rng = random.Random(f"{opts.seed}-{index}")
    prog = Program(rng, opts.max_depth)
    trips = rng.randint(0, 3)
    text = prog.module(trips)
    with tempfile.TemporaryDirectory(prefix=f"ad-difftest-{index}-") as tmp:
        src = os.path.join(tmp, "program.mlir")
        with open(src, "w") as f:
            f.write(text)
        p = subprocess.run([opts.tape_run, src, "--entry", "main",
                            "--print-outputs", "--precision", "0"],
                           capture_output=True, text=True)
    status, detail = "pass", ""
    if p.returncode:
        status, detail = "rejected", p.stderr.strip()[-2000:]
    else:
        nums = [float(t) for t in p.stdout.split(":", 1)[1].split()]
        total = sum(size(s) for _, s, _ in prog.vars)
        grads, fvals = nums[:total], nums[total:]
        for k in range(total):
            fd = (fvals[2 * k] - fvals[2 * k + 1]) / (2 * H)
            err = abs(grads[k] - fd) / max(1.0, abs(fd))
            if not err <= RTOL:
                status = "wrong"
                detail = (f"gradient element {k}: derived {grads[k]!r}, "
                          f"finite difference {fd!r}")
                break
    if status != "pass" and opts.keep:
        os.makedirs(opts.keep, exist_ok=True)
        with open(os.path.join(opts.keep, f"program{index}.mlir"), "w") as f:
            f.write(text)
    return index, status, detail, prog.used_ops


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tape-run", required=True)
    ap.add_argument("--programs", type=int, default=40)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--first", type=int, default=0,
                    help="index of the first program (to replay one)")
    ap.add_argument("--max-depth", type=int, default=4)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--keep", help="directory for failing programs")
    opts = ap.parse_args()
    indices = range(opts.first, opts.first + opts.programs)
    counts = {"pass": 0, "wrong": 0, "rejected": 0}
    ops = {}
    with concurrent.futures.ThreadPoolExecutor(opts.jobs) as pool:
        for index, status, detail, used in pool.map(
                lambda i: run_program(i, opts), indices):
            counts[status] += 1
            for op in used:
                ops[op] = ops.get(op, 0) + 1
            if status != "pass":
                print(f"FAIL program {index} ({status}): {detail}")
    print("constructs exercised (programs): " + ", ".join(
        f"{op} {n}" for op, n in sorted(ops.items())))
    print(f"ad-difftest: {counts['pass']} passed, {counts['wrong']} wrong "
          f"gradients, {counts['rejected']} rejected (seed {opts.seed}, "
          f"h = {H}, rtol = {RTOL})")
    return 0 if counts["pass"] == opts.programs else 1


if __name__ == "__main__":
    sys.exit(main())
