"""Computes the GPT example's reference losses with PyTorch (Debian's
python3-torch, float32, one thread) and stores them in
torch_reference.json, which the test compares tape-run's losses with.

The model is the one gen_gpt.py writes (llm.c's GPT-2: pre-norm blocks,
causal attention, GELU tanh, tied embedding), trained with
torch.optim.AdamW (lr 3e-4, betas 0.9/0.999, eps 1e-8; weight decay 0.1
on matrices, 0 on biases and layernorms) from data.py's weights on
data.py's token stream, for STEPS steps, in the default configuration
of gen_gpt.py.

Usage: /usr/bin/python3 examples/gpt/torch_reference.py
"""
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402

V, T, B, C, NH, L = 512, 64, 4, 128, 4, 2
WEIGHT_DECAY = 0.1
STEPS = 10


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1 = nn.LayerNorm(C)
        self.attn = nn.Module()
        self.attn.c_attn = nn.Linear(C, 3 * C)
        self.attn.c_proj = nn.Linear(C, C)
        self.ln_2 = nn.LayerNorm(C)
        self.mlp = nn.Module()
        self.mlp.c_fc = nn.Linear(C, 4 * C)
        self.mlp.c_proj = nn.Linear(4 * C, C)

    def forward(self, x):
        hs = C // NH
        q, k, v = self.attn.c_attn(self.ln_1(x)).split(C, dim=2)
        q, k, v = (t.view(B, T, NH, hs).transpose(1, 2) for t in (q, k, v))
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hs))
        mask = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
        att = F.softmax(att.masked_fill(mask, float("-inf")), dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        x = x + self.attn.c_proj(y)
        return x + self.mlp.c_proj(F.gelu(self.mlp.c_fc(self.ln_2(x)),
                                          approximate="tanh"))


class GPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte = nn.Embedding(V, C)
        self.wpe = nn.Embedding(T, C)
        self.h = nn.ModuleList(Block() for _ in range(L))
        self.ln_f = nn.LayerNorm(C)

    def forward(self, idx, targets):
        x = self.wte(idx) + self.wpe(torch.arange(T))
        for block in self.h:
            x = block(x)
        logits = self.ln_f(x) @ self.wte.weight.t()
        return F.cross_entropy(logits.view(-1, V), targets.view(-1))


def main():
    torch.set_num_threads(1)
    model = GPT()
    with torch.no_grad():
        for name, value in data.initial_weights(V, T, C, L).items():
            model.get_parameter(name).copy_(torch.from_numpy(value))
    decayed = [p for n, p in model.named_parameters() if p.dim() == 2]
    plain = [p for n, p in model.named_parameters() if p.dim() != 2]
    optimizer = torch.optim.AdamW(
        [{"params": decayed, "weight_decay": WEIGHT_DECAY},
         {"params": plain, "weight_decay": 0.0}],
        lr=3e-4, betas=(0.9, 0.999), eps=1e-8)
    inputs, targets = data.tokens(B * T * STEPS, V)
    losses = []
    for k in range(STEPS):
        rows = slice(k * B * T, (k + 1) * B * T)
        optimizer.zero_grad()
        loss = model(torch.from_numpy(inputs[rows]).view(B, T),
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
