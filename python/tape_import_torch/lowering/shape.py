"""Views and layout: reshapes (collapse/expand), transposes, slicing,
concatenation and splitting."""
import builtins
import operator

import torch

from ..mlir import Value, tensor_type
from .core import Const, function, method, normalize_dim


def reshape_to_result(ctx, input, *args, **kwargs):
    """view/reshape/flatten/squeeze/unsqueeze...: the result's shape is the
    one PyTorch computed (-1 resolved)."""
    return ctx.fn.reshape(ctx.tensor(input), ctx.out_shape)


for _name in ("view", "reshape", "flatten", "unflatten", "squeeze", "unsqueeze",
              "view_as", "reshape_as", "ravel"):
    method(_name)(reshape_to_result)
function(torch.reshape, torch.flatten, torch.squeeze, torch.unsqueeze,
         torch.ravel, torch.unflatten)(reshape_to_result)


def transpose_value(ctx, x, perm):
    perm = list(perm)
    if perm == list(range(x.rank)):
        return x
    shape = tuple(x.shape[p] for p in perm)
    e = ctx.fn.empty(shape, x.elt)
    name = ctx.fn.fresh("transposed")
    ctx.fn.line(f"{name} = linalg.transpose ins({x.name} : {x.type}) outs({e.name} : "
                f"{e.type}) permutation = {perm}")
    return Value(name, shape, x.elt)


@function(torch.permute)
@method("permute")
def permute(ctx, input, *dims):
    x = ctx.tensor(input)
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = dims[0]
    return transpose_value(ctx, x, [normalize_dim(ctx, d, x.rank) for d in dims])


def swap(ctx, x, d0, d1):
    perm = list(range(x.rank))
    d0, d1 = normalize_dim(ctx, d0, x.rank), normalize_dim(ctx, d1, x.rank)
    perm[d0], perm[d1] = perm[d1], perm[d0]
    return transpose_value(ctx, x, perm)


@function(torch.transpose, torch.swapaxes, torch.swapdims)
@method("transpose", "swapaxes", "swapdims")
def transpose(ctx, input, dim0, dim1):
    return swap(ctx, ctx.tensor(input), dim0, dim1)


@function(torch.t)
@method("t")
def t(ctx, input):
    x = ctx.tensor(input)
    return swap(ctx, x, 0, 1) if x.rank == 2 else x


@function(builtins.getattr)
def getattr_(ctx, obj, name):
    x = ctx.tensor(obj)
    if name == "T":
        return transpose_value(ctx, x, list(reversed(range(x.rank))))
    if name == "mT":
        return swap(ctx, x, -2, -1)
    if name == "data":
        ctx.fail("'.data' is not supported (it hides the value from autograd)",
                 fix="use .detach()")
    ctx.fail(f"the tensor attribute '{name}' is not supported")


# Slicing ---------------------------------------------------------------------

def extract_slice(ctx, x, offsets, sizes, strides):
    if list(offsets) == [0] * x.rank and tuple(sizes) == tuple(x.shape) and \
            list(strides) == [1] * x.rank:
        return x
    name = ctx.fn.fresh("slice")
    ctx.fn.line(f"{name} = tensor.extract_slice {x.name}{list(offsets)} {list(sizes)} "
                f"{list(strides)} : {x.type} to {tensor_type(sizes, x.elt)}")
    return Value(name, sizes, x.elt)


