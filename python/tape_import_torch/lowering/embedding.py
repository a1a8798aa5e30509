"""nn.Embedding and F.embedding: rows of the weight gathered by integer ids
(tensor.gather, whose adjoint adds each row's gradient back into its row,
so an id that appears twice gets both). padding_idx's row gets no
gradient, as in torch: the gathered rows are selected from a
stop_gradient copy where the id is padding_idx."""
import numpy as np
import torch.nn as nn
import torch.nn.functional as F

from ..mlir import Value
from .core import function, module


def embedding_value(ctx, input, weight, padding_idx, max_norm):
    if max_norm is not None:
        ctx.fail("embedding with max_norm is not supported (it renormalizes the "
                 "weight in place)", fix="use max_norm=None")
    ids = ctx.tensor(input)
    w = ctx.tensor(weight)
    if ids.elt not in ("i64", "i32"):
        ctx.fail(f"embedding ids must be int64 or int32, got {ids.elt}")
    if w.rank != 2:
        ctx.fail("embedding with a weight that is not a matrix is not supported")
    n = int(np.prod(ids.shape)) if ids.rank else 1
    rows, channels = w.shape
    flat = ctx.fn.reshape(ids, (n,))
    index = ctx.fn.fresh("ids")
    ctx.fn.line(f"{index} = arith.index_cast {flat.name} : {flat.type} to tensor<{n}xindex>")
    index2 = ctx.fn.fresh("ids")
    ctx.fn.line(f"{index2} = tensor.expand_shape {index} [[0, 1]] output_shape [{n}, 1] : "
                f"tensor<{n}xindex> into tensor<{n}x1xindex>")
    gathered = ctx.fn.fresh("gathered")
    ctx.fn.line(f"{gathered} = tensor.gather {w.name}[{index2}] gather_dims([0]) : "
                f"({w.type}, tensor<{n}x1xindex>) -> tensor<{n}x1x{channels}x{w.elt}>")
    g = ctx.fn.collapse(Value(gathered, (n, 1, channels), w.elt), "[[0, 1], [2]]",
                        (n, channels))
    if padding_idx is not None:
        pad = padding_idx if padding_idx >= 0 else padding_idx + rows
        stopped = ctx.fn.fresh("stop")
        ctx.fn.line(f"{stopped} = tape.stop_gradient {g.name} : {g.type}")
        frozen = Value(stopped, g.shape, g.elt)
        g = ctx.fn.generic(
            [flat, frozen, g], [["d0"], ["d0", "d1"], ["d0", "d1"]], g.shape, g.elt,
            ["parallel", "parallel"],
            lambda s, a: s.select(s.cmpi("eq", a[0], pad, flat.elt), a[1], a[2]))
    return ctx.fn.reshape(g, tuple(ids.shape) + (channels,))


@module(nn.Embedding)
def embedding_module(ctx, m, input):
    return embedding_value(ctx, input, ctx.attribute(m, "weight"), m.padding_idx,
                           m.max_norm)


@function(F.embedding)
def embedding(ctx, input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    if scale_grad_by_freq:
        ctx.fail("embedding with scale_grad_by_freq=True is not supported")
    return embedding_value(ctx, input, weight, padding_idx, max_norm)


