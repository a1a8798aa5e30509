"""Lowering an fx graph into the body of one MLIR function.

Each node becomes one of:
* a `Value`: an SSA tensor of the function (what depends on the inputs,
  the variables or in-step randomness);
* a `Const`: a tensor known at import time (built in forward() from
  constants, a buffer that is not state), emitted as `arith.constant` where
  an op needs it as a tensor;
* a Python value (sizes, dims, dtypes, None), from the recorded run.

Handlers (the other files of this package) are registered per torch
function, Tensor method or nn.Module class and get the node's arguments
with nodes replaced by those values. Every tensor a handler returns is
checked against the shape and dtype PyTorch computed for the node, so a
lowering that disagrees with PyTorch stops the import instead of writing a
wrong program.
"""
import operator

import numpy as np
import torch

from ..errors import ImportFailure
from ..mlir import ELEMENT_TYPES, Value

FUNCTIONS = {}   # torch function / operator -> handler(ctx, *args, **kwargs)
METHODS = {}     # Tensor method name -> handler(ctx, self, *args, **kwargs)
MODULES = {}     # nn.Module class -> handler(ctx, module, *args, **kwargs)


def function(*targets):
    def register(handler):
        for t in targets:
            FUNCTIONS[t] = handler
        return handler
    return register


def method(*names):
    def register(handler):
        for n in names:
            METHODS[n] = handler
        return handler
    return register


def module(*classes):
    def register(handler):
        for c in classes:
            MODULES[c] = handler
        return handler
    return register


class Const:
    """A tensor known at import time."""
    __slots__ = ("tensor",)

    def __init__(self, tensor):
        self.tensor = tensor.detach().cpu()

    @property
    def shape(self):
        return tuple(self.tensor.shape)

    @property
    def elt(self):
        return element_type(self.tensor.dtype, None)

    def array(self):
        return self.tensor.numpy()

    def splat(self):
        """The one value of every element, or None."""
        flat = self.tensor.reshape(-1)
        if flat.numel() and bool((flat == flat[0]).all()):
            return flat[0].item()
        return None


class Unavailable:
    """A result an op has but the importer does not compute (the indices of
    max(dim=...)): using it is an error at the node that produced it."""

    def __init__(self, what, node):
        self.what, self.node = what, node


def element_type(dtype, ctx, what="tensor"):
    elt = ELEMENT_TYPES.get(dtype)
    if elt is None:
        message = f"{what} of dtype {dtype} is not supported"
        fix = "use float32, float64, int64, int32 or bool (model.float())"
        if ctx is not None:
            ctx.fail(message, fix=fix)
        raise ImportFailure(message, fix=fix)
    return elt


def describe_target(node):
    if node.op == "call_module":
        return f"module '{node.target}'"
    if node.op == "call_method":
        return f"'Tensor.{node.target}'"
    t = node.target
    name = getattr(t, "__name__", str(t))
    mod = getattr(t, "__module__", None) or ""
    if isinstance(t, type(operator.add)) and mod in ("_operator", "operator"):
        return f"'operator.{name}'"
    if mod.startswith("torch._C") or mod == "torch" or mod == "":
        return f"'torch.{name}'"
    return f"'{mod}.{name}'"


DATA_DEPENDENT_METHODS = {"item", "tolist", "numpy", "__int__", "__float__",
                          "__bool__", "__index__", "nonzero"}


