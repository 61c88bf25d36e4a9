"""Reference values for prism's lexical and Vendi metrics, from independent implementations.

Writes `metrics_fixture.json`: a seeded set of short ASCII texts (drawn from a small
vocabulary so that n-grams repeat), their word tokens, their labels, a seeded feature
matrix, and reference values computed here:
  - self-bleu: NLTK `sentence_bleu` (BLEU-4, uniform weights, SmoothingFunction().method1)
    of every text against all the others, averaged (Texygen's Self-BLEU);
  - distinct-1..3 and ngram-entropy-1..4 (bits) with collections.Counter;
  - label-entropy (bits);
  - Vendi (q = 1; also q = 2 and infinity) of the feature matrix as the Vendi-Score package defines it:
    exp of the Shannon entropy of the eigenvalues of K / n, by numpy's eigvalsh.
prism's test `harness/prism-metrics/tests/reference_fixture.rs` reads the file and must agree.

Run: python3 tests/reference/metrics_reference.py   (needs numpy and nltk)
"""
import json
import math
import os
import random
import re
from collections import Counter

import nltk
import numpy as np
from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

HERE = os.path.dirname(os.path.abspath(__file__))
rng = random.Random(20261128)

VOCAB = (
    "the a cat dog sat ran on under mat rug quickly slowly big small red blue house "
    "garden bird sang loudly today yesterday was is not every old young"
).split()
texts = []
for i in range(60):
    if i % 10 == 9:
        # A near-duplicate of an earlier text: one word changed.
        words = texts[rng.randrange(len(texts))].split()
        words[rng.randrange(len(words))] = rng.choice(VOCAB)
    else:
        words = [rng.choice(VOCAB) for _ in range(rng.randint(3, 16))]
        words[0] = words[0].capitalize()
    texts.append(" ".join(words) + rng.choice([".", "!", ", yes.", ""]))
labels = [rng.choice(["entailment", "neutral", "contradiction"]) for _ in texts]


def tokens(text):
    """prism_data::text::tokens for ASCII: split on non-alphanumerics, lowercase."""
    return [t.lower() for t in re.split(r"[^0-9A-Za-z]+", text) if t]


toks = [tokens(t) for t in texts]
smooth = SmoothingFunction().method1
self_bleu = float(
    np.mean(
        [
            sentence_bleu(
                [toks[j] for j in range(len(toks)) if j != i],
                toks[i],
                smoothing_function=smooth,
            )
            for i in range(len(toks))
        ]
    )
)


def ngrams(ts, n):
    return [" ".join(ts[k : k + n]) for k in range(len(ts) - n + 1)]


def counts(n):
    c = Counter()
    for ts in toks:
        c.update(ngrams(ts, n))
    return c


def entropy_bits(c):
    total = sum(c.values())
    return -sum(v / total * math.log2(v / total) for v in c.values())


values = {"self-bleu": self_bleu}
for n in (1, 2, 3):
    c = counts(n)
    values[f"distinct-{n}"] = len(c) / sum(c.values())
for n in (1, 2, 3, 4):
    values[f"ngram-entropy-{n}"] = entropy_bits(counts(n))
values["label-entropy"] = entropy_bits(Counter(labels))

nprng = np.random.default_rng(20261128)
features = nprng.normal(size=(len(texts), 12))
features[5] = features[3]  # a duplicate row
features = features.astype(np.float32).astype(np.float64)  # prism stores f32 features
unit = features / np.linalg.norm(features, axis=1, keepdims=True)
eig = np.linalg.eigvalsh(unit @ unit.T / len(texts))
eig = eig[eig > 1e-12]
values["vendi"] = float(np.exp(-np.sum(eig * np.log(eig))))
# Orders q = 2 and infinity (the Vendi-Score package's score_K with q): exp(log(Σ λ^q)/(1 − q)).
values["vendi-q2"] = float(np.exp(np.log(np.sum(eig**2)) / (1 - 2)))
values["vendi-qinf"] = float(1 / eig.max())

out = {
    "generator": f"tests/reference/metrics_reference.py (nltk {nltk.__version__}, numpy {np.__version__})",
    "texts": texts,
    "tokens": toks,
    "labels": labels,
    "features": features.tolist(),
    "values": values,
}
with open(os.path.join(HERE, "metrics_fixture.json"), "w") as f:
    json.dump(out, f, indent=1)
print(json.dumps(values, indent=1))
