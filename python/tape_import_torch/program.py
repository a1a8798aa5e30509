"""Assembles the imported module: variables, the train step, the
evaluation and prediction functions."""
import copy

import numpy as np
import torch

from . import lowering  # noqa: F401  (registers the handlers)
from .errors import ImportFailure, Where
from .lowering.core import Const, Lowerer, element_type
from .lowering.normalization import state_buffers
from .mlir import (FLOAT_TYPES, Function, Value, dense_literal, resource_type,
                   symbol, tensor_type)
from .optimizers import translate
from .trace import record, trace


class Variable:
    def __init__(self, name, index, tensor, trainable):
        self.name = name
        self.shape = tuple(tensor.shape)
        self.elt = element_type(tensor.dtype, None, f"'{name}'")
        self.trainable = trainable
        self.handle = f"%h{index}"
        self.symbol = symbol(name)
        self.used = False

    @property
    def type(self):
        return tensor_type(self.shape, self.elt)

    @property
    def resource_type(self):
        return resource_type(self.shape, self.elt)


class TensorSpec:
    """An input of the step: a name, a shape and a torch dtype."""

    def __init__(self, name, shape, dtype):
        self.name, self.shape, self.dtype = name, tuple(shape), dtype

    def example(self, generator):
        if self.dtype.is_floating_point:
            return torch.randn(self.shape, generator=generator, dtype=self.dtype)
        return torch.zeros(self.shape, dtype=self.dtype)


class Imported:
    """The result: the module's text, the variables' values (name ->
    NumPy array, for the .npz), the seeds of the dropout ops (module path
    or source line -> seed) and notes for the user."""

    def __init__(self, mlir, weights, dropout_seeds, notes):
        self.mlir, self.weights = mlir, weights
        self.dropout_seeds, self.notes = dropout_seeds, notes


class Program:
    """The variables of the model (parameters, then the running statistics
    of its normalization layers) and what the lowerings share."""

    def __init__(self, model, seed):
        self.variables = {}
        self._by_id = {}
        self.values = {}
        self.dropout_seed = seed
        self.dropout_seeds = {}
        for name, p in model.named_parameters():
            self._add(name, p, p.requires_grad)
        for name, b in state_buffers(model):
            self._add(name, b, False)

    def _add(self, name, tensor, trainable):
        var = Variable(name, len(self.variables), tensor, trainable)
        if var.elt not in FLOAT_TYPES and trainable:
            raise ImportFailure(f"parameter '{name}' has dtype {tensor.dtype}; "
                                "only float parameters can be trained")
        self.variables[name] = var
        self._by_id[id(tensor)] = name
        self.values[name] = tensor.detach().cpu().numpy().copy()

    def variable_of(self, tensor):
        return self._by_id.get(id(tensor))

    def next_dropout_seed(self, where):
        self.dropout_seed += 1
        key = where.module_path or f"{where.filename}:{where.lineno}"
        self.dropout_seeds.setdefault(key, []).append(self.dropout_seed)
        return self.dropout_seed


def _ssa_name(name, taken):
    base = "".join(c if c.isalnum() or c == "_" else "_" for c in name) or "arg"
    if base[-1].isdigit():
        base += "_"
    out, k = base, 1
    while out in taken:
        k += 1
        out = f"{base}{k}_"
    taken.add(out)
    return "%" + out


def _flatten_outputs(out, what):
    """The tensors of a forward() result, in order (tuples, lists and dicts
    walked)."""
    found = []

    def walk(x):
        if isinstance(x, Value):
            found.append(x)
        elif isinstance(x, (tuple, list)):
            for y in x:
                walk(y)
        elif isinstance(x, dict):
            for y in x.values():
                walk(y)
        elif isinstance(x, Const):
            raise ImportFailure(f"{what} returns a tensor that does not depend on "
                                "its inputs")
        elif x is not None:
            raise ImportFailure(f"{what} returns a {type(x).__name__}; expected "
                                "tensors")
    walk(out)
    return found


