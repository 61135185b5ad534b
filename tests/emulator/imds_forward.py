"""Metadata forwarder for network namespaces.

``python -m tests.emulator.imds_forward --listen 100.100.100.200:80 --socket PATH --instance i-xxx``

Run inside a namespace (``ip netns exec NS ...``), it listens on the real metadata address and relays each
``/latest/...`` request (method, headers, body) to ``/_metadata/<instance>/latest/...`` of the emulator over
its unix-domain socket (``python -m tests.emulator --metadata-socket PATH``).  A namespace cannot reach the
root namespace's loopback, but a unix socket is a file and crosses network namespaces.

Once listening it prints ``{"listen": "ADDR:PORT"}`` on stdout, so a caller can wait for that line instead of
sleeping.  Only the standard library is used, so any Python 3.11 can run it.
"""

from __future__ import annotations

import argparse
import http.client
import json
import signal
import socket
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Headers that describe one hop only (RFC 9110 §7.6.1) and are never relayed.
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade", "host"}


class UnixHTTPConnection(http.client.HTTPConnection):
    """An HTTP/1.1 client connection over a unix-domain socket."""

    def __init__(self, path: str, timeout: float = 10.0):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.unix_path)


class ForwardHandler(BaseHTTPRequestHandler):
    server_version = "EmulatorImdsForward/0.1"
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        # Quiet by default: the forwarder's stdout carries the readiness line only.
        return

    def _reply(self, status: int, body: bytes, headers: list[tuple[str, str]] | None = None) -> None:
        self.send_response(status)
        for name, value in headers or []:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if not self.path.startswith("/latest"):
            self._reply(404, b"Not Found", [("Content-Type", "text/plain")])
            return
        relayed = {name: value for name, value in self.headers.items() if name.lower() not in HOP_BY_HOP}
        connection = UnixHTTPConnection(self.server.socket_path)  # type: ignore[attr-defined]
        try:
            connection.request(
                self.command,
                f"/_metadata/{self.server.instance_id}{self.path}",  # type: ignore[attr-defined]
                body=body or None,
                headers=relayed,
            )
            response = connection.getresponse()
            payload = response.read()
            headers = [
                (name, value)
                for name, value in response.getheaders()
                if name.lower() not in HOP_BY_HOP | {"content-length", "server", "date"}
            ]
        except OSError as error:
            self._reply(502, (f"emulator unreachable: {error}").encode(), [("Content-Type", "text/plain")])
            return
        finally:
            connection.close()
        self._reply(response.status, payload, headers)

    do_GET = do_PUT = do_POST = do_DELETE = _forward


class ForwardServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, listen: tuple[str, int], socket_path: str, instance_id: str):
        super().__init__(listen, ForwardHandler)
        self.socket_path = socket_path
        self.instance_id = instance_id


def parse_listen(text: str) -> tuple[str, int]:
    """``ADDR:PORT`` -> (ADDR, PORT)."""
    host, separator, port = text.rpartition(":")
    if not separator or not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected ADDR:PORT, got {text!r}")
    return host, int(port)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.emulator.imds_forward", description=__doc__.split("\n\n", maxsplit=1)[0]
    )
    parser.add_argument("--listen", type=parse_listen, required=True, help="ADDR:PORT, e.g. 100.100.100.200:80")
    parser.add_argument("--socket", required=True, help="the emulator's --metadata-socket path")
    parser.add_argument("--instance", required=True, help="the instance whose metadata this namespace sees")
    args = parser.parse_args(argv)
    server = ForwardServer(args.listen, args.socket, args.instance)

    def stop(signum, frame):
        # On stderr (the lab keeps it as forwarder.log): a forwarder that vanished says who ended it.
        print(f"imds_forward: stopping on {signal.Signals(signum).name}", file=sys.stderr, flush=True)
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    host, port = server.server_address[:2]
    print(json.dumps({"listen": f"{host}:{port}"}), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
