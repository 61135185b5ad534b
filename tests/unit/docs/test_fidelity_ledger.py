# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fidelity ledger (docs/fidelity.md) and the UNCONFIRMED markers in code and docs stay in step (issue 15 item 5).

Every marker carries the ledger id of its behaviour, ``UNCONFIRMED [fid:<id>]``, on its line or the next one; an
item of a doc section headed "UNCONFIRMED ..." carries one anywhere in the item.  The ids name behaviours, not
files, so code that moves between files keeps its markers valid.  The test fails on a marker without an id, an id
the ledger does not list, a ledger entry no marker uses, and an entry without its four parts.
"""

from __future__ import annotations

import os
import re

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
LEDGER = os.path.join(ROOT, "docs", "fidelity.md")
# Where markers live: code and docs of the collection, its tests and tools (tests/output is ansible-test's).
SCANNED = ("plugins", "tests", "docs", "roles", "playbooks", "extensions", "tools", "meta", "changelogs", "README.md")
SKIPPED_DIRS = {"__pycache__", "output", ".pytest_cache"}
TEXT_SUFFIXES = (".py", ".md", ".yml", ".yaml", ".j2", ".sh", ".json", ".txt", ".cfg", ".ini", ".rst")
WORD = "UNCONFIRMED"
FID = re.compile(r"\[fid:([a-z0-9][a-z0-9-]*)\]")
# How docs spell the convention itself ("marked UNCONFIRMED [fid:<id>]"): not a marker of a behaviour.
PLACEHOLDER = "[fid:<id>]"
ENTRY = re.compile(r"^### `([a-z0-9][a-z0-9-]*)`\s*$", re.MULTILINE)
PARTS = ("**Behaviour**", "**Where it matters**", "**The collection**", "**Lane step**")
ITEM = re.compile(r"^(?:- |\d+\. )")


def scanned_files(root=ROOT):
    """Text files under the scanned folders, without the ledger and this test."""
    for top in SCANNED:
        path = os.path.join(root, top)
        if os.path.isfile(path):
            yield path
            continue
        for folder, dirs, files in os.walk(path):
            dirs[:] = sorted(name for name in dirs if name not in SKIPPED_DIRS)
            for name in sorted(files):
                full = os.path.join(folder, name)
                if name.endswith(TEXT_SUFFIXES) and full not in (LEDGER, os.path.abspath(__file__)):
                    yield full


def markers(path, text):
    """([(where, [ids])] of every marker of ``text``, [where of every marker without an id])."""
    found, missing = [], []
    lines = text.split("\n")
    is_markdown = path.endswith(".md")
    section = False  # inside a markdown section headed "UNCONFIRMED ..."
    item = None  # (where, [lines]) of the current item of such a section
    for index, line in enumerate(lines):
        where = f"{os.path.relpath(path, ROOT)}:{index + 1}"
        heading = is_markdown and re.match(r"^#+\s", line)
        if heading or (item and (not line.strip() or ITEM.match(line))):
            if item:
                ids = FID.findall(" ".join(item[1]))
                (found.append((item[0], ids)) if ids else missing.append(item[0] + " (item of an UNCONFIRMED section)"))
            item = None
        if heading:
            section = bool(re.match(r"^#+\s+UNCONFIRMED\b", line))
            continue
        if section and ITEM.match(line):
            item = (where, [line])
            continue
        if item:
            item[1].append(line)
        if WORD not in line or PLACEHOLDER in line:
            continue
        ids = FID.findall(line) or (FID.findall(lines[index + 1]) if index + 1 < len(lines) else [])
        if ids:
            found.append((where, ids))
        elif not item:
            missing.append(where)
    if item:
        ids = FID.findall(" ".join(item[1]))
        (found.append((item[0], ids)) if ids else missing.append(item[0] + " (item of an UNCONFIRMED section)"))
    return found, missing


def ledger_entries(text):
    """{id: entry text} of the ledger."""
    starts = [(match.group(1), match.start()) for match in ENTRY.finditer(text)]
    entries = {}
    for number, (fid, start) in enumerate(starts):
        end = starts[number + 1][1] if number + 1 < len(starts) else len(text)
        entries[fid] = text[start:end].split("\n## ")[0]
    return entries


def scan(root=ROOT):
    """({id: [where]}, [markers without an id]) over the whole tree."""
    used, missing = {}, []
    for path in scanned_files(root):
        with open(path, encoding="utf-8", errors="replace") as handle:
            text = handle.read()
        if WORD not in text:
            continue
        found, lacking = markers(path, text)
        missing.extend(lacking)
        for where, ids in found:
            for fid in ids:
                used.setdefault(fid, []).append(where)
    return used, missing


@pytest.fixture(scope="module")
def ledger():
    with open(LEDGER, encoding="utf-8") as handle:
        return ledger_entries(handle.read())


@pytest.fixture(scope="module")
def scanned():
    return scan()


def test_every_marker_has_a_ledger_id(scanned):
    _used, missing = scanned
    assert missing == [], "add [fid:<id>] (an id of docs/fidelity.md) to these UNCONFIRMED markers"


def test_every_id_used_is_in_the_ledger(scanned, ledger):
    used, _missing = scanned
    unknown = {fid: where for fid, where in used.items() if fid not in ledger}
    assert unknown == {}, "describe these ids in docs/fidelity.md"


def test_every_ledger_entry_is_used(scanned, ledger):
    used, _missing = scanned
    assert sorted(set(ledger) - set(used)) == [], "no marker uses these ledger entries any more: remove or fix them"


def test_every_entry_has_its_four_parts(ledger):
    incomplete = {fid: [part for part in PARTS if part not in entry] for fid, entry in ledger.items()}
    assert {fid: parts for fid, parts in incomplete.items() if parts} == {}
    assert len(ledger) >= 40  # the ledger holds every behaviour the code marks, not a sample


def test_the_scan_sees_markers_in_code_and_docs(scanned):
    used, _missing = scanned
    places = {where.split(":")[0] for wheres in used.values() for where in wheres}
    for top in ("plugins/", "tests/emulator/", "docs/", "roles/"):
        assert any(place.startswith(top) for place in places), top


@pytest.mark.parametrize(
    ("name", "text", "found", "missing"),
    [
        ("a.py", "# UNCONFIRMED [fid:x-y]: why\n", [("a.py:1", ["x-y"])], []),
        ("a.py", "# the code is UNCONFIRMED\n# [fid:x-y]\n", [("a.py:1", ["x-y"])], []),
        ("a.py", "# the code is UNCONFIRMED\n# and more\n", [], ["a.py:1"]),
        (
            "a.md",
            "## UNCONFIRMED\n\n- one [fid:a]\n- two\n  continued [fid:b] [fid:c]\n",
            [("a.md:3", ["a"]), ("a.md:4", ["b", "c"])],
            [],
        ),
        (
            "a.md",
            "## UNCONFIRMED choices\n\n1. one\n2. two [fid:b]\n\n## Next\n\n- free item\n",
            [("a.md:4", ["b"])],
            ["a.md:3 (item of an UNCONFIRMED section)"],
        ),
        (
            "a.md",
            "## Limits and UNCONFIRMED points\n\n- free item\n- this is UNCONFIRMED [fid:z]\n",
            [("a.md:4", ["z"])],
            [],
        ),
        ("a.md", "choices are marked **UNCONFIRMED [fid:<id>]** here\n", [], []),
        ("a.md", "## UNCONFIRMED\n\n- the last item has none", [], ["a.md:3 (item of an UNCONFIRMED section)"]),
    ],
)
def test_marker_rules(name, text, found, missing):
    assert markers(os.path.join(ROOT, name), text) == (found, missing)


def test_the_checks_fail_on_a_tree_out_of_step(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "x.md").write_text(
        "An UNCONFIRMED [fid:known] thing and an UNCONFIRMED one.\nUNCONFIRMED too\n"
    )
    used, missing = scan(str(tmp_path))
    assert used == {"known": ["docs/x.md:1"]} or set(used) == {"known"}
    assert len(missing) == 1 and missing[0].endswith("docs/x.md:2")
    entries = ledger_entries("## Area\n\n### `known`\n- **Behaviour**: b\n\n### `stale`\n- **Behaviour**: b\n")
    assert set(entries) == {"known", "stale"}
    assert sorted(set(entries) - set(used)) == ["stale"]
