"""Command line: ``python -m tests.emulator --port 0 --world W.yml [--state S.json] [--metadata-socket PATH]``."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys

from .server import Emulator, EmulatorServer, UnixEmulatorServer
from .world_schema import WorldFormatError, load_and_check


def load_world_file(path: str | None) -> dict | None:
    """The world file, checked against the format (``world_schema``) before anything listens."""
    if not path:
        return None
    return load_and_check(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (loopback only; default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port; 0 picks a free one and prints it (default 0)")
    parser.add_argument("--world", help="world file (YAML or JSON) that seeds the account")
    parser.add_argument("--state", help="state file: loaded at start if it exists, written after every change")
    parser.add_argument("--ready-file", help="write the endpoint (host:port) to this file once listening")
    parser.add_argument(
        "--metadata-socket",
        help="also serve on this unix-domain socket (for imds_forward inside network namespaces)",
    )
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(message)s")

    def stop(signum, frame):
        raise KeyboardInterrupt

    # Before anything is announced: a caller that stops the emulator as soon as it answered (a loaded machine can
    # deschedule this thread right after the announcement) must find the handler, not SIGTERM's default action,
    # which exits with -15 and skips the state save and the socket clean-up.
    signal.signal(signal.SIGTERM, stop)
    try:
        world_spec = load_world_file(args.world)
    except WorldFormatError as error:
        print(error, file=sys.stderr)
        return 2
    emulator = server = unix_server = None
    try:
        emulator = Emulator(state_file=args.state, world_spec=world_spec)
        server = EmulatorServer(emulator, args.host, args.port)
        if args.metadata_socket:
            unix_server = UnixEmulatorServer(emulator, args.metadata_socket)
            unix_server.start_background()
        announcement = {"endpoint": server.endpoint}
        if args.metadata_socket:
            announcement["metadata_socket"] = args.metadata_socket
        # The ready file is written before the announcement, so that a reader woken by the printed line finds it.
        if args.ready_file:
            with open(args.ready_file, "w", encoding="utf-8") as handle:
                handle.write(server.endpoint + "\n")
        print(json.dumps(announcement), flush=True)
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        if server is not None:
            server.server_close()
        if unix_server is not None:
            unix_server.shutdown()
            unix_server.server_close()
        if emulator is not None:
            emulator.store.save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
