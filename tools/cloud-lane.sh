#!/usr/bin/env bash
# `make cloud-test`: the real-cloud lane (tools/cloud-lane/lane.py, docs/cloud-lane.md).
#   tools/cloud-lane.sh [--plan] [TARGET ...]     (default: every target of tests/cloud-lane/targets.yml's cloud list)
# Without ALICLOUD_EIP_CLOUD_LANE=1 it says "skipped: no account" and runs nothing; with it, missing credentials,
# region or fixtures fail the run, naming them. The proxy settings of this shell are kept (the real cloud may need
# them); the credentials stay in the environment and never become arguments.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
exec "${repo}/.venv/bin/python" "${repo}/tools/cloud-lane/lane.py" "$@"
