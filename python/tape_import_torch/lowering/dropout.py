"""Dropout in training: tape.random_uniform (Philox keyed by a seed and the
step count: new masks each step, the same on every run), keep where
u >= p, kept values scaled by 1 / (1 - p) as torch scales them. Each
dropout op gets its own seed (the importer's --seed plus one per op, in
graph order). In evaluation, and with p = 0, the identity."""
import torch.nn as nn
import torch.nn.functional as F

from ..mlir import FLOAT_TYPES, Value
from .core import function, module
from .elementwise import elementwise


def dropout_value(ctx, input, p, training):
    x = ctx.tensor(input)
    if not training or p == 0.0:
        return x
    if x.elt not in FLOAT_TYPES:
        ctx.fail("dropout of a non-float tensor is not supported")
    if p == 1.0:
        return elementwise(ctx, [x], lambda s, a: s.mul(a, 0.0))
    seed = ctx.program.next_dropout_seed(ctx.where)
    u = ctx.fn.fresh("u")
    ctx.fn.line(f"{u} = tape.random_uniform {{seed = {seed} : i64}} : {x.type}")
    uniform = Value(u, x.shape, x.elt)
    scale = 1.0 / (1.0 - p)
    return elementwise(ctx, [x, uniform], lambda s, a, r: s.select(
        s.cmpf("oge", r, p), s.mul(a, scale), 0.0))


@module(nn.Dropout)
def dropout_module(ctx, m, input):
    return dropout_value(ctx, input, m.p, ctx.training)


@function(F.dropout)
def dropout(ctx, input, p=0.5, training=True, inplace=False):
    # torch drops whenever training=True, whatever the module's mode.
    return dropout_value(ctx, input, p, training)
