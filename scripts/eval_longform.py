"""Long-form transcription: a ≥ 10-minute mono 8 kHz call from real voices, scored whole and clip by clip.

Takes clips of an evaluation manifest in order (../shared/eval/fosd-pool by default)
until ``--minutes`` of audio, joins them with 0.4–1.5 s pauses of line noise, passes the
call through the simulated phone line and writes it as an 8 kHz μ-law WAV under
``--work`` (default var/longform/, ignored by git: never commit it). Then, with the
production path (:func:`pipeline.stages.transcribe.transcribe_call` after
:func:`pipeline.stages.audio.decode_audio`):

1. the whole call is transcribed once and scored against the joined references;
2. the same clips are scored one by one through the same phone line (``hotline eval asr
   --telephone``'s path);
3. coverage = share of the VAD's speech seconds inside some segment.

    .venv/bin/python scripts/eval_longform.py [--minutes 10] [--asr-model viet-asr]

Prints ``long_wer=… clips_wer=… delta=… coverage=… rtf=… cpu_rtf=… peak_rss_mb=…`` last
(``cpu_rtf``: CPU seconds of this process per audio second, less sensitive to a busy machine).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from models.registry import load_recognizer  # noqa: E402
from pipeline.config import apply_environment, load_settings  # noqa: E402
from pipeline.eval.asr import evaluate, read_clips, score_text, summarize  # noqa: E402
from pipeline.stages.audio import SAMPLE_RATE, decode_audio, simulate_telephone  # noqa: E402
from pipeline.stages.transcribe import TranscribeOptions, find_speech, speech_coverage, transcribe_call  # noqa: E402


def build(rows, minutes: float, out: Path, seed: int = 0):
    """Write the call; returns (rows used, joined reference)."""
    import soundfile as sf

    rng = np.random.default_rng(seed)
    parts, used, total = [], [], 0
    for row in rows:
        clip = decode_audio(row.path).mono()
        pause = rng.normal(0, 10 ** (-60 / 20), int(rng.uniform(0.4, 1.5) * SAMPLE_RATE)).astype(np.float32)
        parts += [clip, pause]
        used.append(row)
        total += len(clip) + len(pause)
        if total >= minutes * 60 * SAMPLE_RATE:
            break
    call = simulate_telephone(np.concatenate(parts), SAMPLE_RATE)
    from pipeline.stages.audio import resample

    out.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(out), resample(call, SAMPLE_RATE, 8000), 8000, subtype="ULAW", format="WAV")
    return used, " ".join(r.reference for r in used)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--manifest", type=Path, default=REPO.parent / "shared" / "eval" / "fosd-pool" / "manifest.tsv")
    p.add_argument("--minutes", type=float, default=10.0)
    p.add_argument("--asr-model", default=None)
    p.add_argument("--work", type=Path, default=REPO / "var" / "longform")
    p.add_argument("--skip-clips", action="store_true", help="score only the long call")
    args = p.parse_args(argv)
    if not args.manifest.is_file():
        alt = Path("/work/shared/eval/fosd-pool/manifest.tsv")
        args.manifest = alt if alt.is_file() else args.manifest
    settings = load_settings(asr_model=args.asr_model)
    apply_environment(settings)
    rec = load_recognizer(settings.asr_model, cache_dir=settings.model_cache, device=settings.asr_device,
                          compute_type=settings.asr_compute_type, cpu_threads=settings.cpu_threads)
    rows = read_clips(args.manifest)
    wav = args.work / f"longform_{args.minutes:g}min_8k.wav"
    used, reference = build(rows, args.minutes, wav)
    audio = decode_audio(wav)
    options = TranscribeOptions()
    started, cpu0 = time.perf_counter(), time.process_time()
    (t,) = transcribe_call(audio, rec, options)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    errors, words, _, _ = score_text(reference, t.text)
    speech = find_speech(audio.mono(), rec, options)
    coverage = speech_coverage(speech, t.segments)
    print(f"# model={settings.asr_model} clips={len(used)} audio_s={audio.duration_s:.1f} wall_s={wall:.1f} "
          f"segments={len(t.segments)} flags={','.join(t.info.flags) or '-'} file={wav}", file=sys.stderr)
    clips_wer = float("nan")
    if not args.skip_clips:
        results = evaluate(used, lambda a: transcribe_call(a, rec, options), telephone=True)
        clips_wer = summarize(results).wer
    long_wer = errors / words if words else 0.0
    print(f"long_wer={long_wer:.3f} clips_wer={clips_wer:.3f} delta={long_wer - clips_wer:+.3f} "
          f"coverage={coverage:.3f} rtf={wall / audio.duration_s:.3f} cpu_rtf={cpu / audio.duration_s:.3f} "
          f"peak_rss_mb={peak:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
