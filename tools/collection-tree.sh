#!/usr/bin/env bash
# Lay out an ansible_collections/alicloud/eip view of this checkout (ansible-test and ansible-doc need
# that path) as a copy under .cache, refreshed on every call. The repository itself never moves.
# Prints the path of the collection inside the view. The view lives outside the checkout: inside it,
# ansible-test would ask git for the file list and find every copied file ignored.
# tests/integration/integration_config.yml (written by tools/integration.sh) survives a refresh, so that a
# refresh during an integration run (another shell running units or sanity) does not pull it away.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
view_root="${ALICLOUD_EIP_VIEW_ROOT:-${HOME}/.cache/alicloud-eip/$(printf '%s' "${repo}" | sha256sum | cut -c1-12)}"
view="${view_root}/ansible_collections/alicloud/eip"
mkdir -p "${view}"
# tools/test.sh refreshes the view once and then runs suites side by side: they take it as it is.
if [[ -n "${ALICLOUD_EIP_VIEW_READY:-}" && -f "${view}/galaxy.yml" ]]; then
    echo "${view}"
    exit 0
fi
rsync -a --delete \
    --exclude '/.venv/' --exclude '/.cache/' --exclude '/.git/' --exclude '/tests/output/' \
    --exclude '__pycache__/' --exclude '.pytest_cache/' --exclude '.coverage*' \
    --filter 'protect /tests/output/' \
    --filter 'protect /tests/integration/integration_config.yml' \
    "${repo}/" "${view}/"
echo "${view}"
