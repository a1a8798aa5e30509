"""Tracing an nn.Module (or a loss function) into an fx graph, and running
the graph once on example inputs to record every node's value.

`torch.fx.symbolic_trace` with three additions (as torch-mlir's FX importer
reads `node.meta` for types and locations):

* each node records where it came from (`node.meta["tape_where"]`): the
  path of the module whose forward created it and the line of the user's
  source, for error messages;
* tuple unpacking of a traced value (`q, k, v = x.split(C, 2)`) works on
  Python 3.11, whose bytecode torch 1.13's Proxy.__iter__ misreads (it is
  replaced while tracing);
* `record()` runs the graph (torch.fx.Interpreter, like ShapeProp) and
  keeps every node's result: shapes and dtypes of tensors, and the value of
  everything that does not depend on the inputs or the state (sizes,
  constants built in `forward`).
"""
import dis
import inspect
import os

import torch
import torch.fx as fx

from .errors import ImportFailure, Where

_TORCH_DIR = os.path.dirname(os.path.abspath(torch.__file__))
_OWN_DIR = os.path.dirname(os.path.abspath(__file__))


def _is_library_file(filename):
    path = os.path.abspath(filename)
    return (path.startswith(_TORCH_DIR + os.sep)
            or path.startswith(_OWN_DIR + os.sep)
            or os.path.basename(path) in ("contextlib.py", "functools.py"))


def user_frame_location(frame):
    """(filename, lineno, source line) of the innermost frame outside torch
    and this package, or (None, None, None)."""
    while frame is not None:
        code = frame.f_code
        if not _is_library_file(code.co_filename) and \
                not code.co_filename.startswith("<frozen"):
            import linecache
            line = linecache.getline(code.co_filename, frame.f_lineno)
            return code.co_filename, frame.f_lineno, line.rstrip("\n") or None
        frame = frame.f_back
    return None, None, None


class Tracer(fx.Tracer):
    """symbolic_trace's tracer, recording module paths and source lines."""

    def __init__(self, root_description):
        super().__init__()
        self.module_stack = [("", root_description)]

    def call_module(self, m, forward, args, kwargs):
        try:
            path = self.path_of_module(m)
        except NameError:
            # A module made inside forward() or the loss function
            # (nn.CrossEntropyLoss()(out, t)): traced through, its tensors
            # constants.
            return forward(*args, **kwargs)
        if self.is_leaf_module(m, path):
            return self.create_proxy("call_module", path, args, kwargs)
        self.module_stack.append((path, type(m).__name__))
        try:
            return forward(*args, **kwargs)
        finally:
            self.module_stack.pop()

    def create_proxy(self, kind, target, args, kwargs, name=None,
                     type_expr=None, proxy_factory_fn=None):
        proxy = super().create_proxy(kind, target, args, kwargs, name,
                                     type_expr, proxy_factory_fn)
        if kind == "call_module":
            path = target
            module_type = type(self.root.get_submodule(target)).__name__
        else:
            path, module_type = self.module_stack[-1]
        filename, lineno, line = user_frame_location(inspect.currentframe())
        proxy.node.meta["tape_where"] = Where(path, module_type, filename,
                                              lineno, line)
        return proxy


def _proxy_iter(self):
    """Proxy.__iter__ for `a, b = proxy`: torch 1.13 finds the unpacking
    instruction by an index that Python 3.11's inline caches shifted (and
    can run past the end); this finds it by its offset."""
    frame = inspect.currentframe().f_back
    for inst in dis.get_instructions(frame.f_code):
        if inst.offset == frame.f_lasti:
            if inst.opname == "UNPACK_SEQUENCE":
                return (self[i] for i in range(inst.argval))
            break
    return self.tracer.iter(self)


