"""BatchNorm1d/2d and LayerNorm.

BatchNorm in training normalizes by the batch's statistics (biased
variance) and updates its running statistics, which are variables of the
step (not trainable): after the update,

    running_mean = (1 - momentum) running_mean + momentum mean
    running_var  = (1 - momentum) running_var + momentum var * n / (n - 1)
    num_batches_tracked += 1

with momentum = 1 / num_batches_tracked when it is None (a cumulative
average), as torch.nn.BatchNorm does. The statistics leave the recorded
region as extra results (the gradient is asked of the loss alone) and are
assigned after the optimizer's update. In evaluation the running
statistics normalize.
"""
import torch.nn as nn
import torch.nn.functional as F

from ..mlir import Value
from .core import function, module
from .elementwise import elementwise
from .reductions import reduce


def state_buffers(model):
    """(name, tensor) of the buffers that are state of the step: the running
    statistics of every BatchNorm that tracks them."""
    found = []
    for path, m in model.named_modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats:
            for attr in ("running_mean", "running_var", "num_batches_tracked"):
                t = getattr(m, attr)
                if t is not None:
                    found.append((f"{path}.{attr}" if path else attr, t))
    return found


def _channel_shape(x):
    """Where a per-channel vector [C] broadcasts: dimension 1."""
    return tuple(x.shape[1] if i == 1 else 1 for i in range(x.rank))


def _normalize(ctx, x, mean, var, weight, bias, eps):
    """(x - mean) / sqrt(var + eps) * weight + bias, the statistics and the
    affine parameters broadcast along dimension 1."""
    shape = _channel_shape(x)
    mean = ctx.fn.reshape(ctx.tensor(mean), shape)
    var = ctx.fn.reshape(ctx.tensor(var), shape)
    operands = [x, mean, var]
    if weight is not None:
        operands.append(ctx.fn.reshape(ctx.tensor(weight), shape))
    if bias is not None:
        operands.append(ctx.fn.reshape(ctx.tensor(bias), shape))

    def body(s, a, m, v, *affine):
        y = s.mul(s.sub(a, m), s.div(1.0, s.sqrt(s.add(v, eps))))
        k = 0
        if weight is not None:
            y = s.mul(y, affine[k])
            k += 1
        if bias is not None:
            y = s.add(y, affine[k])
        return y
    return elementwise(ctx, operands, body, out_shape=x.shape, out_elt=x.elt)


def batch_norm_value(ctx, m, input, running_mean, running_var, weight, bias,
                     training, momentum, eps, num_batches_tracked=None):
    x = ctx.tensor(input)
    if x.rank < 2:
        ctx.fail("batch norm of a tensor of rank < 2 is not supported")
    if not training:
        if running_mean is None:
            ctx.fail("batch norm in evaluation without running statistics")
        return _normalize(ctx, x, running_mean, running_var, weight, bias, eps)
    dims = [0] + list(range(2, x.rank))
    n = 1
    for d in dims:
        n *= x.shape[d]
    total = reduce(ctx, x, dims, "sum")
    mean = elementwise(ctx, [total], lambda s, a: s.div(a, float(n)), out_elt=x.elt)
    centered_sq = elementwise(
        ctx, [x, ctx.fn.reshape(mean, _channel_shape(x))],
        lambda s, a, b: s.mul(s.sub(a, b), s.sub(a, b)), out_shape=x.shape, out_elt=x.elt)
    var = elementwise(ctx, [reduce(ctx, centered_sq, dims, "sum")],
                      lambda s, a: s.div(a, float(n)), out_elt=x.elt)
    y = _normalize(ctx, x, mean, var, weight, bias, eps)
    if running_mean is not None and m is not None:
        _update_running_stats(ctx, m, mean, var, n, momentum)
    return y


