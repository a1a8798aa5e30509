"""pytorch/examples' MNIST network as a PyTorch module: what mnist_cnn.mlir
writes by hand, and what tape-import-torch imports (docs/ImportTorch.md):

    tape-import-torch examples/cnn/model.py:Net --input 64x1x28x28xf32 \\
        --target 64xi64 --loss nll_loss --optimizer 'Adam(lr=1e-3)' -o cnn.mlir

torch_reference.py trains it with dropout off (Net(0.0, 0.0)).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self, p1=0.25, p2=0.5):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(p1)
        self.dropout2 = nn.Dropout(p2)
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
