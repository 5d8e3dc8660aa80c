#!/usr/bin/env bash
# The whole test suite, from a fresh machine with Rust and Python 3: installs the pinned AWS
# emulator (moto) into .venv-moto, then runs every test. The emulator tests start their own
# moto server on a free loopback port and fail (never skip) when it cannot run.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/emulator.sh install
cargo test --workspace --all-targets --locked "$@"
