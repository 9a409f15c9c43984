"""Pulling recordings over SFTP from a real OpenSSH server on 127.0.0.1 (no models: a few seconds)."""

from __future__ import annotations

import hashlib
import os
import threading
import time

import pytest

from tests.support import sshd

KEY = "test-caller-salt"  # keys the watermark's names (the caller salt in production)

pytestmark = pytest.mark.skipif(not sshd.available(), reason="needs openssh-server (sshd) and ssh-keygen")

AUDIO = {"2026/11/30/in-101-0905123456-20261130-081502-1764490502.11.wav": os.urandom(48_000),
         "2026/11/30/out-0912345678-102-20261130-091000-1764494000.12.wav": os.urandom(32_000)}


def _tree(folder):
    """Relative path → (SHA-256, size, mtime ns) of every file and folder: any change shows."""
    out = {}
    for p in sorted(folder.rglob("*")):
        st = p.stat()
        out[p.relative_to(folder).as_posix()] = (
            hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir", st.st_size, st.st_mtime_ns)
    return out


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = sshd.start(tmp_path_factory.mktemp("sshd"))
    yield srv
    srv.stop()


@pytest.fixture
def pbx(tmp_path):
    root = tmp_path / "var spool asterisk monitor"
    for rel, data in AUDIO.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    (root / "Master.csv").write_text('"","0905123456","101","from-trunk","","PJSIP/trunk-01","PJSIP/101-02",'
                                     '"Dial","","2026-11-30 08:15:02","2026-11-30 08:15:05","2026-11-30 08:16:02",'
                                     '60,57,"ANSWERED","DOCUMENTATION","1764490502.11",""\n')
    (root / ".in-progress.wav").write_bytes(b"hidden: a PBX temporary file")
    old = time.time() - 600
    for p in root.rglob("*"):
        os.utime(p, (old, old))
    return root


def _settings(tmp_path, server, known_hosts=None):
    from pipeline.config import load_settings

    return load_settings(home=tmp_path / "home", sftp_known_hosts=str(known_hosts or server.known_hosts),
                         sftp_key_path=str(server.client_key), sftp_timeout_s=10.0)


def _open(url, settings):
    from pipeline.intake import sources

    return sources.open_source(url, settings)


def test_pulls_complete_files_once_and_never_changes_the_source(server, pbx, tmp_path):
    from pipeline.intake import sources

    settings = _settings(tmp_path, server)
    url = server.url(pbx)
    before = _tree(pbx)
    staging = sources.staging_dir(url, settings)
    assert staging.parent == settings.database.parent / "staging"
    src = _open(url, settings)
    try:
        first = sources.pull(src, staging, key=KEY, confirm_s=0.3)
        again = sources.pull(src, staging, key=KEY, confirm_s=0.3)
    finally:
        src.close()
    from pipeline.intake.ingest import stage_name

    assert sorted(first.new_audio) == sorted(AUDIO) and first.call_logs == ["Master.csv"]
    master = (pbx / "Master.csv").stat().st_size
    assert first.bytes_pulled == sum(map(len, AUDIO.values())) + master
    for rel, data in AUDIO.items():  # staged under a name without the caller's number (issue 25)
        assert (staging / stage_name(rel, KEY)).read_bytes() == data and not (staging / rel).exists()
        assert int((staging / stage_name(rel, KEY)).stat().st_mtime) == int((pbx / rel).stat().st_mtime)
    assert not (staging / ".in-progress.wav").exists()
    assert not list((staging / ".partial").iterdir())
    # The watermark: a second run pulls no recording, and the pending list survives until processed
    # (the call log comes again for the run that processes them; it is not kept between runs).
    assert (again.new_audio, again.call_logs, again.bytes_pulled) == ([], ["Master.csv"], master)
    assert sources.drop_call_logs(staging) == 1 and not (staging / "Master.csv").exists()
    from pipeline.intake.ingest import name_key

    assert sorted(again.pending) == sorted(name_key(stage_name(rel, KEY), KEY) for rel in AUDIO)  # ids, not names
    watermark = (staging / sources.STATE_FILE).read_text()
    assert "0905123456" not in watermark and "0912345678" not in watermark and "in-101" not in watermark
    sources.mark_processed(staging, list(again.pending), key=KEY)
    assert sources.pull(_open(url, settings), staging, key=KEY).pending == []
    assert _tree(pbx) == before


def test_a_file_being_written_is_not_pulled_until_complete(server, pbx, tmp_path):
    from pipeline.intake import sources

    settings = _settings(tmp_path, server)
    url = server.url(pbx)
    staging = sources.staging_dir(url, settings)
    src = _open(url, settings)
    try:
        sources.pull(src, staging, key=KEY, confirm_s=0.2)  # the existing files
        growing = pbx / "2026/11/30/q-600-0987654321-20261130-101500-1764497700.13.wav"
        whole = os.urandom(64_000)
        growing.write_bytes(whole[:20_000])
        stop = threading.Event()

        def writer():  # the PBX appends while the call lasts
            written = 20_000
            while not stop.is_set() and written < len(whole):
                with growing.open("ab") as fh:
                    fh.write(whole[written:written + 4_000])
                written += 4_000
                time.sleep(0.05)

        t = threading.Thread(target=writer)
        t.start()
        try:
            during = sources.pull(src, staging, key=KEY, confirm_s=0.3)
        finally:
            stop.set()
            t.join()
        rel = growing.relative_to(pbx).as_posix()
        assert during.new_audio == [] and rel in during.waiting
        assert not (staging / rel).exists()
        with growing.open("ab") as fh:  # the call ends
            fh.write(whole[growing.stat().st_size:])
        done = sources.pull(src, staging, key=KEY, confirm_s=0.3)
    finally:
        src.close()
    from pipeline.intake.ingest import stage_name

    assert done.new_audio == [rel]
    assert (staging / stage_name(rel, KEY)).read_bytes() == whole


def test_a_download_that_comes_up_short_is_discarded(server, pbx, tmp_path):
    from pipeline.intake import sources

    settings = _settings(tmp_path, server)
    url = server.url(pbx)
    staging = sources.staging_dir(url, settings)
    src = _open(url, settings)
    real_fetch = src.fetch

    def short_fetch(rel, dest, max_bytes=None):  # a connection that drops after half the file
        real_fetch(rel, dest, max_bytes)
        data = dest.read_bytes()
        dest.write_bytes(data[: len(data) // 2])

    src.fetch = short_fetch
    try:
        got = sources.pull(src, staging, key=KEY, confirm_s=0.2)
        # (the call log is only copied for a run that has recordings to process)
        assert got.new_audio == [] and sorted(got.rejected) == sorted(AUDIO) and got.call_logs == []
        assert not [p for p in staging.rglob("*.wav")]
        src.fetch = real_fetch
        assert sorted(sources.pull(src, staging, key=KEY).new_audio) == sorted(AUDIO)  # retried next pull
    finally:
        src.close()


def test_a_wrong_or_unknown_host_key_is_refused(server, pbx, tmp_path):
    from pipeline.intake import sources

    with pytest.raises(sources.SourceError, match="host key does not match"):
        _open(server.url(pbx), _settings(tmp_path, server, known_hosts=server.wrong_known_hosts))
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    with pytest.raises(sources.SourceError, match="not found in known_hosts"):
        _open(server.url(pbx), _settings(tmp_path, server, known_hosts=empty))


def test_password_in_url_is_refused_and_never_echoed():
    from pipeline.intake import sources

    with pytest.raises(sources.SourceError) as err:
        sources.parse_sftp_url("sftp://pbx:s3cret-pw@10.0.0.5:2222/var/spool/asterisk/monitor")
    assert "s3cret-pw" not in str(err.value)
    loc = sources.parse_sftp_url("sftp://pbx@10.0.0.5:2222/var/spool/asterisk/monitor")
    assert (loc.user, loc.host, loc.port, loc.path) == ("pbx", "10.0.0.5", 2222, "/var/spool/asterisk/monitor")


def test_a_call_log_elsewhere_on_the_server_is_copied_when_it_changes(server, tmp_path):
    from pipeline.intake import sources

    cdr_dir = tmp_path / "var log asterisk" / "cdr-csv"
    cdr_dir.mkdir(parents=True)
    master = cdr_dir / "Master.csv"
    master.write_text('"","0905123456","101"\n')
    settings = _settings(tmp_path, server)
    url = server.url(master)
    got = sources.pull_call_log(url, settings)
    assert got.read_text() == master.read_text() and got.parent.parent == settings.database.parent / "staging"
    stamp = got.stat().st_mtime_ns
    assert sources.pull_call_log(url, settings) == got and got.stat().st_mtime_ns == stamp  # unchanged: no copy
    with master.open("a") as fh:
        fh.write('"","0912345678","102"\n')
    os.utime(master, (time.time() + 5, time.time() + 5))
    assert sources.pull_call_log(url, settings).read_text() == master.read_text()
    assert [p.name for p in got.parent.iterdir()] == ["Master.csv"]  # no partial left behind


def test_watch_over_sftp_pulls_then_processes_each_file_once(server, tmp_path, monkeypatch, capsys, prefect_harness):
    """``hotline watch sftp://…``: an undecodable recording needs no model, so this runs the whole path quickly."""
    import duckdb

    from pipeline.cli import main

    pbx = tmp_path / "monitor"
    rel = "2026/11/30/in-101-0905123456-20261130-081502-1764490502.21.wav"
    (pbx / rel).parent.mkdir(parents=True)
    (pbx / rel).write_bytes(b"RIFF\x00\x00\x00\x00WAVE not really")
    for key, value in (("HOTLINE_SFTP_KNOWN_HOSTS", server.known_hosts), ("HOTLINE_SFTP_KEY_PATH", server.client_key),
                       ("HOTLINE_HOME", tmp_path / "home")):
        monkeypatch.setenv(key, str(value))
    db = tmp_path / "home" / "calls.duckdb"
    argv = ["watch", server.url(pbx), "--interval", "0.3", "--settle", "0", "--max-polls", "4", "--db", str(db)]
    assert main(argv) == 0
    assert main(argv) == 0  # a second watcher: the watermark says nothing is new
    out = capsys.readouterr().out
    assert out.count("quarantined=1") == 1 and "0905123456" not in out
    con = duckdb.connect(str(db), read_only=True)
    rows = con.execute("SELECT source_path, status, pbx_call_id, direction FROM calls").fetchall()
    # Staged, then stored, without the number (issues 13, 25): the extension, the caller's last digits,
    # the uniqueid's last digits.
    assert rows == [("2026/11/30/in-101-***456-***221.wav", "quarantined", "1764490502.21", "inbound")]


def test_the_password_can_come_from_a_prefect_secret_block(prefect_harness, settings):
    from prefect.blocks.system import Secret

    from flows.environment import with_secrets

    Secret(value="pbx-pass-42").save("hotline-test-sftp", overwrite=True)
    with_secret = settings.with_(sftp_password_secret="hotline-test-sftp")
    assert with_secrets(with_secret).sftp_password == "pbx-pass-42"
    assert "pbx-pass-42" not in repr(with_secrets(with_secret))
    assert with_secrets(with_secret.with_(sftp_password="from-env")).sftp_password == "from-env"  # the setting wins
