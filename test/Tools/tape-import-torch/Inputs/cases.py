"""Small PyTorch modules covering every op tape-import-torch imports, each
with its inputs, targets, loss and optimizer (check_import.py runs them).
"""
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from tape_import_torch import TensorSpec

f32, i64 = torch.float32, torch.int64


class Case:
    """inputs/targets: (shape, dtype) each, the first dimension the batch;
    classes: the range of int64 targets; make(spec, shape, rng) overrides
    the data; masks(dropout seeds) gives the reference the step's dropout
    masks."""

    def __init__(self, factory, inputs, targets, loss, optimizer, classes=4,
                 steps=5, make=None, masks=None):
        self.factory = factory
        self.inputs = [TensorSpec(f"x{i}" if i else "x", s, d)
                       for i, (s, d) in enumerate(inputs)]
        self.targets = [TensorSpec("target", s, d) for s, d in targets]
        self.loss = loss
        self.optimizer = optimizer
        self.classes = classes
        self.steps = steps
        self.make = make or self.default_data
        self.masks = masks

    def default_data(self, spec, shape, rng):
        if spec.dtype.is_floating_point:
            return rng.standard_normal(shape).astype(
                np.float64 if spec.dtype == torch.float64 else np.float32)
        return rng.integers(0, self.classes, shape).astype(np.int64)


def ce(out, t):
    return F.cross_entropy(out, t)


def mse(out, t):
    return F.mse_loss(out, t)


def sgd(lr=0.1, **kw):
    return lambda m: torch.optim.SGD(m.parameters(), lr=lr, **kw)


def adam(lr=1e-2, **kw):
    return lambda m: torch.optim.Adam(m.parameters(), lr=lr, **kw)


def adamw(lr=1e-2, **kw):
    return lambda m: torch.optim.AdamW(m.parameters(), lr=lr, **kw)


# Linear, ReLU, nested modules ---------------------------------------------------

class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(8, 16)
        self.fc2 = nn.Linear(16, 4)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))


class Activations(nn.Module):
    """Every activation, as modules (in a Sequential) and as functions."""

    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(6, 12), nn.GELU(), nn.Linear(12, 12), nn.GELU(approximate="tanh"),
            nn.Linear(12, 12), nn.Tanh(), nn.Linear(12, 12), nn.Sigmoid(),
            nn.Linear(12, 12), nn.SiLU(), nn.Linear(12, 12), nn.LeakyReLU(0.1),
            nn.Linear(12, 12), nn.ReLU(inplace=True), nn.Identity())
        self.out = nn.Linear(12, 3)

    def forward(self, x):
        h = self.layers(x)
        h = F.gelu(h) + F.silu(h) + torch.tanh(h) + torch.sigmoid(h) + h.relu() \
            + F.leaky_relu(h, 0.2)
        return self.out(h)