class Lowerer:
    """Lowers one traced graph into `fn` (a mlir.Function).

    `state` is the Program's variable table, `reads` the cache of variable
    reads of the region being written (a read is emitted once per region),
    `training` whether this is the step's graph."""

    def __init__(self, fn, gm, values, program, reads, training, value_deps=None):
        self.fn = fn
        self.gm = gm
        self.values = values
        self.program = program
        self.state = program.variables
        self.reads = reads
        self.training = training
        self.env = {}
        # SSA name -> the variables the value depends on (shared by the
        # lowerings of one region, so that the loss's are exact).
        self.value_deps = value_deps if value_deps is not None else {}
        # (variable name, new value) of state the graph updates (running
        # statistics), assigned after the step's gradients.
        self.assignments = []
        self.node = None
        self._dynamic = {}

    # The current node --------------------------------------------------

    @property
    def where(self):
        return self.node.meta.get("tape_where") if self.node is not None else None

    def fail(self, message, fix=None, notes=()):
        raise ImportFailure(message, self.where, notes=notes, fix=fix)

    @property
    def out(self):
        """The recorded result of the current node."""
        return self.values[self.node]

    @property
    def out_shape(self):
        return tuple(self.out.shape)

    @property
    def out_elt(self):
        return element_type(self.out.dtype, self, "the result")

    # Values ------------------------------------------------------------

    def tensor(self, x, elt=None):
        """`x` as an SSA tensor: Consts become constants, Python numbers
        rank-0 constants (of `elt`); converted to `elt` if given."""
        if isinstance(x, Value):
            v = x
        elif isinstance(x, Const):
            v = self.fn.constant(x.array(), x.elt)
        elif isinstance(x, (bool, int, float)):
            elt = elt or ("i1" if isinstance(x, bool) else
                          "i64" if isinstance(x, int) else "f32")
            return self.fn.constant(np.array(x), elt)
        else:
            self.fail(f"expected a tensor, got {type(x).__name__}")
        if elt is not None and v.elt != elt:
            from .elementwise import convert
            v = convert(self, v, elt)
        return v

    def read(self, name):
        """The value of variable `name` in the current region."""
        if name not in self.reads:
            var = self.state[name]
            r = self.fn.fresh("r")
            self.fn.line(f"{r} = tape.read {var.handle} : {var.resource_type}")
            self.reads[name] = Value(r, var.shape, var.elt)
            self.value_deps[r] = {name}
        return self.reads[name]

    def assign(self, name, value):
        """Assigns `value` to variable `name` after the step's update."""
        self.assignments.append((name, value))

    def attribute(self, owner, attr):
        """A parameter or buffer of a module: a variable read, a Const or
        None."""
        t = getattr(owner, attr)
        if t is None:
            return None
        name = self.program.variable_of(t)
        if name is not None:
            return self.read(name)
        if isinstance(t, torch.Tensor):
            return Const(t)
        return t

    # Running the graph -------------------------------------------------

    def run(self, args):
        """Lowers the graph with placeholders bound to `args` (in order) and
        returns the lowered output (the structure forward() returns)."""
        placeholders = iter(args)
        for node in self.gm.graph.nodes:
            self.node = node
            if node.op == "placeholder":
                try:
                    self.env[node] = next(placeholders)
                except StopIteration:
                    self.env[node] = node.args[0] if node.args else None
            elif node.op == "output":
                return self._arg(node.args[0])
            else:
                self._lower(node)
        raise AssertionError("graph without output")

    def deps_of(self, structure):
        """The variables the Values in a lowered structure depend on."""
        found = set()
        for v in _values_in(structure):
            found |= self.value_deps.get(v.name, set())
        return found

    def _arg(self, a):
        def lookup(n):
            v = self.env[n]
            if isinstance(v, Unavailable):
                self.node = v.node
                self.fail(f"{v.what} is not supported")
            return v
        return torch.fx.node.map_arg(a, lookup)

    def _is_dynamic(self, node):
        """Whether the node's value depends on the inputs, the state or
        in-step randomness: decided on the graph (transitively), so that
        nothing that depends on them is ever taken for a constant."""
        if node not in self._dynamic:
            if node.op == "placeholder":
                dynamic = _contains_value(self.env.get(node))
            elif node.op == "get_attr":
                dynamic = self._attr_is_state(node)
            else:
                dynamic = any(self._is_dynamic(n) for n in node.all_input_nodes) or \
                    (node.op == "call_module" and self._module_is_dynamic(node)) or \
                    _is_random(node)
            self._dynamic[node] = dynamic
        return self._dynamic[node]

    def _module_is_dynamic(self, node):
        m = self.gm.get_submodule(node.target)
        return any(self.program.variable_of(t) is not None for t in
                   list(m.parameters()) + list(m.buffers())) or \
            (self.training and isinstance(m, torch.nn.modules.dropout._DropoutNd))

    def _attr_is_state(self, node):
        t = _get_attr(self.gm, node.target)
        return isinstance(t, torch.Tensor) and self.program.variable_of(t) is not None

    def _lower(self, node):
        recorded = self.values.get(node)
        if node.op == "get_attr":
            t = _get_attr(self.gm, node.target)
            name = self.program.variable_of(t) if isinstance(t, torch.Tensor) else None
            if name is not None:
                self.env[node] = self.read(name)
            elif isinstance(t, torch.Tensor):
                self.env[node] = Const(t)
            else:
                self.env[node] = t
            return
        if not self._is_dynamic(node):
            # Everything it reads is known: PyTorch computed it.
            self.env[node] = _known(recorded)
            return
        if node.op == "call_method" and node.target in DATA_DEPENDENT_METHODS:
            self.fail(f"'Tensor.{node.target}' makes a Python value of tensor data, "
                      "which a compiled step cannot do",
                      fix="keep the computation in tensors")
        if not _contains_tensor(recorded):
            # Sizes, dims and dtypes of dynamic tensors are static.
            self.env[node] = _known(recorded)
            return
        handler, args, kwargs = self._handler(node)
        known = set(self.value_deps)
        deps = self.deps_of((args, kwargs))
        self._check_inplace(node, kwargs)
        self.fn.location = self.program.location(self.where)
        try:
            result = handler(self, *args, **kwargs)
        except ImportFailure:
            raise
        except TypeError as e:
            if "argument" not in str(e):
                self._internal(e)
            self.fail(f"cannot import {describe_target(node)} with these arguments: {e}")
        except Exception as e:
            self._internal(e)
        finally:
            self.fn.location = None
        self._check(node, result, recorded)
        # New values depend on the operands and on what the handler read.
        for name in set(self.value_deps) - known:
            deps |= self.value_deps[name]
        for v in _values_in(result):
            if v.name not in known:
                self.value_deps[v.name] = self.value_deps.get(v.name, set()) | deps
        self.env[node] = result

    def _internal(self, e):
        """A bug of a lowering: an error at the node, never a traceback or
        a wrong program."""
        self.fail(f"internal error importing {describe_target(self.node)}: "
                  f"{type(e).__name__}: {e}",
                  notes=["this is a bug of tape-import-torch; please report it "
                         "with the model"])

    def _handler(self, node):
        args, kwargs = self._arg(node.args), self._arg(node.kwargs)
        if node.op == "call_function":
            handler = FUNCTIONS.get(node.target)
            if handler is None:
                self.fail(f"cannot import {describe_target(node)}: no lowering for it",
                          notes=["the supported ops are listed in docs/ImportTorch.md"])
            return handler, args, kwargs
        if node.op == "call_method":
            name = node.target
            handler = METHODS.get(name)
            if handler is None and name.endswith("_") and not name.endswith("__"):
                handler = METHODS.get(name[:-1])
            if handler is None:
                self.fail(f"cannot import 'Tensor.{node.target}': no lowering for it",
                          notes=["the supported ops are listed in docs/ImportTorch.md"])
            return handler, args, kwargs
        if node.op == "call_module":
            m = self.gm.get_submodule(node.target)
            handler = None
            for cls in type(m).__mro__:
                handler = MODULES.get(cls)
                if handler is not None:
                    break
            if handler is None:
                self.fail(f"cannot import module '{node.target}' of type "
                          f"{type(m).__module__}.{type(m).__qualname__}: no lowering for it",
                          notes=["the supported modules are listed in docs/ImportTorch.md"],
                          fix="write it with supported modules and functions, or "
                              "import a model that does not use it")
            return handler, (m,) + tuple(args), kwargs
        self.fail(f"unexpected fx node kind {node.op}")

    def _check_inplace(self, node, kwargs):
        inplace = kwargs.get("inplace") is True or (
            node.op == "call_method" and node.target.endswith("_")
            and not node.target.endswith("__"))
        if node.op == "call_module":
            inplace = getattr(self.gm.get_submodule(node.target), "inplace", False) is True
        if not inplace or not node.args:
            return
        target = node.args[0]
        if not isinstance(target, torch.fx.Node):
            return
        later = [u for u in target.users if u is not node]
        if target.op in ("placeholder", "get_attr") or later:
            self.fail(f"{describe_target(node)} changes its input in place, and "
                      "the input is used again after it"
                      if later else
                      f"{describe_target(node)} changes an input or a module "
                      "attribute in place",
                      fix="use the out-of-place form (inplace=False, or the "
                          "method without the trailing underscore)")

    def _check(self, node, result, recorded):
        if isinstance(result, (tuple, list)) and isinstance(recorded, (tuple, list)):
            if len(result) != len(recorded):
                self.fail(f"internal error: {describe_target(node)} lowered to "
                          f"{len(result)} results, PyTorch has {len(recorded)}")
            for r, t in zip(result, recorded):
                self._check(node, r, t)
            return
        if isinstance(result, Unavailable):
            return
        if isinstance(recorded, torch.Tensor):
            if not isinstance(result, (Value, Const)):
                self.fail(f"internal error: {describe_target(node)} lowered to "
                          f"{type(result).__name__}, not a tensor")
            want_elt = element_type(recorded.dtype, self, "the result")
            if tuple(result.shape) != tuple(recorded.shape) or result.elt != want_elt:
                self.fail(f"internal error: {describe_target(node)} lowered to a "
                          f"tensor of shape {list(result.shape)} ({result.elt}); PyTorch's "
                          f"is {list(recorded.shape)} ({want_elt})")


