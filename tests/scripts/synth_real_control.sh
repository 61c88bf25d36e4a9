#!/usr/bin/env bash
# Where do held-out REAL pool pairs land among the synth pool's gradient clusters? The control
# for the prismatic arm's keep rate: tests/scripts/real_pairs_server.py serves VitaminC pairs
# from 400 random pages (not generated text) through the OpenAI-compatible API, and
# `prism synth synth-nli --arm prismatic` runs 3 rounds of 12 requests against it for each
# cluster fraction in CONTROL_FRACTIONS (default: the paper's 1%, synth-nli's 5%, the released
# code's 10%).
# Each run's rounds.md shows where the 36 pairs landed (`landed`); a summary follows.
# CONTROL_POOL_SIZE sets the starting pool (default 300, synth-nli's; above 1,600 the data pool
# it is drawn from grows to match).
# Usage: tests/scripts/synth_real_control.sh PYTHON PRISM [PRISM ARGS...] (the command that runs prism)
set -euo pipefail
cd "$(dirname "$0")/../.."
python=$1
shift
fractions=${CONTROL_FRACTIONS:-0.01 0.05 0.1}
port=${REAL_PAIRS_PORT:-18099}
pool=${CONTROL_POOL_SIZE:-300}
# The synth pool is drawn from the experiment's data pool, which grows with it for a larger
# control pool (prism refuses a synth.pool_size above the data pool's size).
configured=$("$@" config show synth-nli | awk '$1 == "data.pool_size" { print $3 }')
data_pool=$((pool > configured ? pool : configured))
"$python" tests/scripts/real_pairs_server.py .cache/prism/data/vitaminc.parquet "$port" &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 50); do
    curl -sf -o /dev/null "http://127.0.0.1:$port/health" && break
    sleep 0.2
done
for f in $fractions; do
    out="results/synth-real-control/pool-$pool-fraction-$f"
    "$@" synth synth-nli --arm prismatic \
        --set synth.generator.kind=openai \
        --set "synth.generator.openai={ base_url = \"http://127.0.0.1:$port/v1\", model = \"vitaminc-held-out\", concurrency = 1, timeout_s = 60 }" \
        --set synth.loop.rounds=3 --set "synth.loop.clusters.fraction=$f" \
        --set "synth.pool_size=$pool" --set "data.pool_size=$data_pool" --set "paths.results=$out"
    python3 - "$out/synth-nli/synth/prismatic/state.json" "$f" <<'PY'
import json, sys
state = json.load(open(sys.argv[1]))
n = top = sparse = 0
cos = []
for r in state["rounds"]:
    land = r["landing"]
    sizes = land["cluster_sizes"]
    largest = max(range(len(sizes)), key=lambda c: sizes[c])
    n += len(land["candidates"])
    top += sum(c == largest for c in land["candidates"])
    sparse += sum(land["sparse"][c] for c in land["candidates"])
    cos += land["similarity"]
print(f"fraction {sys.argv[2]}: {n} real pairs placed; {top} in the largest cluster, "
      f"{sparse} in sparse ones; mean cosine with their centre {sum(cos) / len(cos):.3f} "
      f"(pool rows with theirs: {state['rounds'][-1]['landing']['pool_similarity']:.3f})")
PY
done
