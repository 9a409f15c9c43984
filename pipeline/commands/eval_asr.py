"""``hotline eval asr MANIFEST.tsv``: WER, CER and real-time factor of the transcription stage."""

from __future__ import annotations

import sys
from pathlib import Path

from pipeline.config import entry_settings
from pipeline.eval.asr import dataset_table, evaluate_manifest


def _eval_asr(args) -> int:
    def progress(i, n, r):
        # Eval references are public read speech, not calls: printing them is safe.
        print(f"[{i + 1}/{n}] wer={r.wer:.2f} conf={r.confidence:.2f} {Path(r.file).name}", file=sys.stderr, flush=True)

    settings = entry_settings(args)
    results, summary = evaluate_manifest(args.manifest, settings, model=args.model, telephone=args.telephone,
                                         out=args.out,
                                         progress=None if args.quiet else progress)
    audio_s = sum(r.audio_s for r in results)
    print(f"model={args.model or settings.asr_model} telephone={args.telephone} audio_s={audio_s:.1f}")
    print(dataset_table(results))
    print(summary.line())
    return 0


def register(sub, eval_sub) -> None:
    p = eval_sub.add_parser("asr", help="word/character error rate and real-time factor of transcription")
    p.add_argument("manifest", type=Path, help="TSV with columns `file` (relative to the manifest) and `reference`")
    p.add_argument("--asr-model", "--model", dest="model", default=None,
                   help="viet-asr | viet-asr-16k | base | local CTranslate2 folder | model hub id (default: settings; "
                        "`hotline models` lists them)")
    p.add_argument("--telephone", action="store_true", help="pass each clip through a simulated phone line first")
    p.add_argument("--out", type=Path, default=None, help="write per-clip rows (TSV) here")
    p.add_argument("-q", "--quiet", action="store_true", help="no per-clip progress on stderr")
    p.set_defaults(func=_eval_asr)
