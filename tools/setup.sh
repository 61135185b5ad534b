#!/usr/bin/env bash
# Everything `make demo` and `make test` need on a fresh Debian 12 machine, idempotent and quick when
# already done: apt packages, the pinned virtualenv (.venv), the documentation tools (.cache/docs-venv), the
# offline pip shim that ansible-test's sanity venvs need (they fetch get-pip from a host this machine cannot reach),
# and the ansible_collections view.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${repo}"
python_bin="${PYTHON:-python3.11}"
command -v "${python_bin}" >/dev/null 2>&1 || python_bin=python3

# --- apt packages -------------------------------------------------------------------------------------
# Every program the suites, the labs, `make demo`, `make bench` and `make soak` run, by Debian package; the list
# of programs and who runs each is tests/unit/tools/test_setup_packages.py (REQUIRED_PROGRAMS), which fails when
# a program's package is missing here. Essential packages (coreutils, util-linux, bash, grep, sed, findutils,
# tar, ...) are on every Debian system and not listed.
#   iproute2 (ip, ss), iputils-ping (ping), nftables (nft), procps (sysctl, pgrep), mount (mount, umount):
#     the namespace labs, their data plane and traffic checks, and eni_routing on the lab hosts;
#   rsync: the collection view (tools/collection-tree.sh); shellcheck: the sanity test of that name;
#   (ssh-keygen): ansible-test integration creates an SSH key before any target runs;
#   netplan.io, network-manager (nmcli), systemd (systemd-networkd, networkctl): validating and applying the
#     host-side network files offline; python3, python3-venv: the .venv; ca-certificates: pip over HTTPS;
#   make: tools/test.sh runs each suite through the Makefile;
#   graphviz (dot): `make diagrams` renders docs/diagrams/*.dot, and a unit test checks the SVGs are current;
#   chromium: `make docs` looks at the built site in headless Chromium (tools/docs/browser_check.py);
#   keepalived: the havip_failover molecule scenario runs it in the lab hosts' namespaces.
apt_packages=(iproute2 iputils-ping nftables procps mount rsync shellcheck openssh-client netplan.io network-manager
    systemd python3 python3-venv ca-certificates make graphviz keepalived chromium)
# How long apt waits for the dpkg lock when another package manager (unattended-upgrades, a second `make`)
# holds it, instead of failing at once.
apt_lock_timeout="${SETUP_APT_LOCK_TIMEOUT:-300}"

# apt-get with the lock wait; apt prints "Waiting for cache lock: ... held by process N (name)" while it waits.
apt_get() {
    apt-get -o "DPkg::Lock::Timeout=${apt_lock_timeout}" "$@"
}

apt_install() {
    echo "setup: installing apt packages: $*"
    echo "setup: if another package manager holds the dpkg lock, apt waits up to ${apt_lock_timeout}s for it" \
        "(SETUP_APT_LOCK_TIMEOUT) and names the process holding it"
    export DEBIAN_FRONTEND=noninteractive
    # policy-rc.d keeps the daemons of network-manager from starting on a machine without systemd.
    if ! apt_get update -qq || ! apt_get install -y -q --no-install-recommends "$@"; then
        echo "setup: apt-get failed (see above). If it could not get the lock /var/lib/dpkg/lock-frontend, another" \
            "package manager was still running after ${apt_lock_timeout}s: let it finish, then run make again" >&2
        return 1
    fi
}

# `tools/setup.sh apt-install PACKAGE...`: only the apt step, for the given packages (used to check the lock wait).
if [[ "${1:-}" == apt-install ]]; then
    shift
    apt_install "$@"
    exit $?
fi

missing=()
for package in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "${package}" 2>/dev/null | grep -q "install ok installed" || missing+=("${package}")
done
if [[ ${#missing[@]} -gt 0 ]]; then
    if [[ "$(id -u)" -ne 0 ]]; then
        echo "setup: missing apt packages (${missing[*]}) and not root; install them first" >&2
        exit 1
    fi
    apt_install "${missing[@]}"
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

# --- the documentation tools of `make docs`, a virtualenv of their own (requirements-docs.lock says why) ---------
docs_stamp=".cache/docs-venv/.installed-$(sha256sum requirements-docs.lock | cut -c1-16)"
if [[ ! -f "${docs_stamp}" ]]; then
    echo "setup: building .cache/docs-venv from requirements-docs.lock"
    [[ -x .cache/docs-venv/bin/python ]] || "${python_bin}" -m venv .cache/docs-venv
    .cache/docs-venv/bin/python -m pip install -q --disable-pip-version-check --upgrade "pip==24.2"
    .cache/docs-venv/bin/python -m pip install -q --disable-pip-version-check -r requirements-docs.lock
    rm -f .cache/docs-venv/.installed-*
    touch "${docs_stamp}"
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
