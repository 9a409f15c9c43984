"""The retention purge on recordings really pulled over SFTP (OpenSSH on 127.0.0.1, no models): the staged
copies of purged calls go, the server is not touched, and the next pull does not fetch them again."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import pytest

from pipeline.logsafe import mask_numbers
from tests.support import sshd
from tests.integration.test_sftp import AUDIO, KEY, _open, _settings, _tree, pbx, server  # noqa: F401  (fixtures)

pytestmark = pytest.mark.skipif(not sshd.available(), reason="needs openssh-server (sshd) and ssh-keygen")


def test_purge_removes_pulled_copies_and_the_pull_does_not_bring_them_back(server, pbx, tmp_path):  # noqa: F811
    from pipeline.intake import sources
    from pipeline.warehouse import db
    from pipeline.warehouse.purge import purge

    settings = _settings(tmp_path, server)
    url = server.url(pbx)
    before = _tree(pbx)
    staging = sources.staging_dir(url, settings)
    src = _open(url, settings)
    try:
        pulled = sources.pull(src, staging, key=KEY, confirm_s=0.3)
    finally:
        src.close()
    assert sorted(pulled.new_audio) == sorted(AUDIO)
    sources.mark_processed(staging, pulled.pending, key=KEY)  # as the flow does after the run
    sources.drop_call_logs(staging)
    from pipeline.intake.ingest import stage_name

    data = {stage_name(rel, KEY): AUDIO[rel] for rel in AUDIO}  # staged without the caller number (issue 25)
    old_rel, new_rel = (stage_name(rel, KEY) for rel in sorted(AUDIO))

    # The two calls as the pipeline loads them: the run's folder is the staging folder, names masked.
    con = db.connect(settings.database)
    now = datetime(2026, 12, 1, 12, 0)
    con.execute("INSERT INTO runs (run_id, started_at, source_dir, status) VALUES ('r1', ?, ?, 'done')",
                [now, str(staging.resolve())])
    for call_id, rel, started in (("c-old", old_rel, now - timedelta(days=400)), ("c-new", new_rel, now)):
        con.execute("INSERT INTO calls (call_id, recording_sha256, status, started_at, source_path, run_id, transcript) "
                    "VALUES (?, ?, 'done', ?, ?, 'r1', 'x')",
                    [call_id, hashlib.sha256(data[rel]).hexdigest(), started, mask_numbers(rel)])
    report = purge(con, 365, now=now)
    con.close()
    assert (report.n_calls, report.n_staged) == (1, 1)
    assert not (staging / old_rel).exists() and (staging / new_rel).read_bytes() == data[new_rel]

    src = _open(url, settings)
    try:
        again = sources.pull(src, staging, key=KEY, confirm_s=0.3)
    finally:
        src.close()
    assert again.new_audio == [] and again.bytes_pulled == 0 and not (staging / old_rel).exists()
    assert _tree(pbx) == before  # nothing on the server was written, renamed or deleted
