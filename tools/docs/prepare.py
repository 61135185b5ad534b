# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Lay the pages antsibull-docs does not make into the Sphinx source tree of `make docs` (tools/docs.sh).

    prepare.py REPO DOCSITE

- every guide docs/*.md goes to DOCSITE/guides/ (the built guides.rst gets a toctree of all of them, so a new
  guide is on the site without another edit).  Its links are rewritten for the site: a link to another guide
  stays a link (MyST resolves it), a link to a role's README goes to the role's page, a link to a playbook goes to
  the playbook's page, a link to a file the site does not carry becomes the file's path as plain text (the
  repository named in galaxy.yml is not a public address);
- (tools/docs.sh renders the diagrams into DOCSITE/guides/diagrams/, where the guides' `diagrams/NAME.svg` is);
- every playbook playbooks/*.yml gets DOCSITE/playbooks/NAME.rst (antsibull-docs has no page type for
  playbooks): its header comment, its plays with their hosts, guards, roles and tasks, and the header of each guard
  it includes.  The example inventory gets a page with its text.
"""

from __future__ import annotations

import os
import re
import shutil
import sys

import yaml

LINK = re.compile(r"(!?)\[([^\]]*)\]\(([^)\s]+)\)")
ROLE_README = re.compile(r"^(?:\.\./)*roles/(?P<role>[\w]+)/README\.md$")
PLAYBOOK = re.compile(r"^(?:\.\./)*playbooks/(?P<name>[\w.]+)\.yml$")
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)
HEADER_RULE = "=" * 100


def read(path: str) -> str:
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def write(path: str, text: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)


def playbook_label(name: str) -> str:
    return f"ansible_collections.alicloud.eip.docsite.playbook_{name.replace('.', '_')}"


def rewrite_link(match: re.Match, guides: set[str], guide_dir: str, repo: str) -> str:
    """One Markdown link of a guide, as the site shows it."""
    bang, text, target = match.groups()
    if bang or EXTERNAL.match(target) or target.startswith("#"):
        return match.group(0)
    path, anchor = (target.split("#", 1) + [""])[:2]
    normalized = os.path.normpath(os.path.join("docs", path)).replace(os.sep, "/")
    if normalized.startswith("docs/") and os.path.basename(normalized) in guides and "/" not in normalized[5:]:
        return match.group(0)
    role = ROLE_README.match(normalized)
    if role and os.path.isdir(os.path.join(repo, "roles", role["role"])):
        return f"{{ref}}`{text} <ansible_collections.alicloud.eip.{role['role']}_role>`"
    playbook = PLAYBOOK.match(normalized)
    if playbook and os.path.isfile(os.path.join(repo, normalized)):
        return f"{{ref}}`{text} <{playbook_label(playbook['name'])}>`"
    if normalized.startswith("docs/") and os.path.isfile(os.path.join(repo, normalized)) and not anchor:
        # A file beside the guides (ram-policy.json): the site carries it, MyST makes it a download.
        shutil.copy(os.path.join(repo, normalized), os.path.join(guide_dir, os.path.basename(normalized)))
        return match.group(0)
    if not os.path.exists(os.path.join(repo, normalized)):
        raise SystemExit(f"prepare: docs/{path} links to {target}, which does not exist in the repository")
    shown = text if text.strip("`") == normalized else f"{text} ({normalized})"
    return shown if "`" in shown else f"{shown.replace(normalized, f'`{normalized}`')}"


def guides(repo: str, docsite: str) -> list[str]:
    source = os.path.join(repo, "docs")
    names = sorted(name for name in os.listdir(source) if name.endswith(".md"))
    target = os.path.join(docsite, "guides")
    os.makedirs(target, exist_ok=True)
    for name in names:
        text = LINK.sub(lambda m: rewrite_link(m, set(names), target, repo), read(os.path.join(source, name)))
        write(os.path.join(target, name), text)
    return names


def comment_block(lines: list[str]) -> list[str]:
    """The leading comment of a YAML file (after `---`), without the `# `."""
    block = []
    for line in lines:
        if line.strip() == "---" and not block:
            continue
        if not line.startswith("#"):
            break
        block.append(line[2:] if line.startswith("# ") else line[1:])
    return block


def literal(lines: list[str]) -> list[str]:
    return [".. code-block:: text", ""] + [f"    {line}".rstrip() for line in lines] + [""]


def task_lines(tasks: list, playbook_dir: str, guards: dict[str, list[str]]) -> list[str]:
    out = []
    for task in tasks or []:
        name = task.get("name", "(unnamed)")
        included = task.get("ansible.builtin.include_tasks") or task.get("ansible.builtin.import_tasks")
        if included:
            guards.setdefault(included, comment_block(read(os.path.join(playbook_dir, included)).splitlines()))
            out.append(f"- guard: {name} (``{included}``, below)")
        else:
            out.append(f"- {name}")
    return out


def playbook_page(repo: str, name: str) -> str:
    path = os.path.join(repo, "playbooks", f"{name}.yml")
    text = read(path)
    title = f"alicloud.eip.{name}" if name != "inventory.example" else "Example inventory (inventory.example.yml)"
    lines = [f".. _{playbook_label(name)}:", "", title, "=" * len(title), ""]
    lines += [f"Generated from ``playbooks/{name}.yml`` by ``tools/docs/prepare.py``.", ""]
    header = comment_block(text.splitlines())
    if header:
        lines += literal(header)
    data = yaml.safe_load(text)
    if not isinstance(data, list):
        lines += ["The file", "--------", "", ".. code-block:: yaml", ""]
        lines += [f"    {line}".rstrip() for line in text.splitlines()] + [""]
        return "\n".join(lines)
    guards: dict[str, list[str]] = {}
    lines += ["Plays", "-----", ""]
    for number, play in enumerate(data, 1):
        lines += [f"{number}. **{play.get('name', '(unnamed play)')}** on hosts ``{play.get('hosts')}``", ""]
        body = []
        for section in ("pre_tasks", "tasks"):
            body += task_lines(play.get(section), os.path.dirname(path), guards)
        for role in play.get("roles") or []:
            role_name = role.get("role") if isinstance(role, dict) else role
            if role_name.startswith("alicloud.eip."):
                body.append(f"- role :ref:`{role_name} <ansible_collections.{role_name}_role>`")
            else:
                body.append(f"- role ``{role_name}``")
        body += task_lines(play.get("post_tasks"), os.path.dirname(path), guards)
        lines += [f"   {line}" for line in body] + [""]
    for included, header_lines in guards.items():
        heading = f"Guard ``{included}``"
        lines += [heading, "-" * len(heading), ""]
        lines += literal(header_lines) if header_lines else ["(no header comment)", ""]
    return "\n".join(lines)


def playbooks(repo: str, docsite: str) -> list[str]:
    names = sorted(name[:-4] for name in os.listdir(os.path.join(repo, "playbooks")) if name.endswith(".yml"))
    for name in names:
        write(os.path.join(docsite, "playbooks", f"{name}.rst"), playbook_page(repo, name))
    return names


def add_toctree(docsite: str, page: str, entries: list[str]) -> None:
    """Append the toctree of DOCSITE/PAGE.rst (an extra doc of docs/docsite/rst/, copied by antsibull-docs)."""
    path = os.path.join(docsite, f"{page}.rst")
    text = read(path)
    if "added here by tools/docs/prepare.py" not in text:
        raise SystemExit(f"prepare: {path} lacks the comment that marks where its toctree goes")
    toctree = ["", ".. toctree::", "   :maxdepth: 1", ""] + [f"   {page}/{entry}" for entry in entries]
    write(path, text.rstrip() + "\n" + "\n".join(toctree) + "\n")


def main(argv: list[str]) -> int:
    repo, docsite = argv
    done = guides(repo, docsite)
    pages = playbooks(repo, docsite)
    add_toctree(docsite, "guides", [name[:-3] for name in done])
    add_toctree(docsite, "playbooks", pages)
    print(f"prepare: {len(done)} guides and {len(pages)} playbook pages in {docsite}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
