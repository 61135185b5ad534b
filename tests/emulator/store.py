"""State of the emulated account: resources, the emulated clock and pending transitions.

Everything is plain JSON-serialisable dicts so that a state file is just ``json.dump(store.data)``.
Asynchronous operations (EIP Associating -> InUse, ENI Attaching -> InUse, SNAT Pending -> Available,
...) are recorded as *pending transitions* with a due time on the emulated clock; ``settle()`` applies
every transition that is due, and runs before each request.  The clock is real time plus an offset
that the control API can advance, so tests never sleep to get past a 7-day window.
"""

from __future__ import annotations

import copy
import datetime
import hashlib
import json
import os
import random
import threading
import time
from typing import Any, Callable

# Collections of resources, each a dict ``id -> resource dict``.
COLLECTIONS = (
    "vpcs",
    "vswitches",
    "instances",
    "enis",
    "security_groups",
    "nat_gateways",
    "snat_tables",
    "snat_entries",
    "load_balancers",
    "havips",
    "eips",
    "zonal_load_balancers",  # ALB and NLB (zonal.py)
    "lb_jobs",
)

# Default delays (seconds of emulated time) of asynchronous transitions; the world file and the
# control API override them.
DEFAULT_DELAYS = {
    "eip_associate": 0.0,
    "eip_unassociate": 0.0,
    "eip_release": 0.0,
    "eni_attach": 0.0,
    "eni_detach": 0.0,
    "snat_create": 0.0,
    "snat_modify": 0.0,
    "snat_delete": 0.0,
    "havip_create": 0.0,
    "havip_associate": 0.0,
    "lb_job": 0.0,  # how long an ALB/NLB job stays Processing (the load balancer Configuring)
}

# Transition appliers: name -> function(store, payload).  Action modules register theirs.
TRANSITIONS: dict[str, Callable[["Store", dict], None]] = {}


def transition(name: str):
    """Decorator registering a function that completes an asynchronous transition."""

    def decorate(function):
        TRANSITIONS[name] = function
        return function

    return decorate


def empty_state() -> dict[str, Any]:
    data: dict[str, Any] = {name: {} for name in COLLECTIONS}
    data.update(
        {
            "regions": [],
            "access_keys": {},  # AK -> {"secret": ..., "security_tokens": [...]}
            "eip_pool": {},  # region -> [addresses never allocated yet]
            "released_eips": [],  # [{AllocationId, IpAddress, RegionId, ReleaseTime (epoch)}]
            "foreign_ips": [],  # addresses held by another account
            "eip_quota": 20,
            "monthly_recoveries": {},  # "YYYY-MM" -> count
            "recovery_limit": 20,
            "pending": [],  # [{"due": epoch, "name": transition, "payload": {...}}]
            "client_tokens": {},  # "Action:token" -> {"hash": ..., "response": ...}
            "nonces": {},  # nonce -> epoch seen
            "clock_offset": 0.0,
            "delays": dict(DEFAULT_DELAYS),
            "counters": {},  # Action -> count
            "sequence": 0,
        }
    )
    return data


class Store:
    """Thread-safe holder of the emulated account; ``lock`` serialises every API call."""

    def __init__(self, state_file: str | None = None):
        self.lock = threading.RLock()
        self.state_file = state_file
        self.data = empty_state()
        self.world: dict | None = None
        # When each kind of transition last came due (emulated clock), in memory only: for the benchmarks' "how late
        # did the waiter see it" (GET /_emulator/arrivals).
        self.last_due: dict[str, float] = {}
        if state_file and os.path.exists(state_file):
            with open(state_file, encoding="utf-8") as handle:
                loaded = json.load(handle)
            self.data = empty_state()
            self.data.update(loaded)

    # ---- clock ---------------------------------------------------------------------------------
    def now(self) -> float:
        return time.time() + self.data["clock_offset"]

    def now_iso(self, with_seconds: bool = True) -> str:
        moment = datetime.datetime.fromtimestamp(self.now(), tz=datetime.timezone.utc)
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ" if with_seconds else "%Y-%m-%dT%H:%MZ")

    def advance(self, seconds: float) -> None:
        self.data["clock_offset"] += float(seconds)
        self.settle()

    # ---- identifiers ---------------------------------------------------------------------------
    def new_id(self, prefix: str) -> str:
        """A new resource ID with the real prefix and a 20-character body, unique in this store."""
        self.data["sequence"] += 1
        digest = hashlib.sha1(("%s-%d" % (prefix, self.data["sequence"])).encode()).hexdigest()
        return "%s-emu%s" % (prefix, digest[:17])

    def new_request_id(self) -> str:
        raw = "%032X" % random.getrandbits(128)
        return "%s-%s-%s-%s-%s" % (raw[:8], raw[8:12], raw[12:16], raw[16:20], raw[20:])

    # ---- asynchronous transitions --------------------------------------------------------------
    def schedule(self, name: str, delay_key: str, payload: dict) -> None:
        """Schedule transition ``name`` after the delay configured under ``delay_key``."""
        if name not in TRANSITIONS:
            raise KeyError("unknown transition %s" % name)
        delay = float(self.data["delays"].get(delay_key, 0.0))
        due = self.now() + delay
        self.data["pending"].append({"due": due, "name": name, "payload": payload})
        self.last_due[name] = max(due, self.last_due.get(name, due))
        if delay <= 0:
            self.settle()

    def settle(self) -> None:
        """Apply every pending transition whose due time has come, oldest first."""
        now = self.now()
        due = sorted((entry for entry in self.data["pending"] if entry["due"] <= now), key=lambda entry: entry["due"])
        if not due:
            return
        self.data["pending"] = [entry for entry in self.data["pending"] if entry["due"] > now]
        for entry in due:
            TRANSITIONS[entry["name"]](self, entry["payload"])

    # ---- persistence ---------------------------------------------------------------------------
    def save(self) -> None:
        if not self.state_file:
            return
        temporary = self.state_file + ".tmp"
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump(self.data, handle, indent=1, sort_keys=True)
        os.replace(temporary, self.state_file)

    def dump(self) -> dict:
        return copy.deepcopy(self.data)

    def count(self, action: str) -> None:
        counters = self.data["counters"]
        counters[action] = counters.get(action, 0) + 1

    # ---- lookups -------------------------------------------------------------------------------
    def get(self, collection: str, resource_id: str | None) -> dict | None:
        if resource_id is None:
            return None
        return self.data[collection].get(resource_id)

    def in_region(self, collection: str, region: str) -> list[dict]:
        return [item for item in self.data[collection].values() if item.get("RegionId") == region]