def build(model, inputs, targets, loss_fn, optimizer, bake_weights=False,
          step_name="train_step", seed=0, loss_name="the loss function"):
    """Imports `model` trained on `loss_fn(model(*inputs), *targets)` by
    `optimizer` (a torch.optim.Optimizer over the model's parameters)."""
    if not isinstance(model, torch.nn.Module):
        raise ImportFailure(f"the model is a {type(model).__name__}, not an "
                            "nn.Module")
    original_names = {id(p): n for n, p in model.named_parameters()}
    work = copy.deepcopy(model)
    program = Program(work, seed)
    work_params = dict(work.named_parameters())

    def name_of(p):
        name = original_names.get(id(p))
        if name is None:
            name = program.variable_of(p)
        return name if name in work_params else None

    groups = translate(optimizer, name_of)
    generator = torch.Generator().manual_seed(0)
    examples = [s.example(generator) for s in inputs]
    target_examples = [s.example(generator) for s in targets]
    model_name = type(model).__name__

    was_training = work.training
    work.train()
    gm_train = trace(work, model_name)
    values_train = record(gm_train, examples)
    out_train = values_train[_output_node(gm_train)]
    gm_loss = trace(loss_fn, loss_name)
    values_loss = record(gm_loss, [out_train] + target_examples)
    work.eval()
    gm_eval = trace(work, model_name)
    values_eval = record(gm_eval, examples)
    out_eval = values_eval[_output_node(gm_eval)]
    values_loss_eval = record(gm_loss, [out_eval] + target_examples)
    work.train(was_training)

    taken = set()
    input_values = [Value(_ssa_name(s.name, taken), s.shape,
                          element_type(s.dtype, None, f"input '{s.name}'")) for s in inputs]
    target_values = [Value(_ssa_name(s.name, taken), s.shape,
                           element_type(s.dtype, None, f"target '{s.name}'")) for s in targets]
    args = input_values + target_values
    signature = ", ".join(f"{v.name}: {v.type}" for v in args)

    # The train step: the forward pass and the loss recorded, then the
    # gradients, the optimizer and the state assignments.
    fn = Function(indent="      ")
    reads = {}
    lowerer = Lowerer(fn, gm_train, values_train, program, reads, True)
    out = lowerer.run(input_values)
    loss_lowerer = Lowerer(fn, gm_loss, values_loss, program, reads, True,
                           value_deps=lowerer.value_deps)
    loss = _check_loss(loss_lowerer.run([out] + target_values), loss_name, gm_loss)
    assignments = lowerer.assignments + loss_lowerer.assignments
    record_lines = fn.lines
    results = [loss] + [v for _, v in assignments]
    reached = loss_lowerer.deps_of(loss)
    step_used = set(reads) | {n for n, _ in assignments}

    fn.lines = []
    fn.indent = "    "
    loss_result = _record_result(0, len(results))
    wrt = [n for g in groups for n in g.names
           if n in reached and program.variables[n].trainable]
    notes = []
    unreached = [n for g in groups for n in g.names
                 if n not in reached and program.variables[n].trainable]
    if unreached:
        notes.append("not updated (the loss does not depend on them, so PyTorch "
                     "gives them no gradient): " + ", ".join(unreached))
    grads = {}
    if wrt:
        gvar = fn.fresh("g")
        fn.line(f"{gvar}:{len(wrt)} = tape.gradient %tape ({loss_result} : {loss.type}) "
                f"wrt ({', '.join(program.variables[n].handle for n in wrt)} : "
                + ", ".join(program.variables[n].resource_type for n in wrt) + ")")
        for i, n in enumerate(wrt):
            grads[n] = Value(f"{gvar}#{i}" if len(wrt) > 1 else gvar,
                             program.variables[n].shape, program.variables[n].elt)
    post_reads = {}
    counter = _step_counter(program) if any(
        g.dampening for g in groups if any(n in grads for n in g.names)) else None
    for g in groups:
        names = [n for n in g.names if n in grads]
        if not names:
            continue
        gs = [_preprocess(fn, program, post_reads, grads[n], n, g, counter)
              for n in names]
        variables = [program.variables[n] for n in names]
        fn.line(f"tape.apply_gradients {g.attribute} ("
                + ", ".join(x.name for x in gs) + " : "
                + ", ".join(x.type for x in gs) + ") to ("
                + ", ".join(v.handle for v in variables) + " : "
                + ", ".join(v.resource_type for v in variables) + ")")
    if counter is not None:
        c = _read(fn, program, post_reads, counter)
        one = fn.constant(np.array(1, np.int64), "i64")
        nxt = fn.fresh("next")
        fn.line(f"{nxt} = arith.addi {c.name}, {one.name} : tensor<i64>")
        fn.line(f"tape.assign {program.variables[counter].handle}, {nxt} : "
                f"{program.variables[counter].resource_type}")
    for k, (name, _) in enumerate(assignments):
        var = program.variables[name]
        fn.line(f"tape.assign {var.handle}, {_record_result(k + 1, len(results))} : "
                f"{var.resource_type}")
    step_used |= set(post_reads) | set(wrt)
    tail_lines = fn.lines

    # Evaluation: @predict is the forward pass in eval mode, @evaluate adds
    # the loss.
    pfn = Function(indent="    ")
    preads = {}
    plow = Lowerer(pfn, gm_eval, values_eval, program, preads, False)
    pout = plow.run(input_values)
    outputs = _flatten_outputs(pout, f"{model_name}.forward")
    if not outputs:
        raise ImportFailure(f"{model_name}.forward returns no tensor")
    efn = Function(indent="    ")
    ereads = {}
    call = efn.fresh("out")
    out_types = ", ".join(v.type for v in outputs)
    efn.line(f"{call}:{len(outputs)} = func.call @predict("
             + ", ".join(v.name for v in input_values) + ") : ("
             + ", ".join(v.type for v in input_values) + f") -> ({out_types})")
    called = [Value(f"{call}#{i}", v.shape, v.elt) for i, v in enumerate(outputs)]
    structured = _restructure(pout, iter(called))
    elow = Lowerer(efn, gm_loss, values_loss_eval, program, ereads, False)
    eloss = _check_loss(elow.run([structured] + target_values), loss_name, gm_loss)

    # The module.
    lines = [f"// Imported from PyTorch by tape-import-torch: {model_name}, "
             f"trained on {loss_name}"]
    if not bake_weights:
        lines.append("// The variables start at zero: give the weights with "
                     "--init <file>.npz (written beside this file).")
    lines.append("module {")
    for var in program.variables.values():
        init = dense_literal(program.values[var.name], var.elt) if bake_weights \
            else "#tape.zeros"
        attrs = "" if var.trainable else " {trainable = false}"
        lines.append(f"  tape.variable {var.symbol} : {var.type} = {init}{attrs}")
    lines.append("")
    lines.append(f"  tape.step {symbol(step_name)}({signature}) -> {loss.type} {{")
    for name, var in program.variables.items():
        if name in step_used:
            lines.append(f"    {var.handle} = tape.handle {var.symbol} : {var.resource_type}")
    result_types = ", ".join(v.type for v in results)
    record_head = "%tape, %rec" + (f":{len(results)}" if len(results) > 1 else "")
    lines.append(f"    {record_head} = tape.record {{")
    lines += record_lines
    lines.append(f"      tape.yield {', '.join(v.name for v in results)} : {result_types}")
    lines.append(f"    }} : {result_types}")
    lines += tail_lines
    lines.append(f"    tape.return {loss_result} : {loss.type}")
    lines.append("  }")
    lines.append("")
    in_sig = ", ".join(f"{v.name}: {v.type}" for v in input_values)
    lines.append(f"  func.func @predict({in_sig}) -> ({out_types}) {{")
    lines += _handles(program, preads)
    lines += pfn.lines
    lines.append(f"    return {', '.join(v.name for v in outputs)} : {out_types}")
    lines.append("  }")
    lines.append("")
    lines.append(f"  func.func @evaluate({signature}) -> ({eloss.type}, {out_types}) {{")
    lines += _handles(program, ereads)
    lines += efn.lines
    lines.append(f"    return {eloss.name}, {', '.join(v.name for v in called)} : "
                 f"{eloss.type}, {out_types}")
    lines.append("  }")
    lines.append("}")
    weights = {name: program.values[name] for name in program.variables}
    return Imported("\n".join(lines) + "\n", weights, program.dropout_seeds, notes)


