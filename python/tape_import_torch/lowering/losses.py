"""Losses with torch's definitions: cross_entropy (class indices or
probabilities, class weights, ignore_index, label_smoothing), nll_loss,
mse_loss and binary_cross_entropy_with_logits, as functions and as
modules.

nll_loss picks -w[t] logp[n, t] by comparing the class index with the
target in a generic (no gather); its mean divides by the sum of the
weights of the targets that are not ignore_index, computed at run time
from the targets, as torch does.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from ..mlir import FLOAT_TYPES
from .core import function, module
from .elementwise import elementwise
from .reductions import log_softmax_value, reduce


def _check_legacy(ctx, size_average, reduce_):
    if size_average is not None or reduce_ is not None:
        ctx.fail("the deprecated size_average/reduce arguments are not supported",
                 fix="use reduction=")


def _reduced(ctx, per_element, reduction, divisor=None):
    """Applies `reduction` to a tensor of per-element losses; the mean
    divides by `divisor` (a rank-0 Value) or the element count."""
    if reduction == "none":
        return per_element
    if reduction not in ("mean", "sum"):
        ctx.fail(f"reduction={reduction!r} is not supported")
    total = reduce(ctx, per_element, list(range(per_element.rank)), "sum")
    if reduction == "sum":
        return total
    if divisor is None:
        n = 1
        for d in per_element.shape:
            n *= d
        return elementwise(ctx, [total], lambda s, a: s.div(a, float(n)),
                           out_elt=per_element.elt)
    return elementwise(ctx, [total, divisor], lambda s, a, b: s.div(a, b),
                       out_shape=(), out_elt=per_element.elt)


def _class_weights(ctx, weight):
    return None if weight is None else ctx.tensor(weight)


def _batched(ctx, logp, target):
    """[C] and [] as [1, C] and [1]."""
    if logp.rank == 1:
        return ctx.fn.reshape(logp, (1,) + logp.shape), ctx.fn.reshape(target, (1,))
    return logp, target


def _picked(ctx, logp, target, weight, ignore_index, values):
    """Per (n, d...): sum over classes c of select(c == t and t !=
    ignore_index, w[c] * v, 0), v = logp[n, c, d...] (values=True) or 1."""
    rank = logp.rank
    out_shape = (logp.shape[0],) + tuple(logp.shape[2:])
    dims = [f"d{i}" for i in range(rank)]
    target_map = [d for i, d in enumerate(dims) if i != 1]
    # logp is read even for the counts: its map gives the class loop its
    # range.
    ins, maps = [target, logp], [target_map, dims]
    if weight is not None:
        ins.append(weight)
        maps.append(["d1"])
    init = ctx.fn.filled(out_shape, logp.elt, 0.0)
    telt = target.elt

    def body(s, a):
        t = a[0]
        c = s.index_cast(s.index(1), "index", telt)
        hit = s.cmpi("eq", c, t, telt)
        if ignore_index is not None:
            kept = s.cmpi("ne", t, ignore_index, telt)
            both = s.fn.fresh()
            s.fn.line(f"{both} = arith.andi {hit}, {kept} : i1")
            hit = both
        v = a[1] if values else 1.0
        if weight is not None:
            v = s.mul(v, a[2]) if values else a[2]
        return s.add(a[-1], s.select(hit, v, 0.0))
    return ctx.fn.generic(ins, maps, out_shape, logp.elt,
                          ["parallel", "reduction"] + ["parallel"] * (rank - 2),
                          body, init=init, out_map=[d for i, d in enumerate(dims) if i != 1])


def nll_value(ctx, logp, target, weight, ignore_index, reduction):
    logp, target = ctx.tensor(logp), ctx.tensor(target)
    if target.elt not in ("i64", "i32"):
        ctx.fail(f"nll_loss targets must be int64 class indices, got {target.elt}")
    logp, target = _batched(ctx, logp, target)
    weight = _class_weights(ctx, weight)
    picked = _picked(ctx, logp, target, weight, ignore_index, True)
    losses = elementwise(ctx, [picked], lambda s, a: s.neg(a), out_elt=logp.elt)
    if reduction != "mean":
        out = _reduced(ctx, losses, reduction)
    else:
        counts = _picked(ctx, logp, target, weight, ignore_index, False)
        total_weight = reduce(ctx, counts, list(range(counts.rank)), "sum")
        out = _reduced(ctx, losses, reduction, total_weight)
    if reduction == "none":
        out = ctx.fn.reshape(out, ctx.out_shape)
    return out


@function(F.nll_loss)
def nll_loss(ctx, input, target, weight=None, size_average=None, ignore_index=-100,
             reduce=None, reduction="mean"):
    _check_legacy(ctx, size_average, reduce)
    return nll_value(ctx, input, target, weight, ignore_index, reduction)


def cross_entropy_value(ctx, input, target, weight, ignore_index, reduction,
                        label_smoothing):
    x = ctx.tensor(input)
    if x.elt not in FLOAT_TYPES:
        ctx.fail("cross_entropy of non-float logits")
    class_dim = 0 if x.rank == 1 else 1
    logp = log_softmax_value(ctx, x, class_dim)
    classes = x.shape[class_dim]
    t = ctx.tensor(target)
    w = _class_weights(ctx, weight)
    if t.elt in FLOAT_TYPES:
        # Class probabilities: -sum_c w[c] t[c] logp[c], the mean over the
        # batch elements.
        if t.shape != x.shape:
            ctx.fail("cross_entropy with probabilities needs targets of the "
                     "input's shape")
        operands = [t, logp]
        wshape = tuple(classes if i == class_dim else 1 for i in range(x.rank))
        if w is not None:
            operands.append(ctx.fn.reshape(w, wshape))

        def body(s, tv, lp, *wv):
            if label_smoothing:
                tv = s.add(s.mul(tv, 1.0 - label_smoothing), label_smoothing / classes)
            v = s.mul(tv, lp)
            return s.mul(v, wv[0]) if wv else v
        terms = elementwise(ctx, operands, body, out_shape=x.shape, out_elt=x.elt)
        per = elementwise(ctx, [reduce(ctx, terms, [class_dim], "sum")],
                          lambda s, a: s.neg(a), out_elt=x.elt)
        if reduction == "mean":
            n = 1
            for d in per.shape:
                n *= d
            total = reduce(ctx, per, list(range(per.rank)), "sum")
            return elementwise(ctx, [total], lambda s, a: s.div(a, float(n)), out_elt=x.elt)
        return _reduced(ctx, per, reduction)
    nll = nll_value(ctx, logp, t, w, ignore_index, reduction)
    if not label_smoothing:
        return nll
    # torch's label smoothing: (1 - e) nll + e / C * smooth, smooth the
    # negated (weighted) sum of logp over classes, zero where ignored,
    # reduced as the nll (the mean by the same total weight).
    lp, tb = _batched(ctx, logp, t)
    operands = [lp]
    if w is not None:
        operands.append(ctx.fn.reshape(w, (1, classes) + (1,) * (lp.rank - 2)))
    weighted = elementwise(ctx, operands,
                           (lambda s, a, b: s.mul(a, b)) if w is not None else (lambda s, a: a),
                           out_shape=lp.shape, out_elt=x.elt)
    summed = reduce(ctx, weighted, [1], "sum")
    smooth = _masked_smooth(ctx, summed, tb, ignore_index)
    if reduction == "mean":
        counts = _picked(ctx, lp, tb, w, ignore_index, False)
        total_weight = reduce(ctx, counts, list(range(counts.rank)), "sum")
        smooth = _reduced(ctx, smooth, "mean", total_weight)
    else:
        smooth = _reduced(ctx, smooth, reduction)
        if reduction == "none":
            smooth = ctx.fn.reshape(smooth, ctx.out_shape)
    e = float(label_smoothing)
    return elementwise(ctx, [nll, smooth],
                       lambda s, a, b: s.add(s.mul(a, 1.0 - e), s.mul(b, e / classes)),
                       out_elt=x.elt)


def _masked_smooth(ctx, summed, target, ignore_index):
    """-summed where the target is not ignore_index, 0 there."""
    rank = summed.rank
    dims = [f"d{i}" for i in range(rank)]
    return ctx.fn.generic(
        [summed, target], [dims, dims], summed.shape, summed.elt, ["parallel"] * rank,
        lambda s, a: s.select(s.cmpi("eq", a[1], ignore_index, target.elt), 0.0,
                              s.neg(a[0])))


@function(F.cross_entropy)
def cross_entropy(ctx, input, target, weight=None, size_average=None, ignore_index=-100,
                  reduce=None, reduction="mean", label_smoothing=0.0):
    _check_legacy(ctx, size_average, reduce)
    return cross_entropy_value(ctx, input, target, weight, ignore_index, reduction,
                               label_smoothing)


@function(F.mse_loss)
def mse_loss(ctx, input, target, size_average=None, reduce=None, reduction="mean"):
    _check_legacy(ctx, size_average, reduce)
    elt = ctx.out_elt
    shape = tuple(torch.broadcast_shapes(tuple(ctx.tensor(input).shape),
                                         tuple(ctx.tensor(target).shape)))
    sq = elementwise(ctx, [input, target], lambda s, a, b: s.mul(s.sub(a, b), s.sub(a, b)),
                     out_shape=shape, out_elt=elt)
    return _reduced(ctx, sq, reduction)


@function(F.binary_cross_entropy_with_logits)
def binary_cross_entropy_with_logits(ctx, input, target, weight=None, size_average=None,
                                     reduce=None, reduction="mean", pos_weight=None):
    """torch's formula: m = max(-x, 0),
    (1 - y) x + l (log(exp(-m) + exp(-x - m)) + m), l = 1 + (pw - 1) y
    (l = 1 without pos_weight), times weight."""
    _check_legacy(ctx, size_average, reduce)
    x = ctx.tensor(input)
    elt = x.elt
    operands = [x, target]
    if pos_weight is not None:
        operands.append(pos_weight)
    if weight is not None:
        operands.append(weight)
    shapes = [o.shape for o in operands if hasattr(o, "shape")]
    shape = tuple(torch.broadcast_shapes(*shapes))

    def body(s, a, y, *rest):
        m = s.max(s.neg(a), 0.0)
        soft = s.add(s.log(s.add(s.exp(s.neg(m)), s.exp(s.sub(s.neg(a), m)))), m)
        k = 0
        if pos_weight is not None:
            lw = s.add(s.mul(s.sub(rest[k], 1.0), y), 1.0)
            soft = s.mul(lw, soft)
            k += 1
        loss = s.add(s.mul(s.sub(1.0, y), a), soft)
        if weight is not None:
            loss = s.mul(loss, rest[k])
        return loss
    per = elementwise(ctx, operands, body, out_shape=shape, out_elt=elt)
    return _reduced(ctx, per, reduction)


@module(nn.CrossEntropyLoss)
def cross_entropy_module(ctx, m, input, target):
    return cross_entropy_value(ctx, input, target, ctx.attribute(m, "weight"),
                               m.ignore_index, m.reduction, m.label_smoothing)


@module(nn.NLLLoss)
def nll_loss_module(ctx, m, input, target):
    return nll_value(ctx, input, target, ctx.attribute(m, "weight"), m.ignore_index,
                     m.reduction)


@module(nn.MSELoss)
def mse_loss_module(ctx, m, input, target):
    return mse_loss(ctx, input, target, reduction=m.reduction)


@module(nn.BCEWithLogitsLoss)
def bce_with_logits_module(ctx, m, input, target):
    return binary_cross_entropy_with_logits(
        ctx, input, target, ctx.attribute(m, "weight"), reduction=m.reduction,
        pos_weight=ctx.attribute(m, "pos_weight"))
