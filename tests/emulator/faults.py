"""Reproducible fault injection.

A fault plan is a seed plus rules; each rule matches an action (or ``*``) and fires with a
probability, at most ``times`` times (unlimited when absent).  The same seed and the same sequence of
requests give the same faults, so a test that injects throttling is deterministic.

Kinds:
- ``throttle``: 400 ``Throttling.User`` with the ``x-acs-retry-after`` header (``retry_after_ms``),
  which the Python SDK raises as ``ThrottlingException``.
- ``throttle_plain``: 400 ``Throttling.User`` without the header (a plain ``ClientException``).
- ``task_conflict``: 400 ``TaskConflict``.
- ``operation_conflict``: 409 ``OperationConflict``.
- ``unavailable``: 503 ``ServiceUnavailable``.
- ``internal``: 500 ``InternalError``.
- ``drop``: the connection is closed without an answer, before the call is handled (nothing happened).
- ``drop_after``: the call is handled (its change is made, its ClientToken remembered) and then the
  connection is closed without the answer: the lost answer of a call that did act.
- ``latency``: the answer is delayed by ``seconds`` (the call itself still happens).
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field

KINDS = {
    "throttle",
    "throttle_plain",
    "task_conflict",
    "operation_conflict",
    "unavailable",
    "internal",
    "drop",
    "drop_after",
    "latency",
}


@dataclass
class Rule:
    kind: str
    action: str = "*"
    probability: float = 1.0
    times: int | None = None
    retry_after_ms: int = 100
    seconds: float = 0.0
    fired: int = 0

    def matches(self, action: str) -> bool:
        return self.action in ("*", action) and (self.times is None or self.fired < self.times)


@dataclass
class FaultPlan:
    seed: int = 0
    rules: list[Rule] = field(default_factory=list)
    _random: random.Random = field(default_factory=random.Random)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_dict(cls, spec: dict) -> "FaultPlan":
        rules = []
        for raw in spec.get("rules", []):
            if raw.get("kind") not in KINDS:
                raise ValueError("unknown fault kind %r (one of %s)" % (raw.get("kind"), ", ".join(sorted(KINDS))))
            rules.append(
                Rule(
                    kind=raw["kind"],
                    action=raw.get("action", "*"),
                    probability=float(raw.get("probability", 1.0)),
                    times=raw.get("times"),
                    retry_after_ms=int(raw.get("retry_after_ms", 100)),
                    seconds=float(raw.get("seconds", 0.0)),
                )
            )
        plan = cls(seed=int(spec.get("seed", 0)), rules=rules)
        plan._random.seed(plan.seed)
        return plan

    def draw(self, action: str) -> list[Rule]:
        """The rules that fire for this request (latency rules and at most one failing rule)."""
        fired: list[Rule] = []
        with self._lock:
            failing_chosen = False
            for rule in self.rules:
                if not rule.matches(action):
                    continue
                if self._random.random() >= rule.probability:
                    continue
                if rule.kind != "latency":
                    if failing_chosen:
                        continue
                    failing_chosen = True
                rule.fired += 1
                fired.append(rule)
        return fired

    def to_dict(self) -> dict:
        return {
            "seed": self.seed,
            "rules": [
                {
                    "kind": rule.kind,
                    "action": rule.action,
                    "probability": rule.probability,
                    "times": rule.times,
                    "retry_after_ms": rule.retry_after_ms,
                    "seconds": rule.seconds,
                    "fired": rule.fired,
                }
                for rule in self.rules
            ],
        }
