#!/usr/bin/python3
"""Gradient check: executes derived gradients and compares them with
central finite differences in float64.

Each case is a recorded computation over float64 tensor inputs. For a case
the harness writes one module with
  @f(inputs) -> f64        the sum of the target's elements,
  @g(inputs) -> gradients  the same body under tape.record/tape.watch and a
                           tape.gradient with respect to every input,
  @main()                  calls @g at random inputs and @f at each input
                           element moved by +h and -h, printing every f64 as
                           its bit pattern (exact),
compiles and runs it with tape-run (the project's whole tape-to-llvm
pipeline: AD, bufferization, lowering, JIT), @main returning every value
as one tensor printed exactly, and checks
  |grad - (f(x+h) - f(x-h)) / 2h| <= rtol * max(1, |fd|)
with h = 1e-6 and rtol = 1e-6 (float64 rounding leaves ~1e-10).
"""
import argparse
import concurrent.futures
import os
import random
import subprocess
import sys
import tempfile

H = 1e-6
RTOL = 1e-6

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


def indices(shape):
    if not shape:
        yield ()
        return
    for i in range(shape[0]):
        for rest in indices(shape[1:]):
            yield (i,) + rest


def size(shape):
    n = 1
    for d in shape:
        n *= d
    return n


IF_BODY = """
        %c0 = arith.constant 0 : index
        %a0 = tensor.extract %a[%c0] : tensor<3xf64>
        %zero = arith.constant 0.0 : f64
        %cond = arith.cmpf ogt, %a0, %zero : f64
        %out = scf.if %cond -> (tensor<3xf64>) {
          %e = math.exp %a : tensor<3xf64>
          %m = arith.mulf %e, %b : tensor<3xf64>
          scf.yield %m : tensor<3xf64>
        } else {
          %s = math.sin %b : tensor<3xf64>
          %m = arith.mulf %s, %a : tensor<3xf64>
          scf.yield %m : tensor<3xf64>
        }"""

