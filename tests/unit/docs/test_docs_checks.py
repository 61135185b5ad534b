# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The checks `make docs` runs over the built site can fail: the offline link checker (tools/docs/linkcheck.py)
and the look in headless Chromium (tools/docs/browser_check.py) are given a small site with a broken link, a
missing anchor and a missing image, and must name each; the same site repaired passes both. Also the page
tools/docs/prepare.py makes of a playbook, from the playbook's header and guard (issue 16)."""

from __future__ import annotations

import importlib.util
import os
import shutil

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))


def load(name: str):
    spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, "tools", "docs", f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


linkcheck = load("linkcheck")
browser_check = load("browser_check")
prepare = load("prepare")

SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><text x="2" y="15">eip</text>'
    '<path d="M0 0 L10 10"/></svg>'
)


def write(path, text: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)


@pytest.fixture(name="site")
def site_fixture(tmp_path):
    write(tmp_path / "pic" / "mode.svg", SVG)
    write(
        tmp_path / "index.html",
        '<html><body><h1 id="top">Index</h1><a href="guide.html#modes">modes</a> <a href="https://example.org/">x</a>'
        '<img src="pic/mode.svg" alt="mode"></body></html>',
    )
    write(tmp_path / "guide.html", '<html><body><h1 id="modes">Guide</h1><a href="index.html#top">up</a></body></html>')
    return tmp_path


def test_linkcheck_passes_a_sound_site(site):
    broken, local, external = linkcheck.check(str(site))
    assert (broken, local, external) == ([], 3, 1)


def test_linkcheck_names_a_missing_page_anchor_and_image(site):
    write(
        site / "guide.html",
        '<html><body><h1 id="modes">Guide</h1><a href="gone.html">a</a><a href="index.html#nowhere">b</a>'
        '<img src="pic/missing.svg"></body></html>',
    )
    broken = linkcheck.check(str(site))[0]
    assert broken == [
        "guide.html: <a> gone.html: no such file in the site",
        "guide.html: <a> index.html#nowhere: no id 'nowhere' in index.html",
        "guide.html: <img> pic/missing.svg: no such file in the site",
    ]
    assert linkcheck.main([str(site)]) == 1


def test_linkcheck_refuses_a_link_out_of_the_site(site):
    write(site / "guide.html", '<html><body><h1 id="modes">Guide</h1><a href="/">home</a></body></html>')
    broken = linkcheck.check(str(site))[0]
    assert broken == ["guide.html: <a> /: no such file in the site"]


chromium = pytest.mark.skipif(
    not any(shutil.which(name) for name in browser_check.CHROMIUM_NAMES),
    reason="chromium is missing: make setup installs Debian's chromium package",
)


@chromium
def test_chromium_sees_a_page_and_a_picture(site):
    assert browser_check.main([str(site), "index.html", "pic/mode.svg"]) == 0


@chromium
def test_chromium_sees_a_missing_image(site, capsys):
    write(
        site / "index.html",
        '<html><body><h1>Index</h1><img src="pic/missing.png" alt="gone"><img src="pic/mode.svg"></body></html>',
    )
    assert browser_check.main([str(site), "index.html", "pic/mode.svg"]) == 1
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 1, errors
    assert errors[0].startswith("browser_check: index.html: image file://")
    assert errors[0].endswith("/pic/missing.png did not load")


@chromium
def test_chromium_sees_a_page_without_content_and_a_script_error(site, capsys):
    write(site / "index.html", "<html><body><p>no heading</p><script>notDefined()</script></body></html>")
    write(site / "pic" / "mode.svg", '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"></svg>')
    assert browser_check.main([str(site), "index.html", "pic/mode.svg"]) == 1
    errors = capsys.readouterr().err
    assert "index.html: no <h1> in what Chromium rendered" in errors
    assert "pic/mode.svg: Chromium drew no SVG picture" in errors
    assert "script error: Uncaught ReferenceError: notDefined is not defined" in errors


