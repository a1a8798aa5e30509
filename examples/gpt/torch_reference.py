"""Computes the GPT example's reference losses with PyTorch (Debian's
python3-torch, float32, one thread) and stores them in
torch_reference.json, which the test compares tape-run's losses with.

The model is the one gen_gpt.py writes (llm.c's GPT-2: pre-norm blocks,
causal attention, GELU tanh, tied embedding; model.py), trained with
torch.optim.AdamW (lr 3e-4, betas 0.9/0.999, eps 1e-8; weight decay 0.1
on matrices, 0 on biases and layernorms) from data.py's weights on
data.py's token stream, for STEPS steps, in the default configuration
of gen_gpt.py.

Usage: /usr/bin/python3 examples/gpt/torch_reference.py
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402
import model as gpt  # noqa: E402

V, T, B, C, NH, L = 512, 64, 4, 128, 4, 2
WEIGHT_DECAY = 0.1
STEPS = 10


def main():
    torch.set_num_threads(1)
    model = gpt.GPT(V, T, B, C, NH, L)
    with torch.no_grad():
        for name, value in data.initial_weights(V, T, C, L).items():
            model.get_parameter(name).copy_(torch.from_numpy(value))
    optimizer = gpt.optimizer(model, lr=3e-4, weight_decay=WEIGHT_DECAY)
    inputs, targets = data.tokens(B * T * STEPS, V)
    losses = []
    for k in range(STEPS):
        rows = slice(k * B * T, (k + 1) * B * T)
        optimizer.zero_grad()
        loss = gpt.loss(model(torch.from_numpy(inputs[rows]).view(B, T)),
                        torch.from_numpy(targets[rows]).view(B, T))
        loss.backward()
        optimizer.step()
        losses.append(float(loss))
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                       "torch_reference.json")
    with open(out, "w") as f:
        json.dump({"torch": torch.__version__, "steps": STEPS,
                   "config": dict(vocab=V, seq=T, batch=B, channels=C,
                                  heads=NH, layers=L,
                                  weight_decay=WEIGHT_DECAY),
                   "optimizer": "torch.optim.AdamW(lr=3e-4, eps=1e-8), decay on matrices only",
                   "losses": losses}, f, indent=1)
        f.write("\n")
    print(out, losses)


if __name__ == "__main__":
    main()
