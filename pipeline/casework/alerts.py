"""Alerts: urgent calls, chosen categories, spikes and overdue cases; e-mailed over plain SMTP
(a local relay, no credentials) and shown in the app (docs/rules.md, "Alerts").

An alert is stored for each hit of an urgent rule (:mod:`pipeline.casework.categories`), with
what triggered it: the rule and its version, the moment in the call, the call's topic and ward.
The e-mail holds no personal data: the reason (the rule's title), the topic, the ward, the moment
and a link to the call page; never transcript text, caller numbers or names.
Settings: ``HOTLINE_SMTP_HOST``, ``HOTLINE_SMTP_PORT``, ``HOTLINE_ALERT_FROM``, ``HOTLINE_ALERT_TO``,
``HOTLINE_PUBLIC_URL``.

Kinds: ``urgent`` (an urgent rule's hit; e-mailed at once to ``HOTLINE_ALERT_TO``, the duty
officer, and to subscribers), ``category`` (a hit of a rule someone subscribed to), ``spike``
(:mod:`pipeline.analysis.spikes`), ``overdue`` (one per handling unit and working day, counts only).
Who sees which in the app: :func:`scope_of` (a unit's member: only its own unit's overdue alerts).
E-mails to subscribers follow :func:`plan_delivery`: quiet hours hold all but urgent alerts, a
batch of several goes as one digest, and a flood (more than ``FLOOD_MESSAGES`` e-mails in
``FLOOD_WINDOW``) becomes one digest, urgent alerts included.
"""

from __future__ import annotations

import hashlib
import html
import json
import smtplib
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from email.message import EmailMessage

import duckdb

from pipeline import access
from pipeline.analysis.spikes import SpikeOptions, find_spikes
from pipeline.casework import workdays
from pipeline.config import Settings
from pipeline.errors import HotlineError
from pipeline.i18n import MESSAGES, topic_label
from pipeline.warehouse import alerts as alert_store
from pipeline.warehouse import rules as store

TIMEOUT_S = 15.0  # s to connect to the SMTP server and hand over one message
KINDS = ("urgent", "category", "spike", "overdue")
FLOOD_MESSAGES = 5  # e-mails to one person within FLOOD_WINDOW; more become one digest
FLOOD_WINDOW = timedelta(minutes=15)


class AlertSendError(HotlineError):
    """The SMTP server is not set, cannot be reached or refused the message."""

    exit_code = 1


class RelayDown(AlertSendError):
    """The SMTP server is not set or cannot be reached: every other message would fail (and wait) too."""


@dataclass(frozen=True)
class Sent:
    alert_id: str
    accepted: tuple[str, ...]  # addresses the server accepted


def _check_address(address: str) -> str:
    address = address.strip()
    if not address or "@" not in address or any(c in address for c in "\r\n<>,; "):
        raise AlertSendError(f"not an e-mail address: {address!r}")
    return address


def send_message(settings: Settings, to: Sequence[str], subject: str, body: str,
                 html_body: str | None = None) -> tuple[str, ...]:
    """Hand one message to the SMTP server of ``settings``; returns the addresses it accepted.

    Raises :class:`AlertSendError` when no server is set, it cannot be reached, or it accepted no
    recipient. The error never repeats the addresses (they may be personal)."""
    recipients = [_check_address(a) for a in to]
    if not recipients:
        raise AlertSendError("no recipient: give --to or set HOTLINE_ALERT_TO")
    if not settings.smtp_host:
        raise RelayDown("HOTLINE_SMTP_HOST is not set: name the SMTP relay that sends alert e-mails")
    msg = EmailMessage()
    msg["From"] = _check_address(settings.alert_from)
    msg["To"] = ", ".join(recipients)
    msg["Subject"] = subject
    msg.set_content(body)
    if html_body is not None:
        msg.add_alternative(html_body, subtype="html")
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_S) as smtp:
            refused = smtp.send_message(msg)
    except smtplib.SMTPRecipientsRefused:
        raise AlertSendError("the SMTP server refused every recipient") from None
    except (smtplib.SMTPException, OSError, socket.timeout) as exc:
        raise RelayDown(f"SMTP server {settings.smtp_host}:{settings.smtp_port} did not take the message: "
                             f"{type(exc).__name__}") from None
    accepted = tuple(a for a in recipients if a not in refused)
    if not accepted:
        raise AlertSendError("the SMTP server refused every recipient")
    return accepted


