"""Reference values for prism's text-diversity suite and embedding baselines.

Writes `diversity_fixture.json`: seeded texts of lowercase alphabetic words separated by
single spaces (so that every tokenizer involved splits them the same way), a seeded embedding
matrix with a reference set holding it, and the values of:
  - `diversity==0.3.1` (Shaib et al.): ngram_diversity_score, self_repetition_score,
    homogenization_score(measure="rougel"); loaded from its files one by one, because its
    package __init__ imports spacy for metrics prism does not use;
  - `lexicalrichness==0.5.1`: LexicalRichness(text).mtld(0.72), .hdd(42), .mattr(100) on the
    texts joined by spaces;
  - DCScore: `calculate_dcscore_by_texts`' arithmetic from BlueWhaleLab/DCScore (commit
    eab8bf4) on given embeddings (row-normalise, softmax of E Eᵀ / τ with torch, trace);
  - NovelSum: `novelsum` and `weighted_average` copied from UmeanNever/NovelSum (commit
    b594962, MIT), its cosine distances computed as its `compute_cos_distance` does (torch,
    f32), and `FaissIndex.local_density` with the exact L2 search done by numpy (faiss'
    IndexFlatL2 is exact; squared L2 in f32), over the paper's grid of K, β and α.
prism's test `harness/prism-metrics/tests/diversity_fixture.rs` reads the file and must agree.

Run: just reference-diversity   (a venv under .cache with the pinned packages and torch)
"""
import importlib.util
import json
import os
import random
import site

import numpy as np
import torch
from lexicalrichness import LexicalRichness

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(site.getsitepackages()[0], "diversity")


