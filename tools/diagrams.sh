#!/usr/bin/env bash
# Render every Graphviz source docs/diagrams/NAME.dot to docs/diagrams/NAME.svg (`make diagrams`), or into the
# directory given as the first argument (tests/unit/docs/test_diagrams.py renders into a temporary one and
# compares). Each SVG carries the sha256 of its source, so a source edited without re-rendering is caught even
# where `dot` is missing. `dot` comes from Debian's graphviz package (tools/setup.sh installs it).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
sources="${repo}/docs/diagrams"
output="${1:-${sources}}"
if ! command -v dot >/dev/null 2>&1; then
    echo "diagrams: dot not found; it comes from the graphviz package (make setup installs it)" >&2
    exit 1
fi
mkdir -p "${output}"
shopt -s nullglob
rendered=0
for source in "${sources}"/*.dot; do
    name="$(basename "${source}" .dot)"
    digest="$(sha256sum "${source}" | cut -d' ' -f1)"
    target="${output}/${name}.svg"
    # The stamp goes after dot's own header comments; the rendering itself is byte-for-byte dot's.
    dot -Tsvg "${source}" |
        sed "/^<!-- Title: /a <!-- Source: docs/diagrams/${name}.dot sha256 ${digest} (make diagrams) -->" \
            >"${target}.$$"
    mv "${target}.$$" "${target}"
    echo "diagrams: ${target#"${repo}"/}"
    rendered=$((rendered + 1))
done
if [[ ${rendered} -eq 0 ]]; then
    echo "diagrams: no .dot source in ${sources}" >&2
    exit 1
fi