def call_link(settings: Settings, call_id: str) -> str:
    return f"{settings.public_url.rstrip('/')}/calls/{call_id}"


def compose(alert: dict, settings: Settings) -> tuple[str, str]:
    """(subject, body) of one alert's e-mail: reason, topic, ward, moment, link; no personal data."""
    subject = f"[1022 khẩn] {alert['reason']}" + (f" – {alert['ward']}" if alert.get("ward") else "")
    moment = alert.get("moment_s")
    lines = [
        "Cảnh báo từ tổng đài 1022 (hotline-analytics).",
        "",
        f"Lý do: {alert['reason']} (quy tắc {alert['rule_name']})",
        f"Chủ đề: {topic_label(alert.get('topic'))}",
        f"Phường/xã: {alert.get('ward') or 'chưa rõ'}",
        f"Thời điểm trong cuộc gọi: {moment:.0f} giây" if moment is not None else "Thời điểm trong cuộc gọi: -",
        f"Xem cuộc gọi: {call_link(settings, alert['call_id'])}",
        *_early_line(alert),
        "",
        "Thư này không chứa nội dung cuộc gọi hay thông tin cá nhân; mở liên kết (cần đăng nhập) để xem.",
    ]
    return subject, "\n".join(lines) + "\n"


def _early_line(alert: dict) -> list[str]:
    """The line saying an alert came from the early urgent pass (:mod:`pipeline.casework.early_alerts`), if it did."""
    trigger = alert.get("trigger")
    trig = json.loads(trigger) if isinstance(trigger, str) else (trigger or {})
    if trig.get("pass") != "early":
        return []
    return [MESSAGES["alert_mail_early"]["vi"].format(heard=f"{trig.get('heard_s') or 0:.0f}")]


def send_test_alert(settings: Settings, to: str) -> tuple[str, ...]:
    """Send one test alert to ``to``; returns the accepted addresses (raises when none)."""
    body = ("Thư thử cảnh báo từ tổng đài 1022 (hotline-analytics).\n"
            "Nếu bạn nhận được thư này, cảnh báo khẩn sẽ đến địa chỉ này.\n")
    return send_message(settings, [to], "[1022] Thư thử cảnh báo", body)


def send_pending(con: duckdb.DuckDBPyConnection, settings: Settings, *, to: Sequence[str] = (),
                 now: datetime | None = None) -> list[Sent]:
    """E-mail every stored alert not sent yet to ``to`` (default: ``HOTLINE_ALERT_TO``), one message each.

    A failure is recorded on the alert (without addresses) and the rest still go, unless the server
    is down (then the rest wait for the next send, rather than each waiting out the timeout); an
    alert is marked sent only when the server accepted it. Returns the alerts sent."""
    recipients = tuple(to) or settings.alert_to
    sent = []
    for alert in store.unsent_alerts(con):
        subject, body = compose(alert, settings)
        try:
            accepted = send_message(settings, recipients, subject, body)
        except AlertSendError as exc:
            store.mark_failed(con, alert["alert_id"], str(exc))
            if isinstance(exc, RelayDown):
                break
            continue
        store.mark_sent(con, alert["alert_id"], ",".join(accepted), now or datetime.now())
        sent.append(Sent(alert["alert_id"], accepted))
    return sent


# ---- who sees what -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Scope:
    """The alerts a user may see: these kinds, and (for a unit's member) only this unit's."""

    kinds: tuple[str, ...]
    unit: str | None = None


NO_ALERTS = Scope(())


def scope_of(role: str | None, unit: str | None) -> Scope:
    """Staff roles see every kind; a unit's member only its own unit's overdue alerts (none without a unit);
    any other role none. Fails closed."""
    if role == access.UNIT:
        return Scope(("overdue",), unit) if unit else NO_ALERTS
    if role in ("qa", "manager", "admin"):
        return Scope(KINDS)
    return NO_ALERTS


def visible(con: duckdb.DuckDBPyConnection, scope: Scope, user: str, *, limit: int = 200) -> list[dict]:
    """The alerts ``scope`` allows, newest first, each with ``trigger`` decoded and whether ``user`` read it."""
    rows = alert_store.visible_alerts(con, kinds=scope.kinds, unit=scope.unit, user=user, limit=limit)
    for r in rows:
        r["trigger"] = json.loads(r["trigger"]) if r.get("trigger") else None
    return rows


