"""``hotline alerts test|send|check|subscribe`` and ``hotline eval spikes``: alerts (docs/rules.md)."""

from __future__ import annotations

from datetime import datetime

from pipeline.analysis.spikes import SpikeOptions
from pipeline.casework import alerts
from pipeline.commands import add_warehouse_options, open_warehouse
from pipeline.config import entry_settings
from pipeline.errors import HotlineError
from pipeline.eval import spike_sim


def _test(args) -> int:
    with open_warehouse(args, read_only=True):  # the warehouse must exist, as for every command given --db
        pass
    accepted = alerts.send_test_alert(entry_settings(args), args.to)
    print(f"test alert accepted by the SMTP server for {len(accepted)} recipient(s)")
    return 0


def _send(args) -> int:
    settings = entry_settings(args)
    with open_warehouse(args) as con:
        done = alerts.dispatch(con, settings, duty_to=args.to or ())
    print(f"{done.duty} alert(s) sent to the duty officer; subscribers: {done.alone} single, {done.digests} digest(s), "
          f"{done.held} held for quiet hours, {done.failed} failed")
    return 0


def _check(args) -> int:
    settings = entry_settings(args)
    options = SpikeOptions(alpha=args.alpha, min_count=args.min_count)
    with open_warehouse(args) as con:
        n_spikes = alerts.raise_spikes(con, options=options)
        n_overdue = 0 if args.no_overdue else alerts.raise_overdue(con)
        done = alerts.dispatch(con, settings)
    print(f"{n_spikes} new spike alert(s), {n_overdue} new overdue alert(s); e-mailed: {done.duty} to the duty officer, "
          f"{done.alone} single and {done.digests} digest(s) to subscribers, {done.held} held, {done.failed} failed")
    return 0


def _subscribe(args) -> int:
    quiet_from = quiet_to = None
    if args.quiet:
        if "-" not in args.quiet:
            raise HotlineError(f"--quiet {args.quiet!r}: write FROM-TO, e.g. 22:00-06:30")
        quiet_from, quiet_to = args.quiet.split("-", 1)
    with open_warehouse(args) as con:
        try:
            sub = alerts.save_subscription(con, args.user.strip().lower(), email=args.email,
                                           kinds=[k.strip() for k in args.kinds.split(",") if k.strip()],
                                           categories=(args.categories or "").split(","),
                                           quiet_from=quiet_from, quiet_to=quiet_to)
        except ValueError as exc:
            raise HotlineError(str(exc)) from None
    print(f"{sub.user}: {','.join(sub.kinds)}" + (f" categories {','.join(sub.categories)}" if sub.categories else "")
          + (" by e-mail" if sub.email else " in the app only")
          + (f", quiet {sub.quiet_from:%H:%M}-{sub.quiet_to:%H:%M}" if sub.quiet_from and sub.quiet_to else ""))
    return 0


def _simulate(args) -> int:
    grid = [SpikeOptions(alpha=a, min_count=m) for a in args.alpha for m in args.min_count]
    started = datetime.now()
    for r in spike_sim.simulate(year=args.year, calls_per_day=args.calls_per_day, n_spikes=args.spikes,
                                seed=args.seed, options_list=tuple(grid)):
        print(f"seed={args.seed} " + r.line())
    print(f"({(datetime.now() - started).total_seconds():.1f} s)")
    return 0


def register(sub, eval_sub) -> None:
    p = sub.add_parser("alerts", help="alert e-mails: send a test one, send the stored alerts not sent yet",
                       description="Alerts by e-mail through HOTLINE_SMTP_HOST:HOTLINE_SMTP_PORT.")
    actions = p.add_subparsers(dest="alerts_command", required=True, metavar="ACTION")

    t = actions.add_parser("test", help="send one test alert; exit 0 only when the server accepted it")
    t.add_argument("--to", required=True, help="e-mail address to send it to")
    add_warehouse_options(t)
    t.set_defaults(func=_test)

    s = actions.add_parser("send", help="e-mail what is due: urgent alerts to the duty officer, subscribers' alerts")
    s.add_argument("--to", action="append", default=None,
                   help="duty officer's address for urgent alerts (repeatable; default: HOTLINE_ALERT_TO)")
    add_warehouse_options(s)
    s.set_defaults(func=_send)

    c = actions.add_parser("check", help="raise spike and overdue-case alerts now, then e-mail what is due "
                                         "(run it daily, or every few minutes from cron)")
    c.add_argument("--alpha", type=float, default=SpikeOptions.alpha,
                   help=f"tail probability below which a topic x ward count is a spike (default {SpikeOptions.alpha:g})")
    c.add_argument("--min-count", type=int, default=SpikeOptions.min_count,
                   help=f"fewest calls in 24 h that can be a spike (default {SpikeOptions.min_count})")
    c.add_argument("--no-overdue", action="store_true", help="skip the overdue-cases alerts")
    add_warehouse_options(c)
    c.set_defaults(func=_check)

    u = actions.add_parser("subscribe", help="choose which alerts a user gets, by e-mail, and quiet hours")
    u.add_argument("user", help="account name (hotline users add)")
    u.add_argument("--kinds", default="urgent", help=f"comma-separated, of {','.join(alerts.KINDS)} (default urgent)")
    u.add_argument("--categories", default="", help="comma-separated rule names, for kind category")
    u.add_argument("--email", default=None, help="address for e-mails (none: in the app only)")
    u.add_argument("--quiet", default=None, metavar="HH:MM-HH:MM",
                   help="quiet hours, local time (held, then one digest; urgent alerts still go)")
    add_warehouse_options(u)
    u.set_defaults(func=_subscribe)

    e = eval_sub.add_parser("spikes", help="false alarms and detection of the spike detector on a simulated year")
    e.add_argument("--year", type=int, default=2025, help="the calendar year simulated (default 2025)")
    e.add_argument("--calls-per-day", type=float, default=150.0, help="mean calls a day, province-wide (default 150)")
    e.add_argument("--spikes", type=int, default=60, help="spikes planted in the year (default 60)")
    e.add_argument("--seed", type=int, default=1, help="random seed (1 tuned on, 2 held out in docs/rules.md)")
    e.add_argument("--alpha", type=float, action="append", default=None,
                   help="tail probability (repeatable: one line each; default 1e-4)")
    e.add_argument("--min-count", type=int, action="append", default=None,
                   help="minimum calls for a spike (repeatable; default 4)")
    e.set_defaults(func=_simulate_defaults)


def _simulate_defaults(args) -> int:
    args.alpha = args.alpha or [SpikeOptions.alpha]
    args.min_count = args.min_count or [SpikeOptions.min_count]
    return _simulate(args)