# name: (inputs [(name, shape, domain)], output shape, body producing %out
# [, {"h": step, "rtol": tolerance}]). domain "pos" samples in [0.5, 2],
# "any" from N(0, 1). A case computing in float32 states a larger h and
# rtol: its finite differences see float32 rounding (~6e-8 relative).
CASES = {
    "addf": ([("a", [3], "any"), ("b", [3], "any")], [3],
             "%out = arith.addf %a, %b : tensor<3xf64>"),
    "subf": ([("a", [3], "any"), ("b", [3], "any")], [3],
             "%out = arith.subf %a, %b : tensor<3xf64>"),
    "mulf": ([("a", [2, 2], "any"), ("b", [2, 2], "any")], [2, 2],
             "%out = arith.mulf %a, %b : tensor<2x2xf64>"),
    "divf": ([("a", [3], "any"), ("b", [3], "pos")], [3],
             "%out = arith.divf %a, %b : tensor<3xf64>"),
    "negf": ([("a", [3], "any")], [3], "%out = arith.negf %a : tensor<3xf64>"),
    "maximumf": ([("a", [4], "any"), ("b", [4], "any")], [4],
                 "%out = arith.maximumf %a, %b : tensor<4xf64>"),
    "minimumf": ([("a", [4], "any"), ("b", [4], "any")], [4],
                 "%out = arith.minimumf %a, %b : tensor<4xf64>"),
    "select_cmpf": ([("a", [4], "any"), ("b", [4], "any")], [4], """
        %c = arith.cmpf olt, %a, %b : tensor<4xf64>
        %out = arith.select %c, %a, %b : tensor<4xi1>, tensor<4xf64>"""),
    "exp": ([("a", [3], "any")], [3], "%out = math.exp %a : tensor<3xf64>"),
    "log": ([("a", [3], "pos")], [3], "%out = math.log %a : tensor<3xf64>"),
    "log1p": ([("a", [3], "pos")], [3], "%out = math.log1p %a : tensor<3xf64>"),
    "tanh": ([("a", [3], "any")], [3], "%out = math.tanh %a : tensor<3xf64>"),
    "sqrt": ([("a", [3], "pos")], [3], "%out = math.sqrt %a : tensor<3xf64>"),
    "rsqrt": ([("a", [3], "pos")], [3], "%out = math.rsqrt %a : tensor<3xf64>"),
    "powf": ([("a", [3], "pos"), ("b", [3], "any")], [3],
             "%out = math.powf %a, %b : tensor<3xf64>"),
    "sin": ([("a", [3], "any")], [3], "%out = math.sin %a : tensor<3xf64>"),
    "cos": ([("a", [3], "any")], [3], "%out = math.cos %a : tensor<3xf64>"),
    "absf": ([("a", [4], "any")], [4], "%out = math.absf %a : tensor<4xf64>"),
    "sigmoid": ([("a", [4], "any")], [4], """
        %one = arith.constant dense<1.0> : tensor<4xf64>
        %n = arith.negf %a : tensor<4xf64>
        %e = math.exp %n : tensor<4xf64>
        %d = arith.addf %one, %e : tensor<4xf64>
        %out = arith.divf %one, %d : tensor<4xf64>"""),
    "scalar_rank0": ([("a", [], "any"), ("b", [], "any")], [], """
        %p = arith.mulf %a, %b : tensor<f64>
        %out = math.sin %p : tensor<f64>"""),
    "fanout": ([("a", [3], "any")], [3], """
        %s = arith.mulf %a, %a : tensor<3xf64>
        %e = math.exp %a : tensor<3xf64>
        %out = arith.addf %s, %e : tensor<3xf64>"""),
    "matmul": ([("a", [2, 3], "any"), ("b", [3, 4], "any")], [2, 4], """
        %z = arith.constant 0.0 : f64
        %e = tensor.empty() : tensor<2x4xf64>
        %i = linalg.fill ins(%z : f64) outs(%e : tensor<2x4xf64>) -> tensor<2x4xf64>
        %m = linalg.matmul ins(%a, %b : tensor<2x3xf64>, tensor<3x4xf64>) outs(%i : tensor<2x4xf64>) -> tensor<2x4xf64>
        %out = arith.mulf %m, %m : tensor<2x4xf64>"""),
    "matmul_init": ([("a", [2, 2], "any"), ("b", [2, 2], "any"), ("c", [2, 2], "any")], [2, 2], """
        %m = linalg.matmul ins(%a, %b : tensor<2x2xf64>, tensor<2x2xf64>) outs(%c : tensor<2x2xf64>) -> tensor<2x2xf64>
        %out = math.tanh %m : tensor<2x2xf64>"""),
    "batch_matmul": ([("a", [2, 2, 3], "any"), ("b", [2, 3, 2], "any")], [2, 2, 2], """
        %z = arith.constant 0.0 : f64
        %e = tensor.empty() : tensor<2x2x2xf64>
        %i = linalg.fill ins(%z : f64) outs(%e : tensor<2x2x2xf64>) -> tensor<2x2x2xf64>
        %m = linalg.batch_matmul ins(%a, %b : tensor<2x2x3xf64>, tensor<2x3x2xf64>) outs(%i : tensor<2x2x2xf64>) -> tensor<2x2x2xf64>
        %out = math.sin %m : tensor<2x2x2xf64>"""),
    "transpose": ([("a", [2, 3], "any")], [3, 2], """
        %e = tensor.empty() : tensor<3x2xf64>
        %t = linalg.transpose ins(%a : tensor<2x3xf64>) outs(%e : tensor<3x2xf64>) permutation = [1, 0]
        %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]> : tensor<3x2xf64>
        %out = arith.mulf %t, %w : tensor<3x2xf64>"""),
    "broadcast": ([("a", [3], "any"), ("b", [2, 3], "any")], [2, 3], """
        %e = tensor.empty() : tensor<2x3xf64>
        %bb = linalg.broadcast ins(%a : tensor<3xf64>) outs(%e : tensor<2x3xf64>) dimensions = [0]
        %out = arith.mulf %bb, %b : tensor<2x3xf64>"""),
    "reduce_sum": ([("a", [2, 3], "any")], [2], """
        %z = arith.constant 0.0 : f64
        %e = tensor.empty() : tensor<2xf64>
        %i = linalg.fill ins(%z : f64) outs(%e : tensor<2xf64>) -> tensor<2xf64>
        %r = linalg.reduce ins(%a : tensor<2x3xf64>) outs(%i : tensor<2xf64>) dimensions = [1]
          (%x: f64, %acc: f64) {
            %s = arith.addf %x, %acc : f64
            linalg.yield %s : f64
          }
        %out = arith.mulf %r, %r : tensor<2xf64>"""),
    "reduce_max": ([("a", [2, 3], "any")], [2], """
        %z = arith.constant 0xFFF0000000000000 : f64
        %e = tensor.empty() : tensor<2xf64>
        %i = linalg.fill ins(%z : f64) outs(%e : tensor<2xf64>) -> tensor<2xf64>
        %r = linalg.reduce ins(%a : tensor<2x3xf64>) outs(%i : tensor<2xf64>) dimensions = [1]
          (%x: f64, %acc: f64) {
            %s = arith.maximumf %x, %acc : f64
            linalg.yield %s : f64
          }
        %out = math.exp %r : tensor<2xf64>"""),
    # The init takes part: here it is larger than every input, so it wins.
    "reduce_max_init": ([("a", [2, 3], "any"), ("c", [2], "big")], [2], """
        %r = linalg.reduce ins(%a : tensor<2x3xf64>) outs(%c : tensor<2xf64>) dimensions = [1]
          (%x: f64, %acc: f64) {
            %s = arith.maximumf %x, %acc : f64
            linalg.yield %s : f64
          }
        %out = arith.mulf %r, %r : tensor<2xf64>"""),
    "fill_extract": ([("a", [], "any"), ("b", [3], "any")], [3], """
        %s = tensor.extract %a[] : tensor<f64>
        %e = tensor.empty() : tensor<3xf64>
        %f = linalg.fill ins(%s : f64) outs(%e : tensor<3xf64>) -> tensor<3xf64>
        %out = arith.mulf %f, %b : tensor<3xf64>"""),
    "expand_collapse": ([("a", [6], "any")], [3, 2], """
        %x = tensor.expand_shape %a [[0, 1]] output_shape [2, 3] : tensor<6xf64> into tensor<2x3xf64>
        %c = tensor.collapse_shape %x [[0, 1]] : tensor<2x3xf64> into tensor<6xf64>
        %y = arith.mulf %c, %a : tensor<6xf64>
        %out = tensor.expand_shape %y [[0, 1]] output_shape [3, 2] : tensor<6xf64> into tensor<3x2xf64>"""),
    "slices": ([("a", [4, 3], "any"), ("b", [2, 2], "any")], [4, 3], """
        %s = tensor.extract_slice %a[1, 0] [2, 2] [1, 1] : tensor<4x3xf64> to tensor<2x2xf64>
        %p = arith.mulf %s, %b : tensor<2x2xf64>
        %q = math.sin %a : tensor<4x3xf64>
        %out = tensor.insert_slice %p into %q[2, 1] [2, 2] [1, 1] : tensor<2x2xf64> into tensor<4x3xf64>"""),
    "from_elements_concat": ([("a", [2], "any"), ("b", [], "any")], [4], """
        %c0 = arith.constant 0 : index
        %a0 = tensor.extract %a[%c0] : tensor<2xf64>
        %b0 = tensor.extract %b[] : tensor<f64>
        %p = arith.mulf %a0, %b0 : f64
        %fe = tensor.from_elements %p, %b0 : tensor<2xf64>
        %cat = tensor.concat dim(0) %fe, %a : (tensor<2xf64>, tensor<2xf64>) -> tensor<4xf64>
        %out = arith.mulf %cat, %cat : tensor<4xf64>"""),
    "mse": ([("p", [4], "any"), ("y", [4], "any")], [], """
        %d = arith.subf %p, %y : tensor<4xf64>
        %sq = arith.mulf %d, %d : tensor<4xf64>
        %z = arith.constant 0.0 : f64
        %e = tensor.empty() : tensor<f64>
        %i = linalg.fill ins(%z : f64) outs(%e : tensor<f64>) -> tensor<f64>
        %s = linalg.reduce ins(%sq : tensor<4xf64>) outs(%i : tensor<f64>) dimensions = [0]
          (%x: f64, %acc: f64) {
            %t = arith.addf %x, %acc : f64
            linalg.yield %t : f64
          }
        %n = arith.constant dense<0.25> : tensor<f64>
        %out = arith.mulf %s, %n : tensor<f64>"""),
    "softmax_cross_entropy": ([("logits", [2, 3], "any")], [], """
        %labels = arith.constant dense<[[0.0, 1.0, 0.0], [0.2, 0.3, 0.5]]> : tensor<2x3xf64>
        %ninf = arith.constant 0xFFF0000000000000 : f64
        %z = arith.constant 0.0 : f64
        %e2 = tensor.empty() : tensor<2x3xf64>
        %er = tensor.empty() : tensor<2xf64>
        %mi = linalg.fill ins(%ninf : f64) outs(%er : tensor<2xf64>) -> tensor<2xf64>
        %mx = linalg.reduce ins(%logits : tensor<2x3xf64>) outs(%mi : tensor<2xf64>) dimensions = [1]
          (%x: f64, %acc: f64) {
            %m = arith.maximumf %x, %acc : f64
            linalg.yield %m : f64
          }
        %mxb = linalg.broadcast ins(%mx : tensor<2xf64>) outs(%e2 : tensor<2x3xf64>) dimensions = [1]
        %sh = arith.subf %logits, %mxb : tensor<2x3xf64>
        %ex = math.exp %sh : tensor<2x3xf64>
        %si = linalg.fill ins(%z : f64) outs(%er : tensor<2xf64>) -> tensor<2xf64>
        %sm = linalg.reduce ins(%ex : tensor<2x3xf64>) outs(%si : tensor<2xf64>) dimensions = [1]
          (%x: f64, %acc: f64) {
            %s = arith.addf %x, %acc : f64
            linalg.yield %s : f64
          }
        %lse = math.log %sm : tensor<2xf64>
        %lseb = linalg.broadcast ins(%lse : tensor<2xf64>) outs(%e2 : tensor<2x3xf64>) dimensions = [1]
        %logp = arith.subf %sh, %lseb : tensor<2x3xf64>
        %pk = arith.mulf %labels, %logp : tensor<2x3xf64>
        %e0 = tensor.empty() : tensor<f64>
        %ti = linalg.fill ins(%z : f64) outs(%e0 : tensor<f64>) -> tensor<f64>
        %tot = linalg.reduce ins(%pk : tensor<2x3xf64>) outs(%ti : tensor<f64>) dimensions = [0, 1]
          (%x: f64, %acc: f64) {
            %s = arith.addf %x, %acc : f64
            linalg.yield %s : f64
          }
        %nh = arith.constant dense<-0.5> : tensor<f64>
        %out = arith.mulf %tot, %nh : tensor<f64>"""),
    "stop_gradient": ([("a", [3], "any")], [3], """
        %c = tape.stop_gradient %a : tensor<3xf64>
        %e = math.exp %c : tensor<3xf64>
        %out = arith.mulf %e, %a : tensor<3xf64>"""),
    "generic_map": ([("a", [2, 3], "any"), ("b", [2, 3], "pos")], [2, 3], """
        %e = tensor.empty() : tensor<2x3xf64>
        %out = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                               iterator_types = ["parallel", "parallel"]}
            ins(%a, %b : tensor<2x3xf64>, tensor<2x3xf64>) outs(%e : tensor<2x3xf64>) {
          ^bb0(%x: f64, %y: f64, %o: f64):
            %l = math.log %y : f64
            %m = arith.mulf %x, %l : f64
            %t = math.tanh %m : f64
            %s = arith.addf %t, %x : f64
            linalg.yield %s : f64
        } -> tensor<2x3xf64>"""),
    "generic_broadcast": ([("a", [3], "any"), ("b", [2, 3], "any")], [2, 3], """
        %e = tensor.empty() : tensor<2x3xf64>
        %out = linalg.generic {indexing_maps = [affine_map<(i, j) -> (j)>, affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                               iterator_types = ["parallel", "parallel"]}
            ins(%a, %b : tensor<3xf64>, tensor<2x3xf64>) outs(%e : tensor<2x3xf64>) {
          ^bb0(%x: f64, %y: f64, %o: f64):
            %m = arith.mulf %x, %y : f64
            %s = math.sin %m : f64
            linalg.yield %s : f64
        } -> tensor<2x3xf64>"""),
    "generic_transposed": ([("a", [3, 2], "any")], [2, 3], """
        %e = tensor.empty() : tensor<2x3xf64>
        %out = linalg.generic {indexing_maps = [affine_map<(i, j) -> (j, i)>, affine_map<(i, j) -> (i, j)>],
                               iterator_types = ["parallel", "parallel"]}
            ins(%a : tensor<3x2xf64>) outs(%e : tensor<2x3xf64>) {
          ^bb0(%x: f64, %o: f64):
            %m = arith.mulf %x, %x : f64
            linalg.yield %m : f64
        } -> tensor<2x3xf64>"""),
    "scf_if_then": ([("a", [3], "pos"), ("b", [3], "any")], [3], IF_BODY),
    "scf_if_else": ([("a", [3], "neg"), ("b", [3], "any")], [3], IF_BODY),
    "scf_for": ([("a", [3], "any"), ("b", [3], "any")], [3], """
        %c0 = arith.constant 0 : index
        %c1 = arith.constant 1 : index
        %c4 = arith.constant 4 : index
        %one = arith.constant 1.0 : f64
        %r:2 = scf.for %i = %c0 to %c4 step %c1 iter_args(%acc = %a, %s = %one) -> (tensor<3xf64>, f64) {
          %t = math.tanh %acc : tensor<3xf64>
          %m = arith.mulf %t, %b : tensor<3xf64>
          %ii = arith.index_cast %i : index to i64
          %if = arith.sitofp %ii : i64 to f64
          %e = tensor.extract %m[%c1] : tensor<3xf64>
          %w = arith.addf %e, %if : f64
          %s2 = arith.mulf %s, %w : f64
          scf.yield %m, %s2 : tensor<3xf64>, f64
        }
        %out = tensor.insert %r#1 into %r#0[%c0] : tensor<3xf64>"""),
    "scf_for_strided": ([("a", [2], "any")], [2], """
        %c1 = arith.constant 1 : index
        %c2 = arith.constant 2 : index
        %c8 = arith.constant 8 : index
        %out = scf.for %i = %c1 to %c8 step %c2 iter_args(%acc = %a) -> (tensor<2xf64>) {
          %s = math.sin %acc : tensor<2xf64>
          %p = arith.addf %s, %a : tensor<2xf64>
          scf.yield %p : tensor<2xf64>
        }"""),
    # d/dx of the inner gradient of x^3, i.e. d2/dx2 x^3 = 6x.
    "second_order_cube": ([("a", [3], "any")], [3], """
        %it, %iy = tape.record {
          tape.watch %a : tensor<3xf64>
          %sq = arith.mulf %a, %a : tensor<3xf64>
          %cube = arith.mulf %sq, %a : tensor<3xf64>
          tape.yield %cube : tensor<3xf64>
        } : tensor<3xf64>
        %out = tape.gradient %it (%iy : tensor<3xf64>) wrt (%a : tensor<3xf64>)"""),
}


