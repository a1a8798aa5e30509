"""The CNN example's deterministic synthetic data and initial weights,
shared by the reference script (PyTorch) and the test (tape-run).

Images are one of ten smooth random 28x28 templates plus noise, labelled
by the template: learnable, like MNIST, and generated in milliseconds.
Weights follow PyTorch's default initialisation for Conv2d and Linear
(uniform in +-1/sqrt(fan_in), weights and biases), drawn by numpy so
that neither side depends on the other's generator.
"""
import numpy as np

SHAPES = {
    "conv1.weight": (32, 1, 3, 3), "conv1.bias": (32,),
    "conv2.weight": (64, 32, 3, 3), "conv2.bias": (64,),
    "fc1.weight": (128, 9216), "fc1.bias": (128,),
    "fc2.weight": (10, 128), "fc2.bias": (10,),
}
FAN_IN = {"conv1": 9, "conv2": 288, "fc1": 9216, "fc2": 128}


def dataset(rows, seed=0):
    rng = np.random.default_rng(seed)
    coarse = rng.standard_normal((10, 7, 7))
    templates = np.kron(coarse, np.ones((4, 4)))  # 10 x 28 x 28, blocky
    labels = rng.integers(0, 10, rows)
    x = 0.3 * templates[labels] + rng.standard_normal((rows, 28, 28))
    return x[:, None].astype(np.float32), labels.astype(np.int64)


def initial_weights(seed=1):
    rng = np.random.default_rng(seed)
    weights = {}
    for name, shape in SHAPES.items():
        bound = 1.0 / np.sqrt(FAN_IN[name.split(".")[0]])
        weights[name] = rng.uniform(-bound, bound, shape).astype(np.float32)
    return weights