def _get_attr(gm, target):
    obj = gm
    for part in target.split("."):
        obj = getattr(obj, part)
    return obj


def _values_in(structure):
    if isinstance(structure, Value):
        yield structure
    elif isinstance(structure, (tuple, list)):
        for x in structure:
            yield from _values_in(x)
    elif isinstance(structure, dict):
        for x in structure.values():
            yield from _values_in(x)


def _contains_value(v):
    return any(True for _ in _values_in(v))


def _contains_tensor(v):
    if isinstance(v, torch.Tensor):
        return True
    if isinstance(v, (tuple, list)):
        return any(_contains_tensor(x) for x in v)
    if isinstance(v, dict):
        return any(_contains_tensor(x) for x in v.values())
    return False


def _known(recorded):
    """A recorded value as the lowering's: tensors as Consts."""
    if isinstance(recorded, torch.Tensor):
        return Const(recorded)
    if isinstance(recorded, list):
        return [_known(x) for x in recorded]
    if isinstance(recorded, tuple) and _contains_tensor(recorded):
        return tuple(_known(x) for x in recorded)
    if isinstance(recorded, dict):
        return {k: _known(x) for k, x in recorded.items()}
    return recorded


def _is_random(node):
    import torch.nn.functional as F
    return node.op == "call_function" and node.target is F.dropout


def normalize_dim(ctx, dim, rank):
    if not isinstance(dim, int):
        ctx.fail(f"expected an integer dimension, got {dim!r}")
    if dim < -max(rank, 1) or dim >= max(rank, 1):
        ctx.fail(f"dimension {dim} out of range for rank {rank}")
    return dim % rank if rank else 0
