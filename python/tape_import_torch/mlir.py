"""MLIR text: element and tensor types, literals, symbol names, and a
function body builder that hands out SSA names and writes linalg.generic
ops with scalar bodies.

The importer writes MLIR as text (Debian's LLVM ships no MLIR Python
bindings); everything that turns a Python value into MLIR syntax is here,
so the lowerings never format a literal themselves.
"""
import re

import numpy as np
import torch

# torch dtype -> MLIR element type. Unsigned and narrow types are not
# here: a tensor of one of them is an error naming the dtype.
ELEMENT_TYPES = {
    torch.float32: "f32",
    torch.float64: "f64",
    torch.int64: "i64",
    torch.int32: "i32",
    torch.bool: "i1",
}
FLOAT_TYPES = ("f32", "f64")
NUMPY_TYPES = {"f32": np.float32, "f64": np.float64, "i64": np.int64,
               "i32": np.int32, "i1": np.bool_}

_BARE_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_$.]*\Z")


def symbol(name):
    """`@name`, quoted when it is not a bare identifier (a parameter of a
    top-level nn.Sequential is `0.weight`: `@"0.weight"`)."""
    return "@" + (name if _BARE_ID.match(name) else string_literal(name))


def string_literal(text):
    """A quoted MLIR string."""
    return '"' + "".join(chr(b) if 0x20 <= b < 0x7F and chr(b) not in '"\\'
                         else "\\%02X" % b for b in text.encode("utf-8")) + '"'


def tensor_type(shape, elt):
    if len(shape) == 0:
        return f"tensor<{elt}>"
    return "tensor<" + "x".join(str(d) for d in shape) + f"x{elt}>"


def resource_type(shape, elt):
    return f"!tape.resource<{tensor_type(shape, elt)}>"


def float_literal(value, elt):
    """A float literal MLIR reads back as exactly float(value) rounded to
    `elt`: the shortest decimal for that precision, with a decimal point
    (MLIR reads `1e-05` as an integer followed by garbage), or the bits in
    hex for infinities and NaN."""
    if elt == "f32":
        v = np.float32(value)
        if not np.isfinite(v):
            return "0x%08X" % int(v.view(np.uint32))
    else:
        v = np.float64(value)
        if not np.isfinite(v):
            return "0x%016X" % int(v.view(np.uint64))
    if v == 0 or 1e-4 <= abs(v) < 1e16:
        text = np.format_float_positional(v, unique=True, trim="0")
        return text + "0" if text.endswith(".") else text
    mantissa, exponent = np.format_float_scientific(
        v, unique=True, trim="0").split("e")
    if "." not in mantissa:
        mantissa += ".0"
    elif mantissa.endswith("."):
        mantissa += "0"
    return f"{mantissa}e{exponent}"


def scalar_literal(value, elt):
    if elt in FLOAT_TYPES:
        return float_literal(value, elt)
    if elt == "i1":
        return "true" if value else "false"
    return str(int(value))


def scalar_constant(value, elt):
    """`arith.constant` of a scalar (booleans are `true`/`false`, typed i1
    already)."""
    if elt == "i1":
        return f"arith.constant {scalar_literal(value, elt)}"
    return f"arith.constant {scalar_literal(value, elt)} : {elt}"


def dense_literal(array, elt):
    """`dense<...>` of a NumPy array: a splat when every element is equal,
    else the raw little-endian bytes in hex (exact), booleans as nested
    lists."""
    array = np.asarray(array)
    flat = array.reshape(-1)
    if flat.size and np.all(flat == flat[0]) and not (
            elt in FLOAT_TYPES and np.isnan(flat[0])):
        return f"dense<{scalar_literal(flat[0].item(), elt)}>"
    if elt == "i1":
        def nested(a):
            if a.ndim == 0:
                return "true" if a else "false"
            return "[" + ", ".join(nested(x) for x in a) + "]"
        return f"dense<{nested(array.astype(bool))}>"
    data = np.ascontiguousarray(array.astype(NUMPY_TYPES[elt]).astype(
        np.dtype(NUMPY_TYPES[elt]).newbyteorder("<")))
    return 'dense<"0x' + data.tobytes().hex().upper() + '">'


