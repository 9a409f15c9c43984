"""Log-in throttling that an attacker cannot turn against a user, and a bound on password hashing.

Failed log-ins are counted in memory, per process, over the lockout window
(``HOTLINE_LOCKOUT_MINUTES``), under three keys:

- *this client and this account* (``HOTLINE_MAX_FAILURES``, 5): that client may not try that
  account again until the window passes. Other clients may: five anonymous wrong passwords
  no longer lock ``dave`` out (issue 25).
- *this client* (:attr:`AuthOptions.max_client_failures`, 20, over all account names): a client
  guessing across accounts is refused for every account.
- *this account, from clients it was never used on* (:attr:`AuthOptions.max_account_failures`,
  20): an attack from many addresses on one account. Then only a browser the account logged
  in from before (it holds a *device cookie*, an HMAC of the account name) may try it.

A client is its address (``request.client``: behind a TLS proxy, run uvicorn with
``--forwarded-allow-ips`` so that this is the user's address), or, when it shows a valid device
cookie for the account, that cookie: an attacker behind the same office NAT does not lock out
the colleague next to them.

What a flood costs: a refused attempt, and one naming no account (:class:`AccountNames`), costs
neither a database connection nor a password hash; every hash runs through :class:`HashGate` (at
most half the cores, a short queue, the rest refused with 503); and every failed or refused attempt
is answered ``failure_delay_s`` (1 s) after it arrived, asleep in the event loop, so a client that
floods one attempt after another gets a few a second through, and the answer's timing does not tell
an account that exists from one that does not. Before this (9d277ec) a flood on a locked account
did no hashing at all and still made logged-in pages 4 times slower: each attempt opened the
warehouse twice, and the app opens it for one request at a time. Counts live in memory: a restart
forgets them (and the device key: browsers are trusted again after their next log-in).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from pipeline.logsafe import safe

log = logging.getLogger(__name__)

DEVICE_COOKIE = "hotline_device"
DEVICE_DAYS = 180  # how long a browser stays trusted for the accounts that logged in from it
DEVICE_TOKENS_KEPT = 5  # accounts remembered per browser (a shared desk)
MAX_KEYS = 100_000  # keys tracked at most; beyond it the oldest are forgotten (memory stays bounded)


@dataclass(frozen=True)
class Refusal:
    why: str  # "pair" | "client" | "account"


class LoginGuard:
    """The failure counts and the device key of one app (see the module docstring)."""

    def __init__(self, *, window_s: float, max_failures: int, max_client_failures: int, max_account_failures: int,
                 clock: Callable[[], float] = time.monotonic):
        self.window_s, self.clock = window_s, clock
        self.max_failures, self.max_client_failures = max_failures, max_client_failures
        self.max_account_failures = max_account_failures
        self._failures: dict[tuple, deque] = {}
        self._lock = threading.Lock()
        self._key = secrets.token_bytes(32)

    # ---- device cookies

    def device_token(self, name: str) -> str:
        return hmac.new(self._key, name.encode("utf-8"), hashlib.sha256).hexdigest()[:32]

    def trusted(self, cookie: str | None, name: str) -> str | None:
        """The device token of ``name`` when the browser's cookie holds it, else None."""
        if not cookie:
            return None
        want = self.device_token(name)
        return want if any(hmac.compare_digest(t, want) for t in cookie.split(".")[:DEVICE_TOKENS_KEPT]) else None

    def cookie_after_login(self, cookie: str | None, name: str) -> str:
        """The device cookie's value after ``name`` logged in: its token first, at most a few kept."""
        token = self.device_token(name)
        old = [t for t in (cookie or "").split(".") if t and t != token and len(t) == 32 and t.isalnum()]
        return ".".join([token, *old][:DEVICE_TOKENS_KEPT])

    # ---- counting

    def _count(self, key: tuple, now: float) -> int:
        q = self._failures.get(key)
        if q is None:
            return 0
        while q and q[0] <= now - self.window_s:
            q.popleft()
        if not q:
            del self._failures[key]
            return 0
        return len(q)

    def _keys(self, client: str, device: str | None, name: str) -> tuple[tuple, tuple]:
        who = ("device", device) if device else ("client", client)
        return who, (*who, name)

    def refusal(self, client: str, name: str, device: str | None) -> Refusal | None:
        """Why this attempt is refused before any work, or None to go on."""
        who, pair = self._keys(client, device, name)
        now = self.clock()
        with self._lock:
            if self._count(pair, now) >= self.max_failures:
                return Refusal("pair")
            if self._count(who, now) >= self.max_client_failures:
                return Refusal("client")
            if device is None and self._count(("account", name), now) >= self.max_account_failures:
                return Refusal("account")
        return None

    def failed(self, client: str, name: str, device: str | None) -> None:
        who, pair = self._keys(client, device, name)
        now = self.clock()
        with self._lock:
            if len(self._failures) >= MAX_KEYS:
                self._prune(now)
            for key in (who, pair, ("account", name)):
                self._failures.setdefault(key, deque()).append(now)
            if len(self._failures[who]) == self.max_client_failures:
                log.warning("log-in: %s failed %d times within %.0f min; refused until the window passes",
                            safe(who[0]), self.max_client_failures, self.window_s / 60)
            if len(self._failures[("account", name)]) == self.max_account_failures:
                log.warning("log-in: account %s failed %d times within %.0f min from several clients; "
                            "only browsers it logged in from before may try it", safe(name),
                            self.max_account_failures, self.window_s / 60)

    def succeeded(self, client: str, name: str, device: str | None) -> None:
        _, pair = self._keys(client, device, name)
        with self._lock:
            self._failures.pop(pair, None)

    def _prune(self, now: float) -> None:
        for key in list(self._failures):
            self._count(key, now)
        while len(self._failures) >= MAX_KEYS:  # still full of live keys: forget the oldest
            oldest = min(self._failures, key=lambda k: self._failures[k][-1])
            del self._failures[oldest]


