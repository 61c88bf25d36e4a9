"""Is the VitaminC task learnable from a few thousand pairs with MiniLM features at all?
Linear probes (multinomial logistic regression, L-BFGS, three L2 strengths) on frozen
all-MiniLM-L6-v2 features of the training pairs, scored on a seeded sample of the ID test:
- `cross`: the mean-pooled, L2-normalised embedding of `[CLS] premise [SEP] hypothesis [SEP]`
  (what the student's head sees before fine-tuning);
- `bi`: sentence-BERT's `(u, v, |u - v|, u * v)` of the separately embedded premise and
  hypothesis;
- `both`: the two concatenated.
Prints one line per probe and the ID test's majority rate. Independent of prism (PyTorch).

Usage: python3 probe_minilm_torch.py CACHE IDS_FILE [TEST_LIMIT]
Needs: torch, numpy, pyarrow, tokenizers.
"""
import json
import os
import random
import sys

import numpy as np
import pyarrow.parquet as pq
import torch

sys.path.insert(0, os.path.dirname(__file__))
from train_minilm_torch import LABELS, batches, load_student  # noqa: E402


def pooled(model, encodings):
    """Mean-pooled, L2-normalised last hidden states (eval mode, no dropout)."""
    out = []
    with torch.no_grad():
        for b in range(0, len(encodings), 128):
            idx = list(range(b, min(b + 128, len(encodings))))
            ids, types, mask = batches(encodings, idx, 128)
            x = model.word(ids) + model.pos(torch.arange(ids.shape[1]))[None] + model.typ(types)
            x = model.ln(x)
            bias = (mask[:, None, None, :] - 1.0) * 1e30
            for layer in model.layers:
                x = layer(x, bias)
            m = mask[:, :, None]
            p = (x * m).sum(1) / m.sum(1).clamp_min(1e-9)
            out.append(torch.nn.functional.normalize(p, dim=-1))
    return torch.cat(out).numpy()


def features(model, tok, rows):
    cross = pooled(model, [tok.encode(e["premise"], e["hypothesis"]) for e in rows])
    u = pooled(model, [tok.encode(e["premise"]) for e in rows])
    v = pooled(model, [tok.encode(e["hypothesis"]) for e in rows])
    bi = np.concatenate([u, v, np.abs(u - v), u * v], 1)
    return {"cross": cross, "bi": bi, "both": np.concatenate([cross, bi], 1)}


def main():
    cache, ids_file = sys.argv[1], sys.argv[2]
    limit = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    torch.manual_seed(0)
    model, tok = load_student(cache)
    model.eval()
    by_id = {e["id"]: e for e in pq.read_table(os.path.join(cache, "data/vitaminc.parquet")).to_pylist()}
    train = [by_id[line.strip()] for line in open(ids_file) if line.strip()]
    test = pq.read_table(os.path.join(cache, "data/vitaminc_id_test.parquet")).to_pylist()
    random.Random(0).shuffle(test)
    test = test[:limit]
    y_train = torch.tensor([LABELS.index(e["label"]) for e in train])
    y_test = np.array([LABELS.index(e["label"]) for e in test])
    print(json.dumps({"n_train": len(train), "n_test": len(test),
                      "majority": float(np.bincount(y_test).max() / len(y_test))}))
    f_train, f_test = features(model, tok, train), features(model, tok, test)
    for name in f_train:
        x, x_test = torch.tensor(f_train[name]), torch.tensor(f_test[name])
        for l2 in [0.0, 1e-3, 1e-2]:
            torch.manual_seed(0)
            head = torch.nn.Linear(x.shape[1], 3)
            opt = torch.optim.LBFGS(head.parameters(), max_iter=500)

            def closure():
                opt.zero_grad()
                loss = torch.nn.functional.cross_entropy(head(x), y_train) + l2 * (head.weight ** 2).sum()
                loss.backward()
                return loss

            opt.step(closure)
            with torch.no_grad():
                train_acc = float((head(x).argmax(-1) == y_train).float().mean())
                test_acc = float((head(x_test).argmax(-1).numpy() == y_test).mean())
            print(json.dumps({"features": name, "l2": l2, "train_accuracy": round(train_acc, 3),
                              "id_test_accuracy": round(test_acc, 3)}))


if __name__ == "__main__":
    main()