def _unary(name, op, domain="any", shape=(3,)):
    t = ttype(list(shape))
    return ([("a", list(shape), domain)], list(shape),
            f"%out = {op} %a : {t}")


# Every math op with a rule (the domains keep each inside its smooth part).
for _name, _op, _dom in [
        ("erf", "math.erf", "any"), ("erfc", "math.erfc", "any"),
        ("exp2", "math.exp2", "any"), ("expm1", "math.expm1", "any"),
        ("log2", "math.log2", "pos"), ("log10", "math.log10", "pos"),
        ("tan", "math.tan", "small"), ("atan", "math.atan", "any"),
        ("sinh", "math.sinh", "any"), ("cosh", "math.cosh", "any"),
        ("cbrt", "math.cbrt", "pos"), ("asin", "math.asin", "small"),
        ("acos", "math.acos", "small"), ("asinh", "math.asinh", "any"),
        ("acosh", "math.acosh", "big"), ("atanh", "math.atanh", "small")]:
    CASES[_name] = _unary(_name, _op, _dom)

CASES.update({
    "atan2": ([("a", [3], "any"), ("b", [3], "pos")], [3],
              "%out = math.atan2 %a, %b : tensor<3xf64>"),
    "fma": ([("a", [3], "any"), ("b", [3], "any"), ("c", [3], "any")], [3],
            "%out = math.fma %a, %b, %c : tensor<3xf64>"),
    "copysign": ([("a", [3], "any"), ("b", [3], "any")], [3],
                 "%out = math.copysign %a, %b : tensor<3xf64>"),
    "fpowi": ([("a", [3], "pos")], [3], """
        %n = arith.constant dense<3> : tensor<3xi32>
        %out = math.fpowi %a, %n : tensor<3xf64>, tensor<3xi32>"""),
    # Upstream's clampf is maxf(minf(x, lo), hi): with random operands
    # each of the three wins somewhere.
    # Both results used, with different weights, so that ds and dc both
    # reach dx.
    # Quotients 1-3: both operands get a nonzero adjoint.
    "remf": ([("a", [3], "big"), ("b", [3], "pos")], [3],
             "%out = arith.remf %a, %b : tensor<3xf64>"),
    "sincos": ([("a", [3], "any"), ("b", [3], "any")], [3], """
        %s, %c = math.sincos %a : tensor<3xf64>
        %sb = arith.mulf %s, %b : tensor<3xf64>
        %out = arith.addf %sb, %c : tensor<3xf64>"""),
    "maxnumf": ([("a", [4], "any"), ("b", [4], "any")], [4],
                "%out = arith.maxnumf %a, %b : tensor<4xf64>"),
    "minnumf": ([("a", [4], "any"), ("b", [4], "any")], [4],
                "%out = arith.minnumf %a, %b : tensor<4xf64>"),
    # Through float32 and back: truncf's adjoint is extf and vice versa;
    # x^2 makes the derivative depend on x (exact for central differences
    # but for float32 rounding of x +/- h: about 6e-8 |x|^2 / h).
    "truncf_extf": ([("a", [3], "any")], [3], """
        %t = arith.truncf %a : tensor<3xf64> to tensor<3xf32>
        %m = arith.mulf %t, %t : tensor<3xf32>
        %out = arith.extf %m : tensor<3xf32> to tensor<3xf64>""",
                    {"h": 1e-2, "rtol": 1e-4}),
    "clampf": ([("a", [6], "any"), ("lo", [6], "any"), ("hi", [6], "any")],
               [6], "%out = math.clampf %a to [%lo, %hi] : tensor<6xf64>"),
    # The cut ops: zero contribution (and a recorded cut), here next to a
    # term that does depend on %a.
    "floor_ceil_round_trunc": ([("a", [3], "any")], [3], """
        %f = math.floor %a : tensor<3xf64>
        %c = math.ceil %a : tensor<3xf64>
        %r = math.round %a : tensor<3xf64>
        %t = math.trunc %a : tensor<3xf64>
        %s1 = arith.addf %f, %c : tensor<3xf64>
        %s2 = arith.addf %r, %t : tensor<3xf64>
        %s3 = arith.addf %s1, %s2 : tensor<3xf64>
        %out = arith.addf %s3, %a : tensor<3xf64>"""),
    # Convolutions, pooling and contractions through their generic form.
    "conv_1d_nwc_wcf_strided": ([("x", [1, 7, 2], "any"), ("w", [3, 2, 2], "any")], [1, 3, 2], """
        %z = arith.constant 0.0 : f64
        %e = tensor.empty() : tensor<1x3x2xf64>
        %i = linalg.fill ins(%z : f64) outs(%e : tensor<1x3x2xf64>) -> tensor<1x3x2xf64>
        %out = linalg.conv_1d_nwc_wcf {dilations = dense<1> : tensor<1xi64>, strides = dense<2> : tensor<1xi64>} ins(%x, %w : tensor<1x7x2xf64>, tensor<3x2x2xf64>) outs(%i : tensor<1x3x2xf64>) -> tensor<1x3x2xf64>"""),
    "conv_2d_nhwc_hwcf_strided_dilated": ([("x", [1, 5, 5, 2], "any"), ("w", [2, 2, 2, 2], "any")], [1, 2, 2, 2], """
        %z = arith.constant 0.0 : f64
        %e = tensor.empty() : tensor<1x2x2x2xf64>
        %i = linalg.fill ins(%z : f64) outs(%e : tensor<1x2x2x2xf64>) -> tensor<1x2x2x2xf64>
        %out = linalg.conv_2d_nhwc_hwcf {dilations = dense<[1, 2]> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%x, %w : tensor<1x5x5x2xf64>, tensor<2x2x2x2xf64>) outs(%i : tensor<1x2x2x2xf64>) -> tensor<1x2x2x2xf64>"""),
    "conv_2d_nchw_fchw": ([("x", [1, 2, 4, 4], "any"), ("w", [2, 2, 3, 3], "any"), ("b", [1, 2, 2, 2], "any")], [1, 2, 2, 2], """
        %out = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %w : tensor<1x2x4x4xf64>, tensor<2x2x3x3xf64>) outs(%b : tensor<1x2x2x2xf64>) -> tensor<1x2x2x2xf64>"""),
    "conv_3d_ndhwc_dhwcf": ([("x", [1, 3, 3, 3, 1], "any"), ("w", [2, 2, 2, 1, 2], "any")], [1, 2, 2, 2, 2], """
        %z = arith.constant 0.0 : f64
        %e = tensor.empty() : tensor<1x2x2x2x2xf64>
        %i = linalg.fill ins(%z : f64) outs(%e : tensor<1x2x2x2x2xf64>) -> tensor<1x2x2x2x2xf64>
        %out = linalg.conv_3d_ndhwc_dhwcf {dilations = dense<1> : tensor<3xi64>, strides = dense<1> : tensor<3xi64>} ins(%x, %w : tensor<1x3x3x3x1xf64>, tensor<2x2x2x1x2xf64>) outs(%i : tensor<1x2x2x2x2xf64>) -> tensor<1x2x2x2x2xf64>"""),
    "depthwise_conv_2d_nhwc_hwc": ([("x", [1, 4, 4, 2], "any"), ("w", [2, 2, 2], "any"), ("b", [1, 3, 3, 2], "any")], [1, 3, 3, 2], """
        %out = linalg.depthwise_conv_2d_nhwc_hwc {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %w : tensor<1x4x4x2xf64>, tensor<2x2x2xf64>) outs(%b : tensor<1x3x3x2xf64>) -> tensor<1x3x3x2xf64>"""),
    "pooling_nhwc_max": ([("x", [1, 4, 4, 2], "any")], [1, 2, 2, 2], """
        %z = arith.constant 0xFFF0000000000000 : f64
        %e = tensor.empty() : tensor<1x2x2x2xf64>
        %i = linalg.fill ins(%z : f64) outs(%e : tensor<1x2x2x2xf64>) -> tensor<1x2x2x2xf64>
        %k = tensor.empty() : tensor<2x2xf64>
        %out = linalg.pooling_nhwc_max {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%x, %k : tensor<1x4x4x2xf64>, tensor<2x2xf64>) outs(%i : tensor<1x2x2x2xf64>) -> tensor<1x2x2x2xf64>"""),
    "pooling_nchw_sum": ([("x", [1, 2, 4, 4], "any")], [1, 2, 3, 3], """
        %z = arith.constant 0.0 : f64
        %e = tensor.empty() : tensor<1x2x3x3xf64>
        %i = linalg.fill ins(%z : f64) outs(%e : tensor<1x2x3x3xf64>) -> tensor<1x2x3x3xf64>
        %k = tensor.empty() : tensor<2x2xf64>
        %p = linalg.pooling_nchw_sum {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %k : tensor<1x2x4x4xf64>, tensor<2x2xf64>) outs(%i : tensor<1x2x3x3xf64>) -> tensor<1x2x3x3xf64>
        %out = arith.mulf %p, %p : tensor<1x2x3x3xf64>"""),
    # A scalar loss over a max-pool: the adjoint of the sum seeds a
    # generic that reads its destination (out + in), which upstream's
    # elementwise fusion put inside the pool's all-reduction adjoint,
    # accumulating the seed once per window element (4x the gradient).
    # (c is a constant: a second gradient would give the seed two users,
    # and the fusion needs one.)
    "pooling_nchw_max_scalar_loss": ([("x", [2, 2, 4, 4], "any")], [], """
        %c = arith.constant dense<[[[[0.5, -1.5], [2.0, 0.25]], [[-0.75, 1.0], [3.0, -2.0]]], [[[1.25, 0.5], [-1.0, 2.5]], [[0.125, -3.0], [1.5, 0.75]]]]> : tensor<2x2x2x2xf64>
        %ninf = arith.constant 0xFFF0000000000000 : f64
        %e = tensor.empty() : tensor<2x2x2x2xf64>
        %i = linalg.fill ins(%ninf : f64) outs(%e : tensor<2x2x2x2xf64>) -> tensor<2x2x2x2xf64>
        %k = tensor.empty() : tensor<2x2xf64>
        %p = linalg.pooling_nchw_max {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%x, %k : tensor<2x2x4x4xf64>, tensor<2x2xf64>) outs(%i : tensor<2x2x2x2xf64>) -> tensor<2x2x2x2xf64>
        %m = arith.mulf %p, %c : tensor<2x2x2x2xf64>
        %z = arith.constant 0.0 : f64
        %e0 = tensor.empty() : tensor<f64>
        %s0 = linalg.fill ins(%z : f64) outs(%e0 : tensor<f64>) -> tensor<f64>
        %out = linalg.reduce ins(%m : tensor<2x2x2x2xf64>) outs(%s0 : tensor<f64>) dimensions = [0, 1, 2, 3]
          (%a: f64, %acc: f64) {
            %t = arith.addf %a, %acc : f64
            linalg.yield %t : f64
          }"""),
    # A per-row loss, then its total: the total's adjoint seeds a generic
    # that reads its destination (out + in), which upstream's elementwise
    # fusion put inside the row broadcast of the first reduction's
    # adjoint, adding the seed once per column (the GPT's cross-entropy
    # came out vocabulary-size times too large).
    "rowwise_loss_then_total": ([("x", [3, 4], "any")], [], """
        %z = arith.constant 0.0 : f64
        %e = tensor.empty() : tensor<3xf64>
        %i = linalg.fill ins(%z : f64) outs(%e : tensor<3xf64>) -> tensor<3xf64>
        %r = linalg.reduce ins(%x : tensor<3x4xf64>) outs(%i : tensor<3xf64>) dimensions = [1]
          (%a: f64, %acc: f64) {
            %t = arith.addf %a, %acc : f64
            linalg.yield %t : f64
          }
        %sq = arith.mulf %r, %r : tensor<3xf64>
        %e0 = tensor.empty() : tensor<f64>
        %s0 = linalg.fill ins(%z : f64) outs(%e0 : tensor<f64>) -> tensor<f64>
        %out = linalg.reduce ins(%sq : tensor<3xf64>) outs(%s0 : tensor<f64>) dimensions = [0]
          (%a: f64, %acc: f64) {
            %t = arith.addf %a, %acc : f64
            linalg.yield %t : f64
          }"""),
    "matvec": ([("a", [2, 3], "any"), ("x", [3], "any"), ("y", [2], "any")], [2], """
        %out = linalg.matvec ins(%a, %x : tensor<2x3xf64>, tensor<3xf64>) outs(%y : tensor<2xf64>) -> tensor<2xf64>"""),
    "vecmat": ([("x", [2], "any"), ("a", [2, 3], "any"), ("y", [3], "any")], [3], """
        %out = linalg.vecmat ins(%x, %a : tensor<2xf64>, tensor<2x3xf64>) outs(%y : tensor<3xf64>) -> tensor<3xf64>"""),
    "dot": ([("a", [3], "any"), ("b", [3], "any"), ("c", [], "any")], [], """
        %d = linalg.dot ins(%a, %b : tensor<3xf64>, tensor<3xf64>) outs(%c : tensor<f64>) -> tensor<f64>
        %out = arith.mulf %d, %d : tensor<f64>"""),
    "matmul_transposed_a": ([("a", [3, 2], "any"), ("b", [3, 4], "any"), ("c", [2, 4], "any")], [2, 4], """
        %m = linalg.matmul indexing_maps = [affine_map<(d0, d1, d2) -> (d2, d0)>, affine_map<(d0, d1, d2) -> (d2, d1)>, affine_map<(d0, d1, d2) -> (d0, d1)>] ins(%a, %b : tensor<3x2xf64>, tensor<3x4xf64>) outs(%c : tensor<2x4xf64>) -> tensor<2x4xf64>
        %out = math.tanh %m : tensor<2x4xf64>"""),
    "matmul_transposed_b": ([("a", [2, 3], "any"), ("b", [4, 3], "any"), ("c", [2, 4], "any")], [2, 4], """
        %m = linalg.matmul indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>] ins(%a, %b : tensor<2x3xf64>, tensor<4x3xf64>) outs(%c : tensor<2x4xf64>) -> tensor<2x4xf64>
        %out = math.tanh %m : tensor<2x4xf64>"""),
    "matmul_broadcast_b": ([("a", [2, 3], "any"), ("b", [3], "any"), ("c", [2, 4], "any")], [2, 4], """
        %m = linalg.matmul indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>] ins(%a, %b : tensor<2x3xf64>, tensor<3xf64>) outs(%c : tensor<2x4xf64>) -> tensor<2x4xf64>
        %out = math.tanh %m : tensor<2x4xf64>"""),
    "batch_matmul_transposed_b": ([("a", [2, 2, 3], "any"), ("b", [2, 4, 3], "any"), ("c", [2, 2, 4], "any")], [2, 2, 4], """
        %m = linalg.batch_matmul indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>] ins(%a, %b : tensor<2x2x3xf64>, tensor<2x4x3xf64>) outs(%c : tensor<2x2x4xf64>) -> tensor<2x2x4xf64>
        %out = math.tanh %m : tensor<2x2x4xf64>"""),
    # Attention's products on operands laid out by heads ([b, t, h, d]):
    # tape-cpu-batched-contractions-as-matmuls makes the forward and both
    # adjoints loops of 2-D matmuls.
    "heads_scores_then_weighted_sum": ([("q", [2, 3, 2, 2], "any"), ("k", [2, 3, 2, 2], "any"), ("v", [2, 3, 2, 2], "any")], [2, 3, 2, 2], """
        %z = arith.constant dense<0.0> : tensor<2x2x3x3xf64>
        %s = linalg.generic {indexing_maps = [affine_map<(b, h, i, j, d) -> (b, i, h, d)>, affine_map<(b, h, i, j, d) -> (b, j, h, d)>, affine_map<(b, h, i, j, d) -> (b, h, i, j)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %k : tensor<2x3x2x2xf64>, tensor<2x3x2x2xf64>) outs(%z : tensor<2x2x3x3xf64>) {
        ^bb0(%x: f64, %y: f64, %acc: f64):
          %p = arith.mulf %x, %y : f64
          %r = arith.addf %acc, %p : f64
          linalg.yield %r : f64
        } -> tensor<2x2x3x3xf64>
        %t = math.tanh %s : tensor<2x2x3x3xf64>
        %zo = arith.constant dense<0.0> : tensor<2x3x2x2xf64>
        %o = linalg.generic {indexing_maps = [affine_map<(b, h, i, j, d) -> (b, h, i, j)>, affine_map<(b, h, i, j, d) -> (b, j, h, d)>, affine_map<(b, h, i, j, d) -> (b, i, h, d)>], iterator_types = ["parallel", "parallel", "parallel", "reduction", "parallel"]} ins(%t, %v : tensor<2x2x3x3xf64>, tensor<2x3x2x2xf64>) outs(%zo : tensor<2x3x2x2xf64>) {
        ^bb0(%x: f64, %y: f64, %acc: f64):
          %p = arith.mulf %x, %y : f64
          %r = arith.addf %acc, %p : f64
          linalg.yield %r : f64
        } -> tensor<2x3x2x2xf64>
        %out = math.sin %o : tensor<2x3x2x2xf64>"""),
    "batch_reduce_matmul": ([("a", [2, 2, 3], "any"), ("b", [2, 3, 2], "any"), ("c", [2, 2], "any")], [2, 2], """
        %m = linalg.batch_reduce_matmul ins(%a, %b : tensor<2x2x3xf64>, tensor<2x3x2xf64>) outs(%c : tensor<2x2xf64>) -> tensor<2x2xf64>
        %out = math.sin %m : tensor<2x2xf64>"""),
    "contract": ([("a", [2, 3], "any"), ("b", [4, 3], "any"), ("c", [4, 2], "any")], [4, 2], """
        %m = linalg.contract indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (n, m)>] ins(%a, %b : tensor<2x3xf64>, tensor<4x3xf64>) outs(%c : tensor<4x2xf64>) -> tensor<4x2xf64>
        %out = math.sin %m : tensor<4x2xf64>"""),
    "softmax": ([("a", [2, 3], "any")], [2, 3], """
        %e = tensor.empty() : tensor<2x3xf64>
        %s = linalg.softmax dimension(1) ins(%a : tensor<2x3xf64>) outs(%e : tensor<2x3xf64>) -> tensor<2x3xf64>
        %w = arith.constant dense<[[1.0, -2.0, 3.0], [0.5, 5.0, -1.0]]> : tensor<2x3xf64>
        %out = arith.mulf %s, %w : tensor<2x3xf64>"""),
    "named_elementwise": ([("a", [3], "any"), ("b", [3], "any")], [3], """
        %e = tensor.empty() : tensor<3xf64>
        %x = linalg.elementwise kind=#linalg.elementwise_kind<exp> ins(%a : tensor<3xf64>) outs(%e : tensor<3xf64>) -> tensor<3xf64>
        %y = linalg.exp ins(%b : tensor<3xf64>) outs(%e : tensor<3xf64>) -> tensor<3xf64>
        %p = linalg.mul ins(%x, %y : tensor<3xf64>, tensor<3xf64>) outs(%e : tensor<3xf64>) -> tensor<3xf64>
        %q = linalg.add ins(%p, %a : tensor<3xf64>, tensor<3xf64>) outs(%e : tensor<3xf64>) -> tensor<3xf64>
        %out = linalg.div ins(%q, %y : tensor<3xf64>, tensor<3xf64>) outs(%e : tensor<3xf64>) -> tensor<3xf64>"""),
    "map_copy_transpose": ([("a", [2, 3], "any")], [3, 2], """
        %e = tensor.empty() : tensor<2x3xf64>
        %m = linalg.map { math.tanh } ins(%a : tensor<2x3xf64>) outs(%e : tensor<2x3xf64>)
        %c = linalg.copy ins(%m : tensor<2x3xf64>) outs(%e : tensor<2x3xf64>) -> tensor<2x3xf64>
        %e2 = tensor.empty() : tensor<3x2xf64>
        %t = linalg.transpose ins(%c : tensor<2x3xf64>) outs(%e2 : tensor<3x2xf64>) permutation = [1, 0]
        %out = arith.mulf %t, %t : tensor<3x2xf64>"""),
    # linalg.generic: a sum and a max reduction in one op (two outputs), a
    # body using linalg.index, a captured scalar and a captured tensor read
    # at a computed index (scatter-accumulated).
    "generic_reductions": ([("a", [2, 3], "any"), ("s", [], "any")], [2], """
        %z = arith.constant 0.0 : f64
        %ninf = arith.constant 0xFFF0000000000000 : f64
        %e = tensor.empty() : tensor<2xf64>
        %i0 = linalg.fill ins(%z : f64) outs(%e : tensor<2xf64>) -> tensor<2xf64>
        %i1 = linalg.fill ins(%ninf : f64) outs(%e : tensor<2xf64>) -> tensor<2xf64>
        %sc = tensor.extract %s[] : tensor<f64>
        %r:2 = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>, affine_map<(i, j) -> (i)>], iterator_types = ["parallel", "reduction"]}
            ins(%a : tensor<2x3xf64>) outs(%i0, %i1 : tensor<2xf64>, tensor<2xf64>) {
          ^bb0(%x: f64, %acc: f64, %m: f64):
            %j = linalg.index 1 : index
            %j64 = arith.index_cast %j : index to i64
            %jf = arith.sitofp %j64 : i64 to f64
            %w = arith.mulf %x, %jf : f64
            %ws = arith.mulf %w, %sc : f64
            %sum = arith.addf %acc, %ws : f64
            %t = math.sin %x : f64
            %mx = arith.maximumf %m, %t : f64
            linalg.yield %sum, %mx : f64, f64
        } -> (tensor<2xf64>, tensor<2xf64>)
        %out = arith.mulf %r#0, %r#1 : tensor<2xf64>"""),
    "generic_captured_tensor": ([("a", [3], "any"), ("t", [4], "any")], [3], """
        %e = tensor.empty() : tensor<3xf64>
        %c1 = arith.constant 1 : index
        %out = linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> (i)>], iterator_types = ["parallel"]}
            ins(%a : tensor<3xf64>) outs(%e : tensor<3xf64>) {
          ^bb0(%x: f64, %o: f64):
            %i = linalg.index 0 : index
            %k = arith.addi %i, %c1 : index
            %v = tensor.extract %t[%k] : tensor<4xf64>
            %w = tensor.extract %t[%c1] : tensor<4xf64>
            %p = arith.mulf %x, %v : f64
            %q = arith.mulf %p, %w : f64
            linalg.yield %q : f64
        } -> tensor<3xf64>"""),
    # Data movement at run-time indices.
    "gather": ([("t", [4, 3], "any")], [3, 1, 3], """
        %idx = arith.constant dense<[[2], [0], [2]]> : tensor<3x1xindex>
        %g = tensor.gather %t[%idx] gather_dims([0]) : (tensor<4x3xf64>, tensor<3x1xindex>) -> tensor<3x1x3xf64>
        %out = math.sin %g : tensor<3x1x3xf64>"""),
    "scatter": ([("s", [2, 1, 3], "any"), ("d", [4, 3], "any")], [4, 3], """
        %idx = arith.constant dense<[[3], [1]]> : tensor<2x1xi32>
        %r = tensor.scatter %s into %d[%idx] scatter_dims([0]) unique : (tensor<2x1x3xf64>, tensor<4x3xf64>, tensor<2x1xi32>) -> tensor<4x3xf64>
        %out = math.sin %r : tensor<4x3xf64>"""),
    "pad": ([("a", [2, 2], "any"), ("v", [], "any")], [3, 5], """
        %pv = tensor.extract %v[] : tensor<f64>
        %p = tensor.pad %a low[1, 2] high[0, 1] {
        ^bb0(%i: index, %j: index):
          tensor.yield %pv : f64
        } : tensor<2x2xf64> to tensor<3x5xf64>
        %out = math.sin %p : tensor<3x5xf64>"""),
    "extract_runtime_index": ([("a", [4], "any"), ("b", [], "any")], [], """
        %k = arith.constant dense<2> : tensor<i64>
        %ki = tensor.extract %k[] : tensor<i64>
        %kx = arith.index_cast %ki : i64 to index
        %x = tensor.extract %a[%kx] : tensor<4xf64>
        %y = tensor.extract %b[] : tensor<f64>
        %p = arith.mulf %x, %y : f64
        %out = tensor.from_elements %p : tensor<f64>"""),
    # Control flow: nested loops, a while loop, a loop whose trip count is a
    # run-time value.
    "scf_for_nested": ([("a", [2], "any"), ("b", [2], "any")], [2], """
        %c0 = arith.constant 0 : index
        %c1 = arith.constant 1 : index
        %c2 = arith.constant 2 : index
        %c3 = arith.constant 3 : index
        %out = scf.for %i = %c0 to %c3 step %c1 iter_args(%acc = %a) -> (tensor<2xf64>) {
          %in = scf.for %j = %c0 to %c2 step %c1 iter_args(%x = %acc) -> (tensor<2xf64>) {
            %s = math.sin %x : tensor<2xf64>
            %m = arith.mulf %s, %b : tensor<2xf64>
            scf.yield %m : tensor<2xf64>
          }
          %t = math.tanh %in : tensor<2xf64>
          %n = arith.addf %t, %acc : tensor<2xf64>
          scf.yield %n : tensor<2xf64>
        }"""),
    "scf_while": ([("a", [2], "any"), ("b", [2], "any")], [2], """
        %c0 = arith.constant 0 : index
        %c1 = arith.constant 1 : index
        %c3 = arith.constant 3 : index
        %r:2 = scf.while (%k = %c0, %x = %a) : (index, tensor<2xf64>) -> (index, tensor<2xf64>) {
          %go = arith.cmpi slt, %k, %c3 : index
          %h = math.sin %x : tensor<2xf64>
          scf.condition(%go) %k, %h : index, tensor<2xf64>
        } do {
        ^bb0(%k2: index, %y: tensor<2xf64>):
          %m = arith.mulf %y, %b : tensor<2xf64>
          %t = math.tanh %m : tensor<2xf64>
          %kn = arith.addi %k2, %c1 : index
          scf.yield %kn, %t : index, tensor<2xf64>
        }
        %out = arith.mulf %r#1, %a : tensor<2xf64>"""),
    "scf_for_runtime_trips": ([("a", [2], "any")], [2], """
        %n64 = arith.constant dense<3> : tensor<i64>
        %n = tensor.extract %n64[] : tensor<i64>
        %nx = arith.index_cast %n : i64 to index
        %c0 = arith.constant 0 : index
        %c1 = arith.constant 1 : index
        %out = scf.for %i = %c0 to %nx step %c1 iter_args(%x = %a) -> (tensor<2xf64>) {
          %s = math.sin %x : tensor<2xf64>
          %m = arith.mulf %s, %a : tensor<2xf64>
          scf.yield %m : tensor<2xf64>
        }"""),
})

