"""Computes the CNN example's reference losses with PyTorch (Debian's
python3-torch, float32, one thread) and stores them in
torch_reference.json, which the test compares tape-run's losses with.

The network is pytorch/examples' MNIST Net, trained with Adam (lr 1e-3,
torch.optim.Adam's defaults otherwise) from data.py's weights on
data.py's dataset, batch 64, for STEPS steps, with dropout turned off
(p = 0): PyTorch's generator and ours draw different masks.

Usage: /usr/bin/python3 examples/cnn/torch_reference.py
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402

STEPS = 10
BATCH = 64


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(0.0)
        self.dropout2 = nn.Dropout(0.0)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = self.dropout2(x)
        return F.log_softmax(self.fc2(x), dim=1)


def main():
    torch.set_num_threads(1)
    model = Net()
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
