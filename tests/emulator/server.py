"""HTTP front of the emulator: the RPC endpoint, the control API and the metadata service.

Routes:
- ``POST /`` (any path without the prefixes below): an RPC call, routed on ``x-acs-action`` /
  ``x-acs-version`` (V3) or ``Action`` / ``Version`` (V2), signature verified.
- ``/_emulator/...``: the control API (see ``docs/emulator.md``).
- ``/_metadata/<instance-id>/latest/...``: the ECS instance metadata service for one instance.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
import os
import socketserver
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl
from urllib.parse import parse_qsl, urlsplit

import importlib

from . import metadata, world
from .errors import ApiError
from .faults import FaultPlan
from .protocol import Params, RawRequest, action_and_version, authenticate
from .registry import ACTIONS, PRODUCTS, VPC, Context, product_of_version
from .store import Store
from .actions.vpc_network import move_havip_master

# Importing the action modules registers every emulated action.
importlib.import_module(".actions", __package__)

LOG = logging.getLogger("emulator")
MAX_CLOCK_SKEW = 15 * 60
NONCE_TTL = 15 * 60


def max_in_window(times: list[float], window: float) -> int:
    """The most of ``times`` (sorted) that fall in one half-open window ``[t, t + window)``, wherever it starts."""
    most = 0
    start = 0
    for end, moment in enumerate(times):
        while moment - times[start] >= window:
            start += 1
        most = max(most, end - start + 1)
    return most


class Arrivals:
    """When each authenticated call arrived (monotonic seconds, per action), to check flow limits on the wire.

    ``last_at``: the emulated clock (``Store.now``) at the last arrival of each action, to compare with the moments
    the store's transitions came due (``Store.last_due``): how late a waiter's last poll came (issue 14).
    """

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self.times: dict[str, list[float]] = {}
        self.last_at: dict[str, float] = {}
        # Every action in arrival order, for ``GET /_emulator/sequence`` (tests that check an order of calls).
        self.sequence: list[str] = []
        self._lock = threading.Lock()

    def record(self, action: str, at: float | None = None) -> None:
        with self._lock:
            self.times.setdefault(action, []).append(self.clock())
            self.sequence.append(action)
            if at is not None:
                self.last_at[action] = at

    def clear(self) -> None:
        with self._lock:
            self.times = {}
            self.sequence = []
            self.last_at = {}

    def report(self, window: float) -> dict:
        """``{action: {"count", "max_in_window"}}`` plus the window, for ``GET /_emulator/arrivals?window=S``."""
        with self._lock:
            actions = {
                action: {"count": len(times), "max_in_window": max_in_window(sorted(times), window)}
                for action, times in sorted(self.times.items())
            }
            for action, moment in self.last_at.items():
                actions[action]["last_at"] = moment
        return {"window": window, "actions": actions}


class Emulator:
    """The emulated control plane, independent of HTTP (tests may call ``handle`` directly)."""

    def __init__(self, state_file: str | None = None, world_spec: dict | None = None):
        self.store = Store(state_file)
        self.faults = FaultPlan()
        self.arrivals = Arrivals()
        if world_spec is not None and not (state_file and self.store.data["regions"]):
            self.load_world(world_spec)
        elif world_spec is not None:
            # Resumed from the state file: /_emulator/reset still goes back to the world file.
            self.store.world = world_spec

    # ---- control -------------------------------------------------------------------------------
    def load_world(self, spec: dict) -> None:
        with self.store.lock:
            self.store.data = world.build_state(spec)
            self.store.world = spec
            self.store.save()

    def reset(self) -> None:
        with self.store.lock:
            self.load_world(self.store.world or {})
            self.faults = FaultPlan()

    def control(self, method: str, path: str, body: bytes, query: str = "") -> tuple[int, dict]:
        """Handle ``/_emulator/<path>``; returns (status, JSON body)."""
        payload = json.loads(body) if body.strip() else {}
        options = dict(parse_qsl(query))
        store = self.store
        with store.lock:
            if path == "health":
                return 200, {"ok": True, "actions": len(ACTIONS)}
            if path == "reset" and method == "POST":
                self.reset()
                self.arrivals.clear()
                store.last_due.clear()
                return 200, {"ok": True}
            if path == "world" and method == "POST":
                self.load_world(payload)
                self.faults = FaultPlan()
                self.arrivals.clear()
                store.last_due.clear()
                return 200, {"ok": True}
            if path == "state" and method == "GET":
                store.settle()
                return 200, store.dump()
            if path == "clock" and method == "GET":
                return 200, {"now": store.now(), "iso": store.now_iso(), "offset": store.data["clock_offset"]}
            if path == "clock" and method == "POST":
                store.advance(float(payload.get("advance", 0)))
                store.save()
                return 200, {"now": store.now(), "iso": store.now_iso(), "offset": store.data["clock_offset"]}
            if path == "delays" and method == "GET":
                return 200, dict(store.data["delays"])
            if path == "delays" and method == "POST":
                unknown = set(payload) - set(store.data["delays"])
                if unknown:
                    return 400, {"error": "unknown delay names: %s" % ", ".join(sorted(unknown))}
                store.data["delays"].update({key: float(value) for key, value in payload.items()})
                store.save()
                return 200, dict(store.data["delays"])
            if path == "calls" and method == "GET":
                return 200, dict(store.data["counters"])
            if path == "calls" and method in ("DELETE", "POST"):
                store.data["counters"] = {}
                self.arrivals.clear()
                store.last_due.clear()
                return 200, {}
            if path == "arrivals" and method == "GET":
                window = float(options.get("window", 60))
                if window <= 0:
                    return 400, {"error": "window must be a positive number of seconds"}
                return 200, {**self.arrivals.report(window), "last_due": dict(store.last_due)}
            if path == "sequence" and method == "GET":
                return 200, {"actions": list(self.arrivals.sequence)}
            if path == "havip_master" and method == "POST":
                # The platform's side of a HaVip failover (actions/vpc_network.move_havip_master).
                try:
                    moved = move_havip_master(store, str(payload.get("HaVipId", "")), str(payload.get("InstanceId", "")))
                except ValueError as error:
                    return 400, {"error": str(error)}
                store.save()
                return 200, moved
            if path == "faults" and method == "GET":
                return 200, self.faults.to_dict()
            if path == "faults" and method == "POST":
                try:
                    self.faults = FaultPlan.from_dict(payload)
                except ValueError as error:
                    return 400, {"error": str(error)}
                return 200, self.faults.to_dict()
            if path == "faults" and method == "DELETE":
                self.faults = FaultPlan()
                return 200, {}
        return 404, {"error": "unknown control path %s %s" % (method, path)}

    # ---- RPC -----------------------------------------------------------------------------------
    def handle(self, request: RawRequest) -> tuple[int, dict[str, str], bytes | None]:
        """Answer one RPC request: (status, headers, body); body None means drop the connection."""
        request_id = self.store.new_request_id()
        action_name, version = action_and_version(request)
        lose_answer = False
        known = product_of_version(version)
        product = known.name if known else None
        try:
            if not action_name:
                raise ApiError("MissingParameter", "Action")
            if not version:
                raise ApiError("MissingParameter", "Version")
            if product is None:
                raise ApiError("InvalidVersion")
            with self.store.lock:
                identity = authenticate(request, self._secret)
                self._check_token(identity)
                self._check_freshness(request, identity)
                self.store.count(action_name)
            self.arrivals.record(action_name, self.store.now())
            for rule in self.faults.draw(action_name):
                if rule.kind == "latency":
                    time.sleep(rule.seconds)
                    continue
                if rule.kind == "drop":
                    return 0, {}, None
                if rule.kind == "drop_after":
                    lose_answer = True
                    continue
                extra = {}
                if rule.kind == "throttle":
                    extra["x-acs-retry-after"] = str(rule.retry_after_ms)
                code = {
                    "throttle": "Throttling.User",
                    "throttle_plain": "Throttling.User",
                    "task_conflict": "TaskConflict",
                    "operation_conflict": "OperationConflict",
                    "unavailable": "ServiceUnavailable",
                    "internal": "InternalError",
                }[rule.kind]
                return self._error(ApiError(code), product, request_id, extra)
            registered = ACTIONS.get((product, action_name))
            if registered is None:
                raise ApiError("InvalidAction.NotFound")
            pairs = request.query_pairs
            if known.form_body and request.body:
                pairs = pairs + parse_qsl(request.body.decode("utf-8"), keep_blank_values=True)
            params = Params.from_pairs(pairs)
            with self.store.lock:
                self.store.settle()
                replay = self._replay(registered, params)
                if replay is not None:
                    return (0, {}, None) if lose_answer else (200, {}, json.dumps(replay).encode())
                context = Context(params, self.store, identity, product, action_name, request_id)
                result = registered.handler(context) or {}
                response = {"RequestId": request_id, **result}
                if registered.mutating:
                    self._remember(registered, params, response)
                    self.store.save()
            if lose_answer:
                return 0, {}, None
            return 200, {}, json.dumps(response).encode()
        except ApiError as error:
            if lose_answer:
                return 0, {}, None
            return self._error(error, product or VPC, request_id, {})

    def _secret(self, access_key_id: str) -> str | None:
        entry = self.store.data["access_keys"].get(access_key_id)
        return entry["secret"] if entry else None

    def _check_token(self, identity) -> None:
        entry = self.store.data["access_keys"][identity.access_key_id]
        tokens = entry.get("security_tokens") or []
        if tokens and identity.security_token not in tokens:
            raise ApiError(
                "InvalidSecurityToken.Malformed" if not identity.security_token else "InvalidSecurityToken.Expired"
            )
        if not tokens and identity.security_token:
            raise ApiError("InvalidSecurityToken.Malformed")

    def _check_freshness(self, request: RawRequest, identity) -> None:
        params = dict(request.query_pairs)
        stamp = request.headers.get("x-acs-date") if identity.signature_version == "v3" else params.get("Timestamp")
        try:
            moment = datetime.datetime.strptime(stamp or "", "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
        except ValueError:
            raise ApiError("IllegalTimestamp") from None
        if abs(moment.timestamp() - time.time()) > MAX_CLOCK_SKEW:
            raise ApiError("IllegalTimestamp")
        nonces = self.store.data["nonces"]
        now = time.time()
        for nonce, seen in list(nonces.items()):
            if now - seen > NONCE_TTL:
                del nonces[nonce]
        if identity.nonce in nonces:
            raise ApiError("SignatureNonceUsed")
        nonces[identity.nonce] = now

    @staticmethod
    def _token_key(registered, params: Params) -> tuple[str, str] | None:
        token = params.raw.get("ClientToken")
        if not registered.mutating or not token:
            return None
        material = json.dumps(sorted((k, v) for k, v in params.raw.items() if k != "ClientToken"))
        return "%s:%s:%s" % (registered.product, registered.name, token), hashlib.sha256(material.encode()).hexdigest()

    def _replay(self, registered, params: Params) -> dict | None:
        key = self._token_key(registered, params)
        if key is None:
            return None
        remembered = self.store.data["client_tokens"].get(key[0])
        if remembered is None:
            return None
        if remembered["hash"] != key[1]:
            raise ApiError("IdempotentParameterMismatch")
        return remembered["response"]

    def _remember(self, registered, params: Params, response: dict) -> None:
        key = self._token_key(registered, params)
        if key is not None:
            self.store.data["client_tokens"][key[0]] = {"hash": key[1], "response": response}

    @staticmethod
    def _error(error: ApiError, product: str, request_id: str, extra_headers: dict) -> tuple[int, dict, bytes]:
        body = {
            "RequestId": request_id,
            "HostId": PRODUCTS.get(product, PRODUCTS[VPC]).host,
            "Code": error.code,
            "Message": error.message,
            "Recommend": "https://api.aliyun.com/troubleshoot?q=%s&product=%s&requestId=%s"
            % (error.code, product, request_id),
        }
        return error.status, extra_headers, json.dumps(body).encode()


class _Handler(BaseHTTPRequestHandler):
    server_version = "AlibabaCloudEmulator/0.1"
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002  (signature fixed by the base class)
        LOG.debug("%s " + format, self.address_string(), *args)

    def address_string(self) -> str:
        # A unix-domain peer has no (host, port) pair.
        return self.client_address[0] if isinstance(self.client_address, tuple) else "unix-socket"

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(
        self, status: int, body: bytes, headers: dict | None = None, content_type="application/json;charset=utf-8"
    ):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _dispatch(self):
        emulator: Emulator = self.server.emulator  # type: ignore[attr-defined]
        body = self._read_body()
        split = urlsplit(self.path)
        if split.path.startswith("/_emulator/"):
            try:
                status, payload = emulator.control(
                    self.command, split.path[len("/_emulator/") :].strip("/"), body, split.query
                )
            except (ValueError, TypeError, KeyError) as error:
                status, payload = 400, {"error": "%s: %s" % (type(error).__name__, error)}
            self._send(status, json.dumps(payload).encode())
            return
        if split.path.startswith("/_metadata/"):
            rest = split.path[len("/_metadata/") :]
            instance_id, meta_path = (rest.split("/", 1) + [""])[:2]
            headers = {key.lower(): value for key, value in self.headers.items()}
            status, extra, text = metadata.handle(emulator.store, instance_id, self.command, "/" + meta_path, headers)
            self._send(status, text.encode(), extra, content_type="text/plain")
            return
        request = RawRequest(
            method=self.command,
            path=split.path,
            query_string=split.query,
            headers={key.lower(): value for key, value in self.headers.items()},
            body=body,
        )
        status, headers, payload = emulator.handle(request)
        if payload is None:
            self.close_connection = True
            try:
                self.connection.shutdown(2)
            except OSError:
                pass
            return
        self._send(status, payload, headers)

    do_GET = do_POST = do_PUT = do_DELETE = _dispatch


class EmulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, emulator: Emulator, host: str = "127.0.0.1", port: int = 0):
        super().__init__((host, port), _Handler)
        self.emulator = emulator

    @property
    def endpoint(self) -> str:
        host, port = self.server_address[:2]
        return "%s:%d" % (host, port)

    def start_background(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, name="emulator", daemon=True)
        thread.start()
        return thread


class UnixEmulatorServer(socketserver.ThreadingUnixStreamServer):
    """The same HTTP front on a unix-domain socket, reachable from inside network namespaces."""

    daemon_threads = True

    def __init__(self, emulator: Emulator, path: str):
        if os.path.exists(path):
            # A socket file left behind by a killed run would make bind() fail.
            os.unlink(path)
        super().__init__(path, _Handler)
        self.emulator = emulator
        self.path = path

    def start_background(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, name="emulator-unix", daemon=True)
        thread.start()
        return thread

    def server_close(self) -> None:
        super().server_close()
        if os.path.exists(self.path):
            os.unlink(self.path)