# The seed's first program, with its variables watched as tensors: at
# w = 1, b = 0 (x = 2, y = 3) the gradients are exactly dL/dw = -4, dL/db = -2.
SEED = ([("w", [], "one"), ("b", [], "zero")], [], """
        %x = arith.constant dense<2.0> : tensor<f64>
        %y = arith.constant dense<3.0> : tensor<f64>
        %xw = arith.mulf %x, %w : tensor<f64>
        %p = arith.addf %xw, %b : tensor<f64>
        %d = arith.subf %p, %y : tensor<f64>
        %out = arith.mulf %d, %d : tensor<f64>""")
# TOSA inside the recording region: the pipeline lowers it to linalg,
# tensor and arith before AD (tosa-to-linalg-named, tosa-to-linalg,
# tosa-to-arith, tosa-to-tensor). TOSA's convolutions and pooling take
# float32 only (max_pool2d parses float64 but does not lower): those cases
# convert at the edges and state float32 tolerances.
CASES.update({
    "tosa_elementwise": ([("a", [2, 3], "any"), ("b", [2, 3], "any")], [2, 3], """
        %shift = "tosa.const"() {values = dense<0> : tensor<1xi8>} : () -> tensor<1xi8>
        %m = tosa.mul %a, %b, %shift : (tensor<2x3xf64>, tensor<2x3xf64>, tensor<1xi8>) -> tensor<2x3xf64>
        %s = tosa.sigmoid %m : (tensor<2x3xf64>) -> tensor<2x3xf64>
        %e = tosa.exp %s : (tensor<2x3xf64>) -> tensor<2x3xf64>
        %r = tosa.reciprocal %e : (tensor<2x3xf64>) -> tensor<2x3xf64>
        %d = tosa.sub %r, %a : (tensor<2x3xf64>, tensor<2x3xf64>) -> tensor<2x3xf64>
        %c = tosa.clamp %d {min_val = -1.0e30 : f64, max_val = 0.0 : f64} : (tensor<2x3xf64>) -> tensor<2x3xf64>
        %t = tosa.tanh %c : (tensor<2x3xf64>) -> tensor<2x3xf64>
        %out = tosa.add %t, %b : (tensor<2x3xf64>, tensor<2x3xf64>) -> tensor<2x3xf64>"""),
    "tosa_matmul_reshape_transpose_reduce": ([("a", [2, 3], "any"), ("w", [3, 4], "any")], [4, 2], """
        %sa = tosa.const_shape {values = dense<[1, 2, 3]> : tensor<3xindex>} : () -> !tosa.shape<3>
        %a3 = tosa.reshape %a, %sa : (tensor<2x3xf64>, !tosa.shape<3>) -> tensor<1x2x3xf64>
        %sw = tosa.const_shape {values = dense<[1, 3, 4]> : tensor<3xindex>} : () -> !tosa.shape<3>
        %w3 = tosa.reshape %w, %sw : (tensor<3x4xf64>, !tosa.shape<3>) -> tensor<1x3x4xf64>
        %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf64>} : () -> tensor<1xf64>
        %mm = tosa.matmul %a3, %w3, %zp, %zp : (tensor<1x2x3xf64>, tensor<1x3x4xf64>, tensor<1xf64>, tensor<1xf64>) -> tensor<1x2x4xf64>
        %s2 = tosa.const_shape {values = dense<[2, 4]> : tensor<2xindex>} : () -> !tosa.shape<2>
        %m2 = tosa.reshape %mm, %s2 : (tensor<1x2x4xf64>, !tosa.shape<2>) -> tensor<2x4xf64>
        %t = tosa.transpose %m2 {perms = array<i32: 1, 0>} : (tensor<2x4xf64>) -> tensor<4x2xf64>
        %rs = tosa.reduce_sum %t {axis = 1 : i32} : (tensor<4x2xf64>) -> tensor<4x1xf64>
        %mx = tosa.reduce_max %t {axis = 1 : i32} : (tensor<4x2xf64>) -> tensor<4x1xf64>
        %ad = tosa.add %t, %rs : (tensor<4x2xf64>, tensor<4x1xf64>) -> tensor<4x2xf64>
        %out = tosa.sub %ad, %mx : (tensor<4x2xf64>, tensor<4x1xf64>) -> tensor<4x2xf64>"""),
    # Piecewise linear: h stays below the gaps between the sampled values.
    "tosa_max_pool2d": ([("x", [1, 4, 4, 2], "any")], [1, 2, 2, 2], """
        %xf = arith.truncf %x : tensor<1x4x4x2xf64> to tensor<1x4x4x2xf32>
        %p = tosa.max_pool2d %xf {kernel = array<i64: 2, 2>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 2, 2>} : (tensor<1x4x4x2xf32>) -> tensor<1x2x2x2xf32>
        %out = arith.extf %p : tensor<1x2x2x2xf32> to tensor<1x2x2x2xf64>""",
                        {"h": 1e-3, "rtol": 1e-3}),
    # Linear in each of x, w and b: central differences are exact but for
    # float32 rounding.
    "tosa_conv2d_avg_pool2d": ([("x", [1, 4, 4, 1], "any"), ("w", [2, 2, 2, 1], "any"), ("b", [2], "any")], [1, 2, 2, 2], """
        %xf = arith.truncf %x : tensor<1x4x4x1xf64> to tensor<1x4x4x1xf32>
        %wf = arith.truncf %w : tensor<2x2x2x1xf64> to tensor<2x2x2x1xf32>
        %bf = arith.truncf %b : tensor<2xf64> to tensor<2xf32>
        %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
        %c = tosa.conv2d %xf, %wf, %bf, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x4x4x1xf32>, tensor<2x2x2x1xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x3x3x2xf32>
        %p = tosa.avg_pool2d %c, %zp, %zp {acc_type = f32, kernel = array<i64: 2, 2>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x3x3x2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x2x2xf32>
        %out = arith.extf %p : tensor<1x2x2x2xf32> to tensor<1x2x2x2xf64>""",
                               {"h": 1e-2, "rtol": 1e-4}),
})