def test_a_playbook_page_has_its_header_plays_and_guard(tmp_path):
    repo = tmp_path / "repo"
    write(repo / "playbooks" / "tasks" / "guard_target.yml", "---\n# Refuses a target of every host.\n- name: x\n")
    write(
        repo / "playbooks" / "swap.yml",
        "---\n# Swap the EIP of a host.\n#   ansible-playbook alicloud.eip.swap -e target=web\n"
        "- name: Check the target\n  hosts: localhost\n  tasks:\n"
        "    - name: Refuse a bad target\n      ansible.builtin.include_tasks: tasks/guard_target.yml\n"
        "- name: Swap\n  hosts: web\n  roles:\n    - role: alicloud.eip.multi_eip\n",
    )
    page = prepare.playbook_page(str(repo), "swap")
    assert page.startswith(".. _ansible_collections.alicloud.eip.docsite.playbook_swap:\n\nalicloud.eip.swap\n=")
    assert "    Swap the EIP of a host.\n      ansible-playbook alicloud.eip.swap -e target=web\n" in page
    assert "1. **Check the target** on hosts ``localhost``" in page
    assert "- guard: Refuse a bad target (``tasks/guard_target.yml``, below)" in page
    assert "- role :ref:`alicloud.eip.multi_eip <ansible_collections.alicloud.eip.multi_eip_role>`" in page
    assert "Guard ``tasks/guard_target.yml``" in page and "    Refuses a target of every host." in page


@pytest.fixture(name="repo")
def repo_fixture(tmp_path):
    repo = tmp_path / "repo"
    write(repo / "roles" / "eni_host" / "README.md", "# eni_host\n")
    write(repo / "playbooks" / "multi_eip.yml", "---\n- name: x\n  hosts: all\n")
    write(repo / "tests" / "emulator" / "worlds" / "demo.yml", "---\n")
    write(repo / "docs" / "ram-policy.json", "{}\n")
    write(repo / "docs" / "eni.md", "# ENI\n")
    return repo


@pytest.mark.parametrize(
    "link, shown",
    [
        ("[ENIs](eni.md#key-and-options)", "[ENIs](eni.md#key-and-options)"),
        ("[web](https://example.org/x.md)", "[web](https://example.org/x.md)"),
        ("![layers](diagrams/layers.svg)", "![layers](diagrams/layers.svg)"),
        ("[the role](../roles/eni_host/README.md)", "{ref}`the role <ansible_collections.alicloud.eip.eni_host_role>`"),
        (
            "[playbook](../playbooks/multi_eip.yml)",
            "{ref}`playbook <ansible_collections.alicloud.eip.docsite.playbook_multi_eip>`",
        ),
        ("[policy](ram-policy.json)", "[policy](ram-policy.json)"),
        ("[demo world](../tests/emulator/worlds/demo.yml)", "demo world (`tests/emulator/worlds/demo.yml`)"),
    ],
)
def test_a_guide_link_as_the_site_shows_it(repo, tmp_path, link, shown):
    guide_dir = tmp_path / "site" / "guides"
    guide_dir.mkdir(parents=True)
    match = prepare.LINK.search(link)
    assert prepare.rewrite_link(match, {"eni.md"}, str(guide_dir), str(repo)) == shown


def test_a_guide_link_to_a_missing_file_stops_the_build(repo, tmp_path):
    match = prepare.LINK.search("[gone](../roles/gone/README.md)")
    with pytest.raises(SystemExit, match="links to ../roles/gone/README.md, which does not exist"):
        prepare.rewrite_link(match, {"eni.md"}, str(tmp_path), str(repo))


def test_every_guide_is_laid_out_and_listed(repo, tmp_path):
    docsite = tmp_path / "site"
    write(docsite / "guides.rst", "Guides\n======\n\n.. added here by tools/docs/prepare.py\n")
    write(docsite / "playbooks.rst", "Playbooks\n=========\n\n.. added here by tools/docs/prepare.py\n")
    write(repo / "docs" / "multi-eip.md", "See [the role](../roles/eni_host/README.md).\n")
    assert prepare.main([str(repo), str(docsite)]) == 0
    assert sorted(os.listdir(docsite / "guides")) == ["eni.md", "multi-eip.md"]
    assert (docsite / "guides.rst").read_text().endswith("   :maxdepth: 1\n\n   guides/eni\n   guides/multi-eip\n")
    assert (docsite / "playbooks.rst").read_text().endswith("\n   playbooks/multi_eip\n")
    assert (
        "{ref}`the role <ansible_collections.alicloud.eip.eni_host_role>`"
        in (docsite / "guides" / "multi-eip.md").read_text()
    )
