#!/usr/bin/env bash
# `make docs`: the collection's documentation site, offline, warnings as errors.
#
# antsibull-docs writes a page for every module, filter, inventory plugin and role (argument specs) plus the extra
# docs of docs/docsite/ (extra-docs.yml, links.yml); tools/docs/prepare.py adds the Markdown guides of docs/ and a
# page per playbook; tools/diagrams.sh renders the pictures from docs/diagrams/*.dot into the site; Sphinx (with
# MyST for the guides, no intersphinx: nothing is fetched) builds the HTML with -W; tools/docs/linkcheck.py then
# checks every local link, anchor and image of the result, and tools/docs/browser_check.py looks at four pages in
# headless Chromium. The site is .cache/docs/html/index.html.
# The tools live in their own virtualenv, .cache/docs-venv, from requirements-docs.lock (tools/setup.sh builds it).
# Cost (make test runs it): 54 s wall, 30 s CPU on the 2-core test machine at load 7 (2026-12-02): lint 24 s,
# antsibull-docs 5 s, Sphinx 19 s, link check and Chromium 6 s; each step prints its seconds.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${repo}/.cache/docs-venv"
work="${DOCS_BUILD_DIR:-${repo}/.cache/docs}"
started=$(date +%s)
step_started=${started}

# The seconds the previous step took (make test's cost of the docs is the sum; the report quotes them).
took() {
    local now
    now=$(date +%s)
    echo "docs: ... $((now - step_started))s"
    step_started=${now}
}

view="$("${repo}/tools/collection-tree.sh")"
export ANSIBLE_COLLECTIONS_PATH="${view%/ansible_collections/*}"
export PATH="${venv}/bin:${PATH}"
export ANSIBLE_NOCOLOR=1

rm -rf "${work}"
mkdir -p "${work}/src"
chmod 700 "${work}" "${work}/src"  # antsibull-docs wants its destination writable by its owner only

# Schema and markup of every plugin and role (an M() naming a role fails here) and the references of the extra docs.
# --skip-rstcheck: the RST it would check is what Sphinx builds below with -W, a stricter check (saves ~25 s).
echo "docs: antsibull-docs lint-collection-docs --plugin-docs"
(cd "${view}" && antsibull-docs lint-collection-docs --plugin-docs --skip-rstcheck --check-extra-docs-refs .)
took

echo "docs: antsibull-docs collection alicloud.eip -> ${work#"${repo}"/}/src"
antsibull-docs collection --use-current --squash-hierarchy --fail-on-error --cleanup everything \
    --dest-dir "${work}/src" alicloud.eip
took

"${venv}/bin/python" "${repo}/tools/docs/prepare.py" "${repo}" "${work}/src/docsite"
"${repo}/tools/diagrams.sh" "${work}/src/docsite/guides/diagrams" >/dev/null

echo "docs: sphinx-build -W (warnings are errors)"
sphinx-build -q -W --keep-going -b html -c "${repo}/tools/docs" -d "${work}/doctrees" "${work}/src" "${work}/html"
took

"${venv}/bin/python" "${repo}/tools/docs/linkcheck.py" "${work}/html"
# The index, a module page, a guide with pictures and one picture, as a person would see them (headless Chromium).
"${venv}/bin/python" "${repo}/tools/docs/browser_check.py" "${work}/html" index.html eip_association_module.html \
    docsite/guides/association-modes.html _images/mode-cut-through.svg
took
echo "docs: site ${work}/html/index.html (built in $(($(date +%s) - started))s)"
