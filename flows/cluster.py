"""Per-call work on a Dask distributed cluster (``HOTLINE_DASK_SCHEDULER``, ``hotline run --dask-address``).

The scheduler and its workers are separate processes (``dask scheduler``, ``dask worker``),
on this machine or on others (docs/operations.md, "Scale-out"). Each call is one Dask task,
:func:`cluster_call`, running the one per-call sequence (:func:`pipeline.stages.process.run_call`,
decode → transcribe → speakers → analyse) with the plain stages; the models stay loaded in
each worker process between calls (:func:`pipeline.stages.process.get_models`). The workers
need no Prefect server and write nothing: each returns a :class:`~pipeline.runs.book.CallOutcome`
and the flow's process alone records it (one DuckDB writer).

A worker lost mid-call (killed, out of memory, unplugged) is noticed by the scheduler, which
runs the call again on another worker (up to ``distributed.scheduler.allowed-failures`` times,
then the call fails and the next run tries it again). Each attempt announces itself on
:data:`EVENT_TOPIC`, so the flow knows how often a call was run and records the retry.

Confidentiality: a task's key is ``call-<call id>-<token>`` (the call id is a prefix of the
recording's SHA-256), and the events carry keys, worker addresses and process ids only, so
the scheduler, its dashboard and the workers' logs see no file name or caller number. The
caller salt and SFTP password are blanked in the settings the workers get (they do not use them).
"""

from __future__ import annotations

import os
import threading
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence

from distributed import Client, as_completed, get_worker

from pipeline.config import Settings
from pipeline.errors import AudioDecodeError, HotlineError
from pipeline.logsafe import safe
from pipeline.records import Recording
from pipeline.runs.book import CallOutcome
from pipeline.stages.process import Stages, get_models, run_call

EVENT_TOPIC = "hotline-call-attempt"
CONNECT_TIMEOUT_S = 30


def cluster_call(rec: Recording, settings: Settings, voiceprints: Sequence) -> CallOutcome | HotlineError:
    """One call's stages on the worker this runs on (models loaded on its first call, then kept); a failure is
    returned as a :class:`~pipeline.errors.HotlineError` with its text masked, for the run book to record."""
    worker = get_worker()
    worker.log_event(EVENT_TOPIC, {"key": worker.get_current_task(), "worker": worker.address, "pid": os.getpid()})
    return run_one(rec, settings, voiceprints)


def run_one(rec: Recording, settings: Settings, voiceprints: Sequence) -> CallOutcome | HotlineError:
    """:func:`cluster_call`'s work, in whichever process calls it."""
    models = get_models(settings)
    models.use_voiceprints(voiceprints)
    try:
        return CallOutcome(rec, result=run_call(rec, Stages(models, settings)))
    except AudioDecodeError as exc:  # the exception does not pickle across processes; its problem does
        return CallOutcome(rec, quarantine_error=exc.problem)
    except Exception as exc:  # returned, not raised: Dask logs a failed task's arguments (the file name, its number)
        return HotlineError(safe(f"{type(exc).__name__}: {exc}"))


def worker_settings(settings: Settings) -> Settings:
    """The settings a worker gets: the secrets it does not need blanked (they would travel in clear)."""
    return settings.with_(caller_salt="", sftp_password="")


def run_on_cluster(address: str, todo: list[Recording], settings: Settings, voiceprints: Sequence = ()
                   ) -> Iterator[tuple[Recording, CallOutcome | BaseException, int]]:
    """Each call of ``todo`` on the cluster at ``address``, yielded as it completes: (recording, its outcome or
    the exception its work raised, how many times a worker started it)."""
    token = uuid.uuid4().hex[:8]
    attempts: Counter[str] = Counter()
    lock = threading.Lock()

    def count(event) -> None:
        _, msg = event
        with lock:
            attempts[msg.get("key")] += 1

    shipped = worker_settings(settings)
    with Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False) as client:
        client.subscribe_topic(EVENT_TOPIC, count)
        try:
            futures = {client.submit(cluster_call, rec, shipped, tuple(voiceprints), key=f"call-{rec.call_id}-{token}",
                                     pure=False): rec for rec in todo}
            for future in as_completed(list(futures), loop=client.loop):
                rec = futures.pop(future)
                try:
                    outcome = future.result()
                except Exception as exc:  # the task could not run: it killed allowed-failures workers (KilledWorker)
                    outcome = exc
                with lock:
                    n = max(1, attempts.pop(future.key, 0))
                future.release()  # the worker forgets the result (transcripts) now
                yield rec, outcome, n
        finally:
            client.unsubscribe_topic(EVENT_TOPIC)