def _record_result(k, count):
    return "%rec" if count == 1 else f"%rec#{k}"


def _handles(program, reads):
    return [f"    {v.handle} = tape.handle {v.symbol} : {v.resource_type}"
            for n, v in program.variables.items() if n in reads]


def _restructure(structure, values):
    if isinstance(structure, Value):
        return next(values)
    if isinstance(structure, tuple):
        return tuple(_restructure(x, values) for x in structure)
    if isinstance(structure, list):
        return [_restructure(x, values) for x in structure]
    if isinstance(structure, dict):
        return {k: _restructure(x, values) for k, x in structure.items()}
    return structure


def _output_node(gm):
    return [n for n in gm.graph.nodes if n.op == "output"][0]


def _check_loss(loss, loss_name, gm):
    where = _output_node(gm).args[0]
    node_where = where.meta.get("tape_where") if isinstance(where, torch.fx.Node) else None
    if not isinstance(loss, Value):
        raise ImportFailure(f"{loss_name} must return a tensor that depends on "
                            f"the model's output, got {type(loss).__name__}",
                            node_where)
    if loss.shape != () or loss.elt not in FLOAT_TYPES:
        raise ImportFailure(f"{loss_name} must return a float scalar, got a "
                            f"tensor of shape {list(loss.shape)} ({loss.elt})",
                            node_where,
                            fix="reduce it with reduction='mean' or 'sum', as "
                                "loss.backward() needs")
    return loss