class _GradModeGuard:
    """While tracing, torch.no_grad() and inference_mode() in forward() are
    errors: fx does not record them, and the step would differentiate what
    PyTorch does not."""

    def __init__(self, description):
        self.description = description

    def _refuse(self, what):
        filename, lineno, line = user_frame_location(inspect.currentframe())
        raise ImportFailure(f"{what} in {self.description} is not supported: "
                            "fx does not record it, so gradients would flow where "
                            "PyTorch's do not", Where(module_type=self.description,
                                                      filename=filename, lineno=lineno,
                                                      line=line),
                            fix="use .detach() on the tensors that take no gradient")

    def __enter__(self):
        self.set_grad, self.inference = torch._C._set_grad_enabled, torch._C._InferenceMode
        original_set_grad = self.set_grad

        def set_grad_enabled(mode):
            if not mode:
                self._refuse("torch.no_grad()")
            return original_set_grad(mode)

        def inference_mode(mode=True):
            self._refuse("torch.inference_mode()")
        torch._C._set_grad_enabled = set_grad_enabled
        torch._C._InferenceMode = inference_mode
        return self

    def __exit__(self, *exc):
        torch._C._set_grad_enabled, torch._C._InferenceMode = self.set_grad, self.inference


def _state(root):
    """Each parameter's and buffer's tensor and a copy of its value."""
    if not isinstance(root, torch.nn.Module):
        return {}
    return {name: (t, t.detach().clone())
            for name, t in list(root.named_parameters()) + list(root.named_buffers())}


def _check_state_unchanged(root, before, description):
    """forward() must not assign module state (`self.count = self.count +
    1` runs once while tracing, and then never in the step)."""
    after = _state(root)
    for name, (tensor, value) in before.items():
        now = after.get(name)
        if now is None or now[0] is not tensor or not torch.equal(now[1], value):
            raise ImportFailure(f"{description}.forward() changes the module's "
                                f"'{name}' while it runs: the import would run the "
                                "change once, at import time",
                                fix="compute new values as outputs, or keep such "
                                    "state out of the model")
    if not isinstance(root, torch.nn.Module):
        return
    for path, m in root.named_modules():
        for key, v in vars(m).items():
            if isinstance(v, fx.Proxy):
                raise ImportFailure(f"{description}.forward() assigns "
                                    f"'{path + '.' if path else ''}{key}' while it runs",
                                    fix="compute new values as outputs")


def trace(root, description):
    """Traces `root` (an nn.Module or a function) into a GraphModule.
    Errors from fx (control flow on tensor values, iteration) become
    ImportFailures at the user's line."""
    tracer = Tracer(description)
    original_iter = fx.Proxy.__iter__
    fx.Proxy.__iter__ = _proxy_iter
    before = _state(root)
    try:
        with _GradModeGuard(description):
            graph = tracer.trace(root)
    except ImportFailure:
        raise
    except Exception as e:  # fx raises TraceError, TypeError, ...
        filename, lineno, line = _innermost_user_line(e)
        control_flow = "control flow" in str(e) or "iterated" in str(e)
        raise ImportFailure(
            f"torch.fx cannot trace {description}: {e}",
            Where(module_type=description, filename=filename, lineno=lineno,
                  line=line),
            notes=["tape-import-torch traces forward() and the loss symbolically "
                   "(torch.fx.symbolic_trace)"],
            fix="make the control flow depend on shapes or module attributes "
                "only, or move it out of forward()" if control_flow else None) from None
    finally:
        fx.Proxy.__iter__ = original_iter
    _check_state_unchanged(root, before, description)
    name = root.__class__.__name__ if isinstance(root, torch.nn.Module) \
        else getattr(root, "__name__", "function")
    # The tracer's root holds the tensor constants fx made (a function's
    # too).
    return fx.GraphModule(tracer.root, graph, name)


def _innermost_user_line(exc):
    tb = exc.__traceback__
    found = (None, None, None)
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if not _is_library_file(filename):
            import linecache
            found = (filename, tb.tb_lineno,
                     linecache.getline(filename, tb.tb_lineno).rstrip("\n"))
        tb = tb.tb_next
    return found


class Recorder(fx.Interpreter):
    """Runs a GraphModule and keeps each node's result."""

    def __init__(self, gm):
        super().__init__(gm)
        self.values = {}

    def run_node(self, n):
        try:
            result = super().run_node(n)
        except ImportFailure:
            raise
        except Exception as e:
            raise ImportFailure(
                f"running '{n.format_node()}' on the example inputs failed: {e}",
                n.meta.get("tape_where"),
                fix="check the input shapes and dtypes given with --input and "
                    "--target") from None
        self.values[n] = result
        return result


def record(gm, inputs):
    """Every node's value for `inputs` (a list of example tensors), run
    without gradients."""
    recorder = Recorder(gm)
    with torch.no_grad():
        recorder.run(*inputs)
    return recorder.values
