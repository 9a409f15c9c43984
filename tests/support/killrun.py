"""One ``process-calls`` run with fake ASR that SIGKILLs itself at a chosen point (fault tests).

``python -m tests.support.killrun SRC DB HOME [--kill-at decode|transcribe|load|search --nth N]``

Transcription is replaced by a fixed Vietnamese sentence per channel (no model), the
rest of the pipeline is real: decode, channel speakers, analysis, load, search index.
``--kill-at`` kills this process with SIGKILL at the N-th entry into that stage
(``load``: inside the call's transaction, after its ``calls`` row is written).
Prefect: the server named by ``PREFECT_API_URL`` (the test session's).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys


def _killer(stage: str, nth: int, fn):
    count = {"n": 0}

    def wrapped(*args, **kwargs):
        if not (stage == "load" and args[1] != "segments"):
            count["n"] += 1
            if count["n"] == nth:
                print(f"killrun: SIGKILL in {stage} #{nth}", flush=True)
                os.kill(os.getpid(), signal.SIGKILL)
        return fn(*args, **kwargs)

    return wrapped


class FakeASR:
    name = "fake-asr"
    fingerprint = "fake-asr-1"


def main(argv=None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("src")
    p.add_argument("db")
    p.add_argument("home")
    p.add_argument("--kill-at", choices=("decode", "transcribe", "load", "search"))
    p.add_argument("--nth", type=int, default=1)
    args = p.parse_args(argv)

    import flows.process_calls as pc
    import flows.tasks as tasks
    from pipeline.config import load_settings
    from pipeline.records import Segment, Transcript, TranscriptInfo
    from pipeline.runs import book
    from pipeline.stages import process
    from pipeline.warehouse import load

    settings = load_settings(home=args.home, db_path=args.db)
    process._MODELS[settings] = process.Models(settings, asr=FakeASR())

    def fake_transcribe(audio, models, options=None):
        info = TranscriptInfo("vi", 0.99, audio.duration_s, speech_s=min(1.0, audio.duration_s))
        return tuple(Transcript((Segment(0.1, min(1.0, audio.duration_s), "tôi muốn hỏi về sổ đỏ đất đai",
                                         avg_logprob=-0.2, channel=ch),), info) for ch in range(audio.channels))

    tasks.transcribe_stage = fake_transcribe
    if args.kill_at == "decode":
        tasks.decode_stage = _killer("decode", args.nth, tasks.decode_stage)
    elif args.kill_at == "transcribe":
        tasks.transcribe_stage = _killer("transcribe", args.nth, tasks.transcribe_stage)
    elif args.kill_at == "load":
        load._insert = _killer("load", args.nth, load._insert)
    elif args.kill_at == "search":
        book.refresh_search_index = _killer("search", args.nth, book.refresh_search_index)
    summary = pc.process_calls(args.src, settings)
    print(f"killrun: processed={summary.processed} quarantined={summary.quarantined} failed={summary.failed} "
          f"skipped={summary.skipped} problems={len(summary.problems)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
