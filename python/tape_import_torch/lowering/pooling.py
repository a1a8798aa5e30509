"""MaxPool1d/2d, AvgPool1d/2d and AdaptiveAvgPool1d/2d (static shapes).

Max pooling pads with -inf and runs linalg.pooling_nchw_max; average
pooling pads with zeros, sums with linalg.pooling_nchw_sum and divides by
the count PyTorch divides by at each output position (a constant computed
here: count_include_pad, ceil_mode and divisor_override as torch's
kernel). ceil_mode's extra windows are more padding on the high side.
Adaptive average pooling takes torch's windows, [floor(i H / OH),
ceil((i + 1) H / OH)): a strided sum pool when they are all alike, else a
contraction with 0/1 window matrices, then the division by each window's
size.
"""
import math

import numpy as np
import torch.nn as nn
import torch.nn.functional as F

from ..mlir import Value
from .conv import pad_value, pair
from .core import function, module
from .elementwise import elementwise


def _pool(ctx, x, kind, kernel, stride, dilation, out_hw):
    init = ctx.fn.filled((x.shape[0], x.shape[1]) + tuple(out_hw), x.elt,
                         float("-inf") if kind == "max" else 0.0)
    window = ctx.fn.empty(kernel, x.elt)
    name = ctx.fn.fresh("pool")
    ctx.fn.line(f"{name} = linalg.pooling_nchw_{kind} {{dilations = dense<{list(dilation)}> "
                f": tensor<2xi64>, strides = dense<{list(stride)}> : tensor<2xi64>}} "
                f"ins({x.name}, {window.name} : {x.type}, {window.type}) "
                f"outs({init.name} : {init.type}) -> {init.type}")
    return Value(name, init.shape, x.elt)


def _high_padding(size, kernel, stride, dilation, pad, out):
    """The padding after the input that the last of `out` windows needs
    (ceil_mode adds windows that start inside the input or its padding)."""
    needed = (out - 1) * stride + dilation * (kernel - 1) + 1
    return max(pad, needed - size - pad)


def _as_2d(ctx, x, dims):
    """A [N, C, L] input of a 1-D pool as [N, C, 1, L]; rank-3 2-D inputs
    (no batch) as [1, C, H, W]."""
    if dims == 1:
        if x.rank != 3:
            ctx.fail("1-D pooling of an input without a batch dimension is not "
                     "supported", fix="add the batch dimension")
        return ctx.fn.reshape(x, (x.shape[0], x.shape[1], 1, x.shape[2]))
    if x.rank == 3:
        return ctx.fn.reshape(x, (1,) + tuple(x.shape))
    return x


def _out_hw(out_shape, dims):
    return (1, out_shape[-1]) if dims == 1 else tuple(out_shape[-2:])


def _params(ctx, dims, kernel_size, stride, padding, dilation):
    k = pair(ctx, kernel_size, dims, "kernel size")
    s = pair(ctx, stride if stride not in (None, []) else kernel_size, dims, "stride")
    p = pair(ctx, padding, dims, "padding")
    d = pair(ctx, dilation, dims, "dilation")
    if dims == 1:
        k, s, p, d = (1,) + k, (1,) + s, (0,) + p, (1,) + d
    return k, s, p, d


def max_pool_value(ctx, input, kernel_size, stride, padding, dilation, ceil_mode,
                   return_indices, dims):
    if return_indices:
        ctx.fail("max pooling with return_indices=True is not supported")
    x = ctx.tensor(input)
    out_shape = ctx.out_shape
    x2 = _as_2d(ctx, x, dims)
    k, s, p, d = _params(ctx, dims, kernel_size, stride, padding, dilation)
    out_hw = _out_hw(out_shape, dims)
    high = [_high_padding(x2.shape[2 + i], k[i], s[i], d[i], p[i], out_hw[i])
            for i in range(2)]
    padded = pad_value(ctx, x2, (0, 0) + tuple(p), (0, 0) + tuple(high), float("-inf"))
    y = _pool(ctx, padded, "max", k, s, d, out_hw)
    return ctx.fn.reshape(y, out_shape)


def _avg_divisors(size_hw, k, s, p, out_hw, count_include_pad, divisor_override):
    """torch's avg_pool2d divisor at each output position."""
    if divisor_override:
        return np.full(out_hw, float(divisor_override))
    div = np.zeros(out_hw)
    for i in range(out_hw[0]):
        for j in range(out_hw[1]):
            h0, w0 = i * s[0] - p[0], j * s[1] - p[1]
            h1 = min(h0 + k[0], size_hw[0] + p[0])
            w1 = min(w0 + k[1], size_hw[1] + p[1])
            pool = (h1 - h0) * (w1 - w0)
            h0, w0 = max(h0, 0), max(w0, 0)
            h1, w1 = min(h1, size_hw[0]), min(w1, size_hw[1])
            div[i, j] = pool if count_include_pad else (h1 - h0) * (w1 - w0)
    return div


def _divide(ctx, summed, divisors, out_shape):
    elt = summed.elt
    if np.all(divisors == divisors.flat[0]):
        y = elementwise(ctx, [summed], lambda sc, a: sc.div(a, float(divisors.flat[0])),
                        out_elt=elt)
    else:
        from .core import Const
        import torch
        dv = ctx.tensor(Const(torch.tensor(divisors, dtype=torch.float64 if elt == "f64"
                                           else torch.float32)))
        y = elementwise(ctx, [summed, dv], lambda sc, a, b: sc.div(a, b),
                        out_shape=summed.shape, out_elt=elt)
    return ctx.fn.reshape(y, out_shape)


