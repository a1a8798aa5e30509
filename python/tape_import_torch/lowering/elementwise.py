"""Elementwise ops with PyTorch's broadcasting: one linalg.generic per op,
operands read through broadcasting maps (a size-1 dimension that is
broadcast is read at index 0), Python numbers and splat constants inlined
into the body. The generic rule of AD differentiates every one of them.
"""
import operator

import numpy as np
import torch

from ..mlir import FLOAT_TYPES, Value
from .core import Const, function, method


def broadcast_shape(shapes):
    return tuple(np.broadcast_shapes(*[tuple(s) for s in shapes]))


def broadcast_map(shape, out_shape):
    """Result expressions reading an operand of `shape` at each point of
    `out_shape` (aligned to the right, size-1 dimensions at 0)."""
    r, rank = len(shape), len(out_shape)
    exprs = []
    for i, d in enumerate(shape):
        j = i + rank - r
        exprs.append(f"d{j}" if d == out_shape[j] else "0")
    return exprs


def elementwise(ctx, operands, body, out_shape=None, out_elt=None,
                compute_elt=None):
    """One generic computing body(s, *scalars) per output element.

    operands: Values, Consts or Python numbers; numbers and splat Consts
    reach the body as numbers, tensors as block arguments converted to
    `compute_elt` (default: the output's element type, itself by default
    the current node's)."""
    out_elt = out_elt or ctx.out_elt
    compute_elt = compute_elt or out_elt
    if out_shape is None:
        shapes = [x.shape for x in operands if isinstance(x, (Value, Const))]
        out_shape = broadcast_shape(shapes)
    # Splat constants become numbers, other constants tensors.
    operands = [x.splat() if isinstance(x, Const) and x.splat() is not None
                else ctx.tensor(x) if isinstance(x, Const) else x for x in operands]
    tensors = [x for x in operands if isinstance(x, Value)]
    out_shape = tuple(out_shape)
    maps = [broadcast_map(v.shape, out_shape) for v in tensors]
    iterators = ["parallel"] * len(out_shape)

    def generic_body(s, args):
        scalars, k = [], 0
        for x in operands:
            if isinstance(x, Value):
                v = tensors[k]
                scalars.append(s.convert(args[k], v.elt, compute_elt))
                k += 1
            elif isinstance(x, bool):
                scalars.append(s.const(float(x) if compute_elt in FLOAT_TYPES else x))
            else:
                scalars.append(x if compute_elt in FLOAT_TYPES else int(x))
        return body(s, *scalars)

    return ctx.fn.generic(tensors, maps, out_shape, out_elt, iterators,
                          generic_body, body_elt=compute_elt)


def convert(ctx, v, elt):
    """`v` converted to element type `elt` (torch's .to(dtype))."""
    if v.elt == elt:
        return v
    return ctx.fn.generic([v], [[f"d{i}" for i in range(v.rank)]], v.shape, elt,
                          ["parallel"] * v.rank,
                          lambda s, args: s.convert(args[0], v.elt, elt),
                          body_elt=elt)


def _float_result(ctx):
    elt = ctx.out_elt
    if elt not in FLOAT_TYPES:
        ctx.fail(f"{elt} arithmetic is not supported here; the importer "
                 "differentiates float tensors", fix="convert to float first")
    return elt


# Arithmetic -----------------------------------------------------------------

@function(operator.add, torch.add)
@method("add", "__add__", "__radd__")
def add(ctx, input, other, alpha=1):
    if alpha != 1:
        return elementwise(ctx, [input, other],
                           lambda s, a, b: s.add(a, s.mul(b, alpha)))
    return elementwise(ctx, [input, other], lambda s, a, b: s.add(a, b))


@function(operator.sub, torch.sub)
@method("sub", "__sub__")
def sub(ctx, input, other, alpha=1):
    if alpha != 1:
        return elementwise(ctx, [input, other],
                           lambda s, a, b: s.sub(a, s.mul(b, alpha)))
    return elementwise(ctx, [input, other], lambda s, a, b: s.sub(a, b))


