# prism's recipes. `just` (or `./just` on a fresh machine) lists them.

set shell := ["bash", "-euo", "pipefail", "-c"]

# One cargo target folder outside the clone, shared by every checkout and by CI.
export CARGO_TARGET_DIR := env_var_or_default("CARGO_TARGET_DIR", env_var("HOME") / ".cache/prism-target")

prism := "cargo run --quiet --release -p prism-cli --"

# List the recipes.
default:
    @just --list

# Fetch data and models into the cache (network once; a warm cache is a no-op).
fetch:
    {{prism}} data fetch

# Everything but what needs the BIG-bench sdist, which PyPI no longer serves (the tables and
# models it can build, and the names of those it leaves out).
fetch-available:
    {{prism}} data fetch --allow-missing-bigbench

# The model files only (no tables, so no BIG-bench): what the model parity tests read.
fetch-models:
    {{prism}} data fetch --models

# Run an experiment end to end: subsets, G-Vendi and baseline metrics, a student per subset,
# then the Spearman report in results/<name>/report/ (resumable: rerun to continue).
sweep name="nli" *flags="": fetch
    {{prism}} sweep {{name}} {{flags}}

# docs/math.md, 2026-12-05, second session: where pip cannot get the BIG-bench sdist, the math
# study without MathQA and arithmetic, its OOD aggregate the three sets other packages give
# (GSM8K, fraction simplification, leg counting), into results/math-nobb.
sweep-math-without-bigbench *flags="": fetch-available
    {{prism}} sweep math --set name=math-nobb --set 'data.benchmarks=["gsm8k","fraction_simplification","leg_counting"]' --set 'report.ood=["gsm8k","fraction_simplification","leg_counting"]' {{flags}}

# Counts by state, failed runs with their reasons, the slowest runs.
status name="nli":
    {{prism}} status {{name}}

# Per-example gradient features of the pool (default: the nli experiment's [gvendi] section).
features experiment="nli" *flags="":
    {{prism}} features grad {{experiment}} {{flags}}

# Build the subsets of an experiment.
subsets name="nli":
    {{prism}} subsets {{name}}

# Print what the cache holds.
stats:
    {{prism}} data stats

# The test suite CI runs: formatting, clippy with -D warnings, and the tests (nextest where it
# is installed, as on the project's machines; cargo test otherwise).
# The model parity tests and the sweep tests need the pinned models and tables, so the (cached,
# idempotent) fetch runs first. Where pip cannot get the BIG-bench sdist, the fetch builds the
# other tables and says which are left out, and the tests that need VitaminC say they skip.
test:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings
    cargo run --quiet -p prism-cli -- data fetch --allow-missing-bigbench
    if cargo nextest --version >/dev/null 2>&1; then cargo nextest run --workspace --no-fail-fast; else cargo test --workspace --lib --bins --tests; fi

# Slow checks on the full real data (needs `just fetch` first).
test-data: fetch
    cargo test --workspace -- --ignored --test-threads 1

# The Slurm launcher against a real single-node Slurm on this machine (root): installs and
# starts Debian's slurmctld, slurmd and munge (tests/slurm/local-cluster.sh), then runs the
# ignored test that submits a 30-run array and its report job.
test-slurm: fetch
    tests/slurm/local-cluster.sh start
    cargo test -p prism-cli --test slurm_launcher -- --ignored --nocapture

# Prismatic Synthesis's OpenAI-compatible client against a real llama.cpp server on loopback:
# llama-cpp-python[server] 0.3.16 (llama-venv, below) serves the cached SmolLM2-135M-Instruct
# GGUF; the ignored tests of harness/prism-synth/tests/llama_server.rs run against it, then
# `prism synth` runs one small round of the whole loop with the server as its generator
# (tests/scripts/synth_round.sh).
test-server: fetch-available llama-venv
    tests/scripts/llama_server.sh cargo test -p prism-synth --test llama_server -- --ignored --nocapture --test-threads 1
    cargo build --quiet --release -p prism-cli
    tests/scripts/llama_server.sh tests/scripts/synth_round.sh {{prism}}

# Where held-out real VitaminC pairs land among synth-nli's gradient clusters, the control for
# the prismatic arm's keep rate (docs/synthesis.md, 2026-12-04, fourth session): a loopback
# OpenAI-compatible server "generates" real pool pairs (tests/scripts/real_pairs_server.py) and
# `prism synth` places them, for each cluster fraction (default 0.01 0.05 0.1).
synth-real-control fractions="0.01 0.05 0.1": fetch (venv "pyarrow-venv" "pyarrow==26.0.1")
    cargo build --quiet --release -p prism-cli
    CONTROL_FRACTIONS="{{fractions}}" tests/scripts/synth_real_control.sh .cache/pyarrow-venv/bin/python {{prism}}

# `prism export mlflow` read back by MLflow's own client (mlflow-skinny in a venv under the
# cache): exports the smoke sweep (run first if needed) and lists its runs through MLflow.
test-mlflow: fetch (venv "mlflow-venv" "mlflow-skinny")
    {{prism}} sweep smoke --no-report
    {{prism}} export mlflow smoke
    .cache/mlflow-venv/bin/python tests/reference/mlflow_check.py results/smoke/mlruns 30

# Rewrites tests/reference/diversity_fixture.json from the reference implementations of the
# text-diversity suite (diversity==0.3.1, lexicalrichness==0.5.1) and of DCScore and NovelSum
# (their arithmetic transcribed, with torch), in a venv under .cache; `just test` then compares.
reference-diversity: (venv "diversity-venv" "diversity==0.3.1" "lexicalrichness==0.5.1" "numpy" "torch")
    .cache/diversity-venv/bin/python tests/reference/diversity_reference.py

