#!/usr/bin/env bash
# `make test`: every suite, one after another, each required to run at least one test. A summary
# table at the end; the exit status is non-zero if any suite failed or ran nothing.
set -uo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${repo}" || exit 1
log_dir="${repo}/.cache/test-logs"
mkdir -p "${log_dir}"
unset HTTP_PROXY HTTPS_PROXY http_proxy https_proxy ALL_PROXY all_proxy

suites=(emulator-tests units sanity lint integration molecule)
declare -A result seconds
passed=0
failed=0

# A suite "ran nothing" when its runner says so; that is a failure, never a pass.
ran_nothing() {
    grep -Eq "All targets skipped|no tests ran|collected 0 items|refusing to pass with nothing tested" "$1"
}

for suite in "${suites[@]}"; do
    echo "=== ${suite}"
    start=$(date +%s)
    make --no-print-directory -C "${repo}" "${suite}" 2>&1 | tee "${log_dir}/${suite}.log"
    status=${PIPESTATUS[0]}
    seconds[${suite}]=$(( $(date +%s) - start ))
    if [[ ${status} -eq 0 ]] && ran_nothing "${log_dir}/${suite}.log"; then
        echo "${suite}: ran no test — counted as a failure" >&2
        status=1
    fi
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
echo "=== summary"
for suite in "${suites[@]}"; do
    printf '%-16s %5ss  %s\n' "${suite}" "${seconds[${suite}]}" "${result[${suite}]}"
done
echo
echo "suites: ${passed} passed, ${failed} failed"
[[ ${failed} -eq 0 ]]
