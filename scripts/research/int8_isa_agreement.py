"""How far int8 rounding moves viet-asr's features, posteriors and text between CPUs and runtimes.

``dump`` runs the ONNX route (onnxruntime, models.vietasr_ctc) and the SDK on the test clip
tests/data/short_vi.wav (wideband, and through the simulated phone line fed at 8 kHz) and,
with --manifest, on real clips; it saves features, posteriors and both texts. Run it once
natively and once under an emulated AVX2-only CPU (qemu-user: ONNX Runtime's MLAS picks its
int8 kernels from CPUID and has no switch to force AVX2; qemu-user 7.2 crashed on it, docs/testing.md),
then ``compare`` the two dumps:

    nice -n 10 env PYTHONPATH=$PWD .venv/bin/python scripts/research/int8_isa_agreement.py dump native.npz \
        [--manifest /work/shared/eval/asr-dev/manifest.tsv --limit 6]
    nice -n 10 env PYTHONPATH=$PWD qemu-x86_64 -cpu EPYC-Rome .venv/bin/python \
        scripts/research/int8_isa_agreement.py dump avx2.npz [...]
    .venv/bin/python scripts/research/int8_isa_agreement.py compare native.npz avx2.npz

Within one dump it also compares what the tests compare: one piece at a time against pieces
batched in one encoder call (dynamic quantisation scales then span the batch).
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np


def cpu_flags() -> str:
    feats = np.__dict__.get("_core", np.core)._multiarray_umath.__cpu_features__  # noqa: SLF001
    return ",".join(k for k in ("AVX2", "AVX512F", "AVX512_SKX", "AVX512_ICL", "AVX512_SPR") if feats.get(k))


def frame_stats(a: np.ndarray, b: np.ndarray, margin: float = 1.0) -> dict:
    """Differences between two (F, V) log-posteriors: log-prob of each side's best token, probability
    mass moved (total variation), and frames whose best token differs, with the lead it had."""
    n = min(len(a), len(b))
    a, b = a[:n].astype(np.float64), b[:n].astype(np.float64)
    pa, pb = np.exp(a), np.exp(b)
    tv = 0.5 * np.abs(pa - pb).sum(axis=1)
    best_a = a.argmax(1)
    top2 = np.sort(a, axis=1)[:, -2:]
    lead = top2[:, 1] - top2[:, 0]
    flips = best_a != b.argmax(1)
    rows = np.arange(n)
    return {"frames": int(n), "tv_mean": float(tv.mean()), "tv_max": float(tv.max()),
            "best_logp_absdiff_mean": float(np.abs(a[rows, best_a] - b[rows, best_a]).mean()),
            "best_logp_absdiff_max": float(np.abs(a[rows, best_a] - b[rows, best_a]).max()),
            "argmax_flips": int(flips.sum()), "max_lead_of_a_flip": float(lead[flips].max()) if flips.any() else 0.0,
            f"flips_with_lead_over_{margin}": int((flips & (lead > margin)).sum())}


def dump(out: str, manifest: str | None, limit: int) -> None:
    from models.viet_asr import VietASR
    from pipeline.eval.asr import read_clips
    from pipeline.stages.audio import decode_audio, simulate_telephone
    from tests.helpers import DATA

    rec = VietASR(route="onnx")
    ctc = rec._ctc_model()
    clip = decode_audio(DATA / "short_vi.wav").mono()
    pieces = {"wide": rec._prepare(clip, 16000), "phone": rec._prepare(simulate_telephone(clip, 16000), 8000)}
    n = len(clip)
    halves = [rec._prepare(clip[: n // 2], 16000), rec._prepare(clip[n // 2 :], 16000)]
    if manifest:
        for i, r in enumerate(read_clips(manifest)[:: max(1, 41 // max(1, limit))][:limit]):
            pieces[f"real{i}"] = rec._prepare(decode_audio(r.path).mono(), 16000)
    saved, texts = {}, {}
    for name, (x, rate) in pieces.items():
        feats = ctc.features(x, rate)
        (logp,) = ctc.posteriors([feats])
        saved[f"feats_{name}"], saved[f"logp_{name}"] = feats, logp
        texts[name] = {"onnx": ctc.decode_logp(logp).text,
                       "sdk": " ".join(rec.pipeline.transcribe(x, sample_rate=float(rate)).text.split())}
    hf = [ctc.features(*h) for h in halves]
    one = [ctc.posteriors([f])[0] for f in hf]
    both = ctc.posteriors(hf)
    for i in range(2):
        saved[f"logp_half{i}_b1"], saved[f"logp_half{i}_b2"] = one[i], both[i]
    np.savez_compressed(out, meta=json.dumps({"cpu": cpu_flags(), "texts": texts}), **saved)
    print(json.dumps({"cpu": cpu_flags(), "texts": texts}, ensure_ascii=False, indent=1))
    for i in range(2):
        print(f"half {i}: batch 1 vs 2", frame_stats(one[i], both[i]))


def compare(a_path: str, b_path: str) -> None:
    a, b = np.load(a_path), np.load(b_path)
    ma, mb = json.loads(str(a["meta"])), json.loads(str(b["meta"]))
    print("cpus:", ma["cpu"], "|", mb["cpu"])
    common = sorted(set(a.files) & set(b.files))
    for key in (k for k in common if k.startswith("feats_")):
        d = np.abs(a[key] - b[key])
        print(key, "features |diff| mean", float(d.mean()), "max", float(d.max()))
    for key in (k for k in common if k.startswith("logp_")):
        print(key, frame_stats(a[key], b[key]))
    for name in ma["texts"].keys() & mb["texts"].keys():
        ta, tb = ma["texts"][name], mb["texts"][name]
        print(name, json.dumps({"a": ta, "b": tb}, ensure_ascii=False))


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("dump")
    d.add_argument("out")
    d.add_argument("--manifest")
    d.add_argument("--limit", type=int, default=6)
    c = sub.add_parser("compare")
    c.add_argument("a")
    c.add_argument("b")
    args = ap.parse_args(argv)
    if args.cmd == "dump":
        dump(args.out, args.manifest, args.limit)
    else:
        compare(args.a, args.b)


if __name__ == "__main__":
    main(sys.argv[1:])
