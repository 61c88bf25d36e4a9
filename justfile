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

# Run an experiment end to end, as far as the pipeline goes today (fetch, then subsets).
sweep name="nli": fetch
    {{prism}} subsets {{name}}

# Build the subsets of an experiment.
subsets name="nli":
    {{prism}} subsets {{name}}

# Print what the cache holds.
stats:
    {{prism}} data stats

# The test suite CI runs: formatting, clippy with -D warnings, and the tests (nextest where it
# is installed, as on the project's machines; cargo test otherwise).
test:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings
    if cargo nextest --version >/dev/null 2>&1; then cargo nextest run --workspace --no-fail-fast; else cargo test --workspace --lib --bins --tests; fi

# Slow checks on the full real data (needs `just fetch` first).
test-data: fetch
    cargo test --workspace -- --ignored --test-threads 1

# Format the code.
fmt:
    cargo fmt --all

# Benchmarks: `just bench vendi` (Vendi of 100,000 x 1,024 features, prism vs numpy).
bench name="vendi":
    cargo bench -p prism-vendi --bench {{name}}

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
