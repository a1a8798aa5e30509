"""Matrix products: nn.Linear, F.linear, matmul/@/mm/bmm with PyTorch's
broadcasting. Plain and batched products are linalg.matmul and
linalg.batch_matmul (the compiler's packed kernels); products whose batch
dimensions broadcast are linalg.generic contractions."""
import operator

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ..mlir import Value
from .core import function, method, module
from .elementwise import broadcast_map, broadcast_shape

_TRANSPOSED_B = ("indexing_maps = [affine_map<(m, n, k) -> (m, k)>, "
                 "affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>] ")


def broadcast_rows(ctx, vector, shape):
    """A vector [n] broadcast to `shape` [rows, n] (linalg.broadcast)."""
    e = ctx.fn.empty(shape, vector.elt)
    name = ctx.fn.fresh("bcast")
    dims = [i for i in range(len(shape)) if i != len(shape) - 1]
    ctx.fn.line(f"{name} = linalg.broadcast ins({vector.name} : {vector.type}) "
                f"outs({e.name} : {e.type}) dimensions = {dims}")
    return Value(name, shape, vector.elt)


def matmul_2d(ctx, a, b, transpose_b=False, init=None):
    """a [m, k] times b [k, n] (or b [n, k] transposed), added to `init`."""
    m = a.shape[0]
    n = b.shape[0] if transpose_b else b.shape[1]
    if init is None:
        init = ctx.fn.filled((m, n), a.elt, 0.0)
    name = ctx.fn.fresh("mm")
    maps = _TRANSPOSED_B if transpose_b else ""
    ctx.fn.line(f"{name} = linalg.matmul {maps}ins({a.name}, {b.name} : {a.type}, "
                f"{b.type}) outs({init.name} : {init.type}) -> {init.type}")
    return Value(name, (m, n), a.elt)


def linear_value(ctx, x, weight, bias):
    """x [..., in] @ weight[out, in]^T + bias, the rows flattened into one
    matmul accumulating into the broadcast bias."""
    x = ctx.tensor(x)
    weight = ctx.tensor(weight)
    out_features, in_features = weight.shape if weight.rank == 2 else (None, None)
    if weight.rank != 2:
        ctx.fail("linear with a weight that is not a matrix is not supported")
    rows = int(np.prod(x.shape[:-1])) if x.rank > 1 else 1
    x2 = ctx.fn.reshape(x, (rows, in_features))
    init = None
    if bias is not None:
        bias = ctx.tensor(bias)
        init = broadcast_rows(ctx, bias, (rows, out_features))
    y = matmul_2d(ctx, x2, weight, transpose_b=True, init=init)
    return ctx.fn.reshape(y, tuple(x.shape[:-1]) + (out_features,))


@module(nn.Linear)
def linear_module(ctx, m, input):
    return linear_value(ctx, input, ctx.attribute(m, "weight"), ctx.attribute(m, "bias"))


@function(F.linear)
def linear(ctx, input, weight, bias=None):
    return linear_value(ctx, input, weight, bias)


def matmul_value(ctx, a, b):
    a, b = ctx.tensor(a), ctx.tensor(b)
    out_shape = ctx.out_shape
    if a.rank == 1 and b.rank == 1:
        init = ctx.fn.filled((), a.elt, 0.0)
        return ctx.fn.generic([a, b], [["d0"], ["d0"]], (), a.elt, ["reduction"],
                              lambda s, args: s.add(args[2], s.mul(args[0], args[1])),
                              init=init, out_map=[])
    if a.rank == 1:
        a = ctx.fn.reshape(a, (1, a.shape[0]))
    if b.rank == 1:
        b = ctx.fn.reshape(b, (b.shape[0], 1))
    if a.rank == 2 and b.rank == 2:
        return ctx.fn.reshape(matmul_2d(ctx, a, b), out_shape)
    if b.rank == 2:
        rows = int(np.prod(a.shape[:-1]))
        y = matmul_2d(ctx, ctx.fn.reshape(a, (rows, a.shape[-1])), b)
        return ctx.fn.reshape(y, out_shape)
    batch_a, batch_b = a.shape[:-2], b.shape[:-2]
    batch = broadcast_shape([batch_a, batch_b])
    m, k, n = a.shape[-2], a.shape[-1], b.shape[-1]
    if batch_a == batch_b:
        count = int(np.prod(batch))
        a3 = ctx.fn.reshape(a, (count, m, k))
        b3 = ctx.fn.reshape(b, (count, k, n))
        init = ctx.fn.filled((count, m, n), a.elt, 0.0)
        name = ctx.fn.fresh("bmm")
        ctx.fn.line(f"{name} = linalg.batch_matmul ins({a3.name}, {b3.name} : {a3.type}, "
                    f"{b3.type}) outs({init.name} : {init.type}) -> {init.type}")
        return ctx.fn.reshape(Value(name, (count, m, n), a.elt), out_shape)
    # Broadcast batch dimensions: one contraction over (batch..., i, j, k).
    r = len(batch)
    i, j, kk = f"d{r}", f"d{r + 1}", f"d{r + 2}"
    map_a = broadcast_map(batch_a, batch) + [i, kk]
    map_b = broadcast_map(batch_b, batch) + [kk, j]
    shape = tuple(batch) + (m, n)
    init = ctx.fn.filled(shape, a.elt, 0.0)
    y = ctx.fn.generic([a, b], [map_a, map_b], shape, a.elt,
                       ["parallel"] * (r + 2) + ["reduction"],
                       lambda s, args: s.add(args[2], s.mul(args[0], args[1])),
                       init=init, out_map=[f"d{q}" for q in range(r)] + [i, j])
    return ctx.fn.reshape(y, out_shape)


@function(operator.matmul, torch.matmul, torch.mm, torch.bmm)
@method("matmul", "__matmul__", "mm", "bmm")
def matmul(ctx, input, other):
    return matmul_value(ctx, input, other)


@method("__rmatmul__")
def rmatmul(ctx, input, other):
    return matmul_value(ctx, other, input)


