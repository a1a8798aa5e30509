"""The GPT of gen_gpt.py as a PyTorch module (llm.c's GPT-2: pre-norm
blocks, causal self-attention, GELU tanh, tied embedding), its loss and
its optimizer: what torch_reference.py trains and what tape-import-torch
imports (docs/ImportTorch.md):

    tape-import-torch examples/gpt/model.py:GPT --input 4x64xi64 \\
        --target 4x64xi64 --loss loss --optimizer optimizer -o gpt.mlir

GPT(V, T, B, C, NH, L) defaults to gen_gpt.py's default configuration.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, T, B, C, NH):
        super().__init__()
        self.T, self.B, self.C, self.NH = T, B, C, NH
        self.ln_1 = nn.LayerNorm(C)
        self.attn = nn.Module()
        self.attn.c_attn = nn.Linear(C, 3 * C)
        self.attn.c_proj = nn.Linear(C, C)
        self.ln_2 = nn.LayerNorm(C)
        self.mlp = nn.Module()
        self.mlp.c_fc = nn.Linear(C, 4 * C)
        self.mlp.c_proj = nn.Linear(4 * C, C)
        self.register_buffer(
            "mask", torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1),
            persistent=False)

    def forward(self, x):
        B, T, C, NH = self.B, self.T, self.C, self.NH
        hs = C // NH
        q, k, v = self.attn.c_attn(self.ln_1(x)).split(C, dim=2)
        q, k, v = (t.view(B, T, NH, hs).transpose(1, 2) for t in (q, k, v))
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hs))
        att = F.softmax(att.masked_fill(self.mask, float("-inf")), dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        x = x + self.attn.c_proj(y)
        return x + self.mlp.c_proj(F.gelu(self.mlp.c_fc(self.ln_2(x)),
                                          approximate="tanh"))


class GPT(nn.Module):
    def __init__(self, V=512, T=64, B=4, C=128, NH=4, L=2):
        super().__init__()
        self.T = T
        self.wte = nn.Embedding(V, C)
        self.wpe = nn.Embedding(T, C)
        self.h = nn.ModuleList(Block(T, B, C, NH) for _ in range(L))
        self.ln_f = nn.LayerNorm(C)

    def forward(self, idx):
        """Logits [B, T, V] of token ids [B, T]."""
        x = self.wte(idx) + self.wpe(torch.arange(self.T))
        for block in self.h:
            x = block(x)
        return self.ln_f(x) @ self.wte.weight.t()


def loss(logits, targets):
    """Mean cross-entropy of every position's next-token logits."""
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


def optimizer(model, lr=3e-4, weight_decay=0.1):
    """AdamW (betas 0.9/0.999, eps 1e-8) with weight decay on the matrices
    only (embeddings included, as llm.c), none on biases and layernorms."""
    decayed = [p for n, p in model.named_parameters() if p.dim() == 2]
    plain = [p for n, p in model.named_parameters() if p.dim() != 2]
    return torch.optim.AdamW(
        [{"params": decayed, "weight_decay": weight_decay},
         {"params": plain, "weight_decay": 0.0}],
        lr=lr, betas=(0.9, 0.999), eps=1e-8)
