"""Imports a model: traces it (training and evaluation modes) and its loss,
records every node on example inputs, and writes the module: the
variables, the train step (step.py) and the evaluation functions
(evaluation.py)."""
import copy

import torch

from . import lowering  # noqa: F401  (registers the handlers)
from .errors import ImportFailure
from .evaluation import evaluation
from .lowering.core import element_type
from .lowering.normalization import state_buffers
from .mlir import (FLOAT_TYPES, Value, dense_literal, resource_type, string_literal,
                   symbol, tensor_type)
from .optimizers import translate
from .step import train_step
from .trace import record, trace


class TensorSpec:
    """An input of the step: a name, a shape and a torch dtype."""

    def __init__(self, name, shape, dtype):
        self.name, self.shape, self.dtype = name, tuple(shape), dtype

    def example(self, generator):
        if self.dtype.is_floating_point:
            return torch.randn(self.shape, generator=generator, dtype=self.dtype)
        return torch.zeros(self.shape, dtype=self.dtype)


class Imported:
    """The result: the module's text, the variables' values (name -> NumPy
    array, for the .npz), the seeds of the dropout ops (module path or
    source line -> seeds) and notes for the user."""

    def __init__(self, mlir, weights, dropout_seeds, notes):
        self.mlir, self.weights = mlir, weights
        self.dropout_seeds, self.notes = dropout_seeds, notes


class Variable:
    def __init__(self, name, index, tensor, trainable):
        self.name = name
        self.shape = tuple(tensor.shape)
        self.elt = element_type(tensor.dtype, None, f"'{name}'")
        self.trainable = trainable
        self.handle = f"%h{index}"
        self.symbol = symbol(name)

    @property
    def type(self):
        return tensor_type(self.shape, self.elt)

    @property
    def resource_type(self):
        return resource_type(self.shape, self.elt)


class Program:
    """The variables of the model (its parameters, named by their paths, then
    the running statistics of its normalization layers, and the importer's
    own), their values, and what the lowerings share."""

    def __init__(self, model, seed):
        self.variables = {}
        self.values = {}
        self._by_id = {}
        self.dropout_seed = seed
        self.dropout_seeds = {}
        self.locations = {}
        for name, p in model.named_parameters():
            self.add_variable(name, p, p.requires_grad)
        for name, b in state_buffers(model):
            self.add_variable(name, b, False)

    def add_variable(self, name, tensor, trainable):
        if name not in self.variables:
            var = Variable(name, len(self.variables), tensor, trainable)
            if var.elt not in FLOAT_TYPES and trainable:
                raise ImportFailure(f"parameter '{name}' has dtype {tensor.dtype}; "
                                    "only float parameters can be trained")
            self.variables[name] = var
            self._by_id[id(tensor)] = name
            self.values[name] = tensor.detach().cpu().numpy().copy()
        return name

    def variable_of(self, tensor):
        """The variable a parameter or buffer is, or None."""
        return self._by_id.get(id(tensor))

    def location(self, where):
        """The alias (#locN) of the user's source line `where` points at,
        for the ops lowered from it: compile errors and --check-numerics
        name that line. None without a line."""
        if where is None or not where.filename:
            return None
        key = (where.filename, where.lineno)
        if key not in self.locations:
            line = where.line or ""
            column = len(line) - len(line.lstrip()) + 1
            self.locations[key] = (f"#loc{len(self.locations) + 1}", column)
        return self.locations[key][0]

    def location_aliases(self):
        return [f"{alias} = loc({string_literal(filename)}:{lineno}:{column})"
                for (filename, lineno), (alias, column) in self.locations.items()]

    def next_dropout_seed(self, where):
        self.dropout_seed += 1
        key = where.module_path or f"{where.filename}:{where.lineno}"
        self.dropout_seeds.setdefault(key, []).append(self.dropout_seed)
        return self.dropout_seed

    def handles(self, names, indent):
        return [f"{indent}{v.handle} = tape.handle {v.symbol} : {v.resource_type}"
                for n, v in self.variables.items() if n in names]

    def declarations(self, bake):
        lines = []
        for var in self.variables.values():
            init = dense_literal(self.values[var.name], var.elt) if bake else "#tape.zeros"
            attrs = "" if var.trainable else " {trainable = false}"
            lines.append(f"  tape.variable {var.symbol} : {var.type} = {init}{attrs}")
        return lines


