"""What a Dask worker is sent (flows/cluster.py): the settings without the secrets it does not use, keys without names."""

from __future__ import annotations

from flows.cluster import worker_settings
from pipeline.config import load_settings


def test_workers_get_the_settings_without_the_caller_salt_or_sftp_password(tmp_path):
    settings = load_settings(home=tmp_path, caller_salt="s3cret-salt-" * 3, sftp_password="pw-secret", cpu_threads=1)
    sent = worker_settings(settings)
    assert (sent.caller_salt, sent.sftp_password) == ("", "")
    assert (sent.cpu_threads, sent.asr_model, sent.database) == (settings.cpu_threads, settings.asr_model, settings.database)
    assert settings.caller_salt.startswith("s3cret")  # the writer's own settings are left as they are


def test_a_failing_call_comes_back_as_a_masked_error_not_a_failed_task(tmp_path, monkeypatch):
    """Dask logs a failed task's arguments (the recording's path, often with the caller's number): a worker returns
    the failure instead, its text masked, and the run book records it."""
    from flows import cluster
    from pipeline.errors import HotlineError
    from pipeline.records import Recording

    def boom(rec, stages):
        raise ValueError(f"cannot read {rec.relpath}")

    monkeypatch.setattr(cluster, "run_call", boom)
    rec = Recording(path=tmp_path / "in-0905123456-1.wav", relpath="in-0905123456-1.wav", sha256="ab" * 32, size_bytes=1)
    out = cluster.run_one(rec, load_settings(home=tmp_path, known_operators=False), ())
    assert isinstance(out, HotlineError) and "ValueError" in str(out)
    assert "0905123456" not in str(out) and "123456" not in str(out)
