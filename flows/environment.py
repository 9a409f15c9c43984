"""The process a flow runs in: Prefect's home and settings before Prefect is imported, a flow's
settings, and the Dask task runner's environment. Imports no Prefect at the top, so the commands
import it before they start a flow.
"""

from __future__ import annotations

import os

from flows.reaper import temporary_server_api_url
from pipeline.config import REPO_ROOT, Settings, apply_environment, ensure_dir, load_settings


def prepare_prefect(settings: Settings) -> None:
    """Keep Prefect's state in our working folder and quiet (:func:`pipeline.config.apply_environment`,
    which the CLI has already called), and create that folder; call before importing prefect.

    The Prefect home is created here: Prefect itself cannot make missing parents and
    then fails only minutes later, as a timeout of its temporary server.
    """
    apply_environment(settings)
    ensure_dir(os.environ["PREFECT_HOME"], "Prefect home")


def flow_settings(settings: Settings | None) -> Settings:
    """A flow's settings: those it was given (built once by the entry point, or validated back from
    the JSON a deployment stored), else this process's; the process-wide environment applied."""
    settings = settings if settings is not None else load_settings()
    apply_environment(settings)
    return settings


def with_secrets(settings: Settings) -> Settings:
    """``settings`` with the SFTP password read from the Prefect Secret block ``sftp_password_secret`` names,
    when no password is set directly (the setting wins). The library reads only the settings."""
    if settings.sftp_password or not settings.sftp_password_secret:
        return settings
    from prefect.blocks.system import Secret

    return settings.with_(sftp_password=Secret.load(settings.sftp_password_secret).get())


def prefect_api_url() -> str:
    """The Prefect API this process uses, starting the temporary local server if there is none yet.

    Dask worker processes get it through ``PREFECT_API_URL``; otherwise each would
    start a temporary server of its own (STACK.md).
    """
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value()
    if url:
        return url
    # The one instance this process's flows will use too; it dies with this process (even SIGKILL).
    return temporary_server_api_url()


def dask_task_runner(*, workers: int):
    """A DaskTaskRunner on a local cluster of ``workers`` processes.

    Local workers share this process's Prefect server, result storage and import
    path; each loads the models once, on its first call. A separate cluster's workers
    run plain Dask tasks instead (flows/cluster.py, docs/operations.md).
    """
    from prefect_dask import DaskTaskRunner

    env = {"PREFECT_API_URL": prefect_api_url(),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))}
    for key in ("PREFECT_HOME", "PREFECT_SERVER_ANALYTICS_ENABLED", "PREFECT_RESULTS_LOCAL_STORAGE_PATH",
                "HOTLINE_HOME", "HOTLINE_MODEL_CACHE", "PYANNOTE_METRICS_ENABLED", "HF_HUB_OFFLINE"):
        if os.environ.get(key):
            env[key] = os.environ[key]
    os.environ["PREFECT_API_URL"] = env["PREFECT_API_URL"]  # spawned worker processes inherit it too
    return DaskTaskRunner(cluster_kwargs={"n_workers": workers, "threads_per_worker": 1, "processes": True,
                                          "dashboard_address": None, "env": env})
