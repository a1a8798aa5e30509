"""Activation functions, with PyTorch's formulas (and so its gradients)."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from .core import function, method, module
from .elementwise import _float_result, elementwise


def _relu(s, a):
    # select(x > 0, x, 0): the gradient passes where x > 0 only, as
    # torch's threshold_backward (maximumf would pass it at x = 0).
    return s.select(s.cmpf("ogt", a, 0.0), a, 0.0)


def _gelu(approximate):
    if approximate == "none":
        # 0.5 x (1 + erf(x / sqrt(2)))
        return lambda s, a: s.mul(s.mul(a, 0.5), s.add(s.erf(s.mul(a, 0.5 * math.sqrt(2.0))), 1.0))
    # 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))
    return lambda s, a: s.mul(s.mul(a, 0.5), s.add(s.tanh(s.mul(
        s.add(a, s.mul(s.mul(s.mul(a, a), a), 0.044715)), math.sqrt(2.0 / math.pi))), 1.0))


def _sigmoid(s, a):
    return s.div(1.0, s.add(s.exp(s.neg(a)), 1.0))


def _activation(ctx, input, build):
    _float_result(ctx)
    return elementwise(ctx, [input], build)


@function(F.relu, torch.relu)
@method("relu")
def relu(ctx, input, inplace=False):
    return _activation(ctx, input, _relu)


@function(F.gelu)
def gelu(ctx, input, approximate="none"):
    if approximate not in ("none", "tanh"):
        ctx.fail(f"gelu with approximate={approximate!r} is not supported")
    return _activation(ctx, input, _gelu(approximate))


@function(torch.tanh, F.tanh)
@method("tanh")
def tanh(ctx, input):
    return _activation(ctx, input, lambda s, a: s.tanh(a))


@function(torch.sigmoid, F.sigmoid)
@method("sigmoid")
def sigmoid(ctx, input):
    return _activation(ctx, input, _sigmoid)


@function(F.silu)
def silu(ctx, input, inplace=False):
    return _activation(ctx, input, lambda s, a: s.mul(a, _sigmoid(s, a)))


@function(F.leaky_relu)
def leaky_relu(ctx, input, negative_slope=0.01, inplace=False):
    return _activation(ctx, input, lambda s, a: s.select(
        s.cmpf("ogt", a, 0.0), a, s.mul(a, negative_slope)))


@module(nn.ReLU)
def relu_module(ctx, m, input):
    return relu(ctx, input)


@module(nn.GELU)
def gelu_module(ctx, m, input):
    return gelu(ctx, input, m.approximate)


@module(nn.Tanh)
def tanh_module(ctx, m, input):
    return tanh(ctx, input)


@module(nn.Sigmoid)
def sigmoid_module(ctx, m, input):
    return sigmoid(ctx, input)


@module(nn.SiLU)
def silu_module(ctx, m, input):
    return silu(ctx, input)


@module(nn.LeakyReLU)
def leaky_relu_module(ctx, m, input):
    return leaky_relu(ctx, input, m.negative_slope)


@module(nn.Identity)
def identity_module(ctx, m, input, *args, **kwargs):
    return ctx.tensor(input)
