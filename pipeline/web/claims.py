"""QA claims on calls (issue 29): two reviewers never work on one call unknowingly.

Opening a call page as QA (a role that may correct) claims the call for ``CLAIM_MINUTES``; opening it again
renews the claim. Another reviewer opening it meanwhile is told "đang được … xem" and does not take it over;
the queue marks claimed calls. A claim nobody renews expires, so a reviewer who walked away blocks nothing
for long. Rows in ``call_claims`` (migration 018).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import duckdb

from pipeline.warehouse import users as rows

CLAIM_MINUTES = 20  # a claim not renewed for this long has expired


@dataclass(frozen=True)
class Claim:
    user_name: str
    claimed_at: datetime


def claim(con: duckdb.DuckDBPyConnection, call_id: str, user: str, now: datetime | None = None) -> Claim | None:
    """Claim (or renew) ``call_id`` for ``user``; returns another reviewer's live claim instead, untouched."""
    now = now or datetime.now()
    held = rows.claim_row(con, call_id)
    if held and held[0] != user and now - held[1] < timedelta(minutes=CLAIM_MINUTES):
        return Claim(held[0], held[1])
    rows.put_claim(con, call_id, user, now)
    return None


def release(con: duckdb.DuckDBPyConnection, call_id: str, user: str) -> None:
    """Give up ``user``'s claim on the call (another's stays)."""
    rows.drop_claim(con, call_id, user)


def live_claims(con: duckdb.DuckDBPyConnection, now: datetime | None = None) -> dict[str, str]:
    """call_id → reviewer, of the claims that have not expired."""
    return rows.live_claims(con, (now or datetime.now()) - timedelta(minutes=CLAIM_MINUTES))
