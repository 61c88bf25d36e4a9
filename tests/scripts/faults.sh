#!/usr/bin/env bash
# `just test-faults`: the fault-injection suite that is too slow for the unit tests (those cover
# bit flips: tests/faults.rs). Each case compares against an uninterrupted run and counts
# trials, lost results (an example or run that is not there in the end) and wrong ones (a
# feature shard, metric or accuracy that differs from the uninterrupted run's):
#   1. SIGKILL at seeded random points of featurisation, then a resume;
#   2. SIGKILL at seeded random points of a trained sweep (training and evaluation), then a resume;
#   3. a full disk under the results folder (a small tmpfs; needs root to mount, else skipped):
#      the failing runs are marked failed with the reason, no partial file is left, and after
#      space is freed a resume ends equal to an uninterrupted sweep;
#   4. `prism status` and `prism report` reading while sweeps write: never a torn read.
# FAULT_SEED (default 7) seeds the kill schedule; FAULT_KILLS (default 10) is the number of
# kills per killed case. Prints one line per case and exits 1 if anything was lost or wrong.
set -euo pipefail
prism=${PRISM:?set PRISM to a built prism binary}
cache=${PRISM_CACHE:-$PWD/.cache/prism}
RANDOM=${FAULT_SEED:-7}
kills=${FAULT_KILLS:-10}
work=$(mktemp -d /tmp/prism-faults.XXXXXX)
mounted=""
cleanup() {
    [ -n "$mounted" ] && umount "$mounted" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
failures=0
summary=()
report_case() { # name trials lost wrong [note]
    summary+=("$(printf '%-34s %3s trials  %s lost  %s wrong  %s' "$1" "$2" "$3" "$4" "${5:-}")")
    echo "${summary[-1]}"
    if [ "$3" != 0 ] || [ "$4" != 0 ]; then failures=$((failures + 1)); fi
}
now_ms() { date +%s%3N; }
# Sleeps a seeded random time in [lo_ms, hi_ms).
sleep_random_ms() {
    local lo=$1 hi=$2
    local span=$((hi > lo ? hi - lo : 1))
    local ms=$((lo + (RANDOM * 32768 + RANDOM) % span))
    sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
}
# A private cache: the shared one's data, models and packages linked, its own features and stages.
private_cache() {
    local dir=$1
    mkdir -p "$dir"
    for sub in data models; do ln -s "$cache/$sub" "$dir/$sub"; done
    ln -s "${PRISM_PACKAGES:-$cache/packages}" "$dir/packages"
}
# The runs table without its timing column (a retrained student takes other seconds).
table() {
    python3 - "$1" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
skip = rows[0].index("train_seconds") if "train_seconds" in rows[0] else -1
for r in rows:
    print(",".join(v for i, v in enumerate(r) if i != skip))
PY
}
# Every JSON file under a sweep parses, and no temporary file of an atomic write is left.
whole_files() {
    python3 - "$1" <<'PY'
import json, pathlib, sys
bad = []
for p in pathlib.Path(sys.argv[1]).rglob("*.json"):
    try:
        json.loads(p.read_text())
    except Exception as e:
        bad.append(f"{p}: {e}")
bad += [str(p) for p in pathlib.Path(sys.argv[1]).rglob(".prism-*.tmp")]
print(len(bad))
for b in bad:
    print(b, file=sys.stderr)
PY
}

# ---- 1. featurisation killed -------------------------------------------------------------------
feat=(features grad nli --limit 48 --set gvendi.shard_size=8)
t0=$(now_ms)
PRISM_CACHE=$cache "$prism" "${feat[@]}" --out "$work/feat/whole" > /dev/null 2>&1
span=$(($(now_ms) - t0))
whole_store=$(ls -d "$work"/feat/whole/*/)
whole_vendi=$("$prism" vendi "$whole_store" 2> /dev/null)
lost=0; wrong=0; at=()
for i in $(seq 1 "$kills"); do
    out=$work/feat/k$i
    PRISM_CACHE=$cache "$prism" "${feat[@]}" --out "$out" > /dev/null 2>&1 &
    pid=$!
    sleep_random_ms 300 "$span"
    kill -9 $pid 2> /dev/null || true
    wait $pid 2> /dev/null || true
    at+=("$( (ls "$out"/*/shard-*.parquet 2> /dev/null || true) | wc -l)")
    PRISM_CACHE=$cache "$prism" "${feat[@]}" --out "$out" > /dev/null 2>&1 || wrong=$((wrong + 1))
    store=$(ls -d "$out"/*/)
    for f in "$whole_store"shard-*.safetensors; do
        if [ ! -f "$store$(basename "$f")" ]; then lost=$((lost + 1));
        elif ! cmp -s "$f" "$store$(basename "$f")"; then wrong=$((wrong + 1)); fi
    done
    [ "$("$prism" vendi "$store" 2> /dev/null)" = "$whole_vendi" ] || wrong=$((wrong + 1))
done
report_case "featurisation, SIGKILL + resume" "$kills" $lost $wrong "(48 examples, shards of 8; uninterrupted ${span} ms; shards committed at each kill: ${at[*]})"

# ---- 2. trained sweep killed -------------------------------------------------------------------
# Writes the experiment `name` (results under `results`) into `dir` and prints its path; the
# rest of the file comes from stdin.
experiment() { # dir name results
    { printf 'name = "%s"\n[paths]\nresults = "%s"\n[data]\npool = "vitaminc"\n' "$2" "$3"; cat; } > "$1/$2.toml"
    echo "$1/$2.toml"
}
trained_experiment() { # dir name results
    experiment "$@" <<'EOF'
pool_size = 200
[subsets]
sizes = [12, 16]
seeds = [0, 1]
[[subsets.strategies]]
kind = "random"
[train]
epochs = 2
batch_size = 4
max_len = 32
[sweep]
eval_limit = 8
metrics = ["distinct-2", "compression-ratio"]
EOF
}
mkdir -p "$work/train"
exp=$(trained_experiment "$work/train" whole "$work/train/whole-results")
private_cache "$work/train/cache-whole"
t0=$(now_ms)
PRISM_CACHE=$work/train/cache-whole "$prism" sweep "$exp" --no-report > /dev/null 2>&1
span=$(($(now_ms) - t0))
want=$(table "$work/train/whole-results/whole/runs.csv")
lost=0; wrong=0; at=()
for i in $(seq 1 "$kills"); do
    exp=$(trained_experiment "$work/train" whole "$work/train/k$i")
    private_cache "$work/train/cache-k$i"
    PRISM_CACHE=$work/train/cache-k$i "$prism" sweep "$exp" --no-report > /dev/null 2>&1 &
    pid=$!
    sleep_random_ms 500 "$span"
    # The stage each killed run was in (none: before the first run started).
    stage=$( (grep -h -o '"stage": "[a-z ()]*"' "$work/train/k$i"/whole/*/status.json 2> /dev/null || true) | grep -v '"done"' | head -1 | cut -d'"' -f4)
    kill -9 $pid 2> /dev/null || true
    wait $pid 2> /dev/null || true
    at+=("${stage:-setup}")
    PRISM_CACHE=$work/train/cache-k$i "$prism" sweep "$exp" --no-report > /dev/null 2>&1 || true
    got=$work/train/k$i/whole/runs.csv
    if [ ! -f "$got" ]; then lost=$((lost + 4)); continue; fi
    n_want=$(($(echo "$want" | wc -l) - 1)); n_got=$(($(table "$got" | wc -l) - 1))
    [ "$n_got" -lt "$n_want" ] && lost=$((lost + n_want - n_got))
    [ "$(table "$got")" = "$want" ] || wrong=$((wrong + 1))
    [ "$(whole_files "$work/train/k$i/whole" 2> /dev/null)" = 0 ] || wrong=$((wrong + 1))
