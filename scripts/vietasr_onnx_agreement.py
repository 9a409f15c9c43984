"""How close viet-asr's embedded graph decoded directly (models.vietasr_ctc) comes to the SDK's text.

For each clip of a manifest (wideband and, with --telephone, through the simulated phone
line fed at 8 kHz as the adapter does), the same int16 input goes to the SDK and to the
ONNX route (batch 1 and --batch N). Prints clips with identical text, WER of each against
the reference and between the two, and the CPU seconds of each, measured side by side.

Run: nice -n 10 env PYTHONPATH=. .venv/bin/python scripts/vietasr_onnx_agreement.py \
        /work/shared/eval/asr-dev/manifest.tsv [--telephone] [--batch 8] [--limit N]
"""
import argparse
import time


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("manifest")
    ap.add_argument("--telephone", action="store_true")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--show", action="store_true", help="print the clips whose text differs")
    args = ap.parse_args()

    from scipy.signal import resample_poly

    import vietasr
    from models.viet_asr import _to_int16, embedded_ctc
    from pipeline.eval.asr import read_clips as read_manifest, score_text
    from pipeline.stages.audio import decode_audio, simulate_telephone
    from vietasr.ffi import native

    native.lib.vietasr_set_log_level(3)
    sdk = vietasr.Pipeline.new().add("vietasr").build()
    ctc = embedded_ctc(threads=2)
    rows = read_manifest(args.manifest)[: args.limit or None]
    pieces, refs = [], []
    for r in rows:
        a = decode_audio(r.path).mono()
        if args.telephone:
            pieces.append((_to_int16(resample_poly(simulate_telephone(a), 1, 2)), 8000))
        else:
            pieces.append((_to_int16(a), 16000))
        refs.append(r.reference)
    t = time.process_time()
    sdk_text = [" ".join(sdk.transcribe(x, sample_rate=float(rate)).text.split()) for x, rate in pieces]
    cpu = {"sdk": time.process_time() - t}
    out = {}
    for name, batch in (("onnx_b1", 1), (f"onnx_b{args.batch}", args.batch)):
        t = time.process_time()
        out[name] = [r.text for r in ctc.decode(pieces, batch=batch)]
        cpu[name] = time.process_time() - t
    audio_s = sum(len(x) / rate for x, rate in pieces)

    def wer(hyps, against):
        e = n = 0
        for ref, hyp in zip(against, hyps):
            w, nw, _, _ = score_text(ref, hyp)
            e, n = e + w, n + nw
        return e / max(1, n)

    print(f"clips={len(rows)} audio_s={audio_s:.1f} telephone={args.telephone}")
    print(f"sdk: wer={wer(sdk_text, refs):.3f} cpu_s={cpu['sdk']:.1f} cpu_rtf={cpu['sdk'] / audio_s:.3f}")
    for name, hyps in out.items():
        same = sum(a == b for a, b in zip(hyps, sdk_text))
        print(f"{name}: identical={same}/{len(rows)} wer={wer(hyps, refs):.3f} wer_vs_sdk={wer(hyps, sdk_text):.3f} "
              f"cpu_s={cpu[name]:.1f} cpu_rtf={cpu[name] / audio_s:.3f} cpu_vs_sdk={cpu[name] / cpu['sdk']:.2f}")
        if args.show:
            for a, b in zip(hyps, sdk_text):
                if a != b:
                    print(f"  SDK : {b}\n  ONNX: {a}")


if __name__ == "__main__":
    main()