def affine_map(rank, results):
    dims = ", ".join(f"d{i}" for i in range(rank))
    return f"affine_map<({dims}) -> ({', '.join(results)})>"


class Value:
    """A tensor SSA value of the function being written."""
    __slots__ = ("name", "shape", "elt")

    def __init__(self, name, shape, elt):
        self.name, self.shape, self.elt = name, tuple(shape), elt

    @property
    def type(self):
        return tensor_type(self.shape, self.elt)

    @property
    def rank(self):
        return len(self.shape)

    def __repr__(self):
        return f"Value({self.name}: {self.type})"


class Scalar:
    """Writes the scalar ops of a linalg.generic body: each method emits one
    op and returns its SSA name. Python numbers become constants of the
    body's element type."""

    def __init__(self, fn, elt):
        self.fn, self.elt = fn, elt

    def _operand(self, x, elt=None):
        if isinstance(x, str):
            return x
        return self.const(x, elt or self.elt)

    def const(self, value, elt=None):
        elt = elt or self.elt
        name = self.fn.fresh("c")
        self.fn.line(f"{name} = {scalar_constant(value, elt)}")
        return name

    def _binary(self, op, a, b, elt=None):
        elt = elt or self.elt
        a, b = self._operand(a, elt), self._operand(b, elt)
        name = self.fn.fresh()
        self.fn.line(f"{name} = {op} {a}, {b} : {elt}")
        return name

    def _unary(self, op, a, elt=None):
        elt = elt or self.elt
        a = self._operand(a, elt)
        name = self.fn.fresh()
        self.fn.line(f"{name} = {op} {a} : {elt}")
        return name

    @property
    def is_float(self):
        return self.elt in FLOAT_TYPES

    def add(self, a, b):
        return self._binary("arith.addf" if self.is_float else "arith.addi", a, b)

    def sub(self, a, b):
        return self._binary("arith.subf" if self.is_float else "arith.subi", a, b)

    def mul(self, a, b):
        return self._binary("arith.mulf" if self.is_float else "arith.muli", a, b)

    def div(self, a, b): return self._binary("arith.divf", a, b)

    def max(self, a, b):
        return self._binary("arith.maximumf" if self.is_float else "arith.maxsi", a, b)

    def min(self, a, b):
        return self._binary("arith.minimumf" if self.is_float else "arith.minsi", a, b)

    def compare(self, predicate, a, b):
        """A comparison by name (lt, le, gt, ge, eq, ne) in this type."""
        if self.is_float:
            return self.cmpf({"lt": "olt", "le": "ole", "gt": "ogt", "ge": "oge",
                              "eq": "oeq", "ne": "une"}[predicate], a, b)
        if self.elt == "i1":
            predicate = {"lt": "ult", "le": "ule", "gt": "ugt", "ge": "uge"}.get(
                predicate, predicate)
        else:
            predicate = {"lt": "slt", "le": "sle", "gt": "sgt", "ge": "sge"}.get(
                predicate, predicate)
        return self.cmpi(predicate, a, b, self.elt)
    def pow(self, a, b): return self._binary("math.powf", a, b)
    def neg(self, a): return self._unary("arith.negf", a)
    def exp(self, a): return self._unary("math.exp", a)
    def log(self, a): return self._unary("math.log", a)
    def log1p(self, a): return self._unary("math.log1p", a)
    def tanh(self, a): return self._unary("math.tanh", a)
    def erf(self, a): return self._unary("math.erf", a)
    def sqrt(self, a): return self._unary("math.sqrt", a)
    def rsqrt(self, a): return self._unary("math.rsqrt", a)
    def abs(self, a): return self._unary("math.absf", a)

    def cmpf(self, predicate, a, b):
        a, b = self._operand(a), self._operand(b)
        name = self.fn.fresh()
        self.fn.line(f"{name} = arith.cmpf {predicate}, {a}, {b} : {self.elt}")
        return name

    def cmpi(self, predicate, a, b, elt):
        a, b = self._operand(a, elt), self._operand(b, elt)
        name = self.fn.fresh()
        self.fn.line(f"{name} = arith.cmpi {predicate}, {a}, {b} : {elt}")
        return name

    def select(self, cond, a, b, elt=None):
        elt = elt or self.elt
        a, b = self._operand(a, elt), self._operand(b, elt)
        name = self.fn.fresh()
        self.fn.line(f"{name} = arith.select {cond}, {a}, {b} : {elt}")
        return name

    def index(self, dim):
        name = self.fn.fresh("i")
        self.fn.line(f"{name} = linalg.index {dim} : index")
        return name

    def index_cast(self, a, from_elt, to_elt):
        name = self.fn.fresh()
        self.fn.line(f"{name} = arith.index_cast {a} : {from_elt} to {to_elt}")
        return name

    def convert(self, a, from_elt, to_elt):
        """Converts a scalar between element types as torch's .to() does
        (floats to integers truncate; a float is true when not zero)."""
        if from_elt == to_elt:
            return a
        name = self.fn.fresh()
        if from_elt in FLOAT_TYPES and to_elt in FLOAT_TYPES:
            op = "arith.extf" if from_elt == "f32" else "arith.truncf"
            self.fn.line(f"{name} = {op} {a} : {from_elt} to {to_elt}")
        elif to_elt in FLOAT_TYPES:
            op = "arith.uitofp" if from_elt == "i1" else "arith.sitofp"
            self.fn.line(f"{name} = {op} {a} : {from_elt} to {to_elt}")
        elif to_elt == "i1":
            zero = self.const(0, from_elt)
            op = "arith.cmpf une" if from_elt in FLOAT_TYPES else "arith.cmpi ne"
            self.fn.line(f"{name} = {op}, {a}, {zero} : {from_elt}")
        elif from_elt in FLOAT_TYPES:
            self.fn.line(f"{name} = arith.fptosi {a} : {from_elt} to {to_elt}")
        elif from_elt == "i1":
            self.fn.line(f"{name} = arith.extui {a} : {from_elt} to {to_elt}")
        elif int(from_elt[1:]) < int(to_elt[1:]):
            self.fn.line(f"{name} = arith.extsi {a} : {from_elt} to {to_elt}")
        else:
            self.fn.line(f"{name} = arith.trunci {a} : {from_elt} to {to_elt}")
        return name