@function(operator.getitem)
def getitem(ctx, obj, index):
    if isinstance(obj, (tuple, list, dict)):
        return obj[index]
    x = ctx.tensor(obj)
    if not isinstance(index, tuple):
        index = (index,)
    if any(isinstance(i, (Value, Const, list)) for i in index):
        ctx.fail("indexing with tensors or lists (advanced indexing) is not "
                 "supported; only integers, slices, None and ...",
                 fix="use slices, torch.gather is not supported either")
    # Expand the ellipsis, then walk the source dimensions.
    used = sum(1 for i in index if i is not None and i is not Ellipsis)
    expanded = []
    for i in index:
        if i is Ellipsis:
            expanded += [slice(None)] * (x.rank - used)
        else:
            expanded.append(i)
    offsets, sizes, strides = [], [], []
    dim = 0
    for i in expanded:
        if i is None:
            continue
        n = x.shape[dim]
        if isinstance(i, bool) or not isinstance(i, (int, slice)):
            ctx.fail(f"indexing with {i!r} is not supported")
        if isinstance(i, int):
            k = i + n if i < 0 else i
            offsets.append(k)
            sizes.append(1)
            strides.append(1)
        else:
            start, stop, step = i.indices(n)
            if step <= 0:
                ctx.fail("slices with a negative step are not supported")
            count = max(0, (stop - start + step - 1) // step)
            offsets.append(start if count else 0)
            sizes.append(count)
            strides.append(step)
        dim += 1
    while dim < x.rank:
        offsets.append(0)
        sizes.append(x.shape[dim])
        strides.append(1)
        dim += 1
    sliced = extract_slice(ctx, x, offsets, sizes, strides)
    return ctx.fn.reshape(sliced, ctx.out_shape)


@function(torch.narrow)
@method("narrow")
def narrow(ctx, input, dim, start, length):
    x = ctx.tensor(input)
    dim = normalize_dim(ctx, dim, x.rank)
    offsets = [0] * x.rank
    offsets[dim] = start % x.shape[dim] if start < 0 else start
    sizes = list(x.shape)
    sizes[dim] = length
    return extract_slice(ctx, x, offsets, sizes, [1] * x.rank)


# Concatenation and splitting ---------------------------------------------------

def concat(ctx, values, dim):
    elt = ctx.out_elt
    values = [ctx.tensor(v, elt) for v in values]
    if len(values) == 1:
        return values[0]
    dim = normalize_dim(ctx, dim, values[0].rank)
    shape = list(values[0].shape)
    shape[dim] = sum(v.shape[dim] for v in values)
    name = ctx.fn.fresh("concat")
    ctx.fn.line(f"{name} = tensor.concat dim({dim}) " + ", ".join(v.name for v in values)
                + " : (" + ", ".join(v.type for v in values) + f") -> "
                f"{tensor_type(shape, elt)}")
    return Value(name, shape, elt)


@function(torch.cat, torch.concat)
def cat(ctx, tensors, dim=0):
    return concat(ctx, tensors, dim)


@function(torch.stack)
def stack(ctx, tensors, dim=0):
    rank = ctx.tensor(tensors[0]).rank + 1
    dim = normalize_dim(ctx, dim, rank)
    parts = []
    for v in tensors:
        v = ctx.tensor(v)
        shape = list(v.shape)
        shape.insert(dim, 1)
        parts.append(ctx.fn.reshape(v, shape))
    return concat(ctx, parts, dim)


def split_value(ctx, x, sizes, dim):
    dim = normalize_dim(ctx, dim, x.rank)
    parts, start = [], 0
    for n in sizes:
        offsets = [0] * x.rank
        offsets[dim] = start
        shape = list(x.shape)
        shape[dim] = n
        parts.append(extract_slice(ctx, x, offsets, shape, [1] * x.rank))
        start += n
    return tuple(parts)


def _split_by_result(ctx, input, dim):
    """Splits along `dim` into the pieces PyTorch made."""
    x = ctx.tensor(input)
    d = normalize_dim(ctx, dim, x.rank)
    return split_value(ctx, x, [t.shape[d] for t in ctx.out], d)


@function(torch.split)
@method("split")
def split(ctx, tensor, split_size_or_sections, dim=0):
    return _split_by_result(ctx, tensor, dim)


@function(torch.chunk)
@method("chunk")
def chunk(ctx, input, chunks, dim=0):
    return _split_by_result(ctx, input, dim)


@function(torch.tensor_split)
@method("tensor_split")
def tensor_split(ctx, input, indices_or_sections, dim=0):
    return _split_by_result(ctx, input, dim)


@function(torch.unbind)
@method("unbind")
def unbind(ctx, input, dim=0):
    x = ctx.tensor(input)
    d = normalize_dim(ctx, dim, x.rank)
    parts = split_value(ctx, x, [1] * x.shape[d], d)
    return tuple(ctx.fn.reshape(p, t.shape) for p, t in zip(parts, ctx.out))


@method("repeat")
def repeat(ctx, input, *sizes):
    ctx.fail("Tensor.repeat is not supported", fix="use expand (broadcasting)")

