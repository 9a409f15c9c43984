"""The weekly period report, on a schedule: a Prefect flow and its deployment.

``weekly_report`` writes the report of the last full week (Monday to Sunday) before a day
(default: today) to ``<report_dir>/bao-cao_<monday>_<sunday>.pdf`` (HTML with ``fmt="html"``,
or when chromium is missing). :func:`weekly_deployment` is that flow with a cron schedule —
by default Mondays 07:00 Asia/Ho_Chi_Minh — and :func:`serve_weekly` serves it (``hotline
weekly-report --serve``); the run itself is a normal flow run, visible in the Prefect UI.
Self-contained: it does not touch the ingest deployment (``hotline deploy``).
"""

# No `from __future__ import annotations`: a flow's parameter types must be objects, not names.
# A served flow is pickled by value into its run's process, which keeps the annotations but not
# the module globals a string annotation ("Settings") would be resolved in.

import shutil
from datetime import date, timedelta
from pathlib import Path

from prefect import flow, get_run_logger, task

from flows.environment import flow_settings
from flows.schedules import WEEKLY_REPORT_CRON, WEEKLY_REPORT_TIMEZONE
from pipeline.config import Settings
from pipeline.report import reports
from pipeline.report.exports import export_filename
from pipeline.warehouse import db

DEPLOYMENT_NAME = "weekly-report"


def last_full_week(day: date) -> tuple[date, date]:
    """Monday and Sunday of the last week that ended before ``day``."""
    this_monday = day - timedelta(days=day.weekday())
    return this_monday - timedelta(days=7), this_monday - timedelta(days=1)


@task(name="render-weekly-report", retries=1, retry_delay_seconds=60)
def render_week(db_path: str, start: date, end: date, out: str, lang: str, agency: str) -> str:
    # Read-only: the report must not wait on, or block, a pipeline run that is loading.
    con = db.connect(db_path, read_only=True, wait_s=60)
    try:
        html = reports.render_report(con, start, end, lang=lang, agency=agency)
    finally:
        con.close()
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".pdf":
        reports.html_to_pdf(html, path)
    else:
        path.write_text(html, encoding="utf-8")
    return str(path)


@flow(name="weekly-report", log_prints=False)
def weekly_report(settings: Settings | None = None, lang: str = "vi", fmt: str = "pdf", day: str | None = None) -> str:
    """Write the report of the last full week before ``day`` (YYYY-MM-DD; default today) for the
    warehouse ``settings.database`` into ``settings.report_dir`` (default ``<home>/reports``); returns its path.

    ``settings``: built once by the entry point (None: this process's environment).
    """
    settings = flow_settings(settings)
    out_dir = settings.report_dir or settings.home / "reports"
    start, end = last_full_week(date.fromisoformat(day) if day else date.today())
    if fmt == "pdf" and not (shutil.which("chromium") or shutil.which("chromium-browser")):
        get_run_logger().warning("chromium is not installed: writing the weekly report as HTML")
        fmt = "html"
    out = out_dir / export_filename(start, end, fmt, lang=lang, what="report")
    path = render_week(str(settings.database), start, end, str(out), lang, settings.agency_name)
    get_run_logger().info("weekly report %s – %s written to %s", start, end, path)
    return path


def weekly_deployment(*, cron: str = WEEKLY_REPORT_CRON, timezone: str = WEEKLY_REPORT_TIMEZONE,
                      settings: Settings | None = None, lang: str = "vi", fmt: str = "pdf"):
    """The ``weekly-report`` deployment: :func:`weekly_report` on a cron schedule, with its parameters.

    ``settings`` are stored with the deployment as JSON, secrets left out (None: each run reads its
    process's environment)."""
    params = {k: v for k, v in {"settings": settings, "lang": lang, "fmt": fmt}.items() if v is not None}
    from prefect.schedules import Cron

    return weekly_report.to_deployment(name=DEPLOYMENT_NAME, schedule=Cron(cron, timezone=timezone), parameters=params,
                                       description="Weekly period report (A4 PDF) for managers",
                                       tags=["hotline", "report"])


def serve_weekly(**kwargs) -> None:
    """Serve the deployment until interrupted: Prefect starts a flow run at each scheduled time."""
    from prefect import serve

    serve(weekly_deployment(**kwargs))