CASES["seed_neuron"] = SEED


def sample(domain, rng):
    return {"pos": lambda: rng.uniform(0.5, 2.0),
            "small": lambda: rng.uniform(-0.8, 0.8),
            "neg": lambda: rng.uniform(-2.0, -0.5),
            "big": lambda: rng.uniform(5.0, 6.0), "one": lambda: 1.0,
            "zero": lambda: 0.0}.get(domain, lambda: rng.gauss(0.0, 1.0))()


def sum_to_scalar(shape):
    t = ttype(shape)
    if not shape:
        return "%gc_r = tensor.extract %out[] : tensor<f64>"
    dims = ", ".join(str(i) for i in range(len(shape)))
    return f"""%gc_z = arith.constant 0.0 : f64
    %gc_e = tensor.empty() : tensor<f64>
    %gc_i = linalg.fill ins(%gc_z : f64) outs(%gc_e : tensor<f64>) -> tensor<f64>
    %gc_s = linalg.reduce ins(%out : {t}) outs(%gc_i : tensor<f64>) dimensions = [{dims}]
      (%gc_x: f64, %gc_acc: f64) {{
        %gc_sum = arith.addf %gc_x, %gc_acc : f64
        linalg.yield %gc_sum : f64
      }}
    %gc_r = tensor.extract %gc_s[] : tensor<f64>"""


