"""Does Whisper base recover text where viet-asr writes nothing? (fosd-pool clips through the phone line.)

For the first --limit clips of a manifest, passes each through the simulated phone line and
transcribes it with the production path (viet-asr, ONNX route). For clips where viet-asr
writes nothing although the VAD found speech, transcribes them again with Whisper base
(language forced to Vietnamese, the production Whisper options) and scores both.

Run: nice -n 10 env PYTHONPATH=. .venv/bin/python scripts/vietasr_fallback_eval.py \
        /work/shared/eval/fosd-pool/manifest.tsv --limit 60
"""
import argparse
import time


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("manifest")
    ap.add_argument("--limit", type=int, default=60)
    ap.add_argument("--asr-model", default="viet-asr")
    args = ap.parse_args()

    from models.registry import load_recognizer
    from pipeline.config import load_settings
    from pipeline.eval.asr import read_clips as read_manifest, score_text
    from pipeline.records import DecodedAudio
    from pipeline.stages.audio import decode_audio, simulate_telephone
    from pipeline.stages.transcribe import TranscribeOptions, transcribe_call

    s = load_settings()
    rec = load_recognizer(args.asr_model, cache_dir=s.model_cache)
    whisper = load_recognizer("base", cache_dir=s.model_cache, device="cpu", compute_type="int8", cpu_threads=2)
    rows = read_manifest(args.manifest)[: args.limit]
    tot = {"words": 0, "errors_main": 0, "errors_fb": 0, "empty": 0, "empty_words": 0, "empty_fb_errors": 0,
           "cpu_main": 0.0, "cpu_fb": 0.0, "audio_s": 0.0, "fb_audio_s": 0.0, "fb_nonempty": 0}
    for r in rows:
        a = decode_audio(r.path)
        phone = simulate_telephone(a.mono(), 16000)
        audio = DecodedAudio(samples=phone[None, :], sample_rate=16000, source_sample_rate=8000, source_format="telephone-sim")
        t = time.process_time()
        (tr,) = transcribe_call(audio, rec, TranscribeOptions(language="vi", detect_language=False))
        tot["cpu_main"] += time.process_time() - t
        tot["audio_s"] += audio.duration_s
        w, n, _, _ = score_text(r.reference, tr.text)
        tot["words"] += n
        tot["errors_main"] += w
        speech = rec.find_speech(phone, TranscribeOptions().vad_parameters())
        if not tr.text.strip() and speech:
            t = time.process_time()
            (fb,) = transcribe_call(audio, whisper, TranscribeOptions(language="vi", detect_language=False))
            tot["cpu_fb"] += time.process_time() - t
            tot["fb_audio_s"] += audio.duration_s
            wf, _, _, _ = score_text(r.reference, fb.text)
            tot["empty"] += 1
            tot["empty_words"] += n
            tot["empty_fb_errors"] += wf
            tot["fb_nonempty"] += bool(fb.text.strip())
            tot["errors_fb"] += wf
            print(f"empty: ref={r.reference!r} whisper={fb.text!r} wer={wf / max(1, n):.2f}")
        else:
            tot["errors_fb"] += w
    print(f"clips={len(rows)} empty={tot['empty']} (whisper wrote something on {tot['fb_nonempty']})")
    print(f"on the empty clips: WER without fallback 1.000, with Whisper {tot['empty_fb_errors'] / max(1, tot['empty_words']):.3f}")
    print(f"all clips: WER {tot['errors_main'] / tot['words']:.3f} -> {tot['errors_fb'] / tot['words']:.3f} with fallback")
    print(f"CPU: main {tot['cpu_main']:.1f}s ({tot['cpu_main'] / tot['audio_s']:.3f}/audio s), fallback +{tot['cpu_fb']:.1f}s "
          f"(+{tot['cpu_fb'] / tot['cpu_main']:.0%}), on {tot['fb_audio_s']:.0f}s of {tot['audio_s']:.0f}s audio")


if __name__ == "__main__":
    main()
