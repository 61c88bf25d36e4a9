"""Reference values for prism's cosine (spherical) k-means, from an independent numpy Lloyd.

Writes `kmeans_fixture.json`: a seeded, float32, L2-normalised data set (noisy directions of
unequal sizes, so some clusters are sparse), initial centre indices, and for each case the
assignment and cosine inertia that spherical Lloyd reaches from those centres: assign each row
to its most similar centre (ties to the lower index), move each centre to the normalised mean
of its members (an empty cluster keeps its centre; centres are stored as float32), stop when
no assignment changes or after `max_iter` rounds, then assign once more. prism's
`prism_vendi::lloyd` must agree exactly on the assignment and to 1e-9 on the inertia.

Run: python3 tests/reference/kmeans_reference.py   (needs numpy)
"""
import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20261203)

D = 12
SIZES = [80, 60, 40, 25, 15, 10, 6, 4]
directions = rng.normal(size=(len(SIZES), D))
rows = []
for direction, size in zip(directions, SIZES):
    rows.append(direction + 0.6 * rng.normal(size=(size, D)))
x = np.concatenate(rows)
x = x[rng.permutation(len(x))]
x = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def spherical_lloyd(x, init, max_iter):
    c = x[init].copy()
    assignment = np.full(len(x), -1)
    x64 = x.astype(np.float64)
    for _ in range(max(max_iter, 1)):
        new = np.argmax(x64 @ c.astype(np.float64).T, axis=1)
        changed = bool((new != assignment).any())
        assignment = new
        for j in range(len(c)):
            members = x64[assignment == j]
            s = members.sum(axis=0)
            norm = np.sqrt((s * s).sum())
            if len(members) and norm > 0:
                c[j] = (s / norm).astype(np.float32)
        if not changed:
            break
    assignment = np.argmax(x64 @ c.astype(np.float64).T, axis=1)
    inertia = float((1.0 - (x64 * c.astype(np.float64)[assignment]).sum(axis=1)).sum())
    return assignment, inertia


cases = []
for k, max_iter in [(4, 50), (8, 50), (12, 3), (20, 50)]:
    init = rng.choice(len(x), size=k, replace=False)
    assignment, inertia = spherical_lloyd(x, init, max_iter)
    cases.append(
        {
            "k": k,
            "max_iter": max_iter,
            "init": [int(i) for i in init],
            "assignment": [int(a) for a in assignment],
            "inertia": inertia,
            "sizes": [int(s) for s in np.bincount(assignment, minlength=k)],
        }
    )

fixture = {
    "n": int(len(x)),
    "d": D,
    "data": [float(v) for v in x.ravel()],
    "cases": cases,
}
with open(os.path.join(HERE, "kmeans_fixture.json"), "w") as f:
    json.dump(fixture, f)
print({c["k"]: c["sizes"] for c in cases})
