"""``hotline alerts test|send``: alert e-mails over SMTP (docs/rules.md)."""

from __future__ import annotations

from pipeline.casework import alerts
from pipeline.commands import add_warehouse_options, open_warehouse
from pipeline.config import entry_settings


def _test(args) -> int:
    with open_warehouse(args, read_only=True):  # the warehouse must exist, as for every command given --db
        pass
    accepted = alerts.send_test_alert(entry_settings(args), args.to)
    print(f"test alert accepted by the SMTP server for {len(accepted)} recipient(s)")
    return 0


def _send(args) -> int:
    settings = entry_settings(args)
    with open_warehouse(args) as con:
        sent = alerts.send_pending(con, settings, to=args.to or ())
    print(f"{len(sent)} alert(s) sent")
    return 0


def register(sub, eval_sub) -> None:
    p = sub.add_parser("alerts", help="alert e-mails: send a test one, send the stored alerts not sent yet",
                       description="Alerts by e-mail through HOTLINE_SMTP_HOST:HOTLINE_SMTP_PORT.")
    actions = p.add_subparsers(dest="alerts_command", required=True, metavar="ACTION")

    t = actions.add_parser("test", help="send one test alert; exit 0 only when the server accepted it")
    t.add_argument("--to", required=True, help="e-mail address to send it to")
    add_warehouse_options(t)
    t.set_defaults(func=_test)

    s = actions.add_parser("send", help="e-mail the stored alerts not sent yet (one message each)")
    s.add_argument("--to", action="append", default=None, help="address (repeatable; default: HOTLINE_ALERT_TO)")
    add_warehouse_options(s)
    s.set_defaults(func=_send)
