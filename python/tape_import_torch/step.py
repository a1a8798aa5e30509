"""The train step: the forward pass and the loss in a tape.record, the
gradients of the loss, the optimizer's updates (with the gradient changes
torch.optim makes before them, see optimizers.py) and the assignments of
state the forward pass updates (running statistics)."""
import numpy as np
import torch

from .lowering.core import Lowerer
from .mlir import Function, Value, symbol


def train_step(program, traced, input_values, target_values, groups, step_name,
               check_loss):
    """The tape.step's lines, and notes for the user."""
    fn = Function(indent="      ")
    reads = {}
    model = Lowerer(fn, traced.train, traced.train_values, program, reads, True)
    out = model.run(input_values)
    loss_lowerer = Lowerer(fn, traced.loss, traced.loss_values, program, reads, True,
                           value_deps=model.value_deps)
    loss = check_loss(loss_lowerer.run([out] + target_values))
    assignments = model.assignments + loss_lowerer.assignments
    record_lines = fn.lines
    results = [loss] + [v for _, v in assignments]
    reached = loss_lowerer.deps_of(loss)
    used = set(reads) | {n for n, _ in assignments}

    # After the recording: gradients, updates, assignments.
    fn.lines = []
    fn.indent = "    "
    result = [_record_result(k, len(results)) for k in range(len(results))]
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
        g = fn.fresh("g")
        variables = [program.variables[n] for n in wrt]
        fn.line(f"{g}:{len(wrt)} = tape.gradient %tape ({result[0]} : {loss.type}) "
                f"wrt ({', '.join(v.handle for v in variables)} : "
                + ", ".join(v.resource_type for v in variables) + ")")
        for i, v in enumerate(variables):
            grads[v.name] = Value(f"{g}#{i}" if len(wrt) > 1 else g, v.shape, v.elt)
    post_reads = {}
    counter = None
    if any(g.dampening for g in groups if any(n in grads for n in g.names)):
        counter = _step_counter(program)
    for group in groups:
        names = [n for n in group.names if n in grads]
        if not names:
            continue
        gs = [_torch_gradient(fn, program, post_reads, grads[n], n, group, counter)
              for n in names]
        variables = [program.variables[n] for n in names]
        fn.line(f"tape.apply_gradients {group.attribute} ("
                + ", ".join(x.name for x in gs) + " : "
                + ", ".join(x.type for x in gs) + ") to ("
                + ", ".join(v.handle for v in variables) + " : "
                + ", ".join(v.resource_type for v in variables) + ")")
    if counter is not None:
        var = program.variables[counter]
        c = _read(fn, program, post_reads, counter)
        one = fn.constant(np.array(1, np.int64), "i64")
        nxt = fn.fresh("next")
        fn.line(f"{nxt} = arith.addi {c.name}, {one.name} : tensor<i64>")
        fn.line(f"tape.assign {var.handle}, {nxt} : {var.resource_type}")
    for k, (name, _) in enumerate(assignments):
        var = program.variables[name]
        fn.line(f"tape.assign {var.handle}, {result[k + 1]} : {var.resource_type}")
    used |= set(post_reads) | set(wrt)

    signature = ", ".join(f"{v.name}: {v.type}" for v in input_values + target_values)
    types = ", ".join(v.type for v in results)
    lines = [f"  tape.step {symbol(step_name)}({signature}) -> {loss.type} {{"]
    lines += program.handles(used, "    ")
    head = "%tape, %rec" + (f":{len(results)}" if len(results) > 1 else "")
    lines.append(f"    {head} = tape.record {{")
    lines += record_lines
    lines.append(f"      tape.yield {', '.join(v.name for v in results)} : {types}")
    lines.append(f"    }} : {types}")
    lines += fn.lines
    lines.append(f"    tape.return {result[0]} : {loss.type}")
    lines.append("  }")
    return lines, notes


def _record_result(k, count):
    return "%rec" if count == 1 else f"%rec#{k}"


def _read(fn, program, reads, name):
    if name not in reads:
        var = program.variables[name]
        r = fn.fresh("r")
        fn.line(f"{r} = tape.read {var.handle} : {var.resource_type}")
        reads[name] = Value(r, var.shape, var.elt)
    return reads[name]


def _step_counter(program):
    """A variable counting the steps taken, for SGD's dampening, which
    torch skips on the first step (the momentum buffer starts as g)."""
    return program.add_variable("tape_import.sgd_steps",
                                torch.zeros((), dtype=torch.int64), False)


def _torch_gradient(fn, program, reads, g, name, group, counter):
    """The gradient torch.optim hands its update: negated (maximize), plus
    the coupled decay wd * w, times 1 - dampening after the first step."""
    if not (group.maximize or group.coupled_decay or group.dampening):
        return g
    ident = [f"d{i}" for i in range(len(g.shape))]
    ins, maps = [g], [ident]
    if group.coupled_decay:
        ins.append(_read(fn, program, reads, name))
        maps.append(ident)
    if group.dampening:
        ins.append(_read(fn, program, reads, counter))
        maps.append([])

    def body(s, args):
        v = args[0]
        if group.maximize:
            v = s.neg(v)
        if group.coupled_decay:
            v = s.add(v, s.mul(args[1], group.coupled_decay))
        if group.dampening:
            first = s.cmpi("eq", args[len(ins) - 1], 0, "i64")
            v = s.mul(v, s.select(first, 1.0, 1.0 - group.dampening))
        return v
    return fn.generic(ins, maps, g.shape, g.elt, ["parallel"] * len(g.shape), body)
