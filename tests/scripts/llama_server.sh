#!/usr/bin/env bash
# Runs a command against a real llama.cpp server on loopback (llama-cpp-python's server from
# .cache/llama-venv) serving the cached SmolLM2-135M-Instruct GGUF, then stops the server.
# The command sees LLAMA_SERVER_BASE_URL (not a PRISM_* name: prism reads every PRISM_*
# variable as a config key). Usage: tests/scripts/llama_server.sh CMD [ARGS...]
set -euo pipefail
cd "$(dirname "$0")/../.."
python=.cache/llama-venv/bin/python
model=.cache/prism/models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf
test -x "$python" || { echo "error: no $python (run \`just test-server\`, which installs it)" >&2; exit 2; }
test -f "$model" || { echo "error: no $model (run \`just fetch\`)" >&2; exit 2; }
# LLAMA_SERVER_PORT fixes the port (a resumed `prism synth` run must see the same base_url).
port=${LLAMA_SERVER_PORT:-$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
log=$(mktemp -t llama-server.XXXXXX.log)
"$python" -m llama_cpp.server --model "$model" --model_alias smollm2-135m-instruct \
    --host 127.0.0.1 --port "$port" --n_ctx 2048 --n_threads "$(nproc)" --seed 0 >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
    if curl -sf "http://127.0.0.1:$port/v1/models" >/dev/null; then break; fi
    if ! kill -0 $server 2>/dev/null; then echo "error: the server exited; its log:" >&2; cat "$log" >&2; exit 1; fi
    sleep 1
done
curl -sf "http://127.0.0.1:$port/v1/models" >/dev/null || { echo "error: no server on port $port after 120 s; its log:" >&2; cat "$log" >&2; exit 1; }
# A llama.cpp built for the wrong instructions serves garbage without failing (a native build
# on a Xeon with AVX-512 and AMX did: docs/synthesis.md, 2026-12-05), so the server must give
# the model's greedy answer to a question it knows before it serves anything.
answer=$(curl -sf "http://127.0.0.1:$port/v1/chat/completions" -H 'Content-Type: application/json' \
    -d '{"model": "smollm2-135m-instruct", "messages": [{"role": "user", "content": "What is the capital of France?"}], "temperature": 0, "max_tokens": 32, "seed": 0}' \
    | "$python" -c 'import json, sys; print(json.load(sys.stdin)["choices"][0]["message"]["content"])')
case "$answer" in
    *Paris*) ;;
    *) echo "error: the llama.cpp server answered \"What is the capital of France?\" (greedy) with \"$answer\": its build computes wrongly on this machine; rebuild it (rm -rf .cache/llama-venv && just llama-venv). Server log: $log" >&2; exit 1 ;;
esac
echo "llama.cpp server (llama-cpp-python $("$python" -c 'import llama_cpp; print(llama_cpp.__version__)')) on 127.0.0.1:$port, log $log" >&2
LLAMA_SERVER_BASE_URL="http://127.0.0.1:$port/v1" "$@"
