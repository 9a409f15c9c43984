"""``hotline bench SOURCE_DIR``: measure stages, real-time factor, throughput, memory, ASR overhead."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from pipeline.config import entry_settings
from pipeline.errors import HotlineError
from pipeline.eval import bench
from pipeline.intake import ingest
from pipeline.salt import caller_salt
from pipeline.stages.process import Models


def _bench(args) -> int:
    if not args.source_dir.is_dir():
        raise HotlineError(f"{args.source_dir}: source folder does not exist")
    overrides = {"asr_model": args.asr_model} if args.asr_model else {}
    with tempfile.TemporaryDirectory(prefix="hotline-bench-") as tmp:
        # A temporary home: the bench never writes the user's database or quarantine.
        settings = entry_settings(args).with_(**overrides).with_(home=Path(tmp), db_path=Path(tmp) / "unused.duckdb")
        scan = ingest.scan_source(args.source_dir, salt=caller_salt(settings))
        recordings = ingest.dedupe(scan.recordings)
        if args.long:
            long_dir = Path(tmp) / "long"
            long_dir.mkdir()
            bench.build_long_call([r.path for r in recordings], long_dir / "long_call.wav", minutes=args.long_minutes)
            recordings = list(ingest.scan_source(long_dir, salt=caller_salt(settings)).recordings)
        if not recordings:
            raise HotlineError(f"{args.source_dir}: no recordings to benchmark")
        report = bench.bench_recordings(recordings, Models(settings), settings, compare_bare=not args.no_bare,
                                        hook=lambda msg: print(msg, file=sys.stderr, flush=True))
    for failure in report.failed:
        print(f"failed: {failure}")
    print(f"calls={report.n_calls} audio_s={report.audio_s:.1f} wall_s={report.wall_s:.1f} "
          f"model_load_s={report.model_load_s:.1f} bare_asr_s={report.bare_asr_s:.1f}")
    for stage in bench.STAGES:
        s = report.stage_s.get(stage, 0.0)
        share = s / report.wall_s if report.wall_s else 0.0
        print(f"  {stage:<10} {s:8.2f} s  {share:6.1%}  rtf={s / report.audio_s if report.audio_s else 0:.3f}")
    print(report.last_line())
    return 0 if not report.failed else 2


def register(sub, eval_sub) -> None:
    p = sub.add_parser("bench", help="benchmark the pipeline on a folder of recordings (temporary database)")
    p.add_argument("source_dir", type=Path, help="folder of recordings, e.g. samples")
    p.add_argument("--long", action="store_true", help="benchmark one long call built from the recordings instead")
    p.add_argument("--long-minutes", type=float, default=25.0, help="length of the --long call (default 25)")
    p.add_argument("--no-bare", action="store_true", help="skip the bare-library comparison (halves ASR time)")
    p.add_argument("--asr-model", default=None, help="viet-asr | viet-asr-16k | base | CTranslate2 folder | hub id")
    p.set_defaults(func=_bench)
