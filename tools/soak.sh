#!/usr/bin/env bash
# `make soak`: converges through the roles killed with SIGKILL at random moments and run again
# (tools/soak/soak.py). SOAK_CYCLES (default 20) and SOAK_SEED (default: random, printed) pass through.
# Needs root (each run gets its own PID namespace, so that one SIGKILL ends every process of it).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
unset HTTP_PROXY HTTPS_PROXY http_proxy https_proxy ALL_PROXY all_proxy
exec "${repo}/.venv/bin/python" "${repo}/tools/soak/soak.py" "$@"
