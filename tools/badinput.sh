#!/usr/bin/env bash
# `make badinput`: the bad-input suite (tests/badinput). Every case must be refused with a message that names the
# option and the fix, before any mutating call (counted by the emulator), leaving the state unchanged.
#   1. the module cases: one pytest process runs every module's main() in-process (tests/badinput/test_*.py);
#   2. the role and playbook cases: one ansible-playbook run (tests/badinput/roles.yml), one block/rescue per case.
# Everything runs inside a throwaway network namespace (with a router namespace beside it) and a private copy of
# /etc, so that a case that is wrongly accepted can only change the namespace's interfaces and the copy, never this
# machine's network. The emulators listen on the namespace's loopback.
set -uo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${repo}/.venv"

if [[ "${1:-}" == "--inside" ]]; then
    # Second stage, inside the namespace (ip netns exec gives this process its own mount namespace). The module
    # cases and the role and playbook cases run side by side, each with its own emulator.
    run_dir="$2"
    cp -a /etc "${run_dir}/etc"
    mount --bind "${run_dir}/etc" /etc || exit 1
    unset HTTP_PROXY HTTPS_PROXY http_proxy https_proxy ALL_PROXY all_proxy
    export ALIBABA_CLOUD_ECS_METADATA_DISABLED=true
    cd "${repo}" || exit 1
    started=${SECONDS}
    view="$("${repo}/tools/collection-tree.sh")" || exit 1

    endpoint="$("${repo}/tools/emulator.sh" start "${run_dir}/emulator")" || exit 1
    # The emulator's own list of mutating actions (registry.action(..., mutating=True)).
    mutating="$(PYTHONPATH="${repo}" "${venv}/bin/python" -c 'import json, tests.emulator.server
from tests.emulator.registry import ACTIONS
print(json.dumps({"badinput_mutating_actions": sorted({a.name for a in ACTIONS.values() if a.mutating})}))')" || exit 1
    ANSIBLE_COLLECTIONS_PATH="${view%/ansible_collections/*}" ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_PIPELINING=1 \
        "${venv}/bin/ansible-playbook" -i localhost, -c local "${repo}/tests/badinput/roles.yml" \
        -e "badinput_endpoint=${endpoint}" -e "${mutating}" \
        -e "ansible_python_interpreter=${venv}/bin/python" >"${run_dir}/roles.log" 2>&1 &
    playbook_pid=$!

    echo "=== module cases (one pytest process, in-process; the role and playbook cases run beside it)"
    # BADINPUT_PYTEST_ARGS narrows the run while working on a case (e.g. "-k eni_routing").
    # shellcheck disable=SC2086
    PYTHONPATH="${repo}" "${venv}/bin/python" -m pytest -p no:cacheprovider -q -ra --no-header --durations=5 \
        tests/badinput ${BADINPUT_PYTEST_ARGS:-}
    # pytest exits 5 when it collected nothing: an empty suite is a failure, never a pass.
    pytest_status=$?
    echo "module cases: pytest exit ${pytest_status} after $((SECONDS - started))s"

    wait "${playbook_pid}"
    playbook_status=$?
    echo "role and playbook cases: ansible-playbook exit ${playbook_status} after $((SECONDS - started))s"
    "${repo}/tools/emulator.sh" stop "${run_dir}/emulator"
    echo "=== role and playbook cases (one ansible-playbook run)"
    grep -E '"msg": "(PASSED|FAILED)|ERROR!|role and playbook cases:' "${run_dir}/roles.log" \
        | sed -e 's/^ *"msg": "//' -e 's/"$//' | cut -c1-400
    # The whole log stays for a look at a failed case.
    mkdir -p "${repo}/.cache/badinput-last"
    cp "${run_dir}/roles.log" "${repo}/.cache/badinput-last/roles.log"
    echo "badinput: module cases $([[ ${pytest_status} -eq 0 ]] && echo passed || echo "FAILED (pytest exit ${pytest_status})");" \
        "role and playbook cases $([[ ${playbook_status} -eq 0 ]] && echo passed || echo "FAILED (exit ${playbook_status})")"
    [[ ${pytest_status} -eq 0 && ${playbook_status} -eq 0 ]]
    exit
fi

if [[ ${EUID} -ne 0 ]]; then
    echo "badinput: needs root (it runs the suite inside a throwaway network namespace)" >&2
    exit 1
fi
mkdir -p "${repo}/.cache"
run_dir="$(mktemp -d "${repo}/.cache/badinput.XXXXXX")"
ns="badinput-$$"
router="${ns}-r"
cleanup() {
    ip netns del "${ns}" 2>/dev/null
    ip netns del "${router}" 2>/dev/null
    rm -rf "${run_dir}"
}
trap cleanup EXIT
ip netns add "${ns}" && ip netns add "${router}" || exit 1
# The host of the host-side cases: eth0 is the primary ENI (default route via 10.1.0.253), eth1 a secondary ENI in
# another vSwitch; both are veth pairs into the router namespace. A foreign rule (not of the shape eni_routing
# writes) looks up table 20000. host-reset.sh puts the addresses, routes and rules back as they were; it sets them
# up here, and tests/badinput/test_host.py runs it again after a case that changed them (so that one wrongly
# accepted case does not change what the next one sees).
in_ns() { ip netns exec "${ns}" "$@"; }
in_router() { ip netns exec "${router}" "$@"; }
cat >"${run_dir}/host-reset.sh" <<'RESET'
#!/usr/bin/env bash
set -euo pipefail
for link in eth0 eth1; do
    ip -4 addr flush dev "${link}"
    ip link set "${link}" up
done
for table in $(ip -4 route show table all | grep -o 'table [0-9]*' | awk '$2 >= 1000 {print $2}' | sort -u); do
    ip -4 route flush table "${table}"
done
ip -4 rule flush
ip -4 rule add priority 32766 lookup main
ip -4 rule add priority 32767 lookup default
ip addr add 10.1.0.11/24 dev eth0
ip addr add 10.2.0.70/24 dev eth1
ip route add default via 10.1.0.253 dev eth0
ip rule add from 10.9.9.0/24 lookup 20000 priority 500
RESET
chmod +x "${run_dir}/host-reset.sh"
set -e
in_ns ip link set lo up
in_router ip link set lo up
in_ns ip link add eth0 address 00:16:3e:b1:00:01 type veth peer name r0 netns "${router}"
in_ns ip link add eth1 address 00:16:3e:b1:00:02 type veth peer name r1 netns "${router}"
in_router ip addr add 10.1.0.253/24 dev r0
in_router ip addr add 10.2.0.253/24 dev r1
for link in r0 r1; do in_router ip link set "${link}" up; done
in_ns "${run_dir}/host-reset.sh"
set +e
export BADINPUT_HOST_RESET="${run_dir}/host-reset.sh" BADINPUT_NETNS="${ns}"
ip netns exec "${ns}" "$0" --inside "${run_dir}"
