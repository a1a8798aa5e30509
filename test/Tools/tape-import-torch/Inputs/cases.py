"""Small PyTorch modules covering every op tape-import-torch imports, each
with its inputs, targets, loss and optimizer (check_import.py runs them)."""
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from tape_import_torch import TensorSpec

f32, i64 = torch.float32, torch.int64


class Case:
    def __init__(self, factory, inputs, targets, loss, optimizer, steps=5,
                 make=None, masks=None):
        self.factory = factory
        self.inputs = [TensorSpec(f"x{i}" if i else "x", s, d) for i, (s, d) in enumerate(inputs)]
        self.targets = [TensorSpec("target", s, d) for s, d in targets]
        self.loss = loss
        self.optimizer = optimizer
        self.steps = steps
        self.make = make or default_data
        self.masks = masks


def default_data(spec, shape, rng):
    """Normal floats; class indices below the size of the last dimension
    of the model's output, given as `classes` on int specs."""
    if spec.dtype.is_floating_point:
        return rng.standard_normal(shape).astype(np.float32)
    return rng.integers(0, getattr(spec, "classes", 4), shape).astype(np.int64)


def ce(out, t):
    return F.cross_entropy(out, t)


def sgd(lr=0.1, **kw):
    return lambda m: torch.optim.SGD(m.parameters(), lr=lr, **kw)


def adam(lr=1e-2, **kw):
    return lambda m: torch.optim.Adam(m.parameters(), lr=lr, **kw)


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(8, 16)
        self.fc2 = nn.Linear(16, 4)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))


CASES = {
    "mlp_sgd": Case(MLP, [((4, 8), f32)], [((4,), i64)], ce, sgd()),
}