# llama-cpp-python[server] 0.3.16 built from its sdist into .cache/llama-venv once (1.5 min on
# a 2-core Xeon, about 15 on a 2-core EPYC), for AVX2 and not for the machine it is built on:
# built natively on a Xeon with AVX-512 and AMX it served garbage without an error ("What is the
# capital of France?" greedy: "BonFONCEUR"; docs/synthesis.md, 2026-12-05), and pip's wheel
# cache would hand a wheel built on one machine to the next, so it is not used.
# tests/scripts/llama_server.sh checks a known answer before serving anything.
llama-venv:
    CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON" {{just_executable()}} venv llama-venv --no-cache-dir "llama-cpp-python[server]==0.3.16"

# A Python venv at .cache/<name> with the given PyPI packages, made once and reused (the
# recipes that need a Python tool depend on it).
[private]
venv name +packages:
    test -x .cache/{{name}}/bin/python || (python3 -m venv .cache/{{name}} && .cache/{{name}}/bin/pip install -q {{packages}})

# Format the code.
fmt:
    cargo fmt --all

# Benchmarks: `just bench vendi` (Vendi of 100,000 x 1,024 features, prism vs numpy);
# `just bench models` (student train step and proxy forward+backward; PyTorch where installed).
# `just bench gvendi` (featurisation speed ratios and Vendi vs numpy, through the release
# binary: `prism features bench`); `just bench metrics` (every metric at n = 400 and 10,000,
# against tokenising the texts once in the same run).
bench name="vendi": fetch
    if [ "{{name}}" = gvendi ]; then {{prism}} features bench; else cargo bench --bench {{name}}; fi

# Train one student on a subset and score it on the ID test and every OOD set.
train ids experiment="nli" *flags="":
    {{prism}} train {{experiment}} --ids {{ids}} {{flags}}

# Greedy reply of a causal LM (default: the pinned SmolLM2-135M-Instruct).
generate prompt model="smollm2-135m-instruct":
    {{prism}} generate --model {{model}} --prompt "{{prompt}}"

# The model parity tests on libtorch (burn-tch): torch==2.9.0 from PyPI in a venv under the
# cache (about 6.4 GB with its CUDA libraries), LIBTORCH_USE_PYTORCH at build time, its lib/ on
# LD_LIBRARY_PATH. It needs the model files only, so it runs where the BIG-bench sdist is missing.
test-tch: fetch-models (venv "torch-venv" "torch==2.9.0" "numpy" "pyarrow" "tokenizers==0.22.1")
    export LIBTORCH_USE_PYTORCH=1 PATH="$PWD/.cache/torch-venv/bin:$PATH"; export LD_LIBRARY_PATH="$(python -c 'import torch, os; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"; PRISM_TEST_BACKEND=tch cargo test -p prism-models --features tch --tests

# The cuda feature must compile (there is no GPU here to run it). cubecl-cuda's build script
# downloads an LLVM bundle unless DOCS_RS is set, and this check needs no LLVM; a real CUDA
# build on a machine with network access leaves DOCS_RS unset.
check-cuda:
    DOCS_RS=1 cargo check -p prism-cli --features cuda

# Render a report's HTML page in headless Chromium (installed from Debian if missing), check
# that its tables and plots are there, and save a screenshot next to it.
check-html report_dir:
    command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)
    chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking --disable-component-update --disable-sync --user-data-dir="$(mktemp -d)" --dump-dom "file://$(realpath {{report_dir}})/report.html" 2>/dev/null > /tmp/prism-report-dom.html
    grep -q '<table id="main">' /tmp/prism-report-dom.html && grep -q 'data:image/png;base64' /tmp/prism-report-dom.html
    chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking --disable-component-update --disable-sync --user-data-dir="$(mktemp -d)" --window-size=1200,1600 --screenshot="$(realpath {{report_dir}})/screenshot.png" "file://$(realpath {{report_dir}})/report.html" 2>/dev/null
    @echo "report.html renders; screenshot at {{report_dir}}/screenshot.png"

# A report of the committed scipy fixture table, for trying the report stage alone.
report-demo:
    mkdir -p results/report-demo && cp tests/reference/runs_fixture.csv results/report-demo/runs.csv
    {{prism}} report results/report-demo

# G-Vendi agreement: dense vs factored on 20 subsets of 200 pool examples (Spearman), a second
# projection seed as a noise control, and 16 examples against the exact gradient kernel (about
# 23 minutes on 2 cores from a cold store, 15 of them dense).
check-gvendi: fetch (venv "scipy-venv" "scipy")
    PYTHON=.cache/scipy-venv/bin/python tests/scripts/gvendi_agreement.sh

# Fault injection beyond `just test` (which flips bytes in shards, run outputs, stage-cache
# entries and tables: tests/faults.rs): SIGKILL at seeded random points of featurisation and of
# a trained sweep, each resumed; a full disk (a 1 MiB tmpfs under the results, needs root); and
# `prism status`/`prism report` reading while sweeps write. Prints each case with its trials,
# lost and wrong counts (tests/scripts/faults.sh; FAULT_SEED, FAULT_KILLS).
test-faults: fetch
    cargo build --quiet --release -p prism-cli
    PRISM="$CARGO_TARGET_DIR/release/prism" tests/scripts/faults.sh

# The feature store after `kill -9` mid-run: resumed features are byte-identical to an
# uninterrupted run's (about 3 minutes).
check-features-resume: fetch
    tests/scripts/features_kill_resume.sh