done
report_case "trained sweep, SIGKILL + resume" "$kills" $lost $wrong "(4 students; uninterrupted ${span} ms; stage at each kill: ${at[*]})"

# ---- 3. full disk ----------------------------------------------------------------------------
metrics_experiment() { # dir name results
    experiment "$@" <<'EOF'
pool_size = 400
[subsets]
sizes = [30, 60, 90, 120]
seeds = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
[[subsets.strategies]]
kind = "random"
[[subsets.strategies]]
kind = "max-diversity"
[sweep]
train = false
max_attempts = 1
metrics = ["distinct-2", "compression-ratio", "ngram-entropy-2", "label-entropy"]
EOF
}
mkdir -p "$work/disk/full"
exp=$(metrics_experiment "$work/disk" disk "$work/disk/whole")
PRISM_CACHE=$cache "$prism" sweep "$exp" --no-report > /dev/null 2>&1
want=$(table "$work/disk/whole/disk/runs.csv")
if mount -t tmpfs -o size=1m tmpfs "$work/disk/full" 2> /dev/null; then
    mounted=$work/disk/full
    exp=$(metrics_experiment "$work/disk" disk "$work/disk/full")
    set +e
    PRISM_CACHE=$cache "$prism" sweep "$exp" --no-report > "$work/disk/first.log" 2>&1
    first=$?
    set -e
    # Runs that could not write failed alone, each with its reason on the sweep's stderr; a run
    # whose status could still be written (in place, on a full disk) is marked failed with it.
    failed=$(grep -c 'failed: .*No space left on device' "$work/disk/first.log" || true)
    marked=$( (grep -l '"state": "failed"' "$work"/disk/full/disk/*/status.json 2> /dev/null || true) | wc -l)
    partial=$(whole_files "$work/disk/full/disk" 2> /dev/null || echo 1)
    mount -o remount,size=64m "$work/disk/full"
    PRISM_CACHE=$cache "$prism" sweep "$exp" --no-report --retry-failed > "$work/disk/second.log" 2>&1 || true
    got=$(table "$work/disk/full/disk/runs.csv" 2> /dev/null || true)
    lost=$(( $(echo "$want" | wc -l) - $(echo "$got" | wc -l) ))
    wrong=0
    [ "$got" = "$want" ] || wrong=1
    [ "$partial" = 0 ] || wrong=$((wrong + partial))
    note="(80 runs on a 1 MiB tmpfs: first pass exit $first, $failed runs failed with 'No space left on device', $marked marked failed in their status; resumed on 64 MiB; no partial or temporary file)"
    { [ "$first" != 0 ] && [ "$failed" -gt 0 ]; } || { wrong=$((wrong + 1)); note="$note; expected the first pass to fail runs"; }
    report_case "full disk, free space + resume" 1 $lost $wrong "$note"
    umount "$work/disk/full"; mounted=""
else
    summary+=("full disk: skipped (mounting a tmpfs needs root)")
fi

# ---- 4. reading while writing ----------------------------------------------------------------
exp=$(metrics_experiment "$work/disk" read "$work/read")
PRISM_CACHE=$cache "$prism" sweep "$exp" --no-report > /dev/null 2>&1
sweep_dir=$work/read/read
"$prism" report "$sweep_dir" --bootstrap 200 > /dev/null 2>&1
want_report=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d.pop("generated", None); print(json.dumps(d, sort_keys=True))' "$sweep_dir/report/report.json")
# Writers: the runs table rebuilt over and over, and a fresh sweep running its runs.
( for _ in $(seq 1 30); do PRISM_CACHE=$cache "$prism" sweep "$exp" --collect --no-report > /dev/null 2>&1; done ) &
w1=$!
exp2=$(metrics_experiment "$work/disk" live "$work/read")
PRISM_CACHE=$cache "$prism" sweep "$exp2" --no-report > /dev/null 2>&1 &
w2=$!
reads=0; wrong=0
while kill -0 $w1 2> /dev/null || kill -0 $w2 2> /dev/null; do
    if ! "$prism" status "$work/read/live" > /dev/null 2>&1 && [ -f "$work/read/live/config.json" ]; then
        wrong=$((wrong + 1))
    fi
    if "$prism" report "$sweep_dir" --bootstrap 200 --out "$work/read/r" > /dev/null 2>&1; then
        got=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d.pop("generated", None); print(json.dumps(d, sort_keys=True))' "$work/read/r/report.json")
        [ "$got" = "$want_report" ] || wrong=$((wrong + 1))
    else
        wrong=$((wrong + 1))
    fi
    reads=$((reads + 1))
done
wait $w1 $w2 || true
report_case "status + report while sweeps write" $reads 0 $wrong "(each read pair: prism status of a running sweep, prism report of a table being rewritten)"

if [ "$failures" -gt 0 ]; then
    echo "FAILED: $failures case(s) lost or got something wrong"
    exit 1
fi
echo "all cases: 0 lost, 0 wrong"
