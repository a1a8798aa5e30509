"""The functions that only read the variables: @predict, the forward pass
in evaluation mode (inputs -> outputs), and @evaluate, which calls it and
adds the loss (inputs, targets -> loss, outputs), for `tape-run --eval
evaluate`."""
from .errors import ImportFailure
from .lowering.core import Lowerer
from .mlir import Function, Value


def evaluation(program, traced, input_values, target_values, model_name, check_loss):
    fn = Function(indent="    ")
    reads = {}
    out = Lowerer(fn, traced.eval, traced.eval_values, program, reads, False).run(
        input_values)
    outputs = _tensors(out, f"{model_name}.forward")
    if not outputs:
        raise ImportFailure(f"{model_name}.forward returns no tensor")
    in_sig = ", ".join(f"{v.name}: {v.type}" for v in input_values)
    out_types = ", ".join(v.type for v in outputs)
    lines = [f"  func.func @predict({in_sig}) -> ({out_types}) {{"]
    lines += program.handles(reads, "    ")
    lines += fn.lines
    lines.append(f"    return {', '.join(v.name for v in outputs)} : {out_types}")
    lines.append("  }")
    lines.append("")

    fn = Function(indent="    ")
    reads = {}
    call = fn.fresh("out")
    fn.line(f"{call}:{len(outputs)} = func.call @predict("
            + ", ".join(v.name for v in input_values) + ") : ("
            + ", ".join(v.type for v in input_values) + f") -> ({out_types})")
    called = [Value(f"{call}#{i}" if len(outputs) > 1 else call, v.shape, v.elt)
              for i, v in enumerate(outputs)]
    structured = _restructure(out, iter(called))
    loss = check_loss(Lowerer(fn, traced.loss, traced.eval_loss_values, program, reads,
                              False).run([structured] + target_values))
    signature = ", ".join(f"{v.name}: {v.type}" for v in input_values + target_values)
    lines.append(f"  func.func @evaluate({signature}) -> ({loss.type}, {out_types}) {{")
    lines += program.handles(reads, "    ")
    lines += fn.lines
    lines.append(f"    return {loss.name}, {', '.join(v.name for v in called)} : "
                 f"{loss.type}, {out_types}")
    lines.append("  }")
    return lines


def _tensors(out, what):
    """The tensors of a forward() result, in order (tuples, lists and dicts
    walked)."""
    from .lowering.core import Const
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


def _restructure(structure, values):
    """`structure` with its Values replaced, in order, by `values`."""
    if isinstance(structure, Value):
        return next(values)
    if isinstance(structure, tuple):
        return tuple(_restructure(x, values) for x in structure)
    if isinstance(structure, list):
        return [_restructure(x, values) for x in structure]
    if isinstance(structure, dict):
        return {k: _restructure(x, values) for k, x in structure.items()}
    return structure
