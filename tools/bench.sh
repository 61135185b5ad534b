#!/usr/bin/env bash
# `make bench`: the association benchmarks (tests/perf/bench_associations.py) against a fresh emulator.
# Arguments are passed through; the figures go to stdout.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
unset HTTP_PROXY HTTPS_PROXY http_proxy https_proxy ALL_PROXY all_proxy
exec "${repo}/.venv/bin/python" "${repo}/tests/perf/bench_associations.py" "$@"