def _read(fn, program, reads, name):
    if name not in reads:
        var = program.variables[name]
        r = fn.fresh("r")
        fn.line(f"{r} = tape.read {var.handle} : {var.resource_type}")
        reads[name] = Value(r, var.shape, var.elt)
    return reads[name]


def _step_counter(program):
    name = "tape_import.sgd_steps"
    if name not in program.variables:
        var = Variable(name, len(program.variables), torch.zeros((), dtype=torch.int64),
                       False)
        program.variables[name] = var
        program.values[name] = np.zeros((), np.int64)
    return name


def _preprocess(fn, program, reads, g, name, group, counter):
    """The gradient torch.optim hands its update: negated (maximize), plus
    the coupled decay wd * w, damped after the first step."""
    if not (group.maximize or group.coupled_decay or group.dampening):
        return g
    ident = [f"d{i}" for i in range(len(g.shape))]
    ins, maps = [g], [ident]
    w = None
    if group.coupled_decay:
        w = _read(fn, program, reads, name)
        ins.append(w)
        maps.append(ident)
    c = None
    if group.dampening:
        c = _read(fn, program, reads, counter)
        ins.append(c)
        maps.append([])

    def body(s, args):
        v = args[0]
        if group.maximize:
            v = s.neg(v)
        if group.coupled_decay:
            v = s.add(v, s.mul(args[1], group.coupled_decay))
        if group.dampening:
            step = args[len(ins) - 1]
            first = s.cmpi("eq", step, 0, "i64")
            v = s.mul(v, s.select(first, 1.0, 1.0 - group.dampening))
        return v
    return fn.generic(ins, maps, g.shape, g.elt, ["parallel"] * len(g.shape), body)