def unread_count(con: duckdb.DuckDBPyConnection, scope: Scope, user: str) -> int:
    """Alerts ``scope`` allows that ``user`` has not seen and nobody acknowledged (the bell's number)."""
    return alert_store.count_unread(con, kinds=scope.kinds, unit=scope.unit, user=user)


def mark_read(con: duckdb.DuckDBPyConnection, alert_ids: Sequence[str], user: str, now: datetime | None = None) -> None:
    alert_store.mark_read(con, list(alert_ids), user, now or datetime.now())


def acknowledge(con: duckdb.DuckDBPyConnection, alert_id: str, scope: Scope, user: str, note: str = "",
                now: datetime | None = None) -> bool:
    """Acknowledge an alert the scope allows (audited in ``alert_events``); False when it does not exist
    *or* the scope does not allow it (the caller answers 404 either way). A second acknowledgement
    is recorded too; the first stays on the alert."""
    row = alert_store.alert_row(con, alert_id)
    if row is None or (row["kind"] or "urgent") not in scope.kinds or (scope.unit and row["unit"] != scope.unit):
        return False
    alert_store.acknowledge(con, alert_id, user, note.strip()[:300] or None, now or datetime.now())
    return True


# ---- raising alerts ------------------------------------------------------------------------------

def _short_id(*parts: str) -> str:
    return hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest()[:10]


def raise_spikes(con: duckdb.DuckDBPyConnection, now: datetime | None = None,
                 options: SpikeOptions = SpikeOptions()) -> int:
    """Store a spike alert for each topic × ward whose calls in the last ``window_h`` hours spike against the
    ``baseline_days`` before; one per cell and day (checking again the same day adds none). Returns how many are new."""
    at = now or datetime.now()
    start = at - timedelta(hours=options.window_h)
    window = alert_store.topic_ward_counts(con, start, at)
    baseline = alert_store.topic_ward_counts(con, start - timedelta(days=options.baseline_days), start)
    rows = []
    for s in find_spikes(window, baseline, options):
        trigger = {"calls": s.count, "expected": s.expected, "baseline_per_day": s.baseline_per_day,
                   "p_value": float(f"{s.p_value:.3g}"), "window_h": options.window_h,
                   "baseline_days": options.baseline_days, "alpha": options.alpha, "min_count": options.min_count,
                   "window_end": at.isoformat(timespec="seconds")}
        rows.append({"alert_id": f"SP-{at.date().isoformat()}-{_short_id(s.topic, s.ward)}", "kind": "spike",
                     "reason": f"Tăng đột biến: {s.count} cuộc gọi trong {options.window_h:g} giờ "
                               f"(bình thường {s.expected:.1f})",
                     "topic": s.topic, "ward": s.ward, "trigger": json.dumps(trigger), "created_at": at})
    return alert_store.insert_alerts(con, rows)


def raise_overdue(con: duckdb.DuckDBPyConnection, today: date | None = None, *, now: datetime | None = None,
                  calendar: workdays.WorkCalendar | None = None) -> int:
    """Store one alert per handling unit with open cases past their due date (counts, no case content);
    on working days only, once a day. Returns how many are new."""
    at = now or datetime.now()
    day = today or at.date()
    cal = calendar or workdays.default_calendar()
    if not cal.is_working_day(day):
        return 0
    rows = []
    for r in alert_store.overdue_by_unit(con, day):
        late = cal.working_days_between(r["oldest_due"], day) if r["oldest_due"] else None
        trigger = {"overdue": r["n_overdue"], "urgent": r["n_urgent"],
                   "oldest_due": r["oldest_due"].isoformat() if r["oldest_due"] else None,
                   "oldest_working_days_late": late, "day": day.isoformat()}
        rows.append({"alert_id": f"OD-{day.isoformat()}-{_short_id(r['unit'])}", "kind": "overdue", "unit": r["unit"],
                     "reason": f"{r['n_overdue']} phiếu quá hạn" + (f" ({r['n_urgent']} khẩn)" if r["n_urgent"] else ""),
                     "trigger": json.dumps(trigger), "created_at": at})
    return alert_store.insert_alerts(con, rows)