@method("__rsub__", "rsub")
def rsub(ctx, input, other, alpha=1):
    return sub(ctx, other, input, alpha)


@function(operator.mul, torch.mul)
@method("mul", "__mul__", "__rmul__")
def mul(ctx, input, other):
    return elementwise(ctx, [input, other], lambda s, a, b: s.mul(a, b))


@function(operator.truediv, torch.div, torch.true_divide)
@method("div", "true_divide", "__truediv__")
def div(ctx, input, other, rounding_mode=None):
    if rounding_mode is not None:
        ctx.fail(f"division with rounding_mode={rounding_mode!r} is not supported")
    _float_result(ctx)
    return elementwise(ctx, [input, other], lambda s, a, b: s.div(a, b))


@method("__rtruediv__")
def rdiv(ctx, input, other):
    return div(ctx, other, input)


@function(operator.neg, torch.neg)
@method("neg", "__neg__")
def neg(ctx, input):
    if ctx.out_elt not in FLOAT_TYPES:
        return elementwise(ctx, [input], lambda s, a: s.sub(0, a))
    return elementwise(ctx, [input], lambda s, a: s.neg(a))


def _power(s, a, exponent):
    """a ** exponent for a number exponent: products for small integers (no
    log of a negative base), sqrt and reciprocals for the common fractions,
    math.powf otherwise."""
    if exponent == 1:
        return a
    if exponent == 2:
        return s.mul(a, a)
    if exponent == 3:
        return s.mul(s.mul(a, a), a)
    if exponent == 0.5:
        return s.sqrt(a)
    if exponent == -0.5:
        return s.rsqrt(a)
    if exponent == -1:
        return s.div(1.0, a)
    if exponent == -2:
        return s.div(1.0, s.mul(a, a))
    if float(exponent).is_integer() and abs(exponent) < 2**31:
        n = s.fn.fresh("n")
        s.fn.line(f"{n} = arith.constant {int(exponent)} : i32")
        name = s.fn.fresh()
        s.fn.line(f"{name} = math.fpowi {a}, {n} : {s.elt}, i32")
        return name
    return s.pow(a, exponent)


@function(operator.pow, torch.pow)
@method("pow", "__pow__")
def pow(ctx, input, exponent):
    _float_result(ctx)
    if isinstance(exponent, Const) and exponent.splat() is not None and \
            exponent.shape == ():
        exponent = exponent.splat()
    if isinstance(exponent, (int, float)) and not isinstance(input, (int, float)):
        return elementwise(ctx, [input], lambda s, a: _power(s, a, exponent))
    return elementwise(ctx, [input, exponent], lambda s, a, b: s.pow(a, b))


@method("__rpow__")
def rpow(ctx, input, other):
    return pow(ctx, other, input)


def _unary(name, build):
    def handler(ctx, input):
        _float_result(ctx)
        return elementwise(ctx, [input], lambda s, a: build(s, a))
    handler.__name__ = name
    return handler


for _name, _build in {
        "sqrt": lambda s, a: s.sqrt(a),
        "rsqrt": lambda s, a: s.rsqrt(a),
        "exp": lambda s, a: s.exp(a),
        "log": lambda s, a: s.log(a),
        "log1p": lambda s, a: s.log1p(a),
        "abs": lambda s, a: s.abs(a),
        "reciprocal": lambda s, a: s.div(1.0, a),
        "square": lambda s, a: s.mul(a, a),
        "sin": lambda s, a: s._unary("math.sin", a),
        "cos": lambda s, a: s._unary("math.cos", a),
        "erf": lambda s, a: s.erf(a),
}.items():
    _handler = _unary(_name, _build)
    function(getattr(torch, _name))(_handler)
    method(_name)(_handler)


@function(operator.abs)
@method("__abs__")
def abs_(ctx, input):
    return elementwise(ctx, [input], lambda s, a: s.abs(a))