class Function:
    """The body of one function: lines, fresh SSA names, and the ops every
    lowering needs (constants, empty and filled tensors, generics,
    reshapes). Names are unique across the whole function, nested regions
    included."""

    def __init__(self, indent="    "):
        self.lines = []
        self.indent = indent
        self.counter = 0
        self.depth = 0
        # The location alias (#locN) of the ops being written, or None.
        self.location = None

    def fresh(self, hint="v"):
        self.counter += 1
        return f"%{hint}{self.counter}"

    def line(self, text):
        """One line; a line that ends an op gets the current location."""
        if self.location and not text.startswith(("^", "//")) and \
                not text.endswith("{"):
            text += f" loc({self.location})"
        self.lines.append(self.indent + "  " * self.depth + text)

    def comment(self, text):
        for part in text.splitlines():
            self.line("// " + part)

    # Tensors -------------------------------------------------------------

    def constant(self, array, elt):
        array = np.asarray(array)
        name = self.fresh("cst")
        t = tensor_type(array.shape, elt)
        self.line(f"{name} = arith.constant {dense_literal(array, elt)} : {t}")
        return Value(name, array.shape, elt)

    def empty(self, shape, elt):
        name = self.fresh("empty")
        self.line(f"{name} = tensor.empty() : {tensor_type(shape, elt)}")
        return Value(name, shape, elt)

    def filled(self, shape, elt, value):
        empty = self.empty(shape, elt)
        c = self.fresh("c")
        self.line(f"{c} = {scalar_constant(value, elt)}")
        name = self.fresh("fill")
        t = tensor_type(shape, elt)
        self.line(f"{name} = linalg.fill ins({c} : {elt}) outs({empty.name} : {t}) -> {t}")
        return Value(name, shape, elt)

    def generic(self, inputs, maps, out_shape, out_elt, iterators, body,
                init=None, out_map=None, body_elt=None):
        """A linalg.generic over len(iterators) loops. `inputs` are Values
        read through `maps` (result expressions of d0...); `body(s, args)`
        gets a Scalar writer of the output's element type and the block
        arguments of the inputs, and returns the yielded name. The output
        is `init` (read as the last block argument, `args[-1]`) or a fresh
        tensor.empty (not read). The body computes in `body_elt` (default:
        the output's element type) and yields the output's."""
        rank = len(iterators)
        out_map = out_map if out_map is not None else [f"d{i}" for i in range(rank)]
        if init is None:
            init = self.empty(out_shape, out_elt)
        all_maps = [affine_map(rank, m) for m in maps] + [affine_map(rank, out_map)]
        iters = ", ".join(f'"{it}"' for it in iterators)
        name = self.fresh("gen")
        ins = ""
        if inputs:
            ins = (" ins(" + ", ".join(v.name for v in inputs) + " : "
                   + ", ".join(v.type for v in inputs) + ")")
        self.line(f"{name} = linalg.generic {{indexing_maps = [{', '.join(all_maps)}], "
                  f"iterator_types = [{iters}]}}{ins} outs({init.name} : {init.type}) {{")
        args = [self.fresh("a") for _ in inputs] + [self.fresh("out")]
        self.line("^bb0(" + ", ".join(f"{a}: {v.elt}" for a, v in
                                      zip(args, list(inputs) + [init])) + "):")
        self.depth += 1
        result = body(Scalar(self, body_elt or out_elt), args)
        self.line(f"linalg.yield {result} : {out_elt}")
        self.depth -= 1
        self.line(f"}} -> {init.type}")
        return Value(name, out_shape, out_elt)

    def collapse(self, value, groups, shape):
        name = self.fresh("collapsed")
        self.line(f"{name} = tensor.collapse_shape {value.name} {groups} : "
                  f"{value.type} into {tensor_type(shape, value.elt)}")
        return Value(name, shape, value.elt)

    def expand(self, value, groups, shape):
        name = self.fresh("expanded")
        self.line(f"{name} = tensor.expand_shape {value.name} {groups} output_shape "
                  f"[{', '.join(str(d) for d in shape)}] : {value.type} into "
                  f"{tensor_type(shape, value.elt)}")
        return Value(name, shape, value.elt)

    def reshape(self, value, shape):
        """Any reshape of a static tensor to a shape of as many elements: a
        collapse to one dimension and an expansion to the new shape (both
        views; AD inverts each)."""
        shape = tuple(shape)
        if tuple(value.shape) == shape:
            return value
        if value.rank == 0:
            # rank 0 -> an all-ones shape: an empty reassociation.
            return self.expand(value, "[]", shape)
        if len(shape) == 0:
            return self.collapse(value, "[]", shape)
        flat = value
        if value.rank != 1:
            flat = self.collapse(value, "[" + str(list(range(value.rank))) + "]",
                                 (int(np.prod(value.shape)),))
        if len(shape) == 1:
            return flat
        return self.expand(flat, "[" + str(list(range(len(shape)))) + "]", shape)