def raise_for_calls(con: duckdb.DuckDBPyConnection, call_ids: Sequence[str], now: datetime | None = None) -> int:
    """After the rules ran on ``call_ids``: store a ``category`` alert for each hit of a rule someone subscribed
    to (urgent rules already raised theirs), record what triggered each urgent alert (an early pass's trigger
    stays) and give alerts raised before the call was stored its topic and ward. Returns the new ones."""
    at = now or datetime.now()
    for call_id in call_ids:  # an alert the early pass raised before the call was stored gets its topic and ward
        store.fill_alert_context(con, call_id, *store.alert_context(con, call_id))
    names = alert_store.subscribed_categories(con)
    hits = alert_store.hits_of_rules(con, call_ids, sorted(names))
    rows = []
    for h in hits:
        trigger = json.dumps({"rule": h["rule_name"], "version": h["rule_version"], "moment_s": h["moment_s"]})
        if h["urgent"]:  # stored by the rules (or before, by the early pass: its trigger and e-mail stay)
            alert_store.set_trigger(con, f"AL-{h['call_id']}-{h['rule_name']}", "urgent", trigger)
            continue
        topic, ward = store.alert_context(con, h["call_id"])
        rows.append({"alert_id": f"AL-{h['call_id']}-{h['rule_name']}", "kind": "category", "call_id": h["call_id"],
                     "rule_name": h["rule_name"], "rule_version": h["rule_version"], "reason": h["title"],
                     "moment_s": h["moment_s"], "topic": topic, "ward": ward, "trigger": trigger, "created_at": at})
    return alert_store.insert_alerts(con, rows)


# ---- subscriptions -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Subscription:
    user: str
    email: str | None  # None: in the app only
    kinds: tuple[str, ...]
    categories: tuple[str, ...] = ()  # rule names, with kind "category"
    quiet_from: time | None = None  # local time; quiet hours may cross midnight
    quiet_to: time | None = None
    since: datetime | None = None  # alerts raised before are never e-mailed
    role: str | None = None
    unit: str | None = None

    def in_quiet_hours(self, at: datetime) -> bool:
        if self.quiet_from is None or self.quiet_to is None or self.quiet_from == self.quiet_to:
            return False
        t = at.time()
        if self.quiet_from < self.quiet_to:
            return self.quiet_from <= t < self.quiet_to
        return t >= self.quiet_from or t < self.quiet_to

    def wants(self, alert: dict) -> bool:
        """The kind (and category) is subscribed *and* the role may see the alert (:func:`scope_of`)."""
        kind = alert.get("kind") or "urgent"
        scope = scope_of(self.role, self.unit)
        if kind not in self.kinds or kind not in scope.kinds or (scope.unit and alert.get("unit") != scope.unit):
            return False
        return kind != "category" or alert.get("rule_name") in self.categories


def parse_hhmm(text: str | None, field: str = "quiet hours") -> time | None:
    """``HH:MM`` (or empty: None); :class:`AlertSendError`-free: raises ValueError naming ``field``."""
    if text is None or not str(text).strip():
        return None
    try:
        hh, mm = str(text).strip().split(":")
        return time(int(hh), int(mm))
    except ValueError:
        raise ValueError(f"{field}: {str(text)[:20]!r} is not a time, write HH:MM (e.g. 22:00)") from None


def save_subscription(con: duckdb.DuckDBPyConnection, user: str, *, email: str | None, kinds: Sequence[str],
                      categories: Sequence[str] = (), quiet_from: str | None = None, quiet_to: str | None = None,
                      now: datetime | None = None) -> Subscription:
    """Store what ``user`` wants; ValueError/AlertSendError name a wrong field."""
    bad = [k for k in kinds if k not in KINDS]
    if bad:
        raise ValueError(f"kinds: unknown {bad[0]!r} (one of {', '.join(KINDS)})")
    address = _check_address(email) if email and email.strip() else None
    qf, qt = parse_hhmm(quiet_from, "quiet_from"), parse_hhmm(quiet_to, "quiet_to")
    at = now or datetime.now()
    names = tuple(sorted({c.strip() for c in categories if c.strip()}))
    alert_store.save_subscription(con, {
        "user_name": user, "email": address, "kinds": ",".join(k for k in KINDS if k in kinds),
        "categories": ",".join(names), "quiet_from": qf.strftime("%H:%M") if qf else None,
        "quiet_to": qt.strftime("%H:%M") if qt else None, "now": at})
    return subscription_of(con, user)


