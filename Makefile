# alicloud.eip — the two commands are `make demo` and `make test`; both set the machine up first.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

REPO := $(CURDIR)
VENV := $(REPO)/.venv
PY := $(VENV)/bin/python
# SDK calls to the emulator must not go through a proxy (the SDK reads these variables itself), and the
# credential chain must never ask the ECS metadata address 100.100.100.200 (traffic off the machine).
NOPROXY := env -u HTTP_PROXY -u HTTPS_PROXY -u http_proxy -u https_proxy -u ALL_PROXY -u all_proxy \
	ALIBABA_CLOUD_ECS_METADATA_DISABLED=true
VIEW = $(shell $(REPO)/tools/collection-tree.sh)
COLLECTIONS_PATH = $(patsubst %/ansible_collections/alicloud/eip,%,$(VIEW))

.PHONY: help setup demo test sanity units emulator-tests integration lint molecule badinput bench soak diagrams docs clean \
	cloud-test cloud-lane-proof user-tests

help:
	@echo "make demo   run the main job against the local emulator"
	@echo "make test   run every test (sanity, units, emulator, integration, lint, bad input, molecule)"
	@echo "make bench  association benchmarks against the emulator"
	@echo "make soak   20 converges killed with SIGKILL at random moments, then run again (SOAK_CYCLES, SOAK_SEED)"
	@echo "make cloud-test  the real-cloud lane against your account; skipped without ALICLOUD_EIP_CLOUD_LANE=1 (docs/cloud-lane.md)"
	@echo "make docs   the documentation site, offline, warnings as errors, links checked (.cache/docs/html/index.html)"
	@echo "parts: setup sanity units emulator-tests integration lint badinput molecule cloud-lane-proof user-tests diagrams docs clean"

setup:
	@$(REPO)/tools/setup.sh

demo: setup
	@$(NOPROXY) $(REPO)/tools/demo.sh

test: setup
	@$(REPO)/tools/test.sh

sanity: setup
	@cd "$(VIEW)" && $(NOPROXY) $(VENV)/bin/ansible-test sanity --python 3.11 --color no

units: setup
	@cd "$(VIEW)" && $(NOPROXY) $(VENV)/bin/ansible-test units --python 3.11 --local --color no

emulator-tests: setup
	@cd $(REPO) && $(NOPROXY) PYTHONPATH=$(REPO) $(PY) -m pytest -p no:cacheprovider -q \
		--cov=tests/emulator --cov-report=term:skip-covered --cov-fail-under=90 tests/emulator/tests

integration: setup
	@$(NOPROXY) $(REPO)/tools/integration.sh

# ansible-lint puts $ANSIBLE_HOME/collections (~/.ansible/collections) before ANSIBLE_COLLECTIONS_PATH, and molecule's
# prerun installs the collection there: a private, empty ANSIBLE_HOME makes lint read this checkout's view only.
lint: setup
	@cd $(REPO) && ANSIBLE_HOME="$(REPO)/.cache/lint-ansible-home" ANSIBLE_COLLECTIONS_PATH="$(COLLECTIONS_PATH)" \
		$(VENV)/bin/ansible-lint --offline

# Bad input to every module, role and playbook: refused, naming the option and the fix, before any mutating
# call (root: it runs inside a throwaway network namespace).
badinput: setup
	@$(NOPROXY) $(REPO)/tools/badinput.sh

molecule: setup
	@$(NOPROXY) $(REPO)/tools/molecule.sh

bench: setup
	@$(NOPROXY) $(REPO)/tools/bench.sh

soak: setup
	@$(NOPROXY) $(REPO)/tools/soak.sh

# docs/diagrams/*.svg from their Graphviz sources (docs/architecture.md); a unit test checks they are current.
diagrams: setup
	@$(REPO)/tools/diagrams.sh

# The documentation site (tools/docs.sh): antsibull-docs lint, antsibull-docs + Sphinx offline with warnings as errors,
# the offline link check and a look at a few pages in headless Chromium. Part of `make test`.
docs: setup
	@$(REPO)/tools/docs.sh

# The real-cloud lane (docs/cloud-lane.md): without ALICLOUD_EIP_CLOUD_LANE=1 it says "skipped: no account" and runs
# nothing; with it, missing credentials fail it. No NOPROXY here: the real cloud may need this shell's proxy (the lane
# drops the proxy itself only for an emulator endpoint).
cloud-test: setup
	@$(REPO)/tools/cloud-lane.sh

# The lane's own test (part of `make test`): the lane against an emulator that plays the account.
cloud-lane-proof: setup
	@cd $(REPO) && $(NOPROXY) PYTHONPATH=$(REPO) $(PY) -m pytest -p no:cacheprovider -q -ra --durations=5 \
		tests/cloud-lane

# The collection as users get it (issue 13, part of `make test`): the inventory plugin through ansible-inventory, the
# built tarball installed into an empty path (README playbook, EE galaxy stage) and an AWX-like job through
# ansible-runner, all against the emulator.
user-tests: setup
	@cd $(REPO) && $(NOPROXY) PYTHONPATH=$(REPO) $(PY) -m pytest -p no:cacheprovider -q -ra --durations=5 tests/user

clean:
	rm -rf $(REPO)/.cache $(REPO)/tests/output
