"""The weekly report deployment: a real Prefect flow run writes last week's report; the deployment
carries the cron schedule and its parameters when applied to the (test) Prefect server."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest

from flows.weekly_report import last_full_week, weekly_deployment, weekly_report
from pipeline.config import load_settings


def test_last_full_week():
    assert last_full_week(date(2026, 11, 18)) == (date(2026, 11, 9), date(2026, 11, 15))  # a Wednesday
    assert last_full_week(date(2026, 11, 16)) == (date(2026, 11, 9), date(2026, 11, 15))  # a Monday
    assert last_full_week(date(2026, 11, 15)) == (date(2026, 11, 2), date(2026, 11, 8))  # a Sunday


def test_weekly_flow_run_writes_last_weeks_report(prefect_harness, web_db, tmp_path):
    from prefect.client.orchestration import get_client

    settings = load_settings(db_path=web_db, report_dir=tmp_path / "reports")
    state = weekly_report(settings, fmt="html", day="2026-11-18", return_state=True)
    assert state.is_completed()
    path = state.result()
    assert path.endswith("reports/bao-cao_2026-11-09_2026-11-15.html")
    html = open(path, encoding="utf-8").read()
    assert "09/11/2026 – 15/11/2026" in html and "Trong kỳ có " in html

    async def recorded():
        async with get_client() as client:
            return await client.read_flow_run(state.state_details.flow_run_id)

    run = asyncio.run(recorded())
    assert run.state.is_completed() and run.parameters["day"] == "2026-11-18"
    # The settings travel as an object Prefect stores as JSON, without their secrets.
    assert run.parameters["settings"]["db_path"] == str(web_db)
    assert "caller_salt" not in run.parameters["settings"] and "sftp_password" not in run.parameters["settings"]


def test_deployment_has_the_weekly_schedule(prefect_harness, web_db, tmp_path):
    from prefect.client.orchestration import get_client

    deployment = weekly_deployment(settings=load_settings(db_path=web_db, report_dir=tmp_path), fmt="html")
    deployment_id = deployment.apply()

    async def stored():
        async with get_client() as client:
            return await client.read_deployment(deployment_id)

    d = asyncio.run(stored())
    assert d.name == "weekly-report" and set(d.parameters) == {"settings", "lang", "fmt"}
    assert (d.parameters["settings"]["db_path"], d.parameters["settings"]["report_dir"]) == (str(web_db), str(tmp_path))
    assert (d.parameters["lang"], d.parameters["fmt"]) == ("vi", "html") and "caller_salt" not in d.parameters["settings"]
    (schedule,) = d.schedules
    assert schedule.schedule.cron == "0 7 * * 1" and schedule.schedule.timezone == "Asia/Ho_Chi_Minh"
    assert schedule.active


@pytest.mark.parametrize("bad", ["weekly"])
def test_cli_has_the_command(bad, capsys):
    from pipeline.cli import build_parser

    args = build_parser().parse_args(["weekly-report", "--day", "2026-11-18", "--format", "html"])
    assert args.day == "2026-11-18" and not args.serve


def test_deployment_run_executed_by_a_runner(prefect_harness, web_db, tmp_path):
    """What the schedule does: a flow run created from the deployment, executed by a Prefect runner
    (in a subprocess, as ``serve`` does), writes the report."""
    from prefect.deployments import run_deployment
    from prefect.runner import Runner

    deployment = weekly_deployment(settings=load_settings(db_path=web_db, report_dir=tmp_path), fmt="html")

    async def go():
        from prefect.client.orchestration import get_client

        runner = Runner(name="test-weekly", query_seconds=1)
        await runner.aadd_deployment(deployment)
        flow_run = await run_deployment("weekly-report/weekly-report", parameters={"day": "2026-11-04"}, timeout=0)
        await runner.start(run_once=True)  # picks the run up and executes it in a subprocess, as `serve` does
        async with get_client() as client:
            return await client.read_flow_run(flow_run.id)

    run = asyncio.run(go())
    assert run.state.is_completed(), run.state
    assert (tmp_path / "bao-cao_2026-10-26_2026-11-01.html").is_file()
