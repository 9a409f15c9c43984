#!/usr/bin/env python
"""Compare diarizer settings side by side on diarization manifests (speed and errors).

    .venv/bin/python scripts/sweep_diarization.py var/diar-real/manifest.tsv var/diar-real/manifest_8k.tsv \\
        --variant old:segmentation_step=0.2,min_duration_off=0 --variant new:segmentation_step=0.5,min_duration_off=0.3

Every variant runs on every file in turn (file by file, variants interleaved), so on a
shared, loaded machine the speed RATIO between variants is fair even when absolute
times are not. Options are fields of models.diarization.DiarizationOptions. ``--fill``
also scores each hypothesis after post-hoc gap filling (what min_duration_off does),
without re-running anything.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import fields
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def parse_variant(text: str):
    from models.diarization import DiarizationOptions

    name, _, spec = text.partition(":")
    kinds = {f.name: f.type for f in fields(DiarizationOptions)}
    values = {}
    for item in filter(None, spec.split(",")):
        key, _, value = item.partition("=")
        if key not in kinds:
            raise SystemExit(f"unknown option {key!r}; known: {', '.join(kinds)}")
        kind = kinds[key] if isinstance(kinds[key], type) else {"float": float, "int": int, "str": str, "bool": bool}[kinds[key]]
        values[key] = kind(value)
    return name, DiarizationOptions(**values)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("manifests", nargs="+", type=Path)
    parser.add_argument("--variant", action="append", required=True, help="name:key=value,key=value")
    parser.add_argument("--fill", type=float, nargs="*", default=[], help="post-hoc gap fills (s) to score too")
    parser.add_argument("--vad-trim", type=float, nargs="*", default=[],
                        help="also score each hypothesis cut to Silero VAD speech padded by these s")
    parser.add_argument("--limit", type=int, default=0, help="first N files of each manifest only")
    parser.add_argument("--per-file", action="store_true", help="print each file's DER parts per variant")
    args = parser.parse_args(argv)

    from pyannote.core import Segment as Span
    from pyannote.core import Timeline
    from pyannote.metrics.diarization import DiarizationErrorRate

    from models.diarization import PyannoteDiarizer, trim_to_speech, vad_speech
    from pipeline.eval.diarization import COLLAR_S, DerParts, _annotation, read_diarization_manifest
    from pipeline.eval.diarization_errors import MissedBreakdown, fill_short_gaps, missed_breakdown
    from pipeline.eval.rttm import read_rttm
    from pipeline.stages.audio import decode_audio

    variants = [parse_variant(v) for v in args.variant]
    diarizers = {name: PyannoteDiarizer(options=opts) for name, opts in variants}
    posts = [0.0] + list(args.fill) + [-(1.0 + p) for p in args.vad_trim]  # < 0: VAD trim with pad -post-1
    keys = [(name, fill) for name, _ in variants for fill in posts]
    for manifest in args.manifests:
        rows = [(audio, rttm, name) for audio, rttm, name, _ in read_diarization_manifest(manifest)]
        if args.limit:
            rows = rows[: args.limit]
        metrics = {k: (DiarizationErrorRate(collar=0.0), DiarizationErrorRate(collar=2 * COLLAR_S)) for k in keys}
        misses = {k: MissedBreakdown() for k in keys}
        seconds = {name: 0.0 for name, _ in variants}
        same = {name: 0 for name, _ in variants}  # files whose turns equal the first variant's
        audio_s = vad_s = 0.0
        for audio_path, rttm_path, name in rows:
            ref_turns = [t for turns in read_rttm(rttm_path).values() for t in turns]
            wave = decode_audio(audio_path).mono()
            dur = len(wave) / 16000
            audio_s += dur
            uem = Timeline([Span(0.0, dur)])
            ref = _annotation(ref_turns, name)
            t0 = time.perf_counter()
            speech = vad_speech(wave) if args.vad_trim else []
            vad_s += time.perf_counter() - t0
            for vname, _ in variants:
                t0 = time.perf_counter()
                turns = diarizers[vname].diarize(wave)
                seconds[vname] += time.perf_counter() - t0
                if vname == variants[0][0]:
                    first_turns = turns
                same[vname] += turns == first_turns
                for fill in posts:
                    if fill < 0:
                        hyp_turns = trim_to_speech(turns, speech, -fill - 1.0)
                    else:
                        hyp_turns = fill_short_gaps(turns, fill) if fill else turns
                    plain, collared = metrics[(vname, fill)]
                    hyp = _annotation(hyp_turns, name)
                    pf = plain(ref, hyp, uem=uem, detailed=True)
                    cf = collared(ref, hyp, uem=uem, detailed=True)
                    if args.per_file and fill == 0.0:
                        pp, cc = DerParts.of(pf), DerParts.of(cf)
                        print(f"  {name} {vname}: DER={pp.der:.3f} miss={pp.missed:.3f} fa={pp.false_alarm:.3f} "
                              f"conf={pp.confusion:.3f} collar={cc.der:.3f} collar_conf={cc.confusion:.3f}", flush=True)
                    misses[(vname, fill)].add(missed_breakdown(ref_turns, hyp_turns))
            print(f"  {name}: {dur:.1f} s done", file=sys.stderr, flush=True)
        print(f"== {manifest} ({len(rows)} files, {audio_s:.0f} s)")
        base = seconds[variants[0][0]]
        for vname, fill in keys:
            plain, collared = metrics[(vname, fill)]
            p, c = DerParts.of(plain.accumulated_), DerParts.of(collared.accumulated_)
            m = misses[(vname, fill)]
            where = " ".join(f"{k}={v / m.reference_s:.3f}" for k, v in m.missed_s.items())
            speed = (f"rtf={seconds[vname] / audio_s:.3f} time_ratio={seconds[vname] / base:.2f} "
                     f"same_turns={same[vname]}/{len(rows)}") if fill == 0.0 else ""
            if fill < 0:
                speed = f"vad_time_ratio={vad_s / base:.3f}"
            post = f"trim={-fill - 1.0:.2f}" if fill < 0 else f"fill={fill:.2f}"
            by_sp = " ".join(f"{sp}={ms / rs:.3f}" for sp, (ms, rs) in sorted(m.by_speaker.items()) if rs > 0)
            print(
                f"{vname:>10} {post}  DER={p.der:.3f} (miss {p.missed:.3f} fa {p.false_alarm:.3f} conf {p.confusion:.3f})  "
                f"collar DER={c.der:.3f} (miss {c.missed:.3f} fa {c.false_alarm:.3f} conf {c.confusion:.3f})  "
                f"missed@ {where}  missed_by_spk {by_sp}  {speed}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
