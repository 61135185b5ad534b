#!/usr/bin/env bash
# `make bench`: the association benchmarks (tests/perf/bench_associations.py) against a fresh emulator.
# Arguments are passed through; the figures go to stdout.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
unset HTTP_PROXY HTTPS_PROXY http_proxy https_proxy ALL_PROXY all_proxy
export ALIBABA_CLOUD_ECS_METADATA_DISABLED=true  # the credential chain never asks 100.100.100.200 (issue 9 item 15)
exec "${repo}/.venv/bin/python" "${repo}/tests/perf/bench_associations.py" "$@"
