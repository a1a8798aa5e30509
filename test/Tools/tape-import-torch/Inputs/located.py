"""A model whose step computes a NaN (the log of a negative number), for
locations.test."""
import torch
import torch.nn as nn


class LogOfLinear(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 2)
        with torch.no_grad():
            self.fc.weight.copy_(torch.eye(2))
            self.fc.bias.zero_()

    def forward(self, x):
        h = self.fc(x)
        return torch.log(h)
