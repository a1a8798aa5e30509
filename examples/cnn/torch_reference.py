"""Computes the CNN example's reference losses with PyTorch (Debian's
python3-torch, float32, one thread) and stores them in
torch_reference.json, which the test compares tape-run's losses with.

The network is pytorch/examples' MNIST Net (model.py), trained with
Adam (lr 1e-3, torch.optim.Adam's defaults otherwise) from data.py's
weights on data.py's dataset, batch 64, for STEPS steps, with dropout
turned off (p = 0): PyTorch's generator and ours draw different masks.

Usage: /usr/bin/python3 examples/cnn/torch_reference.py
"""
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402
from model import Net  # noqa: E402

STEPS = 10
BATCH = 64


def main():
    torch.set_num_threads(1)
    model = Net(0.0, 0.0)
    with torch.no_grad():
        for name, value in data.initial_weights().items():
            model.get_parameter(name).copy_(torch.from_numpy(value))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, labels = data.dataset(BATCH * STEPS)
    losses = []
    for k in range(STEPS):
        rows = slice(k * BATCH, (k + 1) * BATCH)
        optimizer.zero_grad()
        loss = F.nll_loss(model(torch.from_numpy(x[rows])),
                          torch.from_numpy(labels[rows]))
        loss.backward()
        optimizer.step()
        losses.append(float(loss))
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                       "torch_reference.json")
    with open(out, "w") as f:
        json.dump({"torch": torch.__version__, "steps": STEPS, "batch": BATCH,
                   "optimizer": "torch.optim.Adam(lr=1e-3)", "dropout": 0.0,
                   "losses": losses}, f, indent=1)
        f.write("\n")
    print(out, losses)


if __name__ == "__main__":
    main()
