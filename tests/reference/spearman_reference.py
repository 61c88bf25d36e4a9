"""Reference values for prism's Spearman statistics, from scipy.

Writes `runs_fixture.csv` (a seeded, synthetic runs table with ties, three scales, missing
values and a constant column) and `spearman_fixture.json` (scipy.stats.spearmanr of every
metric against ood_mean, each benchmark and id_acc, pooled and per scale, on the rows where
both values are present). prism's tests read both files and must agree.

Run: python3 tests/reference/spearman_reference.py   (needs numpy and scipy)
"""
import csv
import json
import math
import os

import numpy as np
import scipy
from scipy import stats

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20261127)

n_per_scale = 12
scales = [500, 1000, 2000]
strategies = ["random", "groups", "maxdiv", "mindiv"]
rows = []
for s_i, scale in enumerate(scales):
    for k in range(n_per_scale):
        latent = rng.normal()
        ood = 0.5 + 0.03 * s_i + 0.02 * latent + 0.01 * rng.normal()
        rows.append({
            "run_id": f"run{s_i}{k:02d}",
            "scale": scale,
            "strategy": strategies[k % 4],
            "seed": k // 4,
            # Strongly informative, rounded so that ties appear.
            "metric.gvendi": round(10 + 3 * latent + rng.normal(), 0),
            # Weakly informative.
            "metric.distinct_2": 0.4 + 0.01 * latent + 0.05 * rng.normal(),
            # Uninformative, with missing values.
            "metric.noise": rng.normal() if k % 7 else float("nan"),
            # Constant: rho undefined.
            "metric.constant": 1.0,
            "bench.hans": 0.5 + 0.01 * rng.normal(),
            "bench.mnli": ood + 0.02 * rng.normal(),
            "id_acc": 0.8 + 0.02 * latent + 0.01 * rng.normal(),
            "ood_mean": ood,
        })

columns = list(rows[0].keys())
with open(os.path.join(HERE, "runs_fixture.csv"), "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=columns)
    w.writeheader()
    for r in rows:
        w.writerow({k: ("" if isinstance(v, float) and math.isnan(v) else repr(v) if isinstance(v, float) else v) for k, v in r.items()})


def spearman(x, y):
    x, y = np.asarray(x, float), np.asarray(y, float)
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    if len(x) < 3 or np.all(x == x[0]) or np.all(y == y[0]):
        return {"rho": None, "p": None, "n": int(len(x))}
    res = stats.spearmanr(x, y)
    return {"rho": float(res.statistic), "p": float(res.pvalue), "n": int(len(x))}


col = lambda name: [r[name] for r in rows]
out = {"scipy": scipy.__version__, "metrics": {}}
for m in [c for c in columns if c.startswith("metric.")]:
    name = m[len("metric."):]
    entry = {"ood_mean": spearman(col(m), col("ood_mean")), "id_acc": spearman(col(m), col("id_acc"))}
    for b in [c for c in columns if c.startswith("bench.")]:
        entry[b] = spearman(col(m), col(b))
    for scale in scales:
        sub = [r for r in rows if r["scale"] == scale]
        entry[f"scale.{scale}"] = spearman([r[m] for r in sub], [r["ood_mean"] for r in sub])
    out["metrics"][name] = entry

with open(os.path.join(HERE, "spearman_fixture.json"), "w") as f:
    json.dump(out, f, indent=2, sort_keys=True)
    f.write("\n")
print("wrote runs_fixture.csv and spearman_fixture.json with scipy", scipy.__version__)