def tolerances(case):
    """(h, rtol) of a case: the defaults unless it states its own."""
    extra = case[3] if len(case) > 3 else {}
    return extra.get("h", H), extra.get("rtol", RTOL)


def build_module(case, values):
    inputs, out_shape, body = case[:3]
    h = tolerances(case)[0]
    args = ", ".join(f"%{n}: {ttype(s)}" for n, s, _ in inputs)
    arg_types = ", ".join(ttype(s) for _, s, _ in inputs)
    names = ", ".join(f"%{n}" for n, _, _ in inputs)
    out_t = ttype(out_shape)
    watches = "\n".join(f"    tape.watch %{n} : {ttype(s)}"
                        for n, s, _ in inputs)
    # Finite differences must not see through stop_gradient: in @f a stopped
    # input is the constant base value.
    f_body = body
    for (n, s, _), v in zip(inputs, values):
        f_body = f_body.replace(f"tape.stop_gradient %{n} : {ttype(s)}",
                                f"arith.constant {dense(v, s)}")
    lines = [f"func.func private @f({args}) -> f64 {{", f_body, sum_to_scalar(out_shape),
             "  return %gc_r : f64", "}",
             f"func.func private @g({args}) -> ({arg_types}) {{",
             "  %gc_t, %gc_y = tape.record {", watches, body,
             f"    tape.yield %out : {out_t}", f"  }} : {out_t}",
             f"  %gc_g:{len(inputs)} = tape.gradient %gc_t (%gc_y : {out_t}) "
             f"wrt ({names} : {arg_types})",
             "  return " + ", ".join(f"%gc_g#{i}" for i in range(len(inputs)))
             + f" : {arg_types}", "}",
             "func.func @main() -> tensor<NUMVALUESxf64> {"]
    printed = []
    counter = [0]

    def fresh():
        counter[0] += 1
        return f"%v{counter[0]}"

    def constants(vals):
        names_ = []
        for (n, s, _), v in zip(inputs, vals):
            c = fresh()
            lines.append(f"  {c} = arith.constant {dense(v, s)}")
            names_.append(c)
        return names_

    # Gradients at the base point, element by element.
    base = constants(values)
    grads = [fresh() for _ in inputs]
    lines.append(f"  {', '.join(grads)} = func.call @g({', '.join(base)}) : "
                 f"({arg_types}) -> ({arg_types})")
    for g, (n, s, _) in zip(grads, inputs):
        for idx in indices(s):
            iv = []
            for k in idx:
                c = fresh()
                lines.append(f"  {c} = arith.constant {k} : index")
                iv.append(c)
            e = fresh()
            lines.append(f"  {e} = tensor.extract {g}[{', '.join(iv)}] : {ttype(s)}")
            printed.append(e)
    # f at x +/- h e_j for every input element j.
    for i, (n, s, _) in enumerate(inputs):
        for j in range(size(s)):
            for sign in (1.0, -1.0):
                moved = [list(v) for v in values]
                moved[i][j] += sign * h
                args_ = constants(moved)
                r = fresh()
                lines.append(f"  {r} = func.call @f({', '.join(args_)}) : "
                             f"({arg_types}) -> f64")
                printed.append(r)
    lines.append(f"  %gc_all = tensor.from_elements {', '.join(printed)} : "
                 f"tensor<{len(printed)}xf64>")
    lines += [f"  return %gc_all : tensor<{len(printed)}xf64>", "}"]
    return "\n".join(lines).replace("NUMVALUES", str(len(printed))) + "\n"


