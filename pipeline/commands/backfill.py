"""``hotline backfill --from DATE --to DATE``: reprocess a date range with a new ASR model."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from flows.environment import prepare_prefect
from models.readable_text import load_readable_model
from pipeline.config import Settings, entry_settings
from pipeline.errors import HotlineError
from pipeline.runs.book import check_run_inputs
from pipeline.stages.readable_fill import fill_readable
from pipeline.warehouse import db


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise HotlineError(f"{text!r} is not a date; write it as YYYY-MM-DD") from exc


def backfill_range(date_from: date, date_to: date, settings: Settings, *, db_path: Path | None = None,
                   overrides: dict | None = None, wait_s: float = 0.0):
    """Run the ``backfill`` flow with the entry point's ``settings`` (``overrides`` and ``db_path``
    applied); returns its ``RunSummary``. Raises HotlineError for an empty range."""
    if date_to < date_from:
        raise HotlineError(f"--to {date_to} is before --from {date_from}")
    settings = settings.with_(**(overrides or {})).with_(db_path=db_path)
    db.check_warehouse_path(settings.database, create=False)  # nothing to backfill in a new file
    check_run_inputs(settings)
    prepare_prefect(settings)
    from flows.backfill import backfill

    return backfill(date_from, date_to, settings, wait_s)


def fill_readable_range(date_from: date, date_to: date, settings: Settings, *, db_path: Path | None = None,
                        wait_s: float = 0.0):
    """Readable text for the range's calls from their stored text (no audio): ``Filled`` counts.

    Holds the run lock, as a run does; raises HotlineError for an empty range."""
    if date_to < date_from:
        raise HotlineError(f"--to {date_to} is before --from {date_from}")
    path = Path(db_path) if db_path else settings.database
    db.check_warehouse_path(path, create=False)
    model = load_readable_model()
    with db.run_lock(path, wait_s=wait_s):
        con = db.connect(path, wait_s=wait_s, create=False)
        try:
            return fill_readable(con, model, date_from, date_to)
        finally:
            con.close()


def _backfill(args) -> int:
    if args.readable:
        done = fill_readable_range(_date(args.date_from), _date(args.date_to), entry_settings(args), db_path=args.db,
                                   wait_s=args.wait)
        print(f"backfill readable calls={done.calls} segments={done.segments} already_done={done.skipped}")
        return 0
    overrides = {"asr_model": args.asr_model} if args.asr_model else {}
    summary = backfill_range(_date(args.date_from), _date(args.date_to), entry_settings(args), db_path=args.db,
                             overrides=overrides,
                             wait_s=args.wait)
    print(f"backfill calls={summary.found} processed={summary.processed} skipped={summary.skipped} "
          f"quarantined={summary.quarantined} failed={summary.failed} audio_s={summary.audio_s:.1f} "
          f"wall_s={summary.wall_s:.1f} runs={summary.run_id or '-'}")
    return 0 if summary.failed == 0 else 2


def register(sub, eval_sub) -> None:
    p = sub.add_parser("backfill", help="reprocess the calls of a date range with the current or another ASR model")
    p.add_argument("--from", dest="date_from", required=True, metavar="YYYY-MM-DD", help="first call date")
    p.add_argument("--to", dest="date_to", required=True, metavar="YYYY-MM-DD", help="last call date (inclusive)")
    p.add_argument("--asr-model", default=None, help="viet-asr (default) | base | local CTranslate2 folder | hub id (`hotline models`)")
    p.add_argument("--db", type=Path, default=None, help="DuckDB file (default: $HOTLINE_HOME/hotline.duckdb)")
    p.add_argument("--wait", type=float, default=0.0, help="seconds to wait for another writer to finish")
    p.add_argument("--readable", action="store_true",
                   help="only write the readable text (capitals, punctuation, digits) of the range's calls from their "
                        "stored text, without audio (calls loaded before it existed, or by another model)")
    p.set_defaults(func=_backfill)
