#!/usr/bin/env bash
# Prismatic Synthesis end to end for one small round against the OpenAI-compatible server at
# $LLAMA_SERVER_BASE_URL (run it under tests/scripts/llama_server.sh): the math pool's
# gradient features, clusters, 6 problem requests and their solutions through the HTTP client,
# the filters (decontaminating against the sets that need no BIG-bench sdist), the candidates'
# features and the sparse rule. Fails unless the round is written
# with every request answered. Usage: tests/scripts/synth_round.sh PRISM [ARGS...]
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${LLAMA_SERVER_BASE_URL:?run under tests/scripts/llama_server.sh}"
out=$(mktemp -d -t prism-synth-round.XXXXXX)
"$@" synth synth-math --arm prismatic \
    --set synth.generator.kind=openai \
    --set "synth.generator.openai={ base_url = \"$LLAMA_SERVER_BASE_URL\", model = \"smollm2-135m-instruct\", concurrency = 2, timeout_s = 300 }" \
    --set synth.loop.rounds=1 --set synth.loop.requests_per_round=6 \
    --set 'data.benchmarks=["gsm8k","fraction_simplification","leg_counting"]' \
    --set 'report.ood=["gsm8k","fraction_simplification","leg_counting"]' \
    --set "paths.results=$out"
dir="$out/synth-math/synth/prismatic"
cat "$dir/rounds.md"
python3 - "$dir/state.json" <<'PY'
import json, sys
state = json.load(open(sys.argv[1]))
rounds = state["rounds"]
assert len(rounds) == 1, f"{len(rounds)} rounds written"
g = rounds[0]["generator"]
print("generator counts:", json.dumps(g))
assert g["requests"] >= 6 and g["failed"] == 0, "every request answered"
print("ok: one round against the server; kept", rounds[0]["kept"], "of", rounds[0]["requests"], "requests")
PY