def _update_running_stats(ctx, m, mean, var, n, momentum):
    names = {a: ctx.program.variable_of(getattr(m, a))
             for a in ("running_mean", "running_var", "num_batches_tracked")
             if getattr(m, a) is not None}
    if names.get("running_mean") is None or names.get("running_var") is None:
        ctx.fail("the running statistics of this batch norm are not its own buffers")
    old_mean, old_var = ctx.read(names["running_mean"]), ctx.read(names["running_var"])
    count = None
    if names.get("num_batches_tracked") is not None:
        tracked = ctx.read(names["num_batches_tracked"])
        count = elementwise(ctx, [tracked], lambda s, a: s.add(a, 1),
                            out_shape=(), out_elt="i64")
        ctx.assign(names["num_batches_tracked"], count)
    unbiased = n / (n - 1) if n > 1 else float("nan")
    if momentum is None:
        if count is None:
            ctx.fail("batch norm with momentum=None needs num_batches_tracked")
        # A cumulative average: factor 1 / num_batches_tracked.
        operands_extra = [count]
    else:
        operands_extra = []

    def update(kind):
        old = old_mean if kind == "mean" else old_var
        new = mean if kind == "mean" else var

        def body(s, o, b, *c):
            if kind == "var":
                b = s.mul(b, unbiased)
            if momentum is None:
                f = s.div(1.0, c[0])  # the count, converted by elementwise
                return s.add(s.mul(o, s.sub(1.0, f)), s.mul(b, f))
            return s.add(s.mul(o, 1.0 - momentum), s.mul(b, momentum))
        stopped = _stop_gradient(ctx, new)
        return elementwise(ctx, [old, stopped] + operands_extra, body,
                           out_shape=old.shape, out_elt=old.elt)
    ctx.assign(names["running_mean"], update("mean"))
    ctx.assign(names["running_var"], update("var"))


def _stop_gradient(ctx, v):
    name = ctx.fn.fresh("stop")
    ctx.fn.line(f"{name} = tape.stop_gradient {v.name} : {v.type}")
    return Value(name, v.shape, v.elt)


@module(nn.BatchNorm1d, nn.BatchNorm2d)
def batch_norm_module(ctx, m, input):
    if isinstance(m, nn.SyncBatchNorm):
        ctx.fail("SyncBatchNorm is not supported")
    # Batch statistics in training, and always without running ones (as
    # torch's bn_training); the running ones are updated in training only.
    training = ctx.training or not m.track_running_stats
    return batch_norm_value(
        ctx, m, input,
        ctx.attribute(m, "running_mean") if m.track_running_stats else None,
        ctx.attribute(m, "running_var") if m.track_running_stats else None,
        ctx.attribute(m, "weight"), ctx.attribute(m, "bias"),
        training, m.momentum, m.eps)


@function(F.batch_norm)
def batch_norm(ctx, input, running_mean, running_var, weight=None, bias=None,
               training=False, momentum=0.1, eps=1e-05):
    if training and running_mean is not None:
        ctx.fail("F.batch_norm in training with running statistics is not "
                 "supported (it updates them in place)", fix="use nn.BatchNorm1d/2d")
    return batch_norm_value(ctx, None, input, running_mean, running_var, weight,
                            bias, training, momentum, eps)


def layer_norm_value(ctx, input, normalized_shape, weight, bias, eps):
    """(x - mean) / sqrt(var + eps) * weight + bias over the last
    len(normalized_shape) dimensions (biased variance, as torch)."""
    x = ctx.tensor(input)
    k = len(normalized_shape)
    dims = list(range(x.rank - k, x.rank))
    n = 1
    for d in dims:
        n *= x.shape[d]
    kept = tuple(d if i < x.rank - k else 1 for i, d in enumerate(x.shape))
    mean = elementwise(ctx, [reduce(ctx, x, dims, "sum", keepdim=True)],
                       lambda s, a: s.div(a, float(n)), out_elt=x.elt)
    centered = elementwise(ctx, [x, mean], lambda s, a, b: s.sub(a, b),
                           out_shape=x.shape, out_elt=x.elt)
    var = elementwise(ctx, [reduce(ctx, elementwise(
        ctx, [centered], lambda s, a: s.mul(a, a), out_elt=x.elt), dims, "sum", keepdim=True)],
        lambda s, a: s.div(a, float(n)), out_elt=x.elt)
    assert var.shape == kept
    operands = [centered, var]
    if weight is not None:
        operands.append(ctx.tensor(weight))
    if bias is not None:
        operands.append(ctx.tensor(bias))

    def body(s, c, v, *affine):
        y = s.mul(c, s.div(1.0, s.sqrt(s.add(v, eps))))
        j = 0
        if weight is not None:
            y = s.mul(y, affine[j])
            j += 1
        if bias is not None:
            y = s.add(y, affine[j])
        return y
    return elementwise(ctx, operands, body, out_shape=x.shape, out_elt=x.elt)


@module(nn.LayerNorm)
def layer_norm_module(ctx, m, input):
    return layer_norm_value(ctx, input, m.normalized_shape, ctx.attribute(m, "weight"),
                            ctx.attribute(m, "bias"), m.eps)


@function(F.layer_norm)
def layer_norm(ctx, input, normalized_shape, weight=None, bias=None, eps=1e-05):
    return layer_norm_value(ctx, input, tuple(normalized_shape), weight, bias, eps)
