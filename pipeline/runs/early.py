"""The early urgent pass of ``hotline watch``: alert on an urgent call from its first seconds, then run it in full.

For each recording a poll finds new and complete, before the full run (decode, transcribe,
speakers, analyse, store, tag) starts on the batch, :func:`early_pass`:

1. hashes it (the call id is the hash's first 16 digits, as the full run's) and, in one short
   open of the warehouse, reads the urgent rules that the beginning of a call can decide
   (:func:`pipeline.casework.early_alerts.rules_for_early`); a call already stored, or one every
   such rule already alerted on, is left to the full run;
2. decodes it and transcribes its first ``first_s`` seconds with the watcher's warm recogniser,
   piece by piece (:func:`pipeline.stages.early.listen_early`), checking the rules after each piece;
3. at the first hit, stores the alert (:func:`pipeline.casework.early_alerts.raise_early`) and
   e-mails it through the same dispatch as the run book (:func:`pipeline.runs.book.send_alerts`:
   the duty officer, subscriptions, quiet hours that never hold an urgent alert), and stops.

The full run then tags the call as always and finds the alert stored: no second alert, no second
e-mail. A recording the early pass cannot read is left to the full run (which quarantines it);
nothing the early pass heard is stored. Its failures are logged and never stop the watch.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from pipeline.casework.early_alerts import check_early, early_facts, raise_early, rules_for_early
from pipeline.config import Settings
from pipeline.errors import AudioDecodeError
from pipeline.intake import ingest
from pipeline.logsafe import safe
from pipeline.records import Recording
from pipeline.runs.book import send_alerts
from pipeline.stages.early import EarlyOptions, listen_early
from pipeline.stages.process import decode_stage
from pipeline.stages.transcribe import TranscribeOptions, options_for
from pipeline.warehouse import db

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EarlyOutcome:
    """What the early pass did with one recording."""

    call_id: str
    heard_s: float  # s of the call transcribed (0: not listened to)
    new_alerts: int  # alerts stored (and e-mailed when a relay is set)
    wall_s: float  # s from the start of the early pass on this recording to its alert (or its end)
    skipped: str = ""  # why it was not listened to: "stored", "alerted", "no rules", "unreadable"


def early_pass(root: Path, keys: list[str], *, key: str, settings: Settings, asr,
               early: EarlyOptions | None = None, options: TranscribeOptions | None = None) -> list[EarlyOutcome]:
    """The early pass on the recordings under ``root`` whose :func:`~pipeline.intake.ingest.name_key` (made with
    ``key``) is in ``keys``, in order; one recording's failure is logged and the next one is heard."""
    early = early or EarlyOptions(first_s=settings.early_pass_s)
    options = options or options_for(settings)
    out = []
    for path in ingest.find_audio_files(Path(root), only_keys=keys, key=key):
        try:
            out.append(early_call(path, Path(root), settings=settings, asr=asr, early=early, options=options))
        except Exception as exc:  # the full run still runs the call (and says what is wrong with it)
            log.warning("early urgent pass skipped a recording (%s: %s); the full run tags it", type(exc).__name__,
                        safe(exc))
    return out


def early_call(path: Path, root: Path, *, settings: Settings, asr, early: EarlyOptions,
               options: TranscribeOptions) -> EarlyOutcome:
    """The early pass on one recording (see the module docstring)."""
    t0 = time.perf_counter()
    sha = ingest.hash_file(path)
    rec = Recording(path=path, relpath=path.relative_to(root).as_posix(), sha256=sha, size_bytes=path.stat().st_size)
    with db.brief(settings.database, migrate_schema=True, create=True) as con:
        todo = rules_for_early(con, rec.call_id)
    why = ("stored" if todo.settled else "no rules" if not todo.rules else
           "alerted" if all(r.name in todo.alerted for r in todo.rules) else "")
    if why:
        return EarlyOutcome(rec.call_id, 0.0, 0, time.perf_counter() - t0, why)
    try:
        audio = decode_stage(rec, settings)
    except AudioDecodeError:
        return EarlyOutcome(rec.call_id, 0.0, 0, time.perf_counter() - t0, "unreadable")
    heard_s = 0.0
    for heard in listen_early(audio, asr, options, early, operator_channel=settings.operator_channel):
        heard_s = heard.heard_s
        facts = early_facts(rec.call_id, heard.heard_s, heard.turns)
        hits = check_early(todo.rules, facts, todo.alerted)
        if hits:
            with db.brief(settings.database) as con:
                new = raise_early(con, facts, hits, todo.rules)
                send_alerts(con, settings)
            wall = time.perf_counter() - t0
            log.info("call %s: urgent (%s) in its first %.0f s; alert raised %.1f s into the early pass",
                     rec.call_id, ", ".join(h.rule for h in hits), heard.heard_s, wall)
            return EarlyOutcome(rec.call_id, heard.heard_s, new, wall)
    return EarlyOutcome(rec.call_id, heard_s, 0, time.perf_counter() - t0)
