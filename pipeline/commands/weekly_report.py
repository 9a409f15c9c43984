"""``hotline weekly-report``: the last full week's report now, or ``--serve`` it on a schedule (Prefect)."""

from __future__ import annotations

from pathlib import Path

from flows.schedules import WEEKLY_REPORT_CRON, WEEKLY_REPORT_TIMEZONE
from pipeline.config import entry_settings


def _weekly(args) -> int:
    from flows import weekly_report as wr

    settings = entry_settings(args).with_(db_path=args.db, report_dir=args.out_dir)

    if args.serve:
        print(f"serving deployment {wr.weekly_report.name}/{wr.DEPLOYMENT_NAME}: cron {args.cron!r} ({args.timezone}); "
              "Ctrl-C stops it")
        wr.serve_weekly(cron=args.cron, timezone=args.timezone, settings=settings, lang=args.lang, fmt=args.format)
        return 0
    path = wr.weekly_report(settings, lang=args.lang, fmt=args.format, day=args.day)
    print(f"weekly report written to {path}")
    return 0


def register(sub, eval_sub) -> None:
    p = sub.add_parser("weekly-report", help="report of the last full week (Mon–Sun); --serve runs it on a schedule")
    p.add_argument("--serve", action="store_true", help="serve the Prefect deployment 'weekly-report' until Ctrl-C")
    p.add_argument("--cron", default=WEEKLY_REPORT_CRON,
                   help=f"schedule with --serve (default {WEEKLY_REPORT_CRON!r}: Mondays 07:00)")
    p.add_argument("--timezone", default=WEEKLY_REPORT_TIMEZONE, help="time zone of the schedule")
    p.add_argument("--day", default=None, help="report the week before this day, YYYY-MM-DD (default: today)")
    p.add_argument("--out-dir", type=Path, default=None, help="folder (default: $HOTLINE_REPORT_DIR or $HOTLINE_HOME/reports)")
    p.add_argument("--format", choices=("pdf", "html"), default="pdf", help="pdf (printed with chromium) or html")
    p.add_argument("--lang", choices=("vi", "en"), default="vi", help="language of the report (default vi)")
    p.add_argument("--db", type=Path, default=None, help="DuckDB file (default: $HOTLINE_HOME/hotline.duckdb)")
    p.set_defaults(func=_weekly)
