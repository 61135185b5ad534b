# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Look at pages of the built site the way a person would: in headless Chromium (Debian's chromium package).

    browser_check.py SITE_DIR PAGE...

One Chromium run loads every PAGE (a path inside SITE_DIR: an .html page or an .svg picture) from disk in a frame of
a small harness page, lets its scripts run, and reports what the browser made of it: for an HTML page its <h1>
count and every image (loaded with a size, or broken); for a picture, that it is an <svg> that draws something.
A page passes when it loaded, has an <h1> (an .svg: a drawn box) and no image of the site failed; the console must
show no uncaught script error. (Stylesheets and scripts are files the offline link check, linkcheck.py, finds.) Addresses outside the site (https:)
are not fetched offline and not counted. Exit status 1 names each problem.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from urllib.parse import quote

CHROMIUM_NAMES = ("chromium", "chromium-browser")
SCRIPT_ERROR = re.compile(r'CONSOLE[^\]]*\] "(Uncaught [^"]*)", source: (\S+)')
RESULT = re.compile(r'<pre id="result">(.*?)</pre>', re.S)

# For each frame: what the browser made of the page, as JSON in <pre id="result"> once every frame has loaded.
HARNESS = """<!DOCTYPE html><html><head><meta charset="utf-8"></head><body><pre id="result">pending</pre>
<script>
var pages = %(pages)s, results = {}, left = pages.length;
function inspect(page, frame) {
  var report = {loaded: true, h1: 0, images: [], svg: false, drawn: 0};
  try {
    var doc = frame.contentDocument, root = doc.documentElement;
    report.svg = root.tagName.toLowerCase() === 'svg';
    if (report.svg) { var box = root.getBBox(); report.drawn = box.width * box.height; }
    report.h1 = doc.querySelectorAll('h1').length;
    Array.prototype.forEach.call(doc.images, function (image) {
      report.images.push([image.src, image.complete && image.naturalWidth > 0]);
    });
  } catch (error) { report.loaded = false; report.error = String(error); }
  results[page] = report;
  if (--left === 0) { document.getElementById('result').textContent = JSON.stringify(results); }
}
pages.forEach(function (page) {
  var frame = document.createElement('iframe');
  frame.style.width = '1200px'; frame.style.height = '900px';
  frame.addEventListener('load', function () { setTimeout(function () { inspect(page[0], frame); }, 300); });
  frame.src = page[1];
  document.body.appendChild(frame);
});
</script></body></html>
"""


def find_chromium() -> str:
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    raise SystemExit("browser_check: chromium not found; it comes from Debian's chromium package (make setup)")


def look(chromium: str, site: str, pages: list[str]) -> tuple[dict, str]:
    """Chromium's report per page (see HARNESS), and its console."""
    with tempfile.TemporaryDirectory(prefix="browser-check-") as work:
        frames = [[page, "file://" + quote(os.path.realpath(os.path.join(site, page)))] for page in pages]
        harness = os.path.join(work, "harness.html")
        with open(harness, "w", encoding="utf-8") as handle:
            handle.write(HARNESS % {"pages": json.dumps(frames)})
        argv = [
            chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--allow-file-access-from-files", f"--user-data-dir={os.path.join(work, 'profile')}",
            "--enable-logging=stderr", "--v=0", "--virtual-time-budget=10000", "--dump-dom", f"file://{harness}",
        ]  # fmt: skip
        answer = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)
    match = RESULT.search(answer.stdout)
    if answer.returncode != 0 or not match or match.group(1) == "pending":
        raise SystemExit(f"browser_check: chromium exited {answer.returncode} without a report: {answer.stderr[-500:]}")
    return json.loads(html.unescape(match.group(1))), answer.stderr


def problems_of(page: str, report: dict) -> list[str]:
    if not report.get("loaded"):
        return [f"{page}: did not load ({report.get('error')})"]
    found = []
    if page.endswith(".svg"):
        if not report["svg"] or report["drawn"] <= 0:
            found.append(f"{page}: Chromium drew no SVG picture")
    elif report["h1"] == 0:
        found.append(f"{page}: no <h1> in what Chromium rendered")
    for address, ok in report["images"]:
        if not ok and address.startswith("file:"):
            found.append(f"{page}: image {address} did not load")
    return found


def main(argv: list[str]) -> int:
    if len(argv) < 2 or not os.path.isdir(argv[0]):
        print("usage: browser_check.py SITE_DIR PAGE...", file=sys.stderr)
        return 2
    site, pages = argv[0], argv[1:]
    missing = [page for page in pages if not os.path.isfile(os.path.join(site, page))]
    if missing:
        print(f"browser_check: not in the site: {', '.join(missing)}", file=sys.stderr)
        return 1
    reports, console = look(find_chromium(), site, pages)
    problems = [f"script error: {match.group(1)} ({match.group(2)})" for match in SCRIPT_ERROR.finditer(console)]
    for page in pages:
        found = problems_of(page, reports.get(page, {"loaded": False, "error": "no report"}))
        report = reports.get(page, {})
        state = "ok" if not found else "FAILED"
        print(f"browser_check: {page}: {state} ({len(report.get('images', []))} images looked at)")
        problems += found
    for problem in problems:
        print(f"browser_check: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
