"""Alerts on urgent categories, e-mailed over plain SMTP (a local relay, no credentials).

An alert is stored for each hit of an urgent rule (:mod:`pipeline.casework.categories`), with
what triggered it: the rule and its version, the moment in the call, the call's topic and ward.
The e-mail holds no personal data: the reason (the rule's title), the topic, the ward, the moment
and a link to the call page; never transcript text, caller numbers or names.
Settings: ``HOTLINE_SMTP_HOST``, ``HOTLINE_SMTP_PORT``, ``HOTLINE_ALERT_FROM``, ``HOTLINE_ALERT_TO``,
``HOTLINE_PUBLIC_URL``.
"""

from __future__ import annotations

import smtplib
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage

import duckdb

from pipeline.config import Settings
from pipeline.errors import HotlineError
from pipeline.warehouse import rules as store

TIMEOUT_S = 15.0  # s to connect to the SMTP server and hand over one message


class AlertSendError(HotlineError):
    """The SMTP server is not set, cannot be reached or refused the message."""

    exit_code = 1


@dataclass(frozen=True)
class Sent:
    alert_id: str
    accepted: tuple[str, ...]  # addresses the server accepted


def _check_address(address: str) -> str:
    address = address.strip()
    if not address or "@" not in address or any(c in address for c in "\r\n<>,; "):
        raise AlertSendError(f"not an e-mail address: {address!r}")
    return address


def send_message(settings: Settings, to: Sequence[str], subject: str, body: str) -> tuple[str, ...]:
    """Hand one message to the SMTP server of ``settings``; returns the addresses it accepted.

    Raises :class:`AlertSendError` when no server is set, it cannot be reached, or it accepted no
    recipient. The error never repeats the addresses (they may be personal)."""
    recipients = [_check_address(a) for a in to]
    if not recipients:
        raise AlertSendError("no recipient: give --to or set HOTLINE_ALERT_TO")
    if not settings.smtp_host:
        raise AlertSendError("HOTLINE_SMTP_HOST is not set: name the SMTP relay that sends alert e-mails")
    msg = EmailMessage()
    msg["From"] = _check_address(settings.alert_from)
    msg["To"] = ", ".join(recipients)
    msg["Subject"] = subject
    msg.set_content(body)
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_S) as smtp:
            refused = smtp.send_message(msg)
    except smtplib.SMTPRecipientsRefused:
        raise AlertSendError("the SMTP server refused every recipient") from None
    except (smtplib.SMTPException, OSError, socket.timeout) as exc:
        raise AlertSendError(f"SMTP server {settings.smtp_host}:{settings.smtp_port} did not take the message: "
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
        f"Chủ đề: {alert.get('topic') or 'chưa rõ'}",
        f"Phường/xã: {alert.get('ward') or 'chưa rõ'}",
        f"Thời điểm trong cuộc gọi: {moment:.0f} giây" if moment is not None else "Thời điểm trong cuộc gọi: -",
        f"Xem cuộc gọi: {call_link(settings, alert['call_id'])}",
        "",
        "Thư này không chứa nội dung cuộc gọi hay thông tin cá nhân; mở liên kết (cần đăng nhập) để xem.",
    ]
    return subject, "\n".join(lines) + "\n"


def send_test_alert(settings: Settings, to: str) -> tuple[str, ...]:
    """Send one test alert to ``to``; returns the accepted addresses (raises when none)."""
    body = ("Thư thử cảnh báo từ tổng đài 1022 (hotline-analytics).\n"
            "Nếu bạn nhận được thư này, cảnh báo khẩn sẽ đến địa chỉ này.\n")
    return send_message(settings, [to], "[1022] Thư thử cảnh báo", body)


def send_pending(con: duckdb.DuckDBPyConnection, settings: Settings, *, to: Sequence[str] = (),
                 now: datetime | None = None) -> list[Sent]:
    """E-mail every stored alert not sent yet to ``to`` (default: ``HOTLINE_ALERT_TO``), one message each.

    A failure is recorded on the alert (without addresses) and the rest still go; an alert is
    marked sent only when the server accepted it. Returns the alerts sent."""
    recipients = tuple(to) or settings.alert_to
    sent = []
    for alert in store.unsent_alerts(con):
        subject, body = compose(alert, settings)
        try:
            accepted = send_message(settings, recipients, subject, body)
        except AlertSendError as exc:
            store.mark_failed(con, alert["alert_id"], str(exc))
            continue
        store.mark_sent(con, alert["alert_id"], ",".join(accepted), now or datetime.now())
        sent.append(Sent(alert["alert_id"], accepted))
    return sent