def avg_pool_value(ctx, input, kernel_size, stride, padding, ceil_mode,
                   count_include_pad, divisor_override, dims):
    x = ctx.tensor(input)
    out_shape = ctx.out_shape
    x2 = _as_2d(ctx, x, dims)
    k, s, p, d = _params(ctx, dims, kernel_size, stride, padding, 1)
    out_hw = _out_hw(out_shape, dims)
    size_hw = x2.shape[2:]
    high = [_high_padding(size_hw[i], k[i], s[i], 1, p[i], out_hw[i]) for i in range(2)]
    padded = pad_value(ctx, x2, (0, 0) + tuple(p), (0, 0) + tuple(high), 0.0)
    summed = _pool(ctx, padded, "sum", k, s, (1, 1), out_hw)
    divisors = _avg_divisors(size_hw, k, s, p, out_hw, count_include_pad, divisor_override)
    return _divide(ctx, summed, divisors, out_shape)


def _adaptive_windows(size, out):
    return [(math.floor(i * size / out), math.ceil((i + 1) * size / out))
            for i in range(out)]


def adaptive_avg_pool_value(ctx, input, dims):
    x = ctx.tensor(input)
    out_shape = ctx.out_shape
    x2 = _as_2d(ctx, x, dims)
    out_hw = _out_hw(out_shape, dims)
    size_hw = x2.shape[2:]
    windows = [_adaptive_windows(size_hw[i], out_hw[i]) for i in range(2)]
    lengths = [[b - a for a, b in w] for w in windows]
    divisors = np.outer(lengths[0], lengths[1]).astype(np.float64)
    if all(size_hw[i] % out_hw[i] == 0 for i in range(2)):
        # Windows of size/out elements, one after the other.
        k = tuple(size_hw[i] // out_hw[i] for i in range(2))
        summed = _pool(ctx, x2, "sum", k, k, (1, 1), out_hw)
        return _divide(ctx, summed, divisors, out_shape)
    # Irregular windows: out[n, c, i, j] = sum_{h, w} P[i, h] Q[j, w] x[n, c, h, w].
    from .core import Const
    import torch
    tdt = torch.float64 if x.elt == "f64" else torch.float32
    mats = []
    for i in range(2):
        m = np.zeros((out_hw[i], size_hw[i]))
        for o, (a, b) in enumerate(windows[i]):
            m[o, a:b] = 1.0
        mats.append(ctx.tensor(Const(torch.tensor(m, dtype=tdt))))
    shape = (x2.shape[0], x2.shape[1]) + tuple(out_hw)
    init = ctx.fn.filled(shape, x.elt, 0.0)
    summed = ctx.fn.generic(
        [x2, mats[0], mats[1]],
        [["d0", "d1", "d4", "d5"], ["d2", "d4"], ["d3", "d5"]],
        shape, x.elt, ["parallel"] * 4 + ["reduction"] * 2,
        lambda sc, a: sc.add(a[3], sc.mul(a[0], sc.mul(a[1], a[2]))),
        init=init, out_map=["d0", "d1", "d2", "d3"])
    return _divide(ctx, summed, divisors, out_shape)


@module(nn.MaxPool1d, nn.MaxPool2d)
def max_pool_module(ctx, m, input):
    dims = 2 if isinstance(m, nn.MaxPool2d) else 1
    return max_pool_value(ctx, input, m.kernel_size, m.stride, m.padding, m.dilation,
                          m.ceil_mode, m.return_indices, dims)


@function(F.max_pool2d)
def max_pool2d(ctx, input, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode=False, return_indices=False):
    return max_pool_value(ctx, input, kernel_size, stride, padding, dilation,
                          ceil_mode, return_indices, 2)


@function(F.max_pool1d)
def max_pool1d(ctx, input, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode=False, return_indices=False):
    return max_pool_value(ctx, input, kernel_size, stride, padding, dilation,
                          ceil_mode, return_indices, 1)


@module(nn.AvgPool1d, nn.AvgPool2d)
def avg_pool_module(ctx, m, input):
    dims = 2 if isinstance(m, nn.AvgPool2d) else 1
    return avg_pool_value(ctx, input, m.kernel_size, m.stride, m.padding, m.ceil_mode,
                          m.count_include_pad, getattr(m, "divisor_override", None), dims)


@function(F.avg_pool2d)
def avg_pool2d(ctx, input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    return avg_pool_value(ctx, input, kernel_size, stride, padding, ceil_mode,
                          count_include_pad, divisor_override, 2)


@function(F.avg_pool1d)
def avg_pool1d(ctx, input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    return avg_pool_value(ctx, input, kernel_size, stride, padding, ceil_mode,
                          count_include_pad, None, 1)


@module(nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d)
def adaptive_avg_pool_module(ctx, m, input):
    return adaptive_avg_pool_value(ctx, input, 2 if isinstance(m, nn.AdaptiveAvgPool2d) else 1)


@function(F.adaptive_avg_pool2d)
def adaptive_avg_pool2d(ctx, input, output_size):
    return adaptive_avg_pool_value(ctx, input, 2)


@function(F.adaptive_avg_pool1d)
def adaptive_avg_pool1d(ctx, input, output_size):
    return adaptive_avg_pool_value(ctx, input, 1)
