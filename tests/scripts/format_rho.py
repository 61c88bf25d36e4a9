"""Spearman rho between G-Vendi (each format) and embedding Vendi, k and OOD accuracy over the
nli-control subsets: results/nli-control (hypothesis format, trained students) joined by subset
with results/nli-control-label (label format, metrics only). Standard library only."""
import csv
import sys


def ranks(xs):
    order = sorted(range(len(xs)), key=lambda i: xs[i])
    r = [0.0] * len(xs)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and xs[order[j + 1]] == xs[order[i]]:
            j += 1
        for k in range(i, j + 1):
            r[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return r


def spearman(x, y):
    rx, ry = ranks(x), ranks(y)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    sxy = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    sxx = sum((a - mx) ** 2 for a in rx)
    syy = sum((b - my) ** 2 for b in ry)
    return sxy / (sxx * syy) ** 0.5


def table(path):
    with open(path) as f:
        return {row["subset"]: row for row in csv.DictReader(f)}


hyp = table(sys.argv[1] if len(sys.argv) > 1 else "results/nli-control/runs.csv")
lab = table(sys.argv[2] if len(sys.argv) > 2 else "results/nli-control-label/runs.csv")
subsets = sorted(set(hyp) & set(lab))
col = lambda t, c: [float(t[s][c]) for s in subsets]
emb, k, ood = col(hyp, "metric.embedding-vendi"), col(hyp, "groups_k"), col(hyp, "ood_mean")
print(f"{len(subsets)} subsets")
print("| format | rho(G-Vendi, embedding Vendi) | rho(G-Vendi, k) | rho(G-Vendi, OOD) | G-Vendi range |")
print("|---|---:|---:|---:|---|")
for name, t in [("label", lab), ("hypothesis", hyp)]:
    g = col(t, "metric.g-vendi")
    print(f"| {name} | {spearman(g, emb):.3f} | {spearman(g, k):.3f} | {spearman(g, ood):.3f} | {min(g):.2f}-{max(g):.2f} |")
for size in ("100", "200"):
    idx = [i for i, s in enumerate(subsets) if hyp[s]["scale"] == size]
    pick = lambda v: [v[i] for i in idx]
    cells = []
    for name, t in [("label", lab), ("hypothesis", hyp)]:
        g = col(t, "metric.g-vendi")
        cells.append(f"{name}: rho(G-Vendi, emb) {spearman(pick(g), pick(emb)):.3f}, rho(G-Vendi, OOD) {spearman(pick(g), pick(ood)):.3f}")
    print(f"n = {size} ({len(idx)} subsets): " + "; ".join(cells))