def load(name):
    spec = importlib.util.spec_from_file_location("diversity_" + name, os.path.join(ROOT, name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ngram_diversity = load("ngram_diversity").ngram_diversity_score
self_repetition = load("self_repetition").self_repetition_score
homogenization = load("homogenization").homogenization_score

rng = random.Random(20261203)
VOCAB = (
    "the a cat dog sat ran on under mat rug quickly slowly big small red blue house garden "
    "bird sang loudly today yesterday was is not every old young river stone light"
).split()
texts = []
for i in range(80):
    if i % 8 == 7:
        # A near-duplicate of an earlier text: one word changed.
        words = texts[rng.randrange(len(texts))].split()
        words[rng.randrange(len(words))] = rng.choice(VOCAB)
    else:
        words = [rng.choice(VOCAB) for _ in range(rng.randint(4, 18))]
    texts.append(" ".join(words))

lexical = {
    "ngram-diversity": ngram_diversity(texts),
    "self-repetition": float(self_repetition(texts, verbose=False)),
    "homogenization-rougel": homogenization(texts, measure="rougel", verbose=False),
}
joined = LexicalRichness(" ".join(texts))
lexical["mtld"] = joined.mtld(threshold=0.72)
lexical["hd-d"] = float(joined.hdd(draws=42))
lexical["mattr"] = joined.mattr(window_size=100)
rounded = {"ngram-diversity": 3, "homogenization-rougel": 3}

# Embeddings: 60 subset rows inside a 400-row reference set (the pool), f32, in clusters so
# that densities differ.
np_rng = np.random.default_rng(20261203)
centres = np_rng.normal(size=(8, 16))
reference = (centres[np_rng.integers(0, 8, 400)] + 0.4 * np_rng.normal(size=(400, 16))).astype(np.float32)
reference[17] = reference[3]  # an exact duplicate, removed by the reference's np.unique
subset_rows = np_rng.choice(400, 60, replace=False)
subset = reference[subset_rows].copy()


def dcscore(embeddings, tau=1.0):
    e = embeddings.astype(np.float64)
    e = e / np.linalg.norm(e, axis=1, keepdims=True)  # sklearn.preprocessing.normalize
    sim_product = torch.from_numpy((e @ e.T) / tau)
    return torch.sum(torch.diag(sim_product.softmax(dim=-1))).item()


# --- NovelSum, from novelsum.py / utils.py (MIT) ---
def compute_cos_distance(data):
    t = torch.tensor(data).float()
    return (1 - torch.nn.functional.cosine_similarity(t.unsqueeze(1), t.unsqueeze(0), dim=2)).numpy()


def weighted_average(row, power=1.0):
    row = row[np.isfinite(row)]
    sorted_indices = np.argsort(row)
    weights = 1 / np.power(np.arange(1, len(row) + 1), power)
    sorted_row = row[sorted_indices]
    return np.average(sorted_row, weights=weights)


def novelsum(distance_matrix, densities, power=1.0):
    dm = distance_matrix.copy()
    weighted_matrix = dm * densities[:, np.newaxis]
    weighted_averages = np.apply_along_axis(weighted_average, 1, weighted_matrix, power=power)
    return np.mean(weighted_averages)


def local_density(ref, query, n_neighbors=10, regularization=1e-9, power=1):
    data = np.unique(ref.astype(np.float32).reshape(-1, ref.shape[-1]), axis=0)
    d = ((query[:, None, :] - data[None, :, :]) ** 2).sum(-1, dtype=np.float32)
    distances = np.sort(d, axis=1)[:, : n_neighbors + 1][:, 1:]
    avg_distances = np.mean(distances, axis=-1)
    return 1 / np.power((avg_distances + regularization), power)


cos = compute_cos_distance(subset)
grid = []
for beta in [0, 0.25, 0.5]:
    for k in [5, 10]:
        dens = local_density(reference, subset, n_neighbors=k, power=beta)
        for alpha in [0, 1, 2]:
            grid.append({"neighbors": k, "density_power": beta, "distance_power": alpha,
                         "value": float(novelsum(cos, dens, power=alpha))})

# --- NovelSelect, from novelselect.py (MIT): its greedy loop in float64 on the CPU (the
# reference runs it in float16 under CUDA autocast), the first center fixed instead of drawn,
# on unit-length rows (the reference normalises for the cosine and takes densities on the raw
# rows: the same rows here).
def distance_weighted(matrix, power=1.0):
    sorted_values, sorted_indices = torch.sort(matrix, dim=1)
    batch_size, seq_len = matrix.shape
    steps = torch.arange(1, seq_len + 1, dtype=matrix.dtype)
    weights = (1 / torch.pow(steps, power)).expand(batch_size, -1)
    weighted = torch.zeros_like(matrix)
    weighted.scatter_(1, sorted_indices, weights)
    return matrix * weighted


def novelselect(embeddings, k, first, neighbors=10, density_power=0.5, distance_power=1.0):
    e = torch.tensor(embeddings, dtype=torch.float64)
    e = torch.nn.functional.normalize(e, p=2, dim=1)
    density_map = torch.tensor(local_density(embeddings, embeddings, n_neighbors=neighbors, power=density_power), dtype=torch.float64)
    centers = [first]
    for _ in range(1, k):
        cos_dist = 1 - e @ e[centers].t()
        density_matrix = density_map.unsqueeze(1) + density_map[centers].unsqueeze(0)
        mean_dist = distance_weighted(cos_dist * density_matrix, power=distance_power).mean(dim=1)
        mean_dist[centers] = -torch.inf
        centers.append(int(mean_dist.argmax()))
    return centers


unit = reference[:120] / np.linalg.norm(reference[:120], axis=1, keepdims=True)
unit = unit.astype(np.float32)
selections = []
for beta in [0, 0.5]:
    for alpha in [0, 1, 2]:
        selections.append({"neighbors": 10, "density_power": beta, "distance_power": alpha, "first": 7,
                           "order": novelselect(unit.astype(np.float64), 30, 7, 10, beta, alpha)})

fixture = {
    "texts": texts,
    "lexical": lexical,
    "rounded": rounded,
    "embeddings": subset.astype(float).tolist(),
    "reference": reference.astype(float).tolist(),
    "dcscore": {"tau_1": dcscore(subset, 1.0), "tau_0.1": dcscore(subset, 0.1)},
    "novelsum": grid,
    "novelselect": {"rows": unit.astype(float).tolist(), "selections": selections},
    "versions": {"diversity": "0.3.1", "lexicalrichness": "0.5.1", "torch": torch.__version__,
                 "dcscore": "BlueWhaleLab/DCScore@eab8bf4", "novelsum": "UmeanNever/NovelSum@b594962"},
}
with open(os.path.join(HERE, "diversity_fixture.json"), "w") as f:
    json.dump(fixture, f, indent=1)
print(json.dumps({k: v for k, v in fixture.items() if k in ("lexical", "dcscore")}, indent=1))
print("novelsum grid:", [round(g["value"], 5) for g in grid])
