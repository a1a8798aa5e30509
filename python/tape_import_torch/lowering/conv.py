"""Conv1d and Conv2d (stride, zero padding, dilation, groups) as linalg
convolutions in PyTorch's layouts: NCHW images, OIHW filters.

A 1-D convolution is the 2-D one over a height of 1. Padding is a
tensor.pad with zeros (AD gives the padding's adjoint back as the interior
slice). Groups split the channels: the image [N, G*C, H, W] is viewed as
[N, G, C, H, W] and the filter [G*F, C, kh, kw] as [G, F, C, kh, kw] for
linalg.conv_2d_ngchw_gfchw. The bias is the init the convolution
accumulates into.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from ..mlir import Value, scalar_constant, tensor_type
from .core import function, module


def pair(ctx, v, n=2, what="value"):
    if isinstance(v, int):
        return (v,) * n
    v = tuple(v)
    if len(v) == 1:
        return v * n
    if len(v) != n or not all(isinstance(x, int) for x in v):
        ctx.fail(f"unsupported {what} {v!r}")
    return v


def pad_value(ctx, x, low, high, value):
    """tensor.pad of `x` with a constant, `low`/`high` per dimension."""
    if not any(low) and not any(high):
        return x
    shape = tuple(d + lo + hi for d, lo, hi in zip(x.shape, low, high))
    name = ctx.fn.fresh("padded")
    c = ctx.fn.fresh("c")
    ctx.fn.line(f"{name} = tensor.pad {x.name} low{list(low)} high{list(high)} {{")
    ctx.fn.line("^bb0(" + ", ".join(f"{ctx.fn.fresh('i')}: index" for _ in range(x.rank)) + "):")
    ctx.fn.depth += 1
    ctx.fn.line(f"{c} = {scalar_constant(value, x.elt)}")
    ctx.fn.line(f"tensor.yield {c} : {x.elt}")
    ctx.fn.depth -= 1
    ctx.fn.line(f"}} : {x.type} to {tensor_type(shape, x.elt)}")
    return Value(name, shape, x.elt)


def _attrs(strides, dilations):
    return (f"{{dilations = dense<{list(dilations)}> : tensor<2xi64>, "
            f"strides = dense<{list(strides)}> : tensor<2xi64>}}")


def conv2d_value(ctx, x, w, bias, stride, padding, dilation, groups, out_shape):
    """x [N, C, H, W], w [F, C/groups, kh, kw] -> out_shape [N, F, OH, OW]."""
    x, w = ctx.tensor(x), ctx.tensor(w)
    kh, kw = w.shape[2], w.shape[3]
    if isinstance(padding, str):
        if padding == "valid":
            low = high = (0, 0)
        elif padding == "same":
            total = [d * (k - 1) for d, k in zip(dilation, (kh, kw))]
            low = tuple(t // 2 for t in total)
            high = tuple(t - t // 2 for t in total)
        else:
            ctx.fail(f"padding={padding!r} is not supported")
    else:
        low = high = tuple(padding)
    x = pad_value(ctx, x, (0, 0) + tuple(low), (0, 0) + tuple(high), 0.0)
    n, f, oh, ow = out_shape
    elt = x.elt
    if groups == 1:
        init = _bias_init(ctx, bias, out_shape, elt, [0, 2, 3])
        name = ctx.fn.fresh("conv")
        ctx.fn.line(f"{name} = linalg.conv_2d_nchw_fchw {_attrs(stride, dilation)} "
                    f"ins({x.name}, {w.name} : {x.type}, {w.type}) "
                    f"outs({init.name} : {init.type}) -> {init.type}")
        return Value(name, out_shape, elt)
    c = x.shape[1] // groups
    fg = f // groups
    xg = ctx.fn.expand(x, "[[0], [1, 2], [3], [4]]",
                       (x.shape[0], groups, c, x.shape[2], x.shape[3]))
    wg = ctx.fn.expand(w, "[[0, 1], [2], [3], [4]]", (groups, fg, w.shape[1], kh, kw))
    gshape = (n, groups, fg, oh, ow)
    if bias is not None:
        bias = ctx.fn.reshape(ctx.tensor(bias), (groups, fg))
    init = _bias_init(ctx, bias, gshape, elt, [0, 3, 4])
    name = ctx.fn.fresh("conv")
    ctx.fn.line(f"{name} = linalg.conv_2d_ngchw_gfchw {_attrs(stride, dilation)} "
                f"ins({xg.name}, {wg.name} : {xg.type}, {wg.type}) "
                f"outs({init.name} : {init.type}) -> {init.type}")
    return ctx.fn.collapse(Value(name, gshape, elt), "[[0], [1, 2], [3], [4]]", out_shape)


def _bias_init(ctx, bias, shape, elt, dims):
    if bias is None:
        return ctx.fn.filled(shape, elt, 0.0)
    b = ctx.tensor(bias)
    e = ctx.fn.empty(shape, elt)
    name = ctx.fn.fresh("bcast")
    ctx.fn.line(f"{name} = linalg.broadcast ins({b.name} : {b.type}) outs({e.name} : "
                f"{e.type}) dimensions = {dims}")
    return Value(name, shape, elt)


def conv_value(ctx, input, weight, bias, stride, padding, dilation, groups, dims):
    x = ctx.tensor(input)
    w = ctx.tensor(weight)
    if x.rank != dims + 2:
        ctx.fail(f"a {dims}-D convolution of a rank-{x.rank} input (without a batch "
                 "dimension) is not supported", fix="add the batch dimension")
    stride = pair(ctx, stride, dims, "stride")
    dilation = pair(ctx, dilation, dims, "dilation")
    if not isinstance(padding, str):
        padding = pair(ctx, padding, dims, "padding")
    out_shape = ctx.out_shape
    if dims == 2:
        return conv2d_value(ctx, x, w, bias, stride, padding, dilation, groups, out_shape)
    # 1-D: the 2-D convolution of height 1.
    x2 = ctx.fn.reshape(x, (x.shape[0], x.shape[1], 1, x.shape[2]))
    w2 = ctx.fn.reshape(w, (w.shape[0], w.shape[1], 1, w.shape[2]))
    pad2 = padding if isinstance(padding, str) else (0,) + tuple(padding)
    y = conv2d_value(ctx, x2, w2, bias, (1,) + stride, pad2, (1,) + dilation, groups,
                     (out_shape[0], out_shape[1], 1, out_shape[2]))
    return ctx.fn.reshape(y, out_shape)


@module(nn.Conv1d, nn.Conv2d)
def conv_module(ctx, m, input):
    if m.padding_mode != "zeros":
        ctx.fail(f"padding_mode={m.padding_mode!r} is not supported",
                 fix="use padding_mode='zeros'")
    dims = 2 if isinstance(m, nn.Conv2d) else 1
    return conv_value(ctx, input, ctx.attribute(m, "weight"), ctx.attribute(m, "bias"),
                      m.stride, m.padding, m.dilation, m.groups, dims)


@function(F.conv2d, torch.conv2d)
def conv2d(ctx, input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return conv_value(ctx, input, weight, bias, stride, padding, dilation, groups, 2)


@function(F.conv1d, torch.conv1d)
def conv1d(ctx, input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return conv_value(ctx, input, weight, bias, stride, padding, dilation, groups, 1)
