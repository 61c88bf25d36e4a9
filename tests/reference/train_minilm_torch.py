"""Independent check of `prism train`: the same student (MiniLM-L6 weights, mean pooling,
dropout, 3-way head), the same data, tokenisation and hyper-parameters (AdamW ε 1e-8, weight
decay 0.01, linear warm-up/decay, global clip 1.0, batch 32, max length 128), fine-tuned in
PyTorch on the CPU; prints ID-test accuracy.

Usage: python3 train_minilm_torch.py CACHE IDS_FILE EPOCHS LR [EVAL_LIMIT [BATCH]]
           [--head-lr LR] [--no-dropout] [--reinit-top K]
The options try the usual few-sample fine-tuning remedies (Zhang et al. 2021, "Revisiting
few-sample BERT fine-tuning"): a separate peak rate for the fresh head, no dropout, and the top K
blocks re-initialised.
Needs: torch, numpy, pyarrow, tokenizers.
"""
import argparse
import json
import os
import random
import sys
import time

import numpy as np
import pyarrow.parquet as pq
import torch
from tokenizers import Tokenizer
from torch import nn

sys.path.insert(0, os.path.dirname(__file__))
from bench_minilm_torch import Student  # noqa: E402
import safetensors_numpy  # noqa: E402

LABELS = ["entailment", "neutral", "contradiction"]


def load_weights(model, w):
    sd = {}
    for i in range(len(model.layers)):
        p = f"encoder.layer.{i}."
        for ours, theirs in [("q", "attention.self.query"), ("k", "attention.self.key"),
                             ("v", "attention.self.value"), ("o", "attention.output.dense"),
                             ("ln1", "attention.output.LayerNorm"), ("up", "intermediate.dense"),
                             ("down", "output.dense"), ("ln2", "output.LayerNorm")]:
            for a, b in [("weight", "weight"), ("bias", "bias")]:
                sd[f"layers.{i}.{ours}.{a}"] = torch.tensor(w[p + theirs + "." + b].copy())
    sd["ln.weight"] = torch.tensor(w["embeddings.LayerNorm.weight"].copy())
    sd["ln.bias"] = torch.tensor(w["embeddings.LayerNorm.bias"].copy())
    missing = model.load_state_dict(sd, strict=False)
    assert set(missing.missing_keys) <= {"word.weight", "pos.weight", "typ.weight", "head.weight", "head.bias"}, missing


def load_student(cache):
    """The MiniLM student (all weights from the checkpoint, head at torch's init) and its
    tokenizer (no padding, truncation at 128), from prism's cache."""
    mdir = os.path.join(cache, "models/all-minilm-l6-v2")
    cfg = json.load(open(os.path.join(mdir, "config.json")))
    w = safetensors_numpy.load(os.path.join(mdir, "model.safetensors"))
    model = Student(cfg, w)
    load_weights(model, w)
    tok = Tokenizer.from_file(os.path.join(mdir, "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(128)
    return model, tok


def batches(enc, idx, bs, device="cpu"):
    n = max(len(enc[i].ids) for i in idx)
    ids = torch.zeros(len(idx), n, dtype=torch.long)
    types = torch.zeros_like(ids)
    mask = torch.zeros(len(idx), n)
    for r, i in enumerate(idx):
        e = enc[i]
        ids[r, : len(e.ids)] = torch.tensor(e.ids)
        types[r, : len(e.ids)] = torch.tensor(e.type_ids)
        mask[r, : len(e.ids)] = 1
    return ids, types, mask


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cache")
    ap.add_argument("ids_file")
    ap.add_argument("epochs", type=int)
    ap.add_argument("lr", type=float)
    ap.add_argument("limit", type=int, nargs="?", default=0)
    ap.add_argument("bs", type=int, nargs="?", default=32)
    ap.add_argument("--head-lr", type=float, default=None)
    ap.add_argument("--no-dropout", action="store_true")
    ap.add_argument("--reinit-top", type=int, default=0)
    a = ap.parse_args()
    cache, ids_file, epochs, lr, limit, bs = a.cache, a.ids_file, a.epochs, a.lr, a.limit, a.bs
    torch.manual_seed(0)
    random.seed(0)
    model, tok = load_student(cache)
    pool = pq.read_table(os.path.join(cache, "data/vitaminc.parquet")).to_pylist()
    by_id = {e["id"]: e for e in pool}
    train = [by_id[l.strip()] for l in open(ids_file) if l.strip()]
    enc = [tok.encode(e["premise"], e["hypothesis"]) for e in train]
    y = [LABELS.index(e["label"]) for e in train]
    decay = [p for n, p in model.named_parameters() if p.dim() > 1]
    if a.no_dropout:
        for m in model.modules():
            if isinstance(m, nn.Dropout):
                m.p = 0.0
    for layer in list(model.layers)[len(model.layers) - a.reinit_top:] if a.reinit_top else []:
        for m in layer.modules():
            if isinstance(m, (nn.Linear, nn.LayerNorm)):
                m.reset_parameters()
    head = [p for n, p in model.named_parameters() if n.startswith("head.")]
    rest = [p for n, p in model.named_parameters() if not n.startswith("head.")]
    opt = torch.optim.AdamW([{"params": rest, "lr": lr}, {"params": head, "lr": a.head_lr or lr}],
                            eps=1e-8, weight_decay=0.01)
    steps = epochs * ((len(train) + bs - 1) // bs)
    warm = round(steps * 0.1)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (s + 1) / warm if s < warm else max(0.0, (steps - s) / max(1, steps - warm)))
    start = time.perf_counter()
    losses = []
    model.train()
    for _ in range(epochs):
        order = list(range(len(train)))
        random.shuffle(order)
        for b in range(0, len(order), bs):
            idx = order[b:b + bs]
            ids, types, mask = batches(enc, idx, bs)
            loss = nn.functional.cross_entropy(model(ids, types, mask), torch.tensor([y[i] for i in idx]))
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            losses.append(loss.item())
    secs = time.perf_counter() - start
    model.eval()
    test = pq.read_table(os.path.join(cache, "data/vitaminc_id_test.parquet")).to_pylist()
    if limit:
        random.Random(0).shuffle(test)
        test = test[:limit]
    tenc = [tok.encode(e["premise"], e["hypothesis"]) for e in test]
    correct = 0
    with torch.no_grad():
        for b in range(0, len(test), 128):
            idx = list(range(b, min(b + 128, len(test))))
            ids, types, mask = batches(tenc, idx, 128)
            pred = model(ids, types, mask).argmax(-1)
            correct += sum(int(pred[r]) == LABELS.index(test[i]["label"]) for r, i in enumerate(idx))
    tenth = max(1, len(losses) // 10)
    print(json.dumps({"train_seconds": secs, "first_loss": float(np.mean(losses[:tenth])),
                      "last_loss": float(np.mean(losses[-tenth:])), "id_accuracy": correct / len(test),
                      "n_test": len(test), "batch": bs, "epochs": epochs, "lr": lr,
                      "head_lr": a.head_lr or lr, "no_dropout": a.no_dropout, "reinit_top": a.reinit_top,
                      "torch": torch.__version__}))


if __name__ == "__main__":
    main()
