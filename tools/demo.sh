#!/usr/bin/env bash
# `make demo`: the collection's main job against the local emulator, end to end.
#
# As root: the emulator (tools/demo/world.yml), a namespace lab with two hosts seeded as the world's ECS
# instances (tools/demo/topology.yml; extensions/molecule/eni_shared/lab.py) and the lab's data plane that makes
# the emulator's EIPs carry real packets (extensions/molecule/eip_shared/). tools/demo/demo.yml runs the ready
# playbooks alicloud.eip.multi_eip (web: two EIPs on secondary private IPs of a new ENI, host configured) and
# alicloud.eip.nat_egress (app: outbound through the NAT gateway's SNAT entry); then a table of every EIP with
# the traffic that proved it; then the same run again, which must report no change and make no mutating API call.
# Without root (no namespaces) it runs the API part only and says so. Everything is removed at the end (unless
# DEMO_KEEP=1, to look around in the lab: `ip netns exec demo-web ip rule`).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
demo="${repo}/tools/demo"
python="${repo}/.venv/bin/python"
started=$(date +%s)
unset HTTP_PROXY HTTPS_PROXY http_proxy https_proxy ALL_PROXY all_proxy
export ALIBABA_CLOUD_ECS_METADATA_DISABLED=true  # the credential chain never asks 100.100.100.200 (issue 9 item 15)

lab=true
if [[ "$(id -u)" -ne 0 ]]; then
    lab=false
    echo "demo: not root, so no network namespaces: running the API part only (EIPs, ENIs, NAT gateway, SNAT);"
    echo "demo: the host configuration and the traffic checks need root (sudo make demo)."
fi
if [[ ${lab} == true ]]; then
    run_dir=/run/demo-emu
else
    run_dir="$(mktemp -d "${TMPDIR:-/tmp}/alicloud-eip-demo.XXXXXX")"
fi
router="demo-r"
client="demo-inet2"

cleanup() {
    if [[ -n "${DEMO_KEEP:-}" ]]; then
        echo "demo: DEMO_KEEP is set: the lab and the emulator (${run_dir}) stay up; DEMO_KEEP= make demo removes them"
        return
    fi
    if [[ ${lab} == true ]]; then
        "${python}" "${repo}/extensions/molecule/eip_shared/dataplane.py" stop --pid-file "${run_dir}/dataplane.pid" >/dev/null 2>&1 || true
        "${python}" "${repo}/extensions/molecule/eip_shared/snat_dataplane.py" client-down --client "${client}" >/dev/null 2>&1 || true
        "${python}" "${repo}/extensions/molecule/eni_shared/lab.py" down "${demo}/topology.yml" >/dev/null 2>&1 || true
        ip netns del "${router}-inet" 2>/dev/null || true
    fi
    "${repo}/tools/emulator.sh" stop "${run_dir}" >/dev/null 2>&1 || true
    if [[ ${lab} == false ]]; then rm -rf "${run_dir}"; fi
}
trap cleanup EXIT

endpoint="$("${repo}/tools/emulator.sh" start "${run_dir}" "${demo}/world.yml")"
control="http://${endpoint}"
echo "demo: emulator at ${control} (world tools/demo/world.yml)"
if [[ ${lab} == true ]]; then
    EH_METADATA_SOCKET="${run_dir}/metadata.sock" "${python}" "${repo}/extensions/molecule/eni_shared/lab.py" up "${demo}/topology.yml"
    "${python}" "${repo}/extensions/molecule/eip_shared/dataplane.py" start --control "${control}" --router "${router}" \
        --topology "${demo}/topology.yml" --pid-file "${run_dir}/dataplane.pid" >/dev/null
    "${python}" "${repo}/extensions/molecule/eip_shared/snat_dataplane.py" client-up --router "${router}" --client "${client}"
    echo "demo: lab up: hosts demo-web and demo-app behind router ${router} (strict rp_filter), data plane watching"
fi

view="$("${repo}/tools/collection-tree.sh")"
export ANSIBLE_COLLECTIONS_PATH="${view%/ansible_collections/*}"
export ANSIBLE_CONNECTION_PLUGINS="${repo}/extensions/molecule/eni_shared/connection_plugins"
export ANSIBLE_PYTHON_INTERPRETER="${python}"
export ANSIBLE_NOCOLOR=1 ANSIBLE_HOST_KEY_CHECKING=false ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_FORKS=4
export ANSIBLE_CALLBACK_RESULT_FORMAT=yaml ANSIBLE_DISPLAY_SKIPPED_HOSTS=false ANSIBLE_DISPLAY_OK_HOSTS=false
# The demo world's access key, handed over the way a user would: the environment.
export ALIBABA_CLOUD_ACCESS_KEY_ID=LTAI-demo-access-key ALIBABA_CLOUD_ACCESS_KEY_SECRET=demo-secret-not-a-real-key
# The hosts come from the collection's inventory plugin (tools/demo/demo.alicloud_eip.yml), which reads the emulator.
export ALICLOUD_EIP_ENDPOINT_URL="${control}"
playbook=("${repo}/.venv/bin/ansible-playbook" -i "${demo}/demo.alicloud_eip.yml" "${demo}/demo.yml"
    -e "alicloud_endpoint_url=${control}")
if [[ ${lab} == false ]]; then
    playbook+=(-e ansible_connection=local -e multi_eip_configure_host=false)
fi

echo
echo "demo: first run (ansible-playbook tools/demo/demo.yml: alicloud.eip.multi_eip on web, alicloud.eip.nat_egress on app)"
"${playbook[@]}" | tee "${run_dir}/first.log" | grep -E '^(PLAY|TASK|changed|fatal|failed|ok: \[.*\] =>)|RECAP|: ok=' || true
if ! grep -q ' failed=0 ' "${run_dir}/first.log" || grep -Eq ' failed=[1-9]| unreachable=[1-9]' "${run_dir}/first.log"; then
    echo "demo: the first run failed; its output is in ${run_dir}/first.log" >&2
    tail -n 40 "${run_dir}/first.log" >&2
    exit 1
fi

echo
echo "demo: every EIP of the account, and the traffic that proves it"
report=("${python}" "${demo}/report.py" table --control "${control}")
if [[ ${lab} == true ]]; then
    report+=(--router "${router}" --topology "${demo}/topology.yml" --client "${client}" --probe demo-app=10.20.1.20)
fi
# The table also goes through picture.py, which draws this topology from the emulator's state next to it.
"${report[@]}" | "${python}" "${demo}/picture.py" --control "${control}" --out "${repo}/.cache/demo"

echo
echo "demo: second run: must report no change and make no mutating API call"
"${python}" "${demo}/report.py" reset-calls --control "${control}"
"${playbook[@]}" >"${run_dir}/second.log" 2>&1 || { tail -n 40 "${run_dir}/second.log" >&2; exit 1; }
grep ': ok=' "${run_dir}/second.log"
if grep -Eq ' changed=[1-9]| failed=[1-9]' "${run_dir}/second.log"; then
    echo "demo: the second run changed something; see ${run_dir}/second.log" >&2
    exit 1
fi
mutating="$("${python}" "${demo}/report.py" mutating-calls --control "${control}")" || {
    echo "demo: the second run made mutating API calls: ${mutating}" >&2
    exit 1
}
echo "demo: second run: changed=0 on every host, mutating API calls ${mutating}"
echo "demo: done in $(($(date +%s) - started))s; lab and emulator removed"
