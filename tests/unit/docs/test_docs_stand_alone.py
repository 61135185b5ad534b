# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The documentation stands on its own: no document of the repository cites the workplace's shared/ folder
(shared/reference/..., shared/reviews/..., ../shared/STYLE.md), which is neither in the repository nor in its tarball.
Documents cite the public sources instead (the vendor's pages, the SDK packages on PyPI); the house style is
docs/style.md (issue 16)."""

from __future__ import annotations

import os
import re

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
DOCUMENT_SUFFIXES = (".md", ".rst", ".txt")
# Directories that are not the repository's documents (tools' caches, virtualenvs, test output).
SKIPPED_DIRECTORIES = {".git", ".venv", ".cache", "output", "node_modules", ".pytest_cache", "__pycache__"}
# The folder itself, and the file names of the notes it holds (cited without the folder, as "alibaba-api.md §8.1").
SHARED_CITATION = re.compile(
    r"(?:\.\./)+shared/|\bshared/(?:reference|reviews|STYLE\.md)"
    r"|\b(?:alibaba-api|host-networking|next-capabilities|test-infra|anchors-cloud)\.md\b|\bspec-associate-eip\.txt\b"
)


def documents() -> list[str]:
    found = []
    for directory, subdirectories, files in os.walk(ROOT):
        subdirectories[:] = [name for name in subdirectories if name not in SKIPPED_DIRECTORIES]
        found += [os.path.join(directory, name) for name in files if name.endswith(DOCUMENT_SUFFIXES)]
    return sorted(found)


def citations(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if SHARED_CITATION.search(line)]


def test_the_walk_finds_the_documents():
    names = {os.path.relpath(path, ROOT) for path in documents()}
    assert {"README.md", "docs/emulator.md", "docs/emulator-eip.md", "docs/style.md"} <= names


@pytest.mark.parametrize(
    "line",
    [
        "Facts come from `shared/reference/alibaba-api.md` (quoted as §N).",
        "- House style: `../shared/STYLE.md`.",
        "see ../../shared/notes.md",
        "the review (`shared/reviews/architecture-2026-12.md`)",
        "| ENI states | alibaba-api.md §8.1 | waiter |",
        "assumed to be the NLB's (next-capabilities.md §1.4)",
    ],
)
def test_a_citation_of_shared_is_recognised(line):
    assert citations(line) == [line]


@pytest.mark.parametrize(
    "line", ["extensions/molecule/eip_shared/dataplane.py", "a shared vSwitch", "eni_shared/lab.py"]
)
def test_the_repository_own_shared_directories_are_not_citations(line):
    assert citations(line) == []


def test_no_document_cites_the_shared_folder():
    offenders = {}
    for path in documents():
        with open(path, encoding="utf-8", errors="replace") as handle:
            found = citations(handle.read())
        if found:
            offenders[os.path.relpath(path, ROOT)] = found
    assert not offenders, f"cite the public source instead of shared/ (docs/emulator.md shows how): {offenders}"
