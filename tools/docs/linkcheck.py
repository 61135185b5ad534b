# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Offline link check of a built HTML site (`make docs`): every local link, anchor, image, stylesheet and script.

    linkcheck.py SITE_DIR

For each .html (and .svg) file under SITE_DIR, every href/src/xlink:href that is not an external address must name a
file inside SITE_DIR, and a #fragment must be an id (or name) in the page it points to. External addresses (https:,
mailto:) are counted, not fetched: the check runs without a network. Exit status 1 with one line per broken
reference; 0 with a count of what was checked.
"""

from __future__ import annotations

import os
import re
import sys
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit

EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)
REFERENCE_ATTRIBUTES = {"href", "src", "xlink:href"}


class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.references: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name == "id" or (name == "name" and tag == "a"):
                self.ids.add(value)
            elif name in REFERENCE_ATTRIBUTES and not (tag == "link" and ("rel", "canonical") in attrs):
                self.references.append((tag, value))


def parse(path: str, cache: dict[str, Page]) -> Page:
    if path not in cache:
        page = Page()
        with open(path, encoding="utf-8", errors="replace") as handle:
            page.feed(handle.read())
        cache[path] = page
    return cache[path]


def check(site: str) -> tuple[list[str], int, int]:
    site = os.path.realpath(site)
    cache: dict[str, Page] = {}
    broken, local, external = [], 0, 0
    for directory, _subdirectories, files in os.walk(site):
        for name in sorted(files):
            if not name.endswith((".html", ".svg")):
                continue
            path = os.path.join(directory, name)
            for tag, reference in parse(path, cache).references:
                if EXTERNAL.match(reference) or reference.startswith("//"):
                    external += 1
                    continue
                local += 1
                parts = urlsplit(reference)
                target = path if not parts.path else os.path.realpath(os.path.join(directory, unquote(parts.path)))
                where = f"{os.path.relpath(path, site)}: <{tag}> {reference}"
                if os.path.isdir(target):
                    target = os.path.join(target, "index.html")
                if not target.startswith(site + os.sep) or not os.path.isfile(target):
                    broken.append(f"{where}: no such file in the site")
                elif parts.fragment and target.endswith(".html"):
                    if unquote(parts.fragment) not in parse(target, cache).ids:
                        broken.append(f"{where}: no id {parts.fragment!r} in {os.path.relpath(target, site)}")
    return broken, local, external


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not os.path.isdir(argv[0]):
        print("usage: linkcheck.py SITE_DIR", file=sys.stderr)
        return 2
    broken, local, external = check(argv[0])
    for line in broken:
        print(f"linkcheck: broken: {line}", file=sys.stderr)
    if broken:
        print(f"linkcheck: {len(broken)} broken of {local} local references", file=sys.stderr)
        return 1
    if local == 0:
        print("linkcheck: no local reference found: is this a built site?", file=sys.stderr)
        return 1
    print(f"linkcheck: {local} local references (links, anchors, images) all resolve; {external} external not fetched")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