def _subscription(row: dict) -> Subscription:
    return Subscription(row["user_name"], row["email"], tuple(k for k in row["kinds"].split(",") if k),
                        tuple(c for c in row["categories"].split(",") if c), parse_hhmm(row["quiet_from"]),
                        parse_hhmm(row["quiet_to"]), row["since"], row.get("role"), row.get("unit"))


def subscription_of(con: duckdb.DuckDBPyConnection, user: str) -> Subscription | None:
    row = alert_store.subscription(con, user)
    return _subscription(row) if row else None


# ---- delivery --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Plan:
    alone: tuple[dict, ...]  # one e-mail each
    digest: tuple[dict, ...]  # one e-mail for all of them
    hold: tuple[dict, ...]  # quiet hours: decided again at the next dispatch


def plan_delivery(pending: Sequence[dict], *, quiet: bool, sent_recently: int,
                  flood_messages: int = FLOOD_MESSAGES) -> Plan:
    """What to do with a subscriber's pending alerts (oldest first). Pure.

    Quiet hours hold every alert but urgent ones. Of the rest, urgent alerts go one e-mail each and
    the others, when more than one, in one digest (a batch at once, or the alerts held overnight);
    when the e-mails this would make, plus the ``sent_recently`` ones, exceed ``flood_messages``,
    everything goes in one digest, urgent alerts included."""
    hold = tuple(a for a in pending if quiet and (a.get("kind") or "urgent") != "urgent")
    going = [a for a in pending if a not in hold]
    urgent = [a for a in going if (a.get("kind") or "urgent") == "urgent"]
    others = [a for a in going if a not in urgent]
    messages = len(urgent) + (1 if len(others) > 1 else len(others))
    if len(going) > 1 and sent_recently + messages > flood_messages:
        return Plan((), tuple(going), hold)
    if len(others) > 1:
        return Plan(tuple(urgent), tuple(others), hold)
    return Plan(tuple(going), (), hold)


def _lines(alert: dict, settings: Settings) -> list[str]:
    kind = alert.get("kind") or "urgent"
    lines = [f"Lý do: {alert['reason']}" + (f" (quy tắc {alert['rule_name']})" if alert.get("rule_name") else "")]
    if kind == "overdue":
        trig = json.loads(alert["trigger"]) if isinstance(alert.get("trigger"), str) else (alert.get("trigger") or {})
        lines += [f"Đơn vị: {alert.get('unit') or 'chưa rõ'}",
                  f"Hạn sớm nhất đã qua: {trig.get('oldest_due') or '-'}",
                  f"Xem phiếu quá hạn: {settings.public_url.rstrip('/')}/cases?overdue=1"]
        return lines
    lines += [f"Chủ đề: {topic_label(alert.get('topic'))}", f"Phường/xã: {alert.get('ward') or 'chưa rõ'}"]
    if alert.get("call_id"):
        moment = alert.get("moment_s")
        lines += [f"Thời điểm trong cuộc gọi: {moment:.0f} giây" if moment is not None else
                  "Thời điểm trong cuộc gọi: -", f"Xem cuộc gọi: {call_link(settings, alert['call_id'])}"]
    else:
        lines.append(f"Xem cảnh báo: {settings.public_url.rstrip('/')}/alerts")
    return lines


FOOTER = "Thư này không chứa nội dung cuộc gọi hay thông tin cá nhân; mở liên kết (cần đăng nhập) để xem."
KIND_SUBJECT = {"urgent": "khẩn", "category": "phân loại", "spike": "tăng đột biến", "overdue": "quá hạn"}


def compose_any(alert: dict, settings: Settings) -> tuple[str, str]:
    """(subject, body) of one alert of any kind; no personal data."""
    if (alert.get("kind") or "urgent") == "urgent":
        return compose(alert, settings)
    where = alert.get("ward") or alert.get("unit")
    subject = f"[1022 {KIND_SUBJECT[alert['kind']]}] {alert['reason']}" + (f" – {where}" if where else "")
    body = ["Cảnh báo từ tổng đài 1022 (hotline-analytics).", "", *_lines(alert, settings), "", FOOTER]
    return subject, "\n".join(body) + "\n"


