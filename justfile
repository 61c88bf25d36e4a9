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

# The test suite CI runs: formatting, clippy with -D warnings, and the tests.
test:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings
    cargo test --workspace

# Slow checks on the full real data (needs `just fetch` first).
test-data: fetch
    cargo test --workspace -- --ignored --test-threads 1

# Format the code.
fmt:
    cargo fmt --all

# Benchmarks: `just bench vendi` (Vendi of 100,000 x 1,024 features, prism vs numpy).
bench name="vendi":
    cargo bench -p prism-vendi --bench {{name}}