@function(torch.clamp, torch.clip)
@method("clamp", "clip")
def clamp(ctx, input, min=None, max=None):
    """min(max(x, lo), hi); on a tie the gradient goes to x, as torch's
    clamp passes it where lo <= x <= hi."""
    for bound in (min, max):
        if bound is not None and not isinstance(bound, (int, float)):
            ctx.fail("clamp with tensor bounds is not supported")

    def body(s, a):
        if min is not None:
            a = s.max(a, min)
        if max is not None:
            a = s.min(a, max)
        return a
    return elementwise(ctx, [input], body)


@method("clamp_min")
def clamp_min(ctx, input, min):
    return clamp(ctx, input, min=min)


@method("clamp_max")
def clamp_max(ctx, input, max):
    return clamp(ctx, input, max=max)


@function(torch.maximum)
@method("maximum")
def maximum(ctx, input, other):
    return elementwise(ctx, [input, other], lambda s, a, b: s.max(a, b))


@function(torch.minimum)
@method("minimum")
def minimum(ctx, input, other):
    return elementwise(ctx, [input, other], lambda s, a, b: s.min(a, b))


# Comparisons and selection --------------------------------------------------

def _promoted_elt(ctx, operands):
    """The element type torch compares two operands in."""
    dtypes = []
    for x in operands:
        if isinstance(x, Value):
            dtypes.append(x.elt)
        elif isinstance(x, Const):
            dtypes.append(x.elt)
    for elt in ("f64", "f32", "i64", "i32", "i1"):
        if elt in dtypes:
            if elt not in FLOAT_TYPES and any(isinstance(x, float) for x in operands):
                return "f32"
            return elt
    return "f32"


def _comparison(predicate):
    def handler(ctx, input, other):
        elt = _promoted_elt(ctx, [input, other])
        return elementwise(ctx, [input, other],
                           lambda s, a, b: s.compare(predicate, a, b),
                           out_elt="i1", compute_elt=elt)
    return handler


for _pred, _names, _ops in (("lt", ("lt", "less", "__lt__"), (operator.lt, torch.lt)),
                            ("le", ("le", "less_equal", "__le__"), (operator.le, torch.le)),
                            ("gt", ("gt", "greater", "__gt__"), (operator.gt, torch.gt)),
                            ("ge", ("ge", "greater_equal", "__ge__"), (operator.ge, torch.ge)),
                            ("eq", ("eq", "__eq__"), (operator.eq, torch.eq)),
                            ("ne", ("ne", "not_equal", "__ne__"), (operator.ne, torch.ne))):
    _h = _comparison(_pred)
    function(*_ops)(_h)
    method(*_names)(_h)


@function(torch.logical_not, operator.invert)
@method("logical_not", "__invert__")
def logical_not(ctx, input):
    if ctx.out_elt != "i1":
        ctx.fail("bitwise not of integers is not supported")
    return elementwise(ctx, [input], lambda s, a: s.cmpi("eq", a, 0, "i1"),
                       out_elt="i1", compute_elt="i1")


@function(operator.and_, torch.logical_and)
@method("logical_and", "__and__")
def logical_and(ctx, input, other):
    if ctx.out_elt != "i1":
        ctx.fail("bitwise and of integers is not supported")

    def body(s, a, b):
        name = s.fn.fresh()
        s.fn.line(f"{name} = arith.andi {s._operand(a)}, {s._operand(b)} : i1")
        return name
    return elementwise(ctx, [input, other], body, out_elt="i1", compute_elt="i1")


@function(operator.or_, torch.logical_or)
@method("logical_or", "__or__")
def logical_or(ctx, input, other):
    if ctx.out_elt != "i1":
        ctx.fail("bitwise or of integers is not supported")

    def body(s, a, b):
        name = s.fn.fresh()
        s.fn.line(f"{name} = arith.ori {s._operand(a)}, {s._operand(b)} : i1")
        return name
    return elementwise(ctx, [input, other], body, out_elt="i1", compute_elt="i1")


