#!/usr/bin/env bash
# `make bench`: the benchmarks of tests/perf/ against fresh emulators, then every figure in one table with the
# command that produced it (tests/perf/bench_table.py; --markdown for docs/performance.md).
#   bench_startup.py       CPU of one eip_info module process paired with ansible.builtin.ping's
#   bench_emulator.py      the emulator's CPU per NAT association on a /24 and a /16 vSwitch
#   bench_associations.py  50 associations in one list task and as a loop, their re-runs, the first run's describes
#                          before its first association, the waiter, the flow limit
#   bench_multi_eip_rerun.py  a multi_eip re-run with 10 EIPs against 1
#   bench_fleet.py         multi_eip for 1/10/50 hosts x 2 EIPs in fleet mode and per host (wall, module processes)
# Arguments are passed to bench_table.py. Exits non-zero when a target is missed.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
unset HTTP_PROXY HTTPS_PROXY http_proxy https_proxy ALL_PROXY all_proxy
export ALIBABA_CLOUD_ECS_METADATA_DISABLED=true  # the credential chain never asks 100.100.100.200 (issue 9 item 15)
python="${repo}/.venv/bin/python"
reports="$(mktemp -d)"
trap 'rm -rf "${reports}"' EXIT
status=0
"${python}" "${repo}/tests/perf/bench_startup.py" --runs 7 --json "${reports}/startup.json" || status=1
"${python}" "${repo}/tests/perf/bench_emulator.py" --eips 20 --json "${reports}/emulator.json" || status=1
"${python}" "${repo}/tests/perf/bench_associations.py" --associations 50 --latency 1.0 \
    --json "${reports}/associations.json" || status=1
"${python}" "${repo}/tests/perf/bench_multi_eip_rerun.py" --runs 2 --json "${reports}/rerun.json" || status=1
"${python}" "${repo}/tests/perf/bench_fleet.py" --json "${reports}/fleet.json" || status=1
echo
echo "bench: $(date -u +%Y-%m-%dT%H:%MZ) on $(uname -n), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
"${python}" "${repo}/tests/perf/bench_table.py" "$@" \
    "${reports}/startup.json" "${reports}/emulator.json" "${reports}/associations.json" "${reports}/rerun.json" \
    --fleet "${reports}/fleet.json" || status=1
exit "${status}"