class AccountNames:
    """The account names in memory, read again (at most every ``refresh_s``) when a name is not among
    them: a flood of made-up names costs neither the database nor a hash. An account added since the
    last read is found on the next read (at most ``refresh_s`` later)."""

    def __init__(self, refresh_s: float = 10.0, clock: Callable[[], float] = time.monotonic):
        self.refresh_s, self.clock = refresh_s, clock
        self._names: set[str] = set()
        self._read_at: float | None = None

    def known(self, name: str) -> bool:
        return name in self._names

    def stale(self) -> bool:
        return self._read_at is None or self.clock() - self._read_at >= self.refresh_s

    def update(self, names: set[str]) -> None:
        self._names, self._read_at = set(names), self.clock()

    def forget(self) -> None:
        """Read the names again at the next unknown name (an account was added behind the app's back)."""
        self._read_at = None


def default_concurrent_hashes() -> int:
    """Half the cores (at least one): a log-in flood never takes the whole machine."""
    return max(1, (os.cpu_count() or 2) // 2)


class HashGate:
    """At most ``max_concurrent`` password hashes at once and ``max_waiting`` more queued; beyond, refuse.

    Thread-based (a semaphore), so it holds across event loops; a queued log-in holds a worker thread,
    which is why the queue is short."""

    def __init__(self, max_concurrent: int | None = None, max_waiting: int | None = None):
        self.max_concurrent = max_concurrent or default_concurrent_hashes()
        self.max_waiting = max_waiting if max_waiting is not None else 4 * self.max_concurrent
        self._slots = threading.BoundedSemaphore(self.max_concurrent)
        self._lock = threading.Lock()
        self._inside = 0  # hashing or waiting

    def run(self, fn: Callable, *args):
        """``fn(*args)`` once a slot is free (call it from a worker thread); :class:`GateFull` when too many wait."""
        with self._lock:
            if self._inside >= self.max_concurrent + self.max_waiting:
                raise GateFull()
            self._inside += 1
        try:
            with self._slots:
                return fn(*args)
        finally:
            with self._lock:
                self._inside -= 1


class GateFull(Exception):
    """Too many log-ins are waiting for the password hash: answer 503, try again shortly."""
