"""A torch.optim optimizer as tape.apply_gradients, one per parameter group.

The update of each group is the one torch.optim computes (torch 1.13's
single-tensor code), through the dialect's optimizers and, where PyTorch
changes the gradient before its update, the same change written in the
step between tape.gradient and tape.apply_gradients:

| torch.optim | tape |
| --- | --- |
| SGD(lr, weight_decay) | #tape.sgd<learning_rate, weight_decay>: w -= lr (g + wd w) |
| SGD(momentum, nesterov, weight_decay, dampening) | g' = g + wd w (coupled decay), times 1 - dampening after the first step; #tape.momentum<learning_rate, momentum, nesterov>. Keras' form keeps v = -lr buf, so w += v is torch's w -= lr buf, and Nesterov's w += mu v - lr g' is torch's w -= lr (g' + mu buf) |
| Adam(lr, betas, eps, weight_decay) | g' = g + wd w (Adam's decay is coupled); #tape.adamw<..., weight_decay = 0>, whose update is torch's (eps added to the bias-corrected sqrt(v), corrections in float64) |
| AdamW(lr, betas, eps, weight_decay) | #tape.adamw<...>: decoupled decay w *= 1 - lr wd, then Adam |
| Adadelta(lr, rho, eps, weight_decay) | #tape.adadelta<...> |
| maximize=True | g' = -g first, as torch |

Unsupported settings (amsgrad, other optimizers) are errors naming them.
"""
import torch

from .errors import ImportFailure
from .mlir import float_literal


class Group:
    """One tape.apply_gradients: the optimizer attribute, the variables it
    updates, and what happens to their gradients before."""

    def __init__(self, attribute, names, coupled_decay=0.0, maximize=False,
                 dampening=0.0):
        self.attribute = attribute
        self.names = names
        self.coupled_decay = coupled_decay
        self.maximize = maximize
        self.dampening = dampening


def _f(v):
    return float_literal(float(v), "f64")


def _fail(optimizer, message, fix=None):
    raise ImportFailure(f"{type(optimizer).__name__}: {message}",
                        notes=["tape-import-torch maps torch.optim.SGD, Adam, "
                               "AdamW and Adadelta onto the dialect's optimizers"],
                        fix=fix)


def _check_flags(optimizer, group, allowed):
    for key, value in group.items():
        if key in ("params", "initial_lr") or key in allowed:
            continue
        if key in ("foreach", "differentiable", "capturable", "fused"):
            # Implementation choices of torch's update; the math is the same.
            continue
        if key == "amsgrad" and not value:
            continue
        if key == "maximize" and not value:
            continue
        _fail(optimizer, f"the setting {key}={value!r} is not supported",
              fix=f"remove {key}")


def _number(optimizer, group, key):
    value = group[key]
    if isinstance(value, torch.Tensor):
        value = value.item()
    if not isinstance(value, (int, float)):
        _fail(optimizer, f"{key} must be a number, got {value!r}")
    return float(value)


