#!/usr/bin/env bash
# `make demo`: start the emulator with the demo world, run playbooks/demo.yml against it, print a
# summary, stop the emulator. No cloud account, no network beyond loopback.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
run_dir="${repo}/.cache/demo"
world="${repo}/tests/emulator/worlds/demo.yml"
endpoint="$("${repo}/tools/emulator.sh" start "${run_dir}" "${world}")"
trap '"${repo}/tools/emulator.sh" stop "${run_dir}"' EXIT
view="$("${repo}/tools/collection-tree.sh")"
export ANSIBLE_COLLECTIONS_PATH="${view%/ansible_collections/*}"
# Modules run on the controller with the virtualenv that has the SDK.
export ANSIBLE_PYTHON_INTERPRETER="${repo}/.venv/bin/python"
export ANSIBLE_STDOUT_CALLBACK=default ANSIBLE_NOCOLOR=1 ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false
# The demo world's access key (tests/emulator/worlds/demo.yml), handed over the way a user would: environment.
export ALIBABA_CLOUD_ACCESS_KEY_ID=LTAI-demo-access-key ALIBABA_CLOUD_ACCESS_KEY_SECRET=demo-secret-not-a-real-key ALIBABA_CLOUD_REGION_ID=cn-hangzhou
echo "demo: emulator at ${endpoint} (world ${world#"${repo}"/})"
"${repo}/.venv/bin/ansible-playbook" -i localhost, "${repo}/playbooks/demo.yml" \
    -e "alicloud_endpoint_url=http://${endpoint}" -e "emulator_control_url=http://${endpoint}/_emulator"
