"""Issue 25 #9: a hostile SFTP server (OpenSSH on 127.0.0.1; what OpenSSH itself would never send, names
with a path in them and sizes that lie, is put into its replies at the client's SFTP layer). One bad name
used to abort the whole pull with 0 good files; a 300 MB file was pulled, then copied again into quarantine."""

from __future__ import annotations

import os
import time

import pytest

from tests.support import sshd
from tests.integration.test_sftp import KEY, _open, _settings, server  # noqa: F401  (fixture)
from tests.support import stores, tally

pytestmark = pytest.mark.skipif(not sshd.available(), reason="needs openssh-server (sshd) and ssh-keygen")

NUMBERS = ("0905123456", "0912345678", "0987654321")


def _old(path, age_s=600):
    t = time.time() - age_s
    os.utime(path, (t, t))


@pytest.fixture
def monitor(tmp_path):
    root = tmp_path / "monitor"
    good = {f"2026/11/30/in-101-{NUMBERS[0]}-20261130-081502-1764490502.11.wav": os.urandom(40_000),
            "2026/11/30/exten-102-101-20261130-091000-1764494000.12.wav": os.urandom(20_000)}
    for rel, data in good.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    with (root / "2026/11/30/in-101-0977000111-20261130-100000-1764497000.13.wav").open("wb") as fh:
        fh.truncate(3 << 20)  # sparse: 3 MiB listed, over a 1 MiB cap
    for p in root.rglob("*"):
        _old(p)
    return root, good


def _hostile(src, extra_names=(), lie_sizes=None):
    """Make the connected SftpSource's server list ``extra_names`` beside the real entries of the root's
    day folder and report ``lie_sizes`` (name → bytes) for real files."""
    import paramiko

    real = src._sftp.listdir_attr

    def listdir_attr(path="."):
        entries = real(path)
        for attr in entries:
            if attr.filename in (lie_sizes or {}):
                attr.st_size = lie_sizes[attr.filename]
        if path.endswith("2026/11/30"):
            for name in extra_names:
                attr = paramiko.SFTPAttributes()
                attr.filename, attr.st_mode, attr.st_size = name, 0o100644, 1000
                attr.st_mtime = int(time.time()) - 600
                entries.append(attr)
        return entries

    src._sftp.listdir_attr = listdir_attr


def test_names_with_a_path_in_them_are_refused_and_the_rest_is_pulled(server, monitor, tmp_path, caplog):
    from pipeline.intake import sources
    from pipeline.intake.ingest import stage_name

    root, good = monitor
    settings = _settings(tmp_path, server)
    staging = sources.staging_dir(server.url(root), settings)
    bad = [f"../../../{NUMBERS[1]}.wav", f"x/../../../../tmp/{NUMBERS[2]}.wav", "..\x00.wav"]
    src = _open(server.url(root), settings)
    _hostile(src, bad)
    try:
        got = sources.pull(src, staging, key=KEY, confirm_s=0.2, max_bytes=1 << 20)
    finally:
        src.close()
    written = [p for p in tmp_path.rglob("*") if p.is_file() and not p.is_relative_to(root)
               and not p.is_relative_to(staging) and "sshd" not in p.parts[-2] and not p.is_relative_to(tmp_path / "home")]
    refused = "\n".join(got.refused)
    clear = stores.count_in_bytes(NUMBERS, refused + caplog.text)
    pulled = {rel for rel in good if (staging / stage_name(rel, KEY)).is_file()}
    ok = pulled == set(good) and refused.count("path separator") == 2 and not written
    tally.record("sftp", "hostile names from a real SFTP server", tried=len(bad) + len(good),
                 survived=(len(bad) + len(good)) * int(ok), rows_lost=len(good) - len(pulled),
                 clear_text_numbers=clear, stores={"logs": clear})
    assert ok, (got, written)
    assert "over the 1 MiB cap" in refused  # the 3 MiB file, refused from the listing
    assert clear == 0


def test_a_server_that_lies_about_a_size_is_stopped_at_the_cap(server, monitor, tmp_path):
    from pipeline.intake import sources

    root, _ = monitor
    settings = _settings(tmp_path, server)
    staging = sources.staging_dir(server.url(root), settings)
    src = _open(server.url(root), settings)
    big = "in-101-0977000111-20261130-100000-1764497000.13.wav"
    _hostile(src, lie_sizes={big: 1000})
    sizes = []
    real_copy = sources.copy_capped

    def watching(fh, dest, max_bytes, chunk=1 << 20):
        try:
            return real_copy(fh, dest, max_bytes, chunk)
        finally:
            sizes.append(dest.stat().st_size if dest.exists() else 0)

    sources.copy_capped = watching
    try:
        got = sources.pull(src, staging, key=KEY, confirm_s=0.2, max_bytes=1 << 20)
    finally:
        sources.copy_capped = real_copy
        src.close()
    ok = any("in-***013.wav" in r and "more than 1 MiB" in r for r in got.refused) and max(sizes) <= 1 << 20
    tally.record("sftp", "a size that lies: stopped while streaming", survived=int(ok))
    assert ok, (got.refused, sizes)
    assert not [p for p in staging.rglob("*.wav") if p.stat().st_size > 1 << 20]
    assert not list((staging / ".partial").iterdir())
