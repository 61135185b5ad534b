#!/usr/bin/env bash
# `make test`: every suite, each required to run at least one test; a summary table at the end and a
# non-zero exit status if any suite failed or ran nothing.
#
# The suites run two at a time (this machine has 2 cores and a suite is mostly one process at a time), taken from
# one queue, longest first: each of the two workers starts the next suite as soon as its own ends, so the two end
# within about one short suite of each other however the machine's speed or a suite's length changes (fixed lanes,
# balanced by hand, ended up to ~2 min apart). TEST_JOBS sets the number of workers (default 2). Each suite writes
# its own log under .cache/test-logs; a line is printed when a suite ends, and the last lines of every failed
# suite's log are repeated before the summary. TEST_SERIAL=1 runs the suites one after another with their output on screen.
set -uo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${repo}" || exit 1
log_dir="${repo}/.cache/test-logs"
rm -rf "${log_dir}"
mkdir -p "${log_dir}"
unset HTTP_PROXY HTTPS_PROXY http_proxy https_proxy ALL_PROXY all_proxy
export ALIBABA_CLOUD_ECS_METADATA_DISABLED=true  # the credential chain never asks 100.100.100.200 (issue 9 item 15)

# Longest first (seconds of a clean-clone run on a quiet 2-core machine, 2026-12-02): integration ~900,
# molecule ~900, cloud-lane-proof ~160, badinput ~110, lint ~110, sanity ~100, emulator-tests ~95, units ~80,
# user-tests ~40, docs ~30. No two of them share a file, a port or a namespace name.
suites=(integration molecule cloud-lane-proof badinput lint sanity emulator-tests units user-tests docs)

# A suite "ran nothing" when its runner says so; that is a failure, never a pass.
ran_nothing() {
    grep -Eq "All targets skipped|no tests ran|collected 0 items|refusing to pass with nothing tested|cloud-test: skipped" "$1"
}

# Run one suite; record "<exit status> <seconds>" in its .result file.
run_suite() {
    local suite=$1 start status log="${log_dir}/$1.log"
    start=$(date +%s)
    if [[ -n "${TEST_SERIAL:-}" ]]; then
        echo "=== ${suite}"
        make --no-print-directory -C "${repo}" "${suite}" 2>&1 | tee "${log}"
        status=${PIPESTATUS[0]}
    else
        make --no-print-directory -C "${repo}" "${suite}" >"${log}" 2>&1
        status=$?
    fi
    if [[ ${status} -eq 0 ]] && ran_nothing "${log}"; then
        echo "${suite}: ran no test — counted as a failure" >>"${log}"
        status=1
    fi
    echo "${status} $(($(date +%s) - start))" >"${log_dir}/${suite}.result"
    printf '%s  %-16s %s after %ss\n' "$(date +%H:%M:%S)" "${suite}" \
        "$([[ ${status} -eq 0 ]] && echo passed || echo "FAILED (exit ${status})")" "$(($(date +%s) - start))"
}

run_lane() {
    local suite
    for suite in "$@"; do run_suite "${suite}"; done
}

# One worker: take the next suite of the queue (a counter in a file, under a lock) until none is left.
run_worker() {
    local next
    while :; do
        next=$(
            {
                flock 9
                read -r index <"${log_dir}/.queue" || index=0
                echo $((index + 1)) >"${log_dir}/.queue"
                echo "${index}"
            } 9>"${log_dir}/.queue.lock"
        )
        [[ ${next} -lt ${#suites[@]} ]] || return 0
        run_suite "${suites[${next}]}"
    done
}

# One refresh of the collection view before the lanes start; inside them it is used as it is, so that two
# suites never rsync into it at the same moment.
"${repo}/tools/collection-tree.sh" >/dev/null || exit 1
export ALICLOUD_EIP_VIEW_READY=1
start_all=$(date +%s)
if [[ -n "${TEST_SERIAL:-}" ]]; then
    run_lane "${suites[@]}"
else
    jobs="${TEST_JOBS:-2}"
    echo "test: ${jobs} at a time from the queue [${suites[*]}]; logs in ${log_dir}"
    echo 0 >"${log_dir}/.queue"
    worker_pids=()
    for _ in $(seq 1 "${jobs}"); do
        run_worker &
        worker_pids+=($!)
    done
    wait "${worker_pids[@]}"
fi

declare -A result seconds
passed=0
failed=0
for suite in "${suites[@]}"; do
    read -r status secs <"${log_dir}/${suite}.result" || { status=1; secs=0; }
    seconds[${suite}]=${secs}
    if [[ ${status} -eq 0 ]]; then
        result[${suite}]=passed
        passed=$((passed + 1))
    else
        result[${suite}]="FAILED (exit ${status}, log ${log_dir}/${suite}.log)"
        failed=$((failed + 1))
    fi
done

# CI shows only the end of the output: repeat the end of every failed suite's log here.
for suite in "${suites[@]}"; do
    if [[ ${result[${suite}]} != passed ]]; then
        echo
        echo "=== last lines of ${suite}"
        grep -v '^WARNING: Location' "${log_dir}/${suite}.log" | tail -n 25
    fi
done
echo
echo "=== summary (wall time $(($(date +%s) - start_all))s)"
for suite in "${suites[@]}"; do
    printf '%-16s %5ss  %s\n' "${suite}" "${seconds[${suite}]}" "${result[${suite}]}"
done
echo
echo "suites: ${passed} passed, ${failed} failed"
[[ ${failed} -eq 0 ]]
