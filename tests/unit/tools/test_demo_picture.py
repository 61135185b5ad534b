# Copyright (c) alicloud.eip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""tools/demo/picture.py: the picture `make demo` draws of the topology it built, from the emulator's state (asked
over its control endpoint on loopback) and the traffic column of the demo's table (issue 16)."""

from __future__ import annotations

import importlib.util
import io
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
SPEC = importlib.util.spec_from_file_location("picture", os.path.join(ROOT, "tools", "demo", "picture.py"))
picture = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(picture)

TABLE = """EIP          resource                            private IP / source  traffic verified
47.98.10.3   eni-2 (NAT)                         10.20.3.3            yes: replies; eth1 sent 3 packet(s)
47.98.10.9   ngw-demo (SNAT snat-1)              10.20.1.20/32        standby (the entry's other EIP carries the probe)
47.98.10.27  ngw-demo (SNAT snat-1)              10.20.1.20/32        yes: egress of demo-app (10.20.1.20)
47.98.10.29  eni-2 (NAT)                         10.20.3.2            NO: no reply
"""

STATE = {
    "instances": {"i-web": {"InstanceId": "i-web", "InstanceName": "web", "Status": "Running"},
                  "i-app": {"InstanceId": "i-app", "InstanceName": "app", "Status": "Running"}},
    "enis": {
        "eni-1": {"NetworkInterfaceId": "eni-1", "Type": "Primary", "InstanceId": "i-app",
                  "PrivateIpSets": [{"PrivateIpAddress": "10.20.1.20"}]},
        "eni-2": {"NetworkInterfaceId": "eni-2", "Type": "Secondary", "InstanceId": "i-web",
                  "PrivateIpSets": [{"PrivateIpAddress": "10.20.3.2"}, {"PrivateIpAddress": "10.20.3.3"}]},
    },
    "nat_gateways": {"ngw-demo": {"NatGatewayId": "ngw-demo", "Name": "egress"}},
    "snat_entries": {"snat-1": {"SnatEntryId": "snat-1", "NatGatewayId": "ngw-demo", "SourceCIDR": "10.20.1.20/32",
                                "SnatIp": "47.98.10.9,47.98.10.27"}},
    "eips": {
        "eip-a": {"IpAddress": "47.98.10.3", "AllocationId": "eip-a", "InstanceId": "eni-2",
                  "InstanceType": "NetworkInterface", "Mode": "NAT", "PrivateIpAddress": "10.20.3.3"},
        "eip-b": {"IpAddress": "47.98.10.9", "AllocationId": "eip-b", "InstanceId": "ngw-demo", "InstanceType": "Nat",
                  "Mode": "NAT"},
        "eip-c": {"IpAddress": "47.98.10.27", "AllocationId": "eip-c", "InstanceId": "ngw-demo", "InstanceType": "Nat",
                  "Mode": "NAT"},
        "eip-d": {"IpAddress": "47.98.10.29", "AllocationId": "eip-d", "InstanceId": "eni-2",
                  "InstanceType": "NetworkInterface", "Mode": "NAT", "PrivateIpAddress": "10.20.3.2"},
        "eip-e": {"IpAddress": "47.98.10.40", "AllocationId": "eip-e", "InstanceId": "", "InstanceType": ""},
    },
}  # fmt: skip


def test_the_table_says_which_eips_carried_traffic():
    assert picture.table_outcomes(TABLE) == {
        "47.98.10.3": (True, "yes"),
        "47.98.10.9": (None, "standby"),
        "47.98.10.27": (True, "yes"),
        "47.98.10.29": (False, "NO"),
    }


def test_the_picture_shows_holders_hosts_and_outcomes():
    source = picture.dot_source(STATE, picture.table_outcomes(TABLE))
    assert '"47.98.10.3" [label="EIP 47.98.10.3\\neip-a\\ntraffic verified", fillcolor="#d9f2d9"' in source
    assert '"47.98.10.29" [label="EIP 47.98.10.29\\neip-d\\ntraffic FAILED", fillcolor="#f8d7da"' in source
    assert '"47.98.10.9" [label="EIP 47.98.10.9\\neip-b\\nno traffic verified (standby)"' in source
    assert '"47.98.10.40" [label="EIP 47.98.10.40\\neip-e\\nno traffic verified (not in the table)"' in source
    assert '"47.98.10.3" -> "eni-2" [label="NetworkInterface NAT 10.20.3.3", color="#2e7d32"];' in source
    assert '"47.98.10.9" -> "ngw-demo" [label="Nat", color="#888888"];' in source
    assert '"eni-2" -> "i-web" [label="attached", style="dashed"];' in source
    assert '"i-app" -> "snat-1" [label="egress of", style="dotted"];' in source
    assert '"47.98.10.40" ->' not in source


class Control(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        body = json.dumps(STATE).encode() if self.path == "/_emulator/state" else b"{}"
        self.send_response(200 if self.path == "/_emulator/state" else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        """Quiet."""


@pytest.fixture(name="control")
def control_fixture():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Control)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_main_passes_the_table_through_and_writes_the_picture_beside_it(control, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO(TABLE))
    assert picture.main(["--control", control, "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(TABLE)
    assert f"demo: picture of this topology: {tmp_path}/topology.svg" in out
    assert (tmp_path / "eips.txt").read_text() == TABLE
    svg = (tmp_path / "topology.svg").read_text()
    assert "<svg" in svg and "47.98.10.29" in svg and "traffic FAILED" in svg


def test_main_says_so_when_the_emulator_cannot_be_asked(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO(TABLE))
    assert picture.main(["--control", "http://127.0.0.1:9", "--out", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert captured.out == TABLE
    assert "demo: no picture: the emulator's state could not be read" in captured.err
    assert not (tmp_path / "topology.svg").exists()