def compose_digest(alerts: Sequence[dict], settings: Settings) -> tuple[str, str]:
    """(subject, body) of one digest e-mail for several alerts; no personal data."""
    n_urgent = sum(1 for a in alerts if (a.get("kind") or "urgent") == "urgent")
    subject = f"[1022] {len(alerts)} cảnh báo" + (f" ({n_urgent} khẩn)" if n_urgent else "")
    body = [f"Tổng hợp {len(alerts)} cảnh báo từ tổng đài 1022 (hotline-analytics).", ""]
    for i, a in enumerate(alerts, 1):
        body += [f"{i}. [{KIND_SUBJECT.get(a.get('kind') or 'urgent')}] " + _lines(a, settings)[0],
                 *(f"   {line}" for line in _lines(a, settings)[1:]), ""]
    body += [f"Tất cả cảnh báo: {settings.public_url.rstrip('/')}/alerts", "", FOOTER]
    return subject, "\n".join(body) + "\n"


def as_html(subject: str, body: str) -> str:
    """The plain-text body as a small HTML part (links clickable, everything else escaped)."""
    out = []
    for line in body.splitlines():
        esc = html.escape(line)
        for word in line.split():
            if word.startswith(("http://", "https://")):
                esc = esc.replace(html.escape(word), f'<a href="{html.escape(word)}">{html.escape(word)}</a>')
        out.append(esc)
    return (f"<!DOCTYPE html><html lang=\"vi\"><head><meta charset=\"utf-8\"><title>{html.escape(subject)}</title>"
            f"</head><body style=\"font-family:sans-serif;max-width:40em\"><h2>{html.escape(subject)}</h2>"
            f"<p>{'<br>'.join(out)}</p></body></html>")


@dataclass(frozen=True)
class Dispatched:
    duty: int  # urgent alerts e-mailed to HOTLINE_ALERT_TO
    alone: int  # e-mails of one alert to subscribers
    digests: int  # digest e-mails to subscribers
    held: int  # alerts held for quiet hours
    failed: int


def dispatch(con: duckdb.DuckDBPyConnection, settings: Settings, *, now: datetime | None = None,
             duty_to: Sequence[str] = ()) -> Dispatched:
    """E-mail what is due: urgent alerts to the duty officer (``duty_to`` or ``HOTLINE_ALERT_TO``, one each, never
    held), then each subscriber's alerts as :func:`plan_delivery` decides. Failures are recorded (without
    addresses) and retried at the next dispatch; when the server is down, the rest wait for the next dispatch."""
    at = now or datetime.now()
    duty = send_pending(con, settings, to=duty_to, now=at) if (duty_to or settings.alert_to) else []
    alone = digests = held = failed = 0
    down = False
    for row in alert_store.subscriptions(con):
        if down:
            break
        sub = _subscription(row)
        if not sub.email:
            continue
        pending = [a for a in alert_store.undelivered(con, sub.user, sub.since) if sub.wants(a)]
        if not pending:
            continue
        plan = plan_delivery(pending, quiet=sub.in_quiet_hours(at),
                             sent_recently=alert_store.sent_since(con, sub.user, at - FLOOD_WINDOW))
        records = [(a["alert_id"], sub.user, "held", at, None, None, None) for a in plan.hold
                   if a.get("delivery_state") != "held"]
        held += len(plan.hold)
        batches = [([a], compose_any(a, settings)) for a in plan.alone]
        if plan.digest:
            batches.append((list(plan.digest), compose_digest(plan.digest, settings)))
        for items, (subject, body) in batches:
            digest_id = f"DG-{at:%Y%m%d%H%M%S}-{_short_id(sub.user, *(a['alert_id'] for a in items))}" \
                if len(items) > 1 else None
            try:
                send_message(settings, [sub.email], subject, body, as_html(subject, body))
            except AlertSendError as exc:
                failed += 1
                records += [(a["alert_id"], sub.user, "failed", at, None, digest_id, str(exc)) for a in items]
                down = isinstance(exc, RelayDown)
                if down:
                    break
                continue
            state = "digest" if digest_id else "sent"
            alone, digests = alone + (digest_id is None), digests + (digest_id is not None)
            records += [(a["alert_id"], sub.user, state, at, at, digest_id, None) for a in items]
        alert_store.record_deliveries(con, records)
    return Dispatched(len(duty), alone, digests, held, failed)
