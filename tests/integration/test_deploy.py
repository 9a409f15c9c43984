"""The scheduled deployment, for real: ``prefect server start`` on loopback, ``hotline deploy`` serving
``pull-and-process`` from an SFTP server (real sshd), a run triggered through the API, the calls in DuckDB.

By default the calls need no model (one real call's header, cut short, is quarantined; a second is
not audio at all), which keeps the test near 30 s of CPU; ``HOTLINE_TEST_DEPLOY_REAL=1`` sends a real
8 s call through the models instead and prints landing -> tagged. Tagging with the models is
covered by test_freepbx_flow.py; the latency by scripts/research/measure_pull_latency.py.
"""

from __future__ import annotations

import os
import time
from datetime import datetime

import pytest

from tests.integration.test_freepbx_flow import NUMBERS, PAIRED, build_freepbx_folder
from tests.support import prefect_server, sshd, stores

REAL = os.environ.get("HOTLINE_TEST_DEPLOY_REAL") == "1"

pytestmark = pytest.mark.skipif(not sshd.available(), reason="needs openssh-server (sshd) and ssh-keygen")


def _calls(db_path, tries: int = 40):
    import duckdb

    for _ in range(tries):  # a scheduled run may hold the file for writing just now
        try:
            con = duckdb.connect(str(db_path), read_only=True)
        except duckdb.IOException:
            time.sleep(0.5)
            continue
        try:
            return con.execute("SELECT source_path, pbx_call_id, direction, status, processed_at, "
                               "(SELECT count(*) FROM call_topics t WHERE t.call_id = c.call_id AND t.assigned) "
                               "FROM calls c ORDER BY source_path").fetchall()
        finally:
            con.close()
    raise TimeoutError(f"{db_path} stayed locked")


def test_scheduled_deployment_pulls_over_sftp_and_tags_the_call(tmp_path, model_cache):
    built = build_freepbx_folder(tmp_path / "built")
    pbx = tmp_path / "pbx monitor"
    pbx.mkdir()
    srv = sshd.start(tmp_path / "sshd")
    server = deploy = None
    try:
        server = prefect_server.Server(tmp_path / "prefect")
        db_path = tmp_path / "hotline" / "calls.duckdb"
        env = {"HOTLINE_HOME": str(tmp_path / "hotline"), "HOTLINE_MODEL_CACHE": str(model_cache),
               "HOTLINE_SFTP_KNOWN_HOSTS": str(srv.known_hosts), "HOTLINE_SFTP_KEY_PATH": str(srv.client_key),
               "PYANNOTE_METRICS_ENABLED": "0"}
        deploy = prefect_server.start_deploy(server, [srv.url(pbx), "--name", "pbx-test", "--interval", "30",
                                                      "--db", str(db_path), "--confirm", "1"],
                                             env, tmp_path / "deploy.log")
        dep = prefect_server.wait_for_deployment(server, "pbx-test")
        assert [s["schedule"]["interval"] for s in dep["schedules"]] == [30.0]
        assert dep["parameters"]["source"] == srv.url(pbx)
        stored = dep["parameters"]["settings"]  # the settings object, as JSON, without its secrets
        assert stored["db_path"] == str(db_path) and "sftp_password" not in stored and "caller_salt" not in stored
        # The call lands on the PBX: Master.csv first, then the recording.
        (pbx / "Master.csv").write_bytes((built / "Master.csv").read_bytes())
        (pbx / PAIRED[0]).parent.mkdir(parents=True)
        audio = (built / PAIRED[0]).read_bytes()
        (pbx / PAIRED[0]).write_bytes(audio if REAL else audio[:30])  # header only: undecodable, no model
        landed = datetime.now()
        run = prefect_server.api(server.url, f"/deployments/{dep['id']}/create_flow_run", {})
        done = prefect_server.wait_for_flow_run(server, run["id"], timeout_s=300)
        assert done["state_type"] == "COMPLETED", (tmp_path / "deploy.log").read_text()[-3000:]
        rows = _calls(db_path)
        # Staged, then stored, without the caller's number (issues 13, 25).
        assert [r[:4] for r in rows] == [("2026/11/30/in-101-***456-***241.wav", "1764491112.41", "inbound",
                                          "done" if REAL else "quarantined")]
        # The deployment's Prefect server (flow-run parameters, logs, states), its results, the home, the log.
        prefect_home = tmp_path / "prefect"
        found = stores.scan(NUMBERS, home=tmp_path / "hotline", logs=(tmp_path / "deploy.log").read_text(),
                            prefect=False, extra={"prefect_db": sorted(prefect_home.glob("prefect.db*")),
                                                  "result_cache": [p for p in [prefect_home / "storage"] if p.is_dir()]})
        assert found.total == 0, stores.describe(found)
        if REAL:
            assert rows[0][5] >= 1  # tagged with a topic
            print(f"landing -> tagged: {(rows[0][4] - landed).total_seconds():.1f} s (triggered run)")
        assert os.path.exists(tmp_path / "hotline" / "staging")
        # The schedule made runs of its own (the server schedules them as the deployment is created).
        scheduled = prefect_server.api(server.url, "/flow_runs/filter",
                                       {"flow_runs": {"deployment_id": {"any_": [dep["id"]]}}})
        assert any(r["auto_scheduled"] for r in scheduled)
    finally:
        if deploy is not None:
            prefect_server.stop(deploy)
        if server is not None:
            server.stop()
        srv.stop()
