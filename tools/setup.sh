#!/usr/bin/env bash
# Everything `make demo` and `make test` need on a fresh Debian 12 machine, idempotent and quick when
# already done: apt packages, the pinned virtualenv (.venv), the offline pip shim that ansible-test's
# sanity venvs need (shared/reference/test-infra.md §2), and the ansible_collections view.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${repo}"
python_bin="${PYTHON:-python3.11}"
command -v "${python_bin}" >/dev/null 2>&1 || python_bin=python3

# --- apt packages -------------------------------------------------------------------------------------
# iproute2/iputils-ping: namespace labs and traffic checks; rsync: the collection view; shellcheck:
# the sanity test of the same name; netplan.io, network-manager, systemd: validating and applying the
# host-side network files offline; util-linux: unshare/nsenter for per-host mount namespaces.
apt_packages=(iproute2 iputils-ping nftables rsync shellcheck netplan.io network-manager systemd util-linux procps)
missing=()
for package in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "${package}" 2>/dev/null | grep -q "install ok installed" || missing+=("${package}")
done
if [[ ${#missing[@]} -gt 0 ]]; then
    if [[ "$(id -u)" -ne 0 ]]; then
        echo "setup: missing apt packages (${missing[*]}) and not root; install them first" >&2
        exit 1
    fi
    echo "setup: installing apt packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # policy-rc.d keeps the daemons of network-manager from starting on a machine without systemd.
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- virtualenv with pinned versions -------------------------------------------------------------------
stamp=".venv/.installed-$(sha256sum requirements-dev.lock | cut -c1-16)"
if [[ ! -f "${stamp}" ]]; then
    echo "setup: building .venv from requirements-dev.lock"
    [[ -x .venv/bin/python ]] || "${python_bin}" -m venv .venv
    .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade "pip==24.2"
    .venv/bin/python -m pip install -q --disable-pip-version-check -r requirements-dev.lock
    rm -f .venv/.installed-*
    touch "${stamp}"
fi

# --- ansible-test's pip bootstrap, served offline ------------------------------------------------------
wheels="${repo}/.cache/wheels"
if ! ls "${wheels}"/pip-24.2-*.whl >/dev/null 2>&1; then
    .venv/bin/python -m pip download -q --disable-pip-version-check --no-deps -d "${wheels}" "pip==24.2"
fi
shim="${HOME}/.ansible/test/cache/get_pip_24_2.py"
mkdir -p "$(dirname "${shim}")"
cat >"${shim}.$$" <<SHIM
# Written by alicloud.eip tools/setup.sh: ansible-test downloads get-pip from a host this machine cannot
# reach; this stand-in installs pip 24.2 from a wheel fetched from PyPI instead.
import glob, os, sys
whl = glob.glob('${wheels}/pip-24.2-*.whl')[0]
sys.path.insert(0, whl)
from pip._internal.cli.main import main
args = [a for a in sys.argv[1:] if a not in ('--no-setuptools', '--no-wheel')]
sys.exit(main(['install', '--upgrade', '--force-reinstall', '--no-index', '--find-links', os.path.dirname(whl)] + args))
SHIM
# A name of its own per process: two suites may run setup at the same moment.
if ! cmp -s "${shim}.$$" "${shim}"; then mv "${shim}.$$" "${shim}"; else rm -f "${shim}.$$"; fi

"${repo}/tools/collection-tree.sh" >/dev/null
echo "setup: ready"
