#!/usr/bin/env bash
# The whole test suite, on a fresh Debian 12 machine, as root. Installs and starts
# what the tests need (Docker Engine, docker-compose, hadolint, shellcheck, local base
# images: scripts/setup-test-env.sh), then runs formatting, clippy, every test
# including the ones that need Docker and the validators, and checks that the fuzz
# target builds.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
start=$SECONDS
# A clean checkout gains nothing from incremental state, and it costs gigabytes of disk.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
echo "==> free disk before the build: $(df -h --output=avail . | tail -1 | tr -d ' ')"

bash scripts/setup-test-env.sh

echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "==> cargo test (including tests that need docker and the validators)"
cargo test --workspace --locked -- --include-ignored
echo "==> fuzz target builds"
RUSTC_BOOTSTRAP=1 cargo build --quiet --manifest-path fuzz/Cargo.toml --bin spec_parser

echo "==> all tests passed in $((SECONDS - start)) s"
