"""Fault injection per route pattern: latency, 5xx before or after processing, dropped
connections before or after processing.

"After processing" is the case that matters for retries: the server performed the request
(a message went out, a contact was created) and then the client got a 500 or no answer at
all. A client that retries such a send blindly sends twice; ``sandbox.duplicate_sends()``
shows it.

Patterns are ``fnmatch`` globs over ``"METHOD /path/pattern"`` (the route table's key,
e.g. ``"POST /messages/text"``, ``"GET /contacts/{id}"``) and over the concrete request
(``"GET /contacts/7"``); a pattern without a method (``"/messages/*"``) matches any method.
Every rule draws from its own ``random.Random(seed)``, so a seeded rule behaves identically
for the same sequence of requests.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Literal

__all__ = ["FaultPlan", "FaultRule", "Faults"]

Action = Literal["error", "drop"]


@dataclass(eq=False)
class FaultRule:
    """One rule; see :meth:`Faults.add` for the knobs. Counters show what it did."""

    pattern: str
    latency: float = 0.0
    jitter: float = 0.0
    error_before: float = 0.0
    status_before: int = 503
    error_after: float = 0.0
    status_after: int = 500
    drop_before: float = 0.0
    drop_after: float = 0.0
    times: int | None = None
    seed: int | None = None
    matched: int = 0
    fired: int = 0
    _rng: random.Random = field(init=False, repr=False)
    _glob: str = field(init=False, repr=False)

    def __post_init__(self) -> None:
        for name in ("error_before", "error_after", "drop_before", "drop_after"):
            rate = getattr(self, name)
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"{name} is a probability in [0, 1], got {rate!r}")
        if self.error_before + self.drop_before > 1.0 or self.error_after + self.drop_after > 1:
            raise ValueError("error and drop rates of the same phase must sum to at most 1")
        if self.latency < 0 or self.jitter < 0:
            raise ValueError("latency and jitter must not be negative")
        for name in ("status_before", "status_after"):
            if not 500 <= getattr(self, name) <= 599:
                raise ValueError(f"{name} must be a 5xx status")
        pattern = self.pattern.strip()
        self._glob = pattern if (" " in pattern or pattern == "*") else f"* {pattern}"
        self._rng = random.Random(self.seed)

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.matched >= self.times

    def matches(self, route_key: str, request_key: str) -> bool:
        glob = self._glob
        return glob == "*" or fnmatchcase(route_key, glob) or fnmatchcase(request_key, glob)


@dataclass(slots=True)
class FaultPlan:
    """What happens to one request, decided when it arrives."""

    delay: float = 0.0
    before: Action | None = None
    before_status: int = 503
    after: Action | None = None
    after_status: int = 500


class Faults:
    """The rule set of one sandbox.

    Example::

        rule = sandbox.faults.add("POST /messages/*", drop_after=1.0, times=1)
        ...                                  # the first send is performed, then dropped
        sandbox.faults.remove(rule)          # or sandbox.faults.clear()
    """

    __slots__ = ("rules",)

    def __init__(self) -> None:
        self.rules: list[FaultRule] = []

    def add(
        self,
        pattern: str = "*",
        *,
        latency: float = 0.0,
        jitter: float = 0.0,
        error_before: float = 0.0,
        status_before: int = 503,
        error_after: float = 0.0,
        status_after: int = 500,
        drop_before: float = 0.0,
        drop_after: float = 0.0,
        times: int | None = None,
        seed: int | None = None,
    ) -> FaultRule:
        """Add a rule for requests matching ``pattern`` and return it.

        - ``latency``/``jitter``: sleep ``latency + uniform(0, jitter)`` seconds first.
        - ``error_before``: probability of answering ``status_before`` (503) without
          processing the request (nothing happens server-side).
        - ``error_after``: probability of processing, then answering ``status_after`` (500).
        - ``drop_before``: probability of closing the connection without processing.
        - ``drop_after``: probability of processing, then closing the connection without
          answering (the client sees a disconnect; the send is recorded).
        - ``times``: the rule applies to the first ``times`` matching requests only.
        - ``seed``: seed of this rule's random draws (deterministic runs).

        Example::

            sandbox.faults.add("POST /messages/text", error_before=1.0, times=2)  # 503, 503, ok
            sandbox.faults.add("*", latency=0.02, jitter=0.01, seed=7)
        """
        rule = FaultRule(
            pattern,
            latency=latency,
            jitter=jitter,
            error_before=error_before,
            status_before=status_before,
            error_after=error_after,
            status_after=status_after,
            drop_before=drop_before,
            drop_after=drop_after,
            times=times,
            seed=seed,
        )
        self.rules.append(rule)
        return rule

    def remove(self, rule: FaultRule) -> None:
        """Remove one rule (no error if it is already gone)."""
        if rule in self.rules:
            self.rules.remove(rule)

    def clear(self) -> None:
        """Remove every rule."""
        self.rules.clear()

    def __len__(self) -> int:
        return len(self.rules)

    def plan(self, route_key: str, request_key: str) -> FaultPlan | None:
        """Decide the fate of one request; ``None`` when no rule applies."""
        plan: FaultPlan | None = None
        for rule in self.rules:
            if rule.exhausted or not rule.matches(route_key, request_key):
                continue
            rule.matched += 1
            if plan is None:
                plan = FaultPlan()
            rng = rule._rng
            if rule.latency or rule.jitter:
                plan.delay += rule.latency + (rng.uniform(0.0, rule.jitter) if rule.jitter else 0)
            fired = False
            # One draw per phase keeps a seeded rule's sequence stable whatever its rates.
            draw = rng.random()
            if plan.before is None:
                if draw < rule.drop_before:
                    plan.before, fired = "drop", True
                elif draw < rule.drop_before + rule.error_before:
                    plan.before, plan.before_status, fired = "error", rule.status_before, True
            draw = rng.random()
            if plan.after is None:
                if draw < rule.drop_after:
                    plan.after, fired = "drop", True
                elif draw < rule.drop_after + rule.error_after:
                    plan.after, plan.after_status, fired = "error", rule.status_after, True
            if fired:
                rule.fired += 1
        return plan
