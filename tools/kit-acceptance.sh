#!/usr/bin/env bash
# Acceptance of the molecule kit (issue 17, docs/testing-your-roles.md), as a user meets it: from an empty
# directory, with only the built tarball installed and the Python requirements (this checkout's .venv, which has
# them; no PYTHONPATH, no Makefile, no checkout on any path), the sample role examples/web_tier - copied out of
# the INSTALLED collection - passes `molecule test` (create, converge, idempotence, verify with traffic, destroy).
# Checked around it, in one run:
#   1. a world file with a bad key fails `molecule create` naming the key and the fix, and nothing has started;
#   2. after `molecule test`: no namespace, mount or /run entry of the lab, no process of the kit (emulator,
#      data plane, metadata forwarders: all run from the install path), no kit directory, and the installed
#      collection and the project hold the same files as before (Python's __pycache__ aside).
# Needs root (network namespaces). Exit status 0 only if every check held.
set -uo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${repo}/.venv"
prefix=wt  # examples/web_tier/molecule/default/lab/topology.yml
if [[ "$(id -u)" -ne 0 ]]; then
    echo "kit-acceptance: the lab builds network namespaces and needs root" >&2
    exit 1
fi
work="$(mktemp -d /tmp/alicloud-eip-kit.XXXXXX)"
failures=()
check() {  # check DESCRIPTION COMMAND...: record a failure unless COMMAND succeeds
    local description=$1
    shift
    if "$@"; then echo "kit-acceptance: ok - ${description}"; else failures+=("${description}"); echo "kit-acceptance: FAILED - ${description}"; fi
}
# The user's shell: the virtualenv's tools first, a home of its own, the installed collection and nothing else.
as_user() {
    (cd "${project}" && env -i PATH="${venv}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
        HOME="${work}/home" LANG=C.UTF-8 TERM=dumb NO_COLOR=1 \
        ANSIBLE_COLLECTIONS_PATH="${work}/collections" ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false "$@")
}
lab_leftovers() {  # prints what the lab left behind (namespaces, /run entries, processes from the install path)
    ip netns list | awk -v p="${prefix}-" 'index($1, p) == 1 {print "namespace " $1}'
    local path
    for path in "/run/${prefix}-lab" "/run/${prefix}-emu"; do [[ -e "${path}" ]] && echo "path ${path}"; done
    local cmdline command
    for cmdline in /proc/[0-9]*/cmdline; do  # a loop, not grep FILES: grep's own command line holds the pattern
        command="$(tr '\0' ' ' 2>/dev/null <"${cmdline}")" || continue
        [[ "${command}" == *"${work}/"* ]] && echo "process ${cmdline//[^0-9]/}: ${command:0:160}"
    done
}
cleanup() {
    if [[ -n "$(lab_leftovers)" && -d "${project:-/nonexistent}" ]]; then
        as_user molecule destroy >/dev/null 2>&1
    fi
    rm -rf "${work}"
}
trap cleanup EXIT
mkdir -p "${work}/home" "${work}/project"

die() { echo "kit-acceptance: $*" >&2; exit 1; }
started=$(date +%s)
start=${started}
project="${work}/project"
# Built and installed as the user would, in the user's environment (a collection of the same name installed in
# root's own ~/.ansible would otherwise satisfy `install` and be used instead).
as_user ansible-galaxy collection build "${repo}" --output-path "${work}/dist" >"${work}/build.log" 2>&1 \
    || { cat "${work}/build.log"; die "ansible-galaxy collection build failed"; }
as_user ansible-galaxy collection install "${work}"/dist/alicloud-eip-*.tar.gz -p "${work}/collections" \
    >"${work}/install.log" 2>&1 || { cat "${work}/install.log"; die "ansible-galaxy collection install failed"; }
installed="${work}/collections/ansible_collections/alicloud/eip"
[[ -f "${installed}/MANIFEST.json" ]] || { cat "${work}/install.log"; die "the tarball was not installed in ${installed}"; }
cp -a "${installed}/examples/web_tier" "${work}/project/web_tier" || die "the tarball does not ship examples/web_tier"
project="${work}/project/web_tier"
snapshot() { (cd "$1" && find . -path '*/__pycache__' -prune -o -print | sort); }
snapshot "${installed}" >"${work}/installed.before"
snapshot "${project}" >"${work}/project.before"
[[ -s "${work}/installed.before" && -s "${work}/project.before" ]] || die "nothing to compare the file lists with"
echo "kit-acceptance: built and installed in $(($(date +%s) - start))s under ${work}"

# 1. A bad world: the scenario's own world with a misspelt key, in a scenario of its own.
cp -a "${project}/molecule/default" "${project}/molecule/badworld" || die "cannot copy the scenario"
sed -i 's/{id: i-web-1, vswitch:/{id: i-web-1, vswtich:/' "${project}/molecule/badworld/lab/world.yml"
grep -q vswtich "${project}/molecule/badworld/lab/world.yml" || die "the bad world was not written"
as_user molecule create -s badworld >"${work}/badworld.log" 2>&1
bad_status=$?
check "a bad world fails molecule create" test "${bad_status}" -ne 0
check "the failure names the key and the fix" \
    grep -q "regions.cn-hangzhou.instances\[0\] (i-web-1): unknown key 'vswtich' - did you mean 'vswitch'?" "${work}/badworld.log"
check "nothing started for the bad world" test -z "$(lab_leftovers)"
check "no emulator files for the bad world" test -z "$(find "${work}/home" -name alicloud-eip-lab)"
rm -rf "${project}/molecule/badworld"
[[ ${#failures[@]} -eq 0 ]] || sed -n '1,200p' "${work}/badworld.log"

# 2. The sample role's scenario, the whole sequence.
start=$(date +%s)
as_user molecule test >"${work}/molecule.log" 2>&1
status=$?
echo "kit-acceptance: molecule test (create, converge, idempotence, verify, destroy) exit ${status} after $(($(date +%s) - start))s"
check "molecule test of examples/web_tier passes" test "${status}" -eq 0
check "verify sent traffic to every EIP" grep -q "answered from the internet" "${work}/molecule.log"
check "idempotence ran" grep -Eq "idempotence.*(Successful|successful)" "${work}/molecule.log"
leftovers="$(lab_leftovers)"
check "no namespace, /run entry or process left (${leftovers//$'\n'/; })" test -z "${leftovers}"
check "no kit directory left" test -z "$(find "${work}/home" -name alicloud-eip-lab)"
check "the installed collection is unchanged" diff <(snapshot "${installed}") "${work}/installed.before"
check "the project holds no new file" diff <(snapshot "${project}") "${work}/project.before"
if [[ ${status} -ne 0 ]]; then tail -n 150 "${work}/molecule.log"; fi

if [[ ${#failures[@]} -gt 0 ]]; then
    printf 'kit-acceptance: %s check(s) failed:\n' "${#failures[@]}"
    printf '  - %s\n' "${failures[@]}"
    exit 1
fi
echo "kit-acceptance: passed in $(($(date +%s) - started))s"