class Traced:
    """The graphs of the model in training and evaluation modes and of the
    loss, with every node's value on example inputs."""

    def __init__(self, model, loss_fn, model_name, loss_name, examples, targets,
                 evaluation):
        was_training = model.training
        model.train()
        self.train = trace(model, model_name)
        self.train_values = record(self.train, examples)
        self.loss = trace(loss_fn, loss_name)
        self.loss_values = record(self.loss, [self.train_values[_output(self.train)]]
                                  + targets)
        if evaluation:
            model.eval()
            self.eval = trace(model, model_name)
            self.eval_values = record(self.eval, examples)
            self.eval_loss_values = record(
                self.loss, [self.eval_values[_output(self.eval)]] + targets)
        model.train(was_training)


def _output(gm):
    return [n for n in gm.graph.nodes if n.op == "output"][0]


def _ssa_name(name, taken):
    """An SSA name for an input that no generated name (a word and a
    number) can take."""
    base = "".join(c if c.isalnum() or c == "_" else "_" for c in name) or "arg"
    if base[-1].isdigit():
        base += "_"
    out, k = base, 1
    while out in taken:
        k += 1
        out = f"{base}{k}_"
    taken.add(out)
    return "%" + out


def _loss_checker(loss_name, gm):
    def check(loss):
        node = _output(gm).args[0]
        where = node.meta.get("tape_where") if isinstance(node, torch.fx.Node) else None
        if not isinstance(loss, Value):
            raise ImportFailure(f"{loss_name} must return a tensor that depends on "
                                f"the model's output, got {type(loss).__name__}", where)
        if loss.shape != () or loss.elt not in FLOAT_TYPES:
            raise ImportFailure(f"{loss_name} must return a float scalar, got a "
                                f"tensor of shape {list(loss.shape)} ({loss.elt})", where,
                                fix="reduce it with reduction='mean' or 'sum', as "
                                    "loss.backward() needs")
        return loss
    return check


def build(model, inputs, targets, loss_fn, optimizer, bake_weights=False,
          step_name="train_step", seed=0, loss_name="the loss function",
          evaluation_functions=True):
    """Imports `model` trained on `loss_fn(model(*inputs), *targets)` by
    `optimizer` (a torch.optim.Optimizer over the model's parameters).
    inputs, targets: TensorSpecs (the first dimension of each is the
    batch)."""
    if not isinstance(model, torch.nn.Module):
        raise ImportFailure(f"the model is a {type(model).__name__}, not an nn.Module")
    original_names = {id(p): n for n, p in model.named_parameters()}
    # The work is done on a copy: tracing in training mode runs batch norms,
    # which update their running statistics.
    work = copy.deepcopy(model)
    program = Program(work, seed)
    parameters = dict(work.named_parameters())

    def name_of(p):
        name = original_names.get(id(p)) or program.variable_of(p)
        return name if name in parameters else None

    groups = translate(optimizer, name_of)
    generator = torch.Generator().manual_seed(0)
    model_name = type(model).__name__
    traced = Traced(work, loss_fn, model_name, loss_name,
                    [s.example(generator) for s in inputs],
                    [s.example(generator) for s in targets], evaluation_functions)
    taken = set()
    input_values = [Value(_ssa_name(s.name, taken), s.shape,
                          element_type(s.dtype, None, f"input '{s.name}'")) for s in inputs]
    target_values = [Value(_ssa_name(s.name, taken), s.shape,
                           element_type(s.dtype, None, f"target '{s.name}'"))
                     for s in targets]
    check_loss = _loss_checker(loss_name, traced.loss)
    step, notes = train_step(program, traced, input_values, target_values, groups,
                             step_name, check_loss)
    functions = step
    if evaluation_functions:
        functions += [""] + evaluation(program, traced, input_values, target_values,
                                       model_name, check_loss)
    lines = [f"// Imported from PyTorch by tape-import-torch: {model_name}, "
             f"trained on {loss_name}."]
    if not bake_weights:
        lines.append("// The variables start at zero: give their values with "
                     "tape-run --init <the .npz written with this file>.")
    lines += program.location_aliases()
    lines.append("module {")
    lines += program.declarations(bake_weights)
    lines.append("")
    lines += functions
    lines.append("}")
    weights = {name: program.values[name] for name in program.variables}
    return Imported("\n".join(lines) + "\n", weights, program.dropout_seeds, notes)
