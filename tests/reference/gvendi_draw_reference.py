"""Independent check of a sweep's sampled G-Vendi (`gvendi.sample` < 1), and its split-half
reliability: recomputes each subset's draw from the rule (sha256 of the projection seed and the
example id), reads the members' features straight from the feature store's safetensors shards by
content hash, and takes the Vendi score with numpy. Not part of the test suite (it reads a
sweep's results and the cache).

Two steps, so that pyarrow and numpy need not share a Python:
  python gvendi_draw_reference.py dump  STORE DATA OUT      # pyarrow: index + pool as JSON
  python gvendi_draw_reference.py check STORE SWEEP OUT SAMPLE SEED [all]   # numpy
(`all`: every member in the draw, the rule before draw_size, for sweeps made with it).
STORE: .cache/prism/features/<key>; DATA: .cache/prism/data; SWEEP: results/<name>.
The hypothesis format's default template is assumed (`gvendi.format = "hypothesis"`).
"""
import glob, hashlib, json, os, struct, sys

REL = {"entailment": "is entailed by", "contradiction": "contradicts",
       "neutral": "is neither entailed nor contradicted by", "non-entailment": "is not entailed by"}
TEMPLATE = "Premise: {premise}\nWrite a claim that {relation} the premise."


def dump(store, data, out):
    import pyarrow.parquet as pq
    t = pq.read_table(f"{store}/index.parquet").to_pylist()
    json.dump([[r["id"], r["content_hash"], r["shard"], r["row"]] for r in t], open(f"{out}/index.json", "w"))
    v = pq.read_table(f"{data}/vitaminc.parquet").select(["id", "premise", "hypothesis", "label"])
    json.dump(v.to_pylist(), open(f"{out}/vitaminc.json", "w"))


def keyed(seed, parts):
    """prism_core::hash::keyed_u64."""
    h = hashlib.sha256(struct.pack("<Q", seed))
    for p in parts:
        b = p.encode()
        h.update(struct.pack("<Q", len(b)))
        h.update(b)
    return struct.unpack("<Q", h.digest()[:8])[0]


def check(store, sweep, out, sample, seed, bottom_m=True):
    import numpy as np
    index = json.load(open(f"{out}/index.json"))
    pool = {r["id"]: r for r in json.load(open(f"{out}/vitaminc.json"))}
    row_of = {h: (s, r) for _, h, s, r in index}
    shards = {}

    def content_hash(e):
        prompt = TEMPLATE.replace("{premise}", e["premise"]).replace("{relation}", REL[e["label"]])
        return hashlib.sha256(f"{prompt}\0{e['hypothesis']}".encode()).hexdigest()

    def feature(i):
        s, r = row_of[content_hash(pool[i])]
        if s not in shards:
            raw = open(f"{store}/shard-{s:06d}.safetensors", "rb").read()
            n = struct.unpack("<Q", raw[:8])[0]
            hdr = json.loads(raw[8:8 + n])
            (meta,) = [v for k, v in hdr.items() if k != "__metadata__"]
            a, b = meta["data_offsets"]
            assert meta["dtype"] == "F16", meta
            shards[s] = np.frombuffer(raw[8 + n + a:8 + n + b], dtype=np.float16).reshape(meta["shape"])
        return shards[s][r].astype(np.float64)

    def vendi(x):
        x = x / np.linalg.norm(x, axis=1, keepdims=True)
        lam = np.linalg.eigvalsh(x.T @ x / len(x))
        lam = lam[lam > 1e-12]
        return float(np.exp(-(lam * np.log(lam)).sum()))

    def spearman(a, b):
        rank = lambda v: np.argsort(np.argsort(v, kind="stable"), kind="stable")
        return float(np.corrcoef(rank(np.array(a)), rank(np.array(b)))[0, 1])

    rows = {}
    for path in sorted(glob.glob(f"{sweep}/*/metrics.json")):
        run = os.path.dirname(path)
        name = json.load(open(f"{run}/subset.json"))["name"]
        if name in rows:
            continue  # another training seed of the same subset
        ids = [l.strip() for l in open(f"{run}/subset.ids") if l.strip() and not l.startswith("#")]
        # The draw: keys below `sample`; the subset's members of smallest key, draw_size of them.
        key = {i: keyed(seed, ["gvendi-sample", i]) / 2**64 for i in ids}
        drawn = sorted((key[i], at) for at, i in enumerate(ids) if key[i] < sample)
        n, p = len(ids), sample
        size = max(1, int(np.floor(n * p - 3 * np.sqrt(n * p * (1 - p))))) if bottom_m else len(drawn)
        members = [ids[at] for _, at in sorted(drawn[:size], key=lambda t: t[1])]
        x = np.stack([feature(i) for i in members])
        # Exact halves: members ordered by a seeded hash, alternately to A and B.
        order = np.argsort([keyed(1, ["split-half", i]) for i in members], kind="stable")
        half = np.empty(len(members), dtype=int)
        half[order] = np.arange(len(members)) % 2
        m = json.load(open(path))
        rows[name] = dict(n=len(members), rust_n=m.get("gradient_rows"), rust=m["values"]["g-vendi"],
                          numpy=vendi(x), a=vendi(x[half == 0]), b=vendi(x[half == 1]))
    for name, r in rows.items():
        print(f"{name:36s} n {r['n']:5d} (sweep {r['rust_n']}) G-Vendi sweep {r['rust']:.4f} "
              f"numpy {r['numpy']:.4f} halves {r['a']:.3f} {r['b']:.3f}")
    rs = list(rows.values())
    assert all(r["n"] == r["rust_n"] for r in rs), "the draw differs from the sweep's"
    rel = spearman([r["a"] for r in rs], [r["b"] for r in rs])
    print(f"subsets {len(rs)}; largest |sweep - numpy| / sweep: "
          f"{max(abs(r['rust'] - r['numpy']) / r['rust'] for r in rs):.1e}")
    print(f"split-half Spearman {rel:.3f}; Spearman-Brown for the whole draw {2 * rel / (1 + rel):.3f}")
    sd_between = float(np.std([r["numpy"] for r in rs], ddof=1))
    sd_halves = float(np.std([r["a"] - r["b"] for r in rs], ddof=1)) / 2 ** 0.5
    print(f"G-Vendi sd between subsets {sd_between:.3f}; one half's sd from the draw {sd_halves:.3f}")


if __name__ == "__main__":
    cmd, *args = sys.argv[1:]
    if cmd == "dump":
        dump(*args)
    else:
        check(args[0], args[1], args[2], float(args[3]), int(args[4]), bottom_m=(args[5:] != ["all"]))
