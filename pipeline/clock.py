"""Seconds written as a clock reading ("m:ss"): the one rule of the pages, exports and reports.

The rule is to cut, not round: 59.6 s is "0:59", the second the player is in (the call
page's player, ``web/static/app.js``, writes its position the same way), so a segment's
start never reads later than the player shows when it gets there, and the same call's
duration reads the same on the calls page, the dashboard, the exports and the reports.
"""

from __future__ import annotations


def m_ss(seconds: float | None) -> str:
    """187.9 → "3:07" (whole seconds, cut); hours as "1:02:03"; below zero → "0:00"; None → ""."""
    if seconds is None:
        return ""
    s = int(max(0.0, float(seconds)))
    h, rest = divmod(s, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"
