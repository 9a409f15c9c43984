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