def run_case(name, case, opts, rng_seed):
    rng = random.Random(f"{rng_seed}-{name}")
    inputs = case[0]
    values = [[sample(d, rng) for _ in range(size(s))] for _, s, d in inputs]
    with tempfile.TemporaryDirectory(prefix=f"gradcheck-{name}-") as tmp:
        src = os.path.join(tmp, "case.mlir")
        with open(src, "w") as f:
            f.write(build_module(case, values))
        p = subprocess.run([opts.tape_run, src, "--entry", "main",
                            "--print-outputs", "--precision", "0"],
                           capture_output=True, text=True)
        if p.returncode:
            return name, False, "tape-run failed:\n" + p.stderr[-3000:]
    nums = [float(t) for t in p.stdout.split(":", 1)[1].split()]
    total = sum(size(s) for _, s, _ in inputs)
    grads, fvals = nums[:total], nums[total:]
    h, rtol = tolerances(case)
    worst = 0.0
    for k in range(total):
        fd = (fvals[2 * k] - fvals[2 * k + 1]) / (2 * h)
        err = abs(grads[k] - fd) / max(1.0, abs(fd))
        worst = max(worst, err)
        if err > rtol:
            return name, False, (f"element {k}: derived {grads[k]!r}, "
                                 f"finite difference {fd!r}")
    extra = ""
    if name == "seed_neuron" and grads != [-4.0, -2.0]:
        return name, False, f"seed gradients {grads}, expected [-4.0, -2.0]"
    if name == "seed_neuron":
        extra = " dL/dw = -4, dL/db = -2 exactly"
    return name, True, f"max relative error {worst:.1e}{extra}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tape-run", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("cases", nargs="*", help="case names (default: all)")
    opts = ap.parse_args()
    names = opts.cases or sorted(CASES)
    unknown = [n for n in names if n not in CASES]
    if unknown:
        print(f"unknown case(s): {', '.join(unknown)}", file=sys.stderr)
        return 2
    with concurrent.futures.ThreadPoolExecutor(opts.jobs) as pool:
        results = list(pool.map(
            lambda n: run_case(n, CASES[n], opts, opts.seed), names))
    failed = 0
    for name, ok, msg in results:
        print(f"{'PASS' if ok else 'FAIL'} {name}: {msg}")
        failed += not ok
    print(f"gradcheck: {len(results) - failed} passed, {failed} failed "
          f"(h = {H}, rtol = {RTOL} unless a case states its own)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
