"""Independent reference for the MiniLM encoder: a float64 numpy forward pass of HF
`BertModel` (post-norm blocks, erf GELU, absolute positions) with sentence-transformers' mean
pooling, on four fixed inputs (two single texts, two premise/hypothesis pairs, of different
lengths so the batch is padded). Token ids come from the Python `tokenizers` package.

Run:  python3 tests/reference/minilm_reference.py .cache/prism/models/all-minilm-l6-v2 \
          > tests/reference/minilm_fixture.json
Needs: numpy, tokenizers (pip).
"""
import json
import math
import os
import sys

import numpy as np
from tokenizers import Tokenizer

sys.path.insert(0, os.path.dirname(__file__))
import safetensors_numpy  # noqa: E402

INPUTS = [
    {"text": "A man is playing a guitar on stage."},
    {"text": "The quick brown fox jumps over the lazy dog while the farmer watches."},
    {"pair": ["The Eiffel Tower is in Paris.", "The tower is located in France."]},
    {"pair": ["Revenue grew 12% in 2019 according to the annual report filed in March.",
              "Revenue fell."]},
]
MAX_LEN = 128


def erf(x):
    v = np.vectorize(math.erf)
    return v(x)


def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def forward(w, cfg, ids, types, mask):
    b, n = ids.shape
    h = cfg["hidden_size"]
    heads = cfg["num_attention_heads"]
    dh = h // heads
    eps = cfg["layer_norm_eps"]
    x = (w["embeddings.word_embeddings.weight"][ids]
         + w["embeddings.position_embeddings.weight"][np.arange(n)][None]
         + w["embeddings.token_type_embeddings.weight"][types])
    x = layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], eps)
    bias = (1.0 - mask)[:, None, None, :] * -1e30
    for i in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        lin = lambda t, name: t @ w[p + name + ".weight"].T + w[p + name + ".bias"]  # noqa: E731
        split = lambda t: t.reshape(b, n, heads, dh).transpose(0, 2, 1, 3)  # noqa: E731
        q = split(lin(x, "attention.self.query"))
        k = split(lin(x, "attention.self.key"))
        v = split(lin(x, "attention.self.value"))
        s = q @ k.transpose(0, 1, 3, 2) / math.sqrt(dh) + bias
        s = s - s.max(-1, keepdims=True)
        pr = np.exp(s)
        pr = pr / pr.sum(-1, keepdims=True)
        ctx = (pr @ v).transpose(0, 2, 1, 3).reshape(b, n, h)
        a = layer_norm(lin(ctx, "attention.output.dense") + x,
                       w[p + "attention.output.LayerNorm.weight"],
                       w[p + "attention.output.LayerNorm.bias"], eps)
        inter = lin(a, "intermediate.dense")
        inter = 0.5 * inter * (1.0 + erf(inter / math.sqrt(2.0)))
        x = layer_norm(lin(inter, "output.dense") + a,
                       w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], eps)
    m = mask[:, :, None]
    return (x * m).sum(1) / np.maximum(m.sum(1), 1e-9)


def main():
    model_dir = sys.argv[1]
    cfg = json.load(open(os.path.join(model_dir, "config.json")))
    w = {k: v.astype(np.float64) if v.dtype != np.int64 else v
         for k, v in safetensors_numpy.load(os.path.join(model_dir, "model.safetensors")).items()}
    tok = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(MAX_LEN)
    enc = [tok.encode(*inp["pair"]) if "pair" in inp else tok.encode(inp["text"]) for inp in INPUTS]
    n = max(len(e.ids) for e in enc)
    ids = np.zeros((len(enc), n), dtype=np.int64)
    types = np.zeros_like(ids)
    mask = np.zeros((len(enc), n))
    for r, e in enumerate(enc):
        ids[r, : len(e.ids)] = e.ids
        types[r, : len(e.ids)] = e.type_ids
        mask[r, : len(e.ids)] = 1.0
    pooled = forward(w, cfg, ids, types, mask)
    out = {
        "generator": "tests/reference/minilm_reference.py (numpy float64 forward pass)",
        "max_len": MAX_LEN,
        "inputs": INPUTS,
        "token_ids": [e.ids for e in enc],
        "type_ids": [e.type_ids for e in enc],
        "pooled": [[round(float(v), 8) for v in row] for row in pooled],
    }
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
