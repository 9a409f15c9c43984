"""Alerts the web and browser tests of the bell share (issue 30 #2): the overdue alerts of the cases fixture,
one urgent-rule alert and one spike alert, all raised on a Monday morning."""

from __future__ import annotations

import json
from datetime import datetime

from pipeline.casework import alerts
from pipeline.warehouse import alerts as alert_store
from pipeline.warehouse import db

NOW = datetime(2026, 12, 7, 9, 0)  # a Monday
URGENT_REASON = "Khẩn cấp: cháy, tai nạn, đuối nước, sập"
SPIKE_REASON = "Tăng đột biến: 6 cuộc gọi trong 24 giờ (bình thường 0.1)"


def add_sample_alerts(path) -> None:
    """Raise the overdue alerts of the warehouse at ``path`` (a ``cases_db``) at :data:`NOW`, and add an
    urgent-rule alert on its first call (ward Tân Tiến) and a spike alert (ward Tân Lập)."""
    con = db.connect(path)
    try:
        alerts.raise_overdue(con, now=NOW)
        cid = con.execute("SELECT min(call_id) FROM calls").fetchone()[0]
        alert_store.insert_alerts(con, [
            {"alert_id": f"AL-{cid}-khan-cap-tu-khoa", "kind": "urgent", "call_id": cid,
             "rule_name": "khan-cap-tu-khoa", "rule_version": 1, "reason": URGENT_REASON, "moment_s": 12.0,
             "topic": "environment", "ward": "phường Tân Tiến", "created_at": NOW.replace(minute=20),
             "trigger": json.dumps({"rule": "khan-cap-tu-khoa", "version": 1, "moment_s": 12.0})},
            {"alert_id": "SP-2026-12-07-0a1b2c3d4e", "kind": "spike", "reason": SPIKE_REASON, "topic": "traffic",
             "ward": "phường Tân Lập", "created_at": NOW.replace(minute=5),
             "trigger": json.dumps({"calls": 6, "expected": 0.1, "p_value": 1.4e-9, "window_h": 24})}])
    finally:
        con.close()
