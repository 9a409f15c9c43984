"""Issue 30 #2: who sees which alert, quiet hours and digests (pipeline/casework/alerts.py), pure parts."""

from __future__ import annotations

from datetime import datetime, time

from pipeline.casework.alerts import KINDS, Subscription, plan_delivery, scope_of


def _a(i: int, kind: str = "spike", **kw) -> dict:
    return {"alert_id": f"A{i}", "kind": kind, **kw}


def test_units_see_only_their_own_overdue_alerts_and_unknown_roles_none():
    assert scope_of("manager", None).kinds == KINDS and scope_of("qa", None).unit is None
    unit = scope_of("unit", "UBND phường Tân Lập")
    assert unit.kinds == ("overdue",) and unit.unit == "UBND phường Tân Lập"
    assert scope_of("unit", None).kinds == ()  # a unit account tied to no unit sees nothing
    assert scope_of("intruder", None).kinds == () and scope_of(None, None).kinds == ()


def test_a_subscription_wants_only_its_kinds_categories_and_what_its_role_may_see():
    sub = Subscription("lan", "lan@x.vn", ("urgent", "category", "overdue"), ("im-lang-30s",), role="manager")
    assert sub.wants(_a(1, "urgent")) and not sub.wants(_a(2, "spike"))
    assert sub.wants(_a(3, "category", rule_name="im-lang-30s"))
    assert not sub.wants(_a(4, "category", rule_name="doc-so-ca-nhan"))
    unit = Subscription("ptl", "u@x.vn", KINDS, role="unit", unit="UBND phường Tân Lập")
    assert unit.wants(_a(5, "overdue", unit="UBND phường Tân Lập"))
    assert not unit.wants(_a(6, "overdue", unit="UBND xã Hòa Phú"))
    assert not unit.wants(_a(7, "urgent"))  # subscribed, but a unit may not see urgent calls


def test_quiet_hours_cross_midnight():
    sub = Subscription("lan", "lan@x.vn", KINDS, quiet_from=time(22, 0), quiet_to=time(6, 30))
    assert sub.in_quiet_hours(datetime(2026, 12, 7, 23, 15)) and sub.in_quiet_hours(datetime(2026, 12, 8, 6, 29))
    assert not sub.in_quiet_hours(datetime(2026, 12, 8, 6, 30)) and not sub.in_quiet_hours(datetime(2026, 12, 8, 12))
    day = Subscription("lan", "lan@x.vn", KINDS, quiet_from=time(12, 0), quiet_to=time(13, 30))
    assert day.in_quiet_hours(datetime(2026, 12, 8, 12, 45)) and not day.in_quiet_hours(datetime(2026, 12, 8, 14))
    assert not Subscription("lan", None, KINDS).in_quiet_hours(datetime(2026, 12, 8, 3))


def test_quiet_hours_hold_all_but_urgent_alerts():
    pending = [_a(1, "spike"), _a(2, "urgent"), _a(3, "overdue")]
    plan = plan_delivery(pending, quiet=True, sent_recently=0)
    assert [a["alert_id"] for a in plan.hold] == ["A1", "A3"]
    assert [a["alert_id"] for a in plan.alone] == ["A2"] and plan.digest == ()


def test_held_alerts_go_as_one_digest_after_the_quiet_hours():
    held = [_a(i, "spike", delivery_state="held") for i in range(4)]
    plan = plan_delivery(held, quiet=False, sent_recently=0)
    assert len(plan.digest) == 4 and plan.alone == () and plan.hold == ()
    one = plan_delivery(held[:1], quiet=False, sent_recently=0)
    assert len(one.alone) == 1 and one.digest == ()


def test_a_flood_becomes_one_digest_urgent_alerts_included():
    urgent = [_a(i, "urgent") for i in range(3)]
    assert len(plan_delivery(urgent, quiet=False, sent_recently=0).alone) == 3
    flood = plan_delivery(urgent, quiet=False, sent_recently=4)  # 4 sent in the window + 3 would be 7 > 5
    assert flood.alone == () and len(flood.digest) == 3
    # a single alert is never a digest, even after many
    assert len(plan_delivery(urgent[:1], quiet=False, sent_recently=20).alone) == 1
