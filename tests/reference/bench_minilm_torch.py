"""PyTorch (CPU) baseline for `just bench models`: the MiniLM-L6 architecture + mean pooling
+ 3-way head, the same AdamW step, batch and length as prism's bench; prints examples/s.
Only the embeddings are loaded from the checkpoint: timing does not depend on the block weights.

Usage: python3 bench_minilm_torch.py MODEL_DIR BATCH LEN STEPS
Needs: torch, numpy.
"""
import json
import os
import sys
import time

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(__file__))
import safetensors_numpy  # noqa: E402


class Layer(nn.Module):
    def __init__(self, h, heads, ff, eps):
        super().__init__()
        self.heads = heads
        self.q, self.k, self.v, self.o = (nn.Linear(h, h) for _ in range(4))
        self.ln1 = nn.LayerNorm(h, eps=eps)
        self.up, self.down = nn.Linear(h, ff), nn.Linear(ff, h)
        self.ln2 = nn.LayerNorm(h, eps=eps)
        self.drop = nn.Dropout(0.1)

    def forward(self, x, bias):
        b, n, h = x.shape
        dh = h // self.heads
        split = lambda t: t.view(b, n, self.heads, dh).transpose(1, 2)  # noqa: E731
        s = split(self.q(x)) @ split(self.k(x)).transpose(2, 3) / dh**0.5 + bias
        ctx = (self.drop(s.softmax(-1)) @ split(self.v(x))).transpose(1, 2).reshape(b, n, h)
        a = self.ln1(x + self.drop(self.o(ctx)))
        return self.ln2(a + self.drop(self.down(nn.functional.gelu(self.up(a)))))


class Student(nn.Module):
    def __init__(self, cfg, w):
        super().__init__()
        h = cfg["hidden_size"]
        self.word = nn.Embedding.from_pretrained(torch.tensor(w["embeddings.word_embeddings.weight"]), freeze=False)
        self.pos = nn.Embedding.from_pretrained(torch.tensor(w["embeddings.position_embeddings.weight"]), freeze=False)
        self.typ = nn.Embedding.from_pretrained(torch.tensor(w["embeddings.token_type_embeddings.weight"]), freeze=False)
        self.ln = nn.LayerNorm(h, eps=cfg["layer_norm_eps"])
        self.layers = nn.ModuleList(
            Layer(h, cfg["num_attention_heads"], cfg["intermediate_size"], cfg["layer_norm_eps"])
            for _ in range(cfg["num_hidden_layers"]))
        self.drop = nn.Dropout(0.1)
        self.head = nn.Linear(h, 3)

    def forward(self, ids, types, mask):
        n = ids.shape[1]
        x = self.word(ids) + self.pos(torch.arange(n))[None] + self.typ(types)
        x = self.drop(self.ln(x))
        bias = (mask[:, None, None, :] - 1.0) * 1e30
        for layer in self.layers:
            x = layer(x, bias)
        m = mask[:, :, None]
        pooled = (x * m).sum(1) / m.sum(1).clamp_min(1e-9)
        return self.head(self.drop(pooled))


def main():
    model_dir, batch, length, steps = sys.argv[1], *map(int, sys.argv[2:5])
    torch.manual_seed(0)
    cfg = json.load(open(os.path.join(model_dir, "config.json")))
    w = safetensors_numpy.load(os.path.join(model_dir, "model.safetensors"))
    model = Student(cfg, w)
    opt = torch.optim.AdamW(model.parameters(), lr=5e-5, weight_decay=0.01)
    ids = torch.randint(1000, cfg["vocab_size"], (batch, length))
    types = torch.zeros_like(ids)
    mask = torch.ones(batch, length)
    y = torch.arange(batch) % 3

    def step():
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(ids, types, mask), y)
        loss.backward()
        opt.step()

    step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    print(batch * steps / (time.perf_counter() - start))


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
