"""The command line's specifications: the model factory, tensor specs
(`x=64x1x28x28xf32`), the loss and the optimizer, each resolved to Python
objects."""
import ast
import importlib
import importlib.util
import inspect
import os
import sys

import torch
import torch.nn.functional as F

from .errors import ImportFailure
from .program import TensorSpec

DTYPES = {"f32": torch.float32, "f64": torch.float64, "i64": torch.int64,
          "i32": torch.int32, "i1": torch.bool}

BUILTIN_LOSSES = {
    "cross_entropy": F.cross_entropy,
    "nll_loss": F.nll_loss,
    "mse_loss": F.mse_loss,
    "binary_cross_entropy_with_logits": F.binary_cross_entropy_with_logits,
}


def tensor_spec(text, default_name):
    """`[name=]DIMSxTYPE`, as MLIR writes tensor types: 64x784xf32, 64xi64,
    f32 (a scalar)."""
    name, _, body = text.rpartition("=")
    name = name or default_name
    parts = body.split("x")
    dtype = DTYPES.get(parts[-1])
    try:
        shape = tuple(int(p) for p in parts[:-1])
    except ValueError:
        shape = None
    if dtype is None or shape is None or any(d <= 0 for d in shape) or not name:
        raise ImportFailure(f"cannot read the tensor '{text}'",
                            fix="write [name=]DIMSxTYPE, e.g. x=64x784xf32 or "
                                "labels=64xi64 (types: " + ", ".join(DTYPES) + ")")
    return TensorSpec(name, shape, dtype)


def _call_parts(text, what):
    """`name` or `name(literal args...)` -> (name, args, kwargs)."""
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        raise ImportFailure(f"cannot read the {what} '{text}'") from None
    if isinstance(tree, ast.Call):
        func = tree.func
        try:
            args = [ast.literal_eval(a) for a in tree.args]
            kwargs = {k.arg: ast.literal_eval(k.value) for k in tree.keywords}
        except ValueError:
            raise ImportFailure(f"the arguments of the {what} '{text}' must be "
                                "Python literals") from None
    else:
        func, args, kwargs = tree, [], {}
    name = ast.unparse(func)
    return name, args, kwargs


def load_python(source):
    """A module from a file path (its folder joins sys.path, so its own
    imports work) or a dotted module name."""
    if source.endswith(".py") or os.sep in source:
        path = os.path.abspath(source)
        if not os.path.isfile(path):
            raise ImportFailure(f"no such file: {source}")
        sys.path.insert(0, os.path.dirname(path))
        name = "tape_import_user_" + os.path.splitext(os.path.basename(path))[0]
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as e:
            raise ImportFailure(f"running {source} failed: {type(e).__name__}: {e}",
                                _where_of(e)) from None
        return module
    try:
        return importlib.import_module(source)
    except Exception as e:
        raise ImportFailure(f"importing {source} failed: {type(e).__name__}: {e}",
                            _where_of(e)) from None


def _where_of(exc):
    """The innermost line of user code in an exception's traceback."""
    from .errors import Where
    from .trace import _innermost_user_line
    filename, lineno, line = _innermost_user_line(exc)
    return Where(filename=filename, lineno=lineno, line=line) if filename else None


def split_reference(text):
    """`file.py:Name(args)` or `pkg.mod:Name` -> (module source, call)."""
    source, sep, call = text.rpartition(":")
    if not sep or not source or not call:
        raise ImportFailure(f"cannot read the model '{text}'",
                            fix="write FILE.py:FACTORY or package.module:FACTORY, "
                                "e.g. model.py:Net or model.py:make(hidden=64)")
    return source, call


def model_factory(text):
    """The nn.Module `FILE.py:Factory(args)` builds, and the file's module."""
    source, call = split_reference(text)
    module = load_python(source)
    name, args, kwargs = _call_parts(call, "model factory")
    factory = getattr(module, name, None)
    if factory is None:
        raise ImportFailure(f"{source} has no '{name}'")
    try:
        model = factory(*args, **kwargs)
    except Exception as e:
        raise ImportFailure(f"{call} failed: {type(e).__name__}: {e}", _where_of(e)) from None
    if not isinstance(model, torch.nn.Module):
        raise ImportFailure(f"{text} made a {type(model).__name__}, not an nn.Module")
    return model, module


def forward_names(model, count):
    params = [p for p in inspect.signature(model.forward).parameters.values()
              if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    names = [p.name for p in params[:count]]
    return names + [f"input{i}" for i in range(len(names), count)]


def loss_function(text, user_module):
    """A builtin loss (`cross_entropy`, `cross_entropy(label_smoothing=0.1)`),
    a function of the model's file, or FILE.py:function."""
    if ":" in text:
        source, call = split_reference(text)
        user_module = load_python(source)
        text = call
    name, args, kwargs = _call_parts(text, "loss")
    if name in BUILTIN_LOSSES:
        fn = BUILTIN_LOSSES[name]
        if args:
            raise ImportFailure(f"the loss '{text}' takes keyword arguments only")

        # A fixed arity: fx cannot trace *args on Python 3.11.
        def loss(output, target):
            return fn(output, target, **kwargs)
        return loss, f"F.{name}"
    fn = getattr(user_module, name, None) if user_module is not None else None
    if fn is None or not callable(fn):
        raise ImportFailure(f"unknown loss '{name}'",
                            fix="use " + ", ".join(BUILTIN_LOSSES) +
                                ", or name a function of the model's file")
    if args or kwargs:
        raise ImportFailure(f"the loss function '{name}' takes no arguments here")
    return fn, f"the loss function '{name}'"


def optimizer(text, model, user_module):
    """`SGD(lr=0.1, momentum=0.9)` (a torch.optim class over all the model's
    parameters), or a function of the model's file (or FILE.py:function)
    called with the model that returns a torch.optim optimizer (for
    parameter groups)."""
    from .optimizers import parse_spec
    head = text.split("(")[0].strip()
    if ":" in text.split("(")[0]:
        source, call = split_reference(text)
        user_module = load_python(source)
        head = call.split("(")[0].strip()
    fn = getattr(user_module, head, None) if user_module is not None else None
    if fn is not None and callable(fn) and not (
            isinstance(fn, type) and issubclass(fn, torch.optim.Optimizer)):
        try:
            opt = fn(model)
        except Exception as e:
            raise ImportFailure(f"{head}(model) failed: {type(e).__name__}: {e}",
                                _where_of(e)) from None
        if not isinstance(opt, torch.optim.Optimizer):
            raise ImportFailure(f"'{head}(model)' returned a {type(opt).__name__}, "
                                "not a torch.optim optimizer")
        return opt
    return parse_spec(text, model.parameters())
