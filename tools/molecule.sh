#!/usr/bin/env bash
# Run molecule scenarios from the collection view (tools/collection-tree.sh builds it):
#   tools/molecule.sh [SCENARIO ...]      (default: every extensions/molecule/*/molecule.yml, then kit-acceptance)
# kit-acceptance is tools/kit-acceptance.sh: the sample role examples/web_tier from the installed tarball.
# Each scenario runs `molecule test -s NAME` on its own; the exit status is non-zero if any failed or none ran.
# The host-side scenarios build network and mount namespaces, so this needs root.
set -uo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
view="$("${repo}/tools/collection-tree.sh")" || exit 1
export ANSIBLE_COLLECTIONS_PATH="${view%/ansible_collections/*}"
# Scenarios start the emulator and the lab from the checkout (the view has no virtualenv).
export EH_REPO="${repo}"
export PATH="${repo}/.venv/bin:${PATH}"
unset HTTP_PROXY HTTPS_PROXY http_proxy https_proxy ALL_PROXY all_proxy
export ALIBABA_CLOUD_ECS_METADATA_DISABLED=true  # the credential chain never asks 100.100.100.200 (issue 9 item 15)
cd "${view}" || exit 1

scenarios=("$@")
if [[ ${#scenarios[@]} -eq 0 ]]; then
    mapfile -t scenarios < <(find extensions/molecule -mindepth 2 -maxdepth 2 -name molecule.yml -printf '%h\n' | xargs -r -n1 basename | sort)
fi
if [[ ${#scenarios[@]} -eq 0 ]]; then
    echo "molecule: no scenarios found — refusing to pass with nothing tested" >&2
    exit 1
fi
if [[ $# -eq 0 ]]; then
    # The molecule kit as users meet it: the sample role's scenario from the built and installed tarball (issue 17).
    scenarios+=(kit-acceptance)
fi
if [[ "$(id -u)" -ne 0 ]]; then
    echo "molecule: the scenarios build network namespaces and need root" >&2
    exit 1
fi

passed=0
failed=0
summary=()
# A scenario's lab has fixed names (namespaces <prefix>-*, /run/<prefix>-lab and -emu, molecule's state under
# ~/.cache/molecule/eip/<scenario>): two runs of one scenario at once (two checkouts, two shells) would tear down
# each other's lab. Each scenario runs under a lock of its own; a second run waits for it, and says so.
lock_wait="${MOLECULE_LOCK_TIMEOUT:-3600}"
run_locked() {
    local scenario=$1 lock="/run/alicloud-eip-molecule-$1.lock"
    exec {lock_fd}>"${lock}"
    if ! flock -n "${lock_fd}"; then
        echo "molecule: another run of scenario ${scenario} holds ${lock}; waiting up to ${lock_wait}s for it to end"
        if ! flock -w "${lock_wait}" "${lock_fd}"; then
            echo "molecule: ${lock} still held after ${lock_wait}s; scenario ${scenario} not run" >&2
            exec {lock_fd}>&-
            return 1
        fi
    fi
    if [[ "${scenario}" == kit-acceptance ]]; then
        "${repo}/tools/kit-acceptance.sh"
    else
        molecule test -s "${scenario}"
    fi
    local status=$?
    exec {lock_fd}>&-
    return "${status}"
}

for scenario in "${scenarios[@]}"; do
    echo "=== molecule test -s ${scenario}"
    start=$(date +%s)
    if run_locked "${scenario}"; then
        status=passed
        passed=$((passed + 1))
    else
        status=FAILED
        failed=$((failed + 1))
    fi
    summary+=("$(printf '%-24s %4ss  %s' "${scenario}" "$(($(date +%s) - start))" "${status}")")
done
echo
echo "=== molecule summary"
printf '%s\n' "${summary[@]}"
echo "molecule: ${passed} passed, ${failed} failed"
[[ ${failed} -eq 0 ]]
