"""The GPT example's deterministic data and initial weights, shared by the
reference script (PyTorch) and the test (tape-run).

The token stream follows next = (3 * t + 7) mod vocab, with one token in
ten replaced by a random one: structure a model learns within a few
steps, noise that keeps the loss from reaching zero. Weights follow
GPT-2's initialisation (normal, std 0.02; residual projections
0.02 / sqrt(2 layers); biases 0; layernorm weights 1), drawn by numpy.
"""
import numpy as np


def tokens(count, vocab, seed=0):
    rng = np.random.default_rng(seed)
    t = np.zeros(count + 1, np.int64)
    t[0] = 5
    noise = rng.random(count + 1) < 0.1
    random = rng.integers(0, vocab, count + 1)
    for i in range(1, count + 1):
        t[i] = random[i] if noise[i] else (3 * t[i - 1] + 7) % vocab
    return t[:-1], t[1:]  # inputs, next-token targets


def parameters(V, T, C, L):
    """name -> (shape, kind), in the order gen_gpt.py declares them."""
    p = {"wte.weight": ([V, C], "matrix"), "wpe.weight": ([T, C], "matrix")}
    for l in range(L):
        h = f"h.{l}."
        p.update({h + "ln_1.weight": ([C], "ones"), h + "ln_1.bias": ([C], "zeros"),
                  h + "attn.c_attn.weight": ([3 * C, C], "matrix"),
                  h + "attn.c_attn.bias": ([3 * C], "zeros"),
                  h + "attn.c_proj.weight": ([C, C], "proj"),
                  h + "attn.c_proj.bias": ([C], "zeros"),
                  h + "ln_2.weight": ([C], "ones"), h + "ln_2.bias": ([C], "zeros"),
                  h + "mlp.c_fc.weight": ([4 * C, C], "matrix"),
                  h + "mlp.c_fc.bias": ([4 * C], "zeros"),
                  h + "mlp.c_proj.weight": ([C, 4 * C], "proj"),
                  h + "mlp.c_proj.bias": ([C], "zeros")})
    p.update({"ln_f.weight": ([C], "ones"), "ln_f.bias": ([C], "zeros")})
    return p


def initial_weights(V, T, C, L, seed=1):
    rng = np.random.default_rng(seed)
    weights = {}
    for name, (shape, kind) in parameters(V, T, C, L).items():
        if kind == "ones":
            w = np.ones(shape)
        elif kind == "zeros":
            w = np.zeros(shape)
        else:
            std = 0.02 / np.sqrt(2 * L) if kind == "proj" else 0.02
            w = rng.standard_normal(shape) * std
        weights[name] = w.astype(np.float32)
    return weights