def _select_body(ctx, condition, a, b, out_elt):
    # The condition is read as i1, the values in the output's type.
    if isinstance(condition, Const) and condition.splat() is not None:
        return elementwise(ctx, [a if condition.splat() else b], lambda s, x: x,
                           out_shape=ctx.out_shape)
    cond = ctx.tensor(condition, "i1")
    operands = [a, b]
    shapes = [cond.shape] + [x.shape for x in operands if isinstance(x, (Value, Const))]
    out_shape = broadcast_shape(shapes)
    tensors = [ctx.tensor(x) if isinstance(x, Const) and x.splat() is None else x
               for x in operands]
    ins = [cond] + [x for x in tensors if isinstance(x, Value)]
    maps = [broadcast_map(v.shape, out_shape) for v in ins]

    def body(s, args):
        k = 1
        vals = []
        for x in tensors:
            if isinstance(x, Value):
                vals.append(s.convert(args[k], x.elt, out_elt))
                k += 1
            elif isinstance(x, Const):
                vals.append(x.splat())
            else:
                vals.append(x)
        return s.select(args[0], vals[0], vals[1])
    return ctx.fn.generic(ins, maps, out_shape, out_elt,
                          ["parallel"] * len(out_shape), body)


@function(torch.where)
@method("where")
def where(ctx, condition, input=None, other=None):
    if input is None:
        ctx.fail("torch.where(condition) (the indices) is not supported")
    return _select_body(ctx, condition, input, other, ctx.out_elt)


@method("where_self")
def where_method(ctx, input, condition, other):
    return _select_body(ctx, condition, input, other, ctx.out_elt)


@function(torch.masked_fill)
@method("masked_fill")
def masked_fill(ctx, input, mask, value):
    """value where mask is true, input elsewhere; the filled elements get
    no gradient."""
    if isinstance(value, (Value, Const)):
        if isinstance(value, Const) and value.shape == ():
            value = value.splat()
        else:
            ctx.fail("masked_fill with a tensor value is not supported",
                     fix="fill with a Python number")
    return _select_body(ctx, mask, value, input, ctx.out_elt)


# Conversions ------------------------------------------------------------------

_DTYPE_METHODS = {"float": torch.float32, "double": torch.float64,
                  "long": torch.int64, "int": torch.int32, "bool": torch.bool}


def _to_dtype(ctx, input):
    elt = ctx.out_elt
    v = ctx.tensor(input)
    return convert(ctx, v, elt) if v.elt != elt else v


for _name in _DTYPE_METHODS:
    method(_name)(lambda ctx, input, memory_format=None: _to_dtype(ctx, input))


@method("to", "type")
def to(ctx, input, *args, **kwargs):
    for a in list(args) + list(kwargs.values()):
        if isinstance(a, str) and a not in ("cpu",) or \
                isinstance(a, torch.device) and a.type != "cpu":
            ctx.fail(f"'.to({a!r})' is not supported: the compiled step runs "
                     "on this machine's CPU")
    return _to_dtype(ctx, input)


@method("type_as")
def type_as(ctx, input, other):
    return _to_dtype(ctx, input)


@method("contiguous", "clone")
@function(torch.clone)
def identity(ctx, input, *args, **kwargs):
    """No change of value (memory layout is the compiler's)."""
    return ctx.tensor(input)


@method("detach")
@function(torch.detach)
def detach(ctx, input):
    """The value, with no gradient flowing back through it."""
    v = ctx.tensor(input)
    name = ctx.fn.fresh("stop")
    ctx.fn.line(f"{name} = tape.stop_gradient {v.name} : {v.type}")
    return Value(name, v.shape, v.elt)


@method("expand", "expand_as", "broadcast_to")
@function(torch.broadcast_to)
def expand(ctx, input, *sizes, **kwargs):
    """A copy broadcast to the result's shape (its adjoint sums)."""
    return elementwise(ctx, [input], lambda s, a: a, out_shape=ctx.out_shape)