def translate(optimizer, name_of):
    """The groups of `optimizer` (a torch.optim.Optimizer); `name_of(p)` is
    the variable name of parameter p, or None."""
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise ImportFailure(f"the optimizer is a {type(optimizer).__name__}, not "
                            "a torch.optim.Optimizer")
    kind = type(optimizer)
    groups = []
    for group in optimizer.param_groups:
        names = []
        for p in group["params"]:
            name = name_of(p)
            if name is None:
                _fail(optimizer, "a parameter group holds a tensor that is not a "
                                 "parameter of the model")
            names.append(name)
        maximize = bool(group.get("maximize", False))
        lr = _number(optimizer, group, "lr")
        if kind is torch.optim.SGD:
            _check_flags(optimizer, group, ("lr", "momentum", "dampening",
                                            "weight_decay", "nesterov", "maximize"))
            momentum = _number(optimizer, group, "momentum")
            decay = _number(optimizer, group, "weight_decay")
            dampening = _number(optimizer, group, "dampening")
            if momentum == 0.0:
                attr = f"#tape.sgd<learning_rate = {_f(lr)}, weight_decay = {_f(decay)}>"
                groups.append(Group(attr, names, maximize=maximize))
            else:
                if momentum > 1.0:
                    _fail(optimizer, f"momentum {momentum} above 1 is not supported")
                nesterov = "true" if group["nesterov"] else "false"
                attr = (f"#tape.momentum<learning_rate = {_f(lr)}, momentum = "
                        f"{_f(momentum)}, nesterov = {nesterov}>")
                groups.append(Group(attr, names, coupled_decay=decay,
                                    maximize=maximize, dampening=dampening))
        elif kind in (torch.optim.Adam, torch.optim.AdamW):
            _check_flags(optimizer, group, ("lr", "betas", "eps", "weight_decay",
                                            "maximize", "amsgrad"))
            if group.get("amsgrad"):
                _fail(optimizer, "amsgrad=True is not supported",
                      fix="use amsgrad=False")
            beta1, beta2 = (float(b) for b in group["betas"])
            eps = _number(optimizer, group, "eps")
            decay = _number(optimizer, group, "weight_decay")
            decoupled = decay if kind is torch.optim.AdamW else 0.0
            attr = (f"#tape.adamw<learning_rate = {_f(lr)}, beta1 = {_f(beta1)}, "
                    f"beta2 = {_f(beta2)}, epsilon = {_f(eps)}, "
                    f"weight_decay = {_f(decoupled)}>")
            groups.append(Group(attr, names, maximize=maximize,
                                coupled_decay=decay if kind is torch.optim.Adam else 0.0))
        elif kind is torch.optim.Adadelta:
            _check_flags(optimizer, group, ("lr", "rho", "eps", "weight_decay",
                                            "maximize"))
            attr = (f"#tape.adadelta<learning_rate = {_f(lr)}, rho = "
                    f"{_f(_number(optimizer, group, 'rho'))}, epsilon = "
                    f"{_f(_number(optimizer, group, 'eps'))}, weight_decay = "
                    f"{_f(_number(optimizer, group, 'weight_decay'))}>")
            groups.append(Group(attr, names, maximize=maximize))
        else:
            _fail(optimizer, "this optimizer is not supported",
                  fix="use torch.optim.SGD, Adam, AdamW or Adadelta")
    return groups


def parse_spec(text, parameters):
    """`Adam(lr=1e-3, betas=(0.9, 0.99))`: a torch.optim class and keyword
    arguments (Python literals), built over `parameters`."""
    import ast
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as e:
        raise ImportFailure(f"cannot parse the optimizer '{text}': {e.msg}",
                            fix="write it as a call, e.g. 'SGD(lr=0.1, momentum=0.9)'") from None
    if isinstance(tree, ast.Name):
        tree = ast.Call(func=tree, args=[], keywords=[])
    if not isinstance(tree, ast.Call) or not isinstance(tree.func, (ast.Name, ast.Attribute)):
        raise ImportFailure(f"cannot parse the optimizer '{text}'",
                            fix="write it as a call, e.g. 'SGD(lr=0.1, momentum=0.9)'")
    name = tree.func.id if isinstance(tree.func, ast.Name) else tree.func.attr
    cls = getattr(torch.optim, name, None)
    if not (isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer)):
        raise ImportFailure(f"'{name}' is not a torch.optim optimizer",
                            fix="use SGD, Adam, AdamW or Adadelta")
    if tree.args:
        raise ImportFailure(f"the optimizer '{text}' takes keyword arguments only")
    try:
        kwargs = {k.arg: ast.literal_eval(k.value) for k in tree.keywords}
    except ValueError:
        raise ImportFailure(f"the arguments of '{text}' must be Python literals") from None
    try:
        return cls(parameters, **kwargs)
    except (TypeError, ValueError) as e:
        raise ImportFailure(f"torch.optim.{name} rejects '{text}': {e}") from None