class Arithmetic(nn.Module):
    """Broadcasting arithmetic with tensors, parameters and numbers."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.linspace(0.5, 1.5, 5).reshape(1, 5))
        self.shift = nn.Parameter(torch.zeros(5))
        self.fc = nn.Linear(5, 5)

    def forward(self, x, y):
        a = x * self.scale + self.shift - 0.5           # [B, 5] with [1, 5], [5]
        b = (2 - a) / (x ** 2 + 1) + 1 / (y.abs() + 1)   # y: [B, 1]
        c = torch.sqrt(a * a + 1) + torch.exp(-b.abs()) + torch.log(a * a + 1)
        d = torch.clamp(c, -2.0, 3.0) + torch.maximum(a, b) - torch.minimum(a, 0.5 * b)
        e = torch.where(x > 0, d, -d) + a.pow(3) * 0.1 - torch.rsqrt(c * c + 1)
        f = e.mean(dim=1, keepdim=True) + e.sum(1, keepdim=True) / 5 + e.amax(1, True)
        g = (e - f).var(dim=1, keepdim=True) + (e - f).std(1, keepdim=True)
        return self.fc(torch.tanh(e + f * g) + torch.neg(y) + x.sum() / 100 + a.mean())


class Softmaxes(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 6)
        self.softmax = nn.Softmax(dim=-1)
        self.log_softmax = nn.LogSoftmax(dim=1)

    def forward(self, x):
        h = self.fc(x)
        p = self.softmax(h) + F.softmax(h * 2, dim=1)
        return self.log_softmax(h + p)


def nll(out, t):
    return F.nll_loss(out, t)


# Shapes: views, transposes, slices, cat/split, matmuls --------------------------

class Shapes(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(12, 12)
        self.w = nn.Parameter(torch.randn(3, 4) * 0.3)
        self.out = nn.Linear(24, 4)

    def forward(self, x):                              # [B, 2, 3, 4]
        b = x.size(0)
        h = x.view(b, -1)                              # [B, 24]
        h = self.fc(h.reshape(b, 2, 12))               # Linear on a rank-3 input
        h = h.view(b, 2, 3, 4).permute(0, 2, 1, 3)     # [B, 3, 2, 4]
        h = h.transpose(1, 2).contiguous()             # [B, 2, 3, 4]
        m = h @ self.w.T.unsqueeze(0).unsqueeze(0)     # [B, 2, 3, 3]: broadcast matmul
        m = torch.matmul(m, h)                         # [B, 2, 3, 4]: batched
        p = torch.bmm(h.flatten(0, 1), h.flatten(0, 1).transpose(1, 2))  # [2B, 3, 3]
        q, r = m.chunk(2, dim=1)                       # [B, 1, 3, 4] each
        s = torch.cat([r, q, h[:, :1]], dim=1)         # [B, 3, 3, 4]
        t1, t2 = s.split([1, 2], dim=1)
        u = torch.stack([t1.squeeze(1), t2[:, 1]], dim=1)  # [B, 2, 3, 4]
        v = u[:, :, 1:, ::2] + u[..., 0:1, 1::2]           # [B, 2, 2, 2]
        w = v[:, None, 0] + p.view(b, 2, 3, 3)[:, :, :2, :2].sum(1, keepdim=True)
        z = torch.cat([w.flatten(1), v.reshape(b, -1), x[:, 1, 0], h[:, 0, 0],
                       u.permute(3, 2, 1, 0).mean(0).mean(0).t(), self.w[:1, :2].expand(b, 2)], dim=1)
        return self.out(z + torch.flatten(h, 1)[:, :24].mean())


class Matmuls(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Parameter(torch.randn(5, 6) * 0.3)
        self.v = nn.Parameter(torch.randn(6) * 0.3)
        self.fc = nn.Linear(6, 3, bias=False)

    def forward(self, x):                              # [B, 4, 5]
        y = x @ self.a                                 # [B, 4, 6]
        z = torch.mm(y[0], self.a.t())                 # [4, 5]
        s = y @ self.v                                 # [B, 4]
        d = self.v @ self.v                            # []
        e = self.v @ self.a.t()                        # [5]
        return self.fc(y + (z @ self.a).unsqueeze(0) + s.unsqueeze(2) + d + e.sum())


class MoreOps(nn.Module):
    """The rest: functional convolution, pooling and batch norm, more
    elementwise functions, boolean logic, conversions, detach, clone,
    swapaxes, .mT, expand_as, broadcast_to, narrow, unflatten, unbind,
    tensor_split, ravel, view_as, min and max values, F.embedding."""

    def __init__(self):
        super().__init__()
        self.w1 = nn.Parameter(torch.randn(3, 2, 3) * 0.4)
        self.b1 = nn.Parameter(torch.zeros(3))
        self.w2 = nn.Parameter(torch.randn(4, 2, 1, 1) * 0.4)
        self.gamma = nn.Parameter(torch.ones(3) * 1.2)
        self.beta = nn.Parameter(torch.zeros(3))
        self.register_buffer("mean", torch.linspace(-0.1, 0.1, 3))
        self.register_buffer("var", torch.linspace(0.8, 1.2, 3))
        self.table = nn.Parameter(torch.randn(7, 2) * 0.5)
        self.fc = nn.Linear(61, 5)

    def forward(self, x, ids):                         # [B, 2, 6], [B, 3] int64
        b = x.shape[0]
        a = F.conv1d(x, self.w1, self.b1, padding=1)   # [B, 3, 6]
        c = F.conv2d(x.unsqueeze(2), self.w2)          # [B, 4, 1, 6]
        c = F.avg_pool2d(c, (1, 2), divisor_override=3)              # [B, 4, 1, 3]
        n = F.batch_norm(a, None, None, training=True) + F.batch_norm(
            a, self.mean, self.var, self.gamma, self.beta, training=False)
        h = n.narrow(2, 1, 4)                          # [B, 3, 4]
        s = torch.sin(h) + torch.cos(h) + torch.log1p(h.abs()) \
            + torch.reciprocal(h.abs() + 1) + torch.square(h) + torch.erf(h)
        m = ((h > 0) & (h < 1)) | ~(h > -0.5)
        m = torch.logical_and(m, torch.logical_not(h > 2)) | torch.logical_or(h < -3, h > 3)
        s = torch.where(m, s, h) + (h > 0).long().float() + h.double().float() \
            + h.to(torch.float32) * 0.5 + (h > 0).float().type_as(h)
        lows = h.amin(2, keepdim=True) + h.min(dim=2, keepdim=True)[0] + torch.min(h)
        u = s.unflatten(2, (2, 2))                     # [B, 3, 2, 2]
        p, q, r = u.unbind(1)                          # [B, 2, 2] each
        t1, t2 = torch.tensor_split(s, 2, dim=2)       # [B, 3, 2] each
        e = F.embedding(ids, self.table)               # [B, 3, 2]
        g = h + (h * 2).detach() + h.clone().swapaxes(1, 2).mT \
            + torch.clip(h, -1, 1) + h.max(dim=1, keepdim=True)[0].expand_as(h) \
            + torch.broadcast_to(self.b1.view(1, 3, 1), (4, 3, 4)) \
            + (h > 0).int().float() * (h > 1).bool().float()
        pooled = F.max_pool1d(g, 2) + F.avg_pool1d(g, 2) \
            + F.adaptive_avg_pool2d(g.unsqueeze(1), (3, 2)).view_as(g[:, :, :2])
        parts = [p.flatten(1), q.flatten(1) * r.flatten(1), (t1 * t2).flatten(1),
                 lows.flatten(1), c.flatten(1), e.flatten(1), s.ravel().view(b, -1),
                 x.narrow(1, 0, 1).flatten(1), a.flatten(1)[:, :2], pooled.flatten(1)]
        return self.fc(torch.cat(parts, dim=1))


def module_losses(out, t):
    return nn.CrossEntropyLoss(label_smoothing=0.1)(out, t) \
        + 0.5 * nn.NLLLoss()(F.log_softmax(out, 1), t) \
        + 0.1 * nn.MSELoss()(out[:, 0], (t == 0).float())


def more_data(spec, shape, rng):
    if spec.dtype.is_floating_point:
        return rng.standard_normal(shape).astype(np.float32)
    return rng.integers(0, 5 if spec.name == "target" else 7, shape).astype(np.int64)


# Convolutions and pooling --------------------------------------------------------

class Conv2dNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(2, 4, 3, stride=1, padding=1)
        self.conv2 = nn.Conv2d(4, 6, 3, stride=2, padding=2, dilation=2, groups=2)
        self.conv3 = nn.Conv2d(6, 6, 3, padding="same", groups=6, bias=False)
        self.pool1 = nn.MaxPool2d(3, stride=2, padding=1)
        self.pool2 = nn.AvgPool2d(2, stride=1, padding=1, count_include_pad=False)
        self.pool3 = nn.AdaptiveAvgPool2d((3, 2))
        self.fc = nn.Linear(6 * 3 * 2, 5)

    def forward(self, x):                              # [B, 2, 12, 12]
        h = F.relu(self.conv1(x))
        h = F.relu(self.conv2(h))                      # [B, 6, 5, 5]
        h = self.conv3(h) + h
        h = self.pool1(h)                              # [B, 6, 3, 3]
        h = self.pool2(h)                              # [B, 6, 4, 4]
        h = F.max_pool2d(h, 2, ceil_mode=True) + F.avg_pool2d(h, 2)   # [B, 6, 2, 2]
        h = self.pool3(h)
        return self.fc(torch.flatten(h, 1))


class Conv1dNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv1d(3, 4, 3, padding=1)
        self.conv2 = nn.Conv1d(4, 4, 5, stride=2, padding=2, groups=2)
        self.pool1 = nn.MaxPool1d(2)
        self.pool2 = nn.AvgPool1d(3, stride=1, padding=1)
        self.pool3 = nn.AdaptiveAvgPool1d(3)
        self.fc = nn.Linear(12, 3)

    def forward(self, x):                              # [B, 3, 16]
        h = torch.tanh(self.conv1(x))
        h = self.conv2(h)                              # [B, 4, 8]
        h = self.pool2(self.pool1(h))                  # [B, 4, 4]
        h = self.pool3(h) + F.adaptive_avg_pool1d(h, 3)
        return self.fc(h.flatten(1))


class GlobalPool(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, stride=2)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, 4)

    def forward(self, x):                              # [B, 3, 9, 9]
        return self.fc(self.pool(F.relu(self.conv(x))).flatten(1))


# Normalization ---------------------------------------------------------------------

class BatchNorms(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.bn1 = nn.BatchNorm2d(4)
        self.bn2 = nn.BatchNorm2d(4, momentum=None, affine=False)
        self.fc = nn.Linear(4 * 4 * 4, 6)
        self.bn3 = nn.BatchNorm1d(6, momentum=0.3)
        self.bn4 = nn.BatchNorm1d(6, track_running_stats=False)
        self.out = nn.Linear(6, 3)

    def forward(self, x):                              # [B, 3, 6, 6]
        h = self.bn2(F.relu(self.bn1(self.conv(x))))
        h = self.bn3(self.fc(h.flatten(1)))
        return self.out(self.bn4(h))


class LayerNorms(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        self.ln1 = nn.LayerNorm(8)
        self.ln2 = nn.LayerNorm([3, 8], elementwise_affine=False)
        self.w = nn.Parameter(torch.ones(8) * 1.5)

    def forward(self, x):                              # [B, 3, 8]
        h = self.ln1(self.fc(x))
        h = self.ln2(h) + F.layer_norm(h, (8,), self.w, None, 1e-3)
        return h.mean(1)


# Embeddings and attention -------------------------------------------------------------

V, T, C, NH = 11, 6, 8, 2


class TinyGPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte = nn.Embedding(V, C, padding_idx=0)
        self.wpe = nn.Embedding(T, C)
        self.ln = nn.LayerNorm(C)
        # No bias: a key bias has gradient 0 exactly, which Adam turns from
        # rounding noise into steps of lr, different on each side.
        self.qkv = nn.Linear(C, 3 * C, bias=False)
        self.proj = nn.Linear(C, C)
        self.mlp = nn.ModuleList([nn.Linear(C, 2 * C), nn.Linear(2 * C, C)])
        self.register_buffer("mask", torch.triu(torch.ones(T, T, dtype=torch.bool), 1))

    def forward(self, idx):                            # [B, T] int64
        b = idx.shape[0]
        x = self.wte(idx) + self.wpe(torch.arange(T))
        q, k, v = self.qkv(self.ln(x)).split(C, dim=2)
        q, k, v = (t.view(b, T, NH, C // NH).transpose(1, 2) for t in (q, k, v))
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(C // NH))
        att = F.softmax(att.masked_fill(self.mask, float("-inf")), dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(b, T, C)
        x = x + self.proj(y)
        h = x
        for layer in self.mlp:
            h = F.gelu(layer(h), approximate="tanh")
        x = x + h
        return x @ self.wte.weight.t()                 # [B, T, V], tied


def sequence_loss(logits, targets):
    return F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1))


def gpt_adamw(model):
    decay = [p for n, p in model.named_parameters() if p.dim() == 2]
    plain = [p for n, p in model.named_parameters() if p.dim() != 2]
    return torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                              {"params": plain, "weight_decay": 0.0}],
                             lr=1e-2, betas=(0.9, 0.95), eps=1e-8)


# Losses ---------------------------------------------------------------------------------

class Scorer(nn.Module):
    def __init__(self, classes=5):
        super().__init__()
        self.fc = nn.Linear(6, classes)

    def forward(self, x):
        return self.fc(x)


class SpatialScorer(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 4, 1)

    def forward(self, x):                              # [B, 2, 3, 3] -> [B, 4, 3, 3]
        return self.conv(x)


CLASS_WEIGHTS = torch.tensor([1.0, 2.0, 0.5, 1.5, 1.0])


def weighted_ce(out, t):
    return F.cross_entropy(out, t, weight=CLASS_WEIGHTS, ignore_index=2,
                           label_smoothing=0.1)


def nll_weighted(out, t):
    return F.nll_loss(F.log_softmax(out, 1), t, weight=CLASS_WEIGHTS, ignore_index=1,
                      reduction="sum")


def prob_ce(out, t):
    return F.cross_entropy(out, F.softmax(t, dim=1), label_smoothing=0.05)


def bce(out, t):
    return F.binary_cross_entropy_with_logits(out, (t > 0).float(),
                                              pos_weight=torch.tensor([1.0, 2.0, 0.5, 3.0, 1.0]))


def bce_module(out, t):
    return nn.BCEWithLogitsLoss(reduction="sum")(out, torch.sigmoid(t))


# Dropout ---------------------------------------------------------------------------------

class Dropouts(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(8, 16)
        self.drop = nn.Dropout(0.5)
        self.fc2 = nn.Linear(16, 4)
        self.dropout = F.dropout       # the reference swaps in its masks

    def forward(self, x):
        h = self.drop(F.relu(self.fc1(x)))
        return self.fc2(self.dropout(h, 0.25, self.training))


class MaskedDropout(nn.Module):
    def __init__(self, keep, p):
        super().__init__()
        self.keep, self.p = keep, p

    def forward(self, x, p=None, training=True):
        if not (self.training and training):
            return x
        return torch.where(self.keep, x * (1 / (1 - self.p)), torch.zeros_like(x))


class DropoutMasks:
    """Gives the reference model, at step k, the masks tape.random_uniform
    draws there: u >= p with u from Philox4x32-10 as the op documents it
    (test/Tools/tape-run/Inputs/philox.py), keyed by each dropout op's
    seed and the step count."""

    def __init__(self, seeds):
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                        "..", "..", "tape-run", "Inputs"))
        import philox
        self.uniform = philox.uniform
        # The module's dropout, then F.dropout: in graph order.
        self.seeds = sorted(s for v in seeds.values() for s in v)

    def step(self, model, k):
        masks = [MaskedDropout(torch.from_numpy(
            self.uniform((4, 16), seed, k, np.float32) >= np.float32(p)), p)
            for seed, p in zip(self.seeds, (0.5, 0.25))]
        model.drop, model.dropout = masks


class TwoHeads(nn.Module):
    """forward() returns a dict holding a tuple; the loss picks from it."""

    def __init__(self):
        super().__init__()
        self.body = nn.Linear(8, 16)
        self.head = nn.Linear(16, 4)
        self.aux = nn.Linear(16, 2)

    def forward(self, x):
        h = torch.tanh(self.body(x))
        return {"logits": self.head(h), "extra": (self.aux(h), h.mean(1))}


def two_head_loss(out, t):
    aux, mean = out["extra"]
    return F.cross_entropy(out["logits"], t) + 0.1 * (aux ** 2).mean() + 0.01 * mean.sum()


def sequential():
    """A top-level nn.Sequential: its parameters are named 0.weight, ...,
    symbols MLIR must quote (@"0.weight")."""
    return nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))


def double_mlp():
    return MLP().double()


CASES = {
    "mlp_sgd": Case(MLP, [((4, 8), f32)], [((4,), i64)], ce, sgd()),
    "structured": Case(TwoHeads, [((4, 8), f32)], [((4,), i64)], two_head_loss, adam()),
    "sequential": Case(sequential, [((4, 8), f32)], [((4,), i64)], ce, adam()),
    "float64": Case(double_mlp, [((4, 8), torch.float64)], [((4,), i64)], ce,
                    sgd(momentum=0.9)),
    "activations": Case(Activations, [((4, 6), f32)], [((4, 3), f32)], mse, adam()),
    "arithmetic": Case(Arithmetic, [((4, 5), f32), ((4, 1), f32)], [((4, 5), f32)], mse,
                       sgd(0.05, momentum=0.9, nesterov=True, weight_decay=1e-3)),
    "softmax": Case(Softmaxes, [((4, 8), f32)], [((4,), i64)], nll,
                    sgd(0.1, momentum=0.5, dampening=0.3), classes=6),
    "shapes": Case(Shapes, [((3, 2, 3, 4), f32)], [((3,), i64)], ce, adam()),
    "matmuls": Case(Matmuls, [((2, 4, 5), f32)], [((2, 4, 3), f32)], mse, adam()),
    "more_ops": Case(MoreOps, [((4, 2, 6), f32), ((4, 3), i64)], [((4,), i64)],
                     module_losses, adam(), make=more_data),
    "conv2d": Case(Conv2dNet, [((3, 2, 12, 12), f32)], [((3,), i64)], ce,
                   sgd(0.05, momentum=0.9, weight_decay=5e-4), classes=5),
    "conv1d": Case(Conv1dNet, [((3, 3, 16), f32)], [((3,), i64)], ce, adam(), classes=3),
    "global_pool": Case(GlobalPool, [((3, 3, 9, 9), f32)], [((3,), i64)], ce, adamw()),
    "batchnorm": Case(BatchNorms, [((4, 3, 6, 6), f32)], [((4,), i64)], ce,
                      sgd(0.1, momentum=0.9), classes=3),
    "layernorm": Case(LayerNorms, [((4, 3, 8), f32)], [((4, 8), f32)], mse,
                      adam(weight_decay=0.01)),
    "attention": Case(TinyGPT, [((3, T), i64)], [((3, T), i64)], sequence_loss, gpt_adamw,
                      classes=V),
    "cross_entropy": Case(lambda: Scorer(5), [((6, 6), f32)], [((6,), i64)], weighted_ce,
                          lambda m: torch.optim.Adam(m.parameters(), lr=1e-2, maximize=False),
                          classes=5),
    "nll_sum": Case(lambda: Scorer(5), [((6, 6), f32)], [((6,), i64)], nll_weighted,
                    lambda m: torch.optim.Adadelta(m.parameters(), lr=1.0, weight_decay=0.01),
                    classes=5),
    "probabilities": Case(SpatialScorer, [((2, 2, 3, 3), f32)], [((2, 4, 3, 3), f32)],
                          prob_ce, sgd(0.5)),
    "bce": Case(lambda: Scorer(5), [((6, 6), f32)], [((6, 5), f32)], bce,
                lambda m: torch.optim.SGD(m.parameters(), lr=0.1, weight_decay=0.01,
                                          maximize=True)),
    "bce_sum": Case(lambda: Scorer(5), [((6, 6), f32)], [((6, 5), f32)], bce_module,
                    lambda m: torch.optim.Adam(m.parameters(), lr=1e-2, maximize=True)),
    "dropout": Case(Dropouts, [((4, 8), f32)], [((4,), i64)], ce, sgd(),
                    masks=DropoutMasks),
}
