# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Feed each alicloud-eni-*.nmconnection in DIR to `nmcli --offline connection modify` and check that every key
written survives with the same value (nmcli drops unknown keys and unparsable routing rules with rc=0)."""

from __future__ import annotations

import configparser
import glob
import os
import subprocess
import sys


def parse(text: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # keyfile keys are case-sensitive
    parser.read_string(text)
    return parser


def same(key: str, written: str, echoed: str) -> bool:
    if key.endswith("_options"):
        return set(written.split(",")) == set(echoed.split(","))
    if key == "mac-address":
        return written.lower() == echoed.lower()
    return written == echoed


def main(directory: str) -> int:
    paths = sorted(glob.glob(os.path.join(directory, "alicloud-eni-*.nmconnection")))
    if not paths:
        print(f"no keyfile written in {directory}", file=sys.stderr)
        return 1
    problems = []
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        result = subprocess.run(
            ["nmcli", "--offline", "connection", "modify", "connection.autoconnect", "yes"],
            input=text,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            problems.append(f"{path}: nmcli rejected it: {result.stderr.strip()}")
            continue
        written, echoed = parse(text), parse(result.stdout)
        keys = 0
        for section in written.sections():
            for key, value in written.items(section):
                keys += 1
                if not echoed.has_option(section, key):
                    problems.append(f"{path}: [{section}] {key} was dropped by NetworkManager")
                elif not same(key, value, echoed.get(section, key)):
                    problems.append(f"{path}: [{section}] {key}={value} came back as {echoed.get(section, key)}")
        print(f"{path}: {keys} keys, all kept by nmcli --offline")
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
