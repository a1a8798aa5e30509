"""Reductions (sum, mean, max, var) as linalg.generic reductions, and the
softmax family built on them."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from ..mlir import FLOAT_TYPES, Value
from .core import Const, Unavailable, function, method, module, normalize_dim
from .elementwise import elementwise

_INIT = {"sum": 0.0, "max": float("-inf"), "min": float("inf")}


def reduce(ctx, x, dims, kind, keepdim=False):
    """Sum, max or min of `x` over `dims`, a generic whose body is
    `acc <op> in` (the form AD's generic rule differentiates)."""
    x = ctx.tensor(x)
    dims = sorted({normalize_dim(ctx, d, x.rank) for d in dims})
    kept = [i for i in range(x.rank) if i not in dims]
    out_shape = tuple(x.shape[i] for i in kept)
    init_value = _INIT[kind]
    if x.elt not in FLOAT_TYPES:
        ctx.fail(f"{kind} of {x.elt} tensors is not supported")
    init = ctx.fn.filled(out_shape, x.elt, init_value)
    iterators = ["reduction" if i in dims else "parallel" for i in range(x.rank)]

    def body(s, args):
        if kind == "sum":
            return s.add(args[1], args[0])
        return s.max(args[1], args[0]) if kind == "max" else s.min(args[1], args[0])
    r = ctx.fn.generic([x], [[f"d{i}" for i in range(x.rank)]], out_shape, x.elt,
                       iterators, body, init=init, out_map=[f"d{i}" for i in kept])
    if keepdim:
        r = ctx.fn.reshape(r, tuple(1 if i in dims else d for i, d in enumerate(x.shape)))
    return r


def _dims(ctx, x, dim):
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        return list(range(ctx.tensor(x).rank))
    if isinstance(dim, int):
        return [dim]
    return list(dim)


def _count(x, dims):
    n = 1
    for d in dims:
        n *= x.shape[d]
    return n


@function(torch.sum)
@method("sum")
def sum_(ctx, input, dim=None, keepdim=False, dtype=None):
    return reduce(ctx, input, _dims(ctx, input, dim), "sum", keepdim)


@function(torch.mean)
@method("mean")
def mean(ctx, input, dim=None, keepdim=False, dtype=None):
    x = ctx.tensor(input)
    dims = [normalize_dim(ctx, d, x.rank) for d in _dims(ctx, x, dim)]
    total = reduce(ctx, x, dims, "sum", keepdim)
    n = _count(x, dims)
    return elementwise(ctx, [total], lambda s, a: s.div(a, float(n)))


@function(torch.var)
@method("var")
def var(ctx, input, dim=None, unbiased=True, keepdim=False, correction=None):
    x = ctx.tensor(input)
    dims = [normalize_dim(ctx, d, x.rank) for d in _dims(ctx, x, dim)]
    return variance(ctx, x, dims, keepdim,
                    correction if correction is not None else int(bool(unbiased)))


def variance(ctx, x, dims, keepdim, correction):
    """sum((x - mean)^2) / (n - correction): two passes, as torch."""
    n = _count(x, dims)
    mean_k = elementwise(ctx, [reduce(ctx, x, dims, "sum", True)],
                         lambda s, a: s.div(a, float(n)), out_elt=x.elt)
    sq = elementwise(ctx, [x, mean_k], lambda s, a, m: s.mul(s.sub(a, m), s.sub(a, m)),
                     out_elt=x.elt, out_shape=x.shape)
    total = reduce(ctx, sq, dims, "sum", keepdim)
    return elementwise(ctx, [total], lambda s, a: s.div(a, float(max(n - correction, 0))),
                       out_elt=x.elt)


@function(torch.std)
@method("std")
def std(ctx, input, dim=None, unbiased=True, keepdim=False, correction=None):
    v = var(ctx, input, dim, unbiased, keepdim, correction)
    return elementwise(ctx, [v], lambda s, a: s.sqrt(a))


@function(torch.amax)
@method("amax")
def amax(ctx, input, dim=(), keepdim=False):
    return reduce(ctx, input, _dims(ctx, input, dim), "max", keepdim)


@function(torch.amin)
@method("amin")
def amin(ctx, input, dim=(), keepdim=False):
    return reduce(ctx, input, _dims(ctx, input, dim), "min", keepdim)


def _extremum(kind):
    def handler(ctx, input, dim=None, keepdim=False):
        if isinstance(dim, (Value, Const)):
            from .elementwise import maximum, minimum
            return (maximum if kind == "max" else minimum)(ctx, input, dim)
        if dim is None:
            return reduce(ctx, input, _dims(ctx, input, None), kind, False)
        values = reduce(ctx, input, [dim], kind, keepdim)
        return (values, Unavailable(f"the indices of {kind}(dim=...)", ctx.node))
    return handler


function(torch.max)(_extremum("max"))
method("max")(_extremum("max"))
function(torch.min)(_extremum("min"))
method("min")(_extremum("min"))


# Softmax ----------------------------------------------------------------------

def _softmax_dim(ctx, dim, rank):
    if dim is None:
        ctx.fail("softmax without dim is not supported (PyTorch's implicit "
                 "choice is deprecated)", fix="pass dim=")
    return normalize_dim(ctx, dim, rank)


def _cast(ctx, input, dtype):
    x = ctx.tensor(input)
    if dtype is not None:
        from .core import element_type
        from .elementwise import convert
        x = convert(ctx, x, element_type(dtype, ctx))
    return x


def softmax_value(ctx, x, dim):
    """linalg.softmax: AD's dedicated rule is torch's backward,
    dx = y (dy - sum(dy y))."""
    e = ctx.fn.empty(x.shape, x.elt)
    name = ctx.fn.fresh("softmax")
    ctx.fn.line(f"{name} = linalg.softmax dimension({dim}) ins({x.name} : {x.type}) "
                f"outs({e.name} : {e.type}) -> {x.type}")
    return Value(name, x.shape, x.elt)


def log_softmax_value(ctx, x, dim):
    """(x - m) - log(sum(exp(x - m))) with m the maximum over `dim`, which
    gets no gradient (the result does not depend on it; torch's backward
    does not differentiate it either)."""
    m = reduce(ctx, x, [dim], "max", keepdim=True)
    stopped = ctx.fn.fresh("stop")
    ctx.fn.line(f"{stopped} = tape.stop_gradient {m.name} : {m.type}")
    m = Value(stopped, m.shape, m.elt)
    shifted = elementwise(ctx, [x, m], lambda s, a, b: s.sub(a, b),
                          out_shape=x.shape, out_elt=x.elt)
    exps = elementwise(ctx, [shifted], lambda s, a: s.exp(a), out_elt=x.elt)
    lse = elementwise(ctx, [reduce(ctx, exps, [dim], "sum", keepdim=True)],
                      lambda s, a: s.log(a), out_elt=x.elt)
    return elementwise(ctx, [shifted, lse], lambda s, a, b: s.sub(a, b),
                       out_shape=x.shape, out_elt=x.elt)


@function(F.softmax, torch.softmax)
@method("softmax")
def softmax(ctx, input, dim=None, _stacklevel=3, dtype=None):
    x = _cast(ctx, input, dtype)
    return softmax_value(ctx, x, _softmax_dim(ctx, dim, x.rank))


@function(F.log_softmax, torch.log_softmax)
@method("log_softmax")
def log_softmax(ctx, input, dim=None, _stacklevel=3, dtype=None):
    x = _cast(ctx, input, dtype)
    return log_softmax_value(ctx, x, _softmax_dim(ctx, dim, x.rank))


@module(nn.Softmax)
def softmax_module(ctx, m, input):
    return softmax(ctx, input, m.dim)


@module(nn.LogSoftmax)
def log_softmax_module(ctx, m, input):
    return log_softmax(ctx, input, m.dim)
