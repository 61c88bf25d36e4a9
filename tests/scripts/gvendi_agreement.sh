#!/usr/bin/env bash
# `just check-gvendi`: G-Vendi from dense (paper-exact) and factored features on the same 20
# subsets of the experiment's size (Spearman ρ, goal ≥ 0.95), and on 16 mixed examples against
# the exact gradient kernel (relative error). Controls: (1) the ceiling that projection noise
# alone puts on ρ: factored features under a second projection seed (seed 1) against seed 0, on
# the same subsets; (2) the Johnson–Lindenstrauss noise that a dense error on the 16 should be
# judged against: simulated projections of the exact kernel (`prism vendi --projection-noise`)
# and dense features of the 16 under projection seeds 1–3. Writes
# results/bench/gvendi-agreement.json. Spearman's ρ comes from scipy ($PYTHON, default python3,
# must have it; `just check-gvendi` makes a venv with it).
set -euo pipefail
prism=${PRISM:-"cargo run --quiet --release -p prism-cli --"}
exp=gvendi-agreement
work=results/$exp
mkdir -p "$work"
$prism subsets $exp --out "$work/subsets" > /dev/null || true  # a few strategies cannot meet the quotas at this pool size
cat "$work"/subsets/*.ids | sort -u > "$work/union.ids"
echo "union of the subsets: $(wc -l < "$work/union.ids") examples"
stores=$work/stores
# Featurise the examples of an ids file with the given options; print the store's path (the last
# line prism writes).
featurise() {
    local label=$1 ids=$2; shift 2
    /usr/bin/time -f "$label featurisation: %e s" $prism features grad $exp --ids "$ids" --out "$stores" "$@" \
        | tee /dev/stderr | sed -n 's/.* featurised into \([^ ]*\) (.*/\1/p'
}
factored=$(featurise factored "$work/union.ids" --mode factored)
dense=$(featurise dense "$work/union.ids" --mode dense)
factored1=$(featurise "factored, projection seed 1" "$work/union.ids" --mode factored --set gvendi.seed=1)
: > "$work/vendi.tsv"
for ids in "$work"/subsets/*.ids; do
    f=$($prism vendi "$factored" --ids "$ids" --json)
    d=$($prism vendi "$dense" --ids "$ids" --json)
    f1=$($prism vendi "$factored1" --ids "$ids" --json)
    echo -e "$(basename "$ids" .ids)\t$f\t$d\t$f1" >> "$work/vendi.tsv"
done
# 16 mixed examples spread over the union.
step=$(( $(wc -l < "$work/union.ids") / 16 ))
awk -v s="$step" 'NR % s == 1' "$work/union.ids" | head -16 > "$work/exact16.ids"
/usr/bin/time -f "exact kernel of 16: %e s" $prism features grad $exp --mode exact --ids "$work/exact16.ids" --out "$work/exact16.json" > /dev/null
f16=$($prism vendi "$factored" --ids "$work/exact16.ids" --json)
d16=$($prism vendi "$dense" --ids "$work/exact16.ids" --json)
f16s1=$($prism vendi "$factored1" --ids "$work/exact16.ids" --json)
noise=$($prism vendi "$work/exact16.json" --projection-noise 1024 --json)
dense_seeds=()
for seed in 1 2 3; do
    store=$(featurise "dense of the 16, projection seed $seed" "$work/exact16.ids" --mode dense --set gvendi.seed=$seed)
    dense_seeds+=("$($prism vendi "$store" --ids "$work/exact16.ids" --json)")
done
"${PYTHON:-python3}" - "$work" "$f16" "$d16" "$f16s1" "$noise" "${dense_seeds[@]}" <<'PY'
import json, sys
from scipy import stats
work, f16, d16, f16s1 = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3]), json.loads(sys.argv[4])
noise = json.loads(sys.argv[5])
dense_seeds = [json.loads(a)["vendi"] for a in sys.argv[6:]]
rows = [l.rstrip("\n").split("\t") for l in open(f"{work}/vendi.tsv")]
names = [r[0] for r in rows]
fac = [json.loads(r[1])["vendi"] for r in rows]
den = [json.loads(r[2])["vendi"] for r in rows]
fac1 = [json.loads(r[3])["vendi"] for r in rows]
def spearman(a, b):
    return float(stats.spearmanr(a, b).statistic)
rho = spearman(den, fac)
rho_seeds = spearman(fac, fac1)
rho_dense_seed1 = spearman(den, fac1)
for n, d, f, f1 in zip(names, den, fac, fac1):
    print(f"{n:<36} dense {d:9.4f}  factored {f:9.4f}  factored seed 1 {f1:9.4f}")
size = sum(1 for _ in open(f"{work}/subsets/{names[0]}.ids"))
print(f"Spearman rho(dense, factored) over {len(rows)} subsets of {size}: {rho:.4f} (goal >= 0.95)")
print(f"control, projection noise alone: rho(factored seed 0, factored seed 1) {rho_seeds:.4f}; "
      f"rho(dense, factored seed 1) {rho_dense_seed1:.4f}")
exact = json.load(open(f"{work}/exact16.json"))["vendi"]
rel = lambda x: abs(x - exact) / exact
print(f"16 examples: exact {exact:.4f}, dense {d16['vendi']:.4f} ({100*rel(d16['vendi']):.2f}%), "
      f"factored {f16['vendi']:.4f} ({100*rel(f16['vendi']):.2f}%), "
      f"factored seed 1 {f16s1['vendi']:.4f} ({100*rel(f16s1['vendi']):.2f}%)")
signed = lambda x: 100 * (x - exact) / exact
lo, hi = noise["interval"]
print(f"JL noise at d = 1024 ({noise['trials']} simulated projections of the exact kernel): "
      f"sd {100*noise['sd']/exact:.2f}%, mean |error| {100*noise['mean_abs_rel_err']:.2f}%, "
      f"95% within [{signed(lo):+.2f}%, {signed(hi):+.2f}%]")
print("dense of the 16 under projection seeds 0-3: "
      + ", ".join(f"{signed(v):+.2f}%" for v in [d16["vendi"]] + dense_seeds))
out = {"subset_size": size,
       "subsets": [{"name": n, "dense": d, "factored": f, "factored_seed1": f1}
                   for n, d, f, f1 in zip(names, den, fac, fac1)],
       "spearman_dense_factored": rho,
       "spearman_factored_seed0_seed1": rho_seeds,
       "spearman_dense_factored_seed1": rho_dense_seed1,
       "exact16": {"exact": exact, "dense": d16["vendi"], "factored": f16["vendi"],
                   "factored_seed1": f16s1["vendi"],
                   "dense_rel_err": rel(d16["vendi"]), "factored_rel_err": rel(f16["vendi"]),
                   "factored_seed1_rel_err": rel(f16s1["vendi"]),
                   "dense_seeds_1_to_3": dense_seeds,
                   "jl_noise_d1024": noise}}
json.dump(out, open("results/bench/gvendi-agreement.json", "w"), indent=2)
PY
