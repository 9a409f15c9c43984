#!/usr/bin/env python
"""Build a diarization set where BOTH sides of every call are real voices.

    .venv/bin/python scripts/make_real_diarization_set.py --pool /work/shared/eval/fosd-pool --out var/diar-real

Source: FPT Open Speech Data clips (fosd-pool: read sentences, 2–9 s each, many
contributors, no speaker ids). Voices are found by clustering the clips' CAM++ speaker
embeddings (average linkage, cosine distance ≤ ``--voice-distance``): a crowd-sourced
contributor reads many sentences with one microphone, so a tight cluster is one voice.
The three largest clusters play the hotline's **operators** (few, on every day); the
next clusters (≥ ``--min-citizen-clips`` clips) are **citizens**, one call each.

Two sides "clearly differ" when the cosine similarity of their cluster centroids is
below ``--max-pair-similarity`` (0.5; the median similarity of two random clips of the
pool is ≈ 0.42, of two clips in one cluster ≥ 0.68) — a call whose operator fails the
test takes the next operator that passes. The pairs, their similarity and their median
pitch are printed, so the choice can be checked by ear.

Each call: 6–9 operator turns and 6–9 citizen turns (a clip is one turn; long clips are
cut at their longest pause), gaps 0.2–1.2 s, 2–3 overlaps of 0.2–0.5 s, the citizen
2–8 dB quieter, a −58 dBFS noise floor. The operator speaks first in 60 % of the calls
(the rest: the recording starts on the citizen), so speaking first is not a safe role
cue. Each operator's clips are split in two disjoint halves: one for **enrolment calls**
(two per operator, with citizens from small clusters never used in the test calls),
one for the test calls.

Reference turns are the Silero VAD speech regions of each placed clip (pauses under
0.3 s bridged), see ``speech_regions`` in scripts/make_diarization_set.py and docs/diarization.md
for why Silero and how far it can be off.

Written under --out (derived from evaluation data: never commit it):
  wav16k/<id>.wav, tel8k/<id>.wav (8 kHz μ-law 300–3400 Hz), rttm/<id>.rttm
  manifest.tsv, manifest_8k.tsv  columns file, rttm, operator_ext, logged_ext
  enrol/<ext>/<n>.wav            the enrolment calls, 16 kHz mono
  enrol.tsv                      columns ext, file (relative)
  voices.tsv                     the chosen voices: id, role, clips, seconds, median F0
logged_ext is the extension the call log would show: equal to operator_ext except in
one call (a deliberate mismatch, for the QA flag).
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_diarization_set import SR, Piece, make_piece, mix_call, split_at_pauses, telephone  # noqa: E402

from pipeline.eval.rttm import to_rttm  # noqa: E402
from pipeline.stages.audio import decode_audio  # noqa: E402

OPERATOR_EXTS = ("101", "102", "103")


def clip_embeddings(pool: Path, cache: Path) -> tuple[list[str], list[np.ndarray], np.ndarray]:
    """(file names, 16 kHz clips, L2-normalised CAM++ embeddings (n, 192)); the
    embeddings are kept in ``cache`` (npz) for the next run."""
    import time

    import torch

    from models.diarization import build_campplus_embedding

    with open(pool / "manifest.tsv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    cached = {}
    if cache.is_file():
        data = np.load(cache)
        cached = dict(zip([str(n) for n in data["names"]], data["emb"]))
    model = None
    names, clips, embs = [], [], []
    started = time.perf_counter()
    with torch.inference_mode():
        for k, row in enumerate(rows):
            audio = decode_audio(pool / row["file"], sample_rate=SR).mono()
            if row["file"] in cached:
                emb = cached[row["file"]]
            else:
                model = model or build_campplus_embedding()
                emb = model(torch.from_numpy(audio)[None, None])[0].numpy()
            names.append(row["file"])
            clips.append(audio)
            embs.append(emb / np.linalg.norm(emb))
            if k % 50 == 49:
                print(f"  {k + 1}/{len(rows)} clips, {time.perf_counter() - started:.0f} s", flush=True)
    np.savez(cache, names=np.array(names), emb=np.array(embs))
    return names, clips, np.array(embs)


def median_f0(audio: np.ndarray) -> float:
    import librosa

    f0 = librosa.yin(audio, fmin=60, fmax=400, sr=SR, frame_length=1024)
    voiced = f0[(f0 > 61) & (f0 < 399)]
    return float(np.median(voiced)) if voiced.size else float("nan")


def turns_of(clips: list[np.ndarray], want: int, rng: random.Random) -> list[Piece]:
    """``want`` turns from whole clips; when there are too few clips, the longest ones
    are cut in two at their longest pause."""
    pieces = [p for p in (make_piece(c) for c in clips) if p]
    pieces.sort(key=lambda p: -len(p.audio))
    while len(pieces) < want:
        longest = max(range(len(pieces)), key=lambda i: len(pieces[i].audio))
        halves = split_at_pauses(pieces[longest].audio, rng, max_pieces=2, min_piece_s=1.0)
        if len(halves) < 2:
            break
        pieces[longest : longest + 1] = halves
    rng.shuffle(pieces)
    return pieces[:want]


def alternate(first: str, second: str, n_first: int, n_second: int, rng: random.Random) -> list[str]:
    """Alternating turn order; the longer side's extra turns follow its own turns."""
    order, a, b = [], n_first, n_second
    while a or b:
        if a:
            order.append(first)
            a -= 1
        if b:
            order.append(second)
            b -= 1
        if a > b + 1 and rng.random() < 0.5:
            order.append(first)
            a -= 1
    return order


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--pool", type=Path, required=True, help="fosd-pool folder (manifest.tsv + audio/)")
    parser.add_argument("--out", type=Path, required=True, help="output folder (not committed), e.g. var/diar-real")
    parser.add_argument("--calls", type=int, default=10, help="test calls (one citizen voice each)")
    parser.add_argument("--voice-distance", type=float, default=0.35, help="cosine distance cut of the voice clustering")
    parser.add_argument("--max-pair-similarity", type=float, default=0.5, help="centroid cosine below which two voices clearly differ")
    parser.add_argument("--min-citizen-clips", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1907)
    args = parser.parse_args(argv)
    from scipy.cluster.hierarchy import fcluster, linkage

    rng = random.Random(args.seed)
    out = args.out
    for sub in ("wav16k", "tel8k", "rttm", "enrol"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    names, clips, emb = clip_embeddings(args.pool, out / "pool_embeddings.npz")
    print("clips embedded", flush=True)
    labels = fcluster(linkage(emb, "average", metric="cosine"), args.voice_distance, "distance")
    groups = sorted((np.flatnonzero(labels == c) for c in set(labels)), key=lambda g: (-len(g), g[0]))
    groups = [g for g in groups if len(g) >= 3]
    centroid = {}
    for k, g in enumerate(groups):
        c = emb[g].mean(axis=0)
        centroid[k] = c / np.linalg.norm(c)
    operators = list(range(3))
    citizens = [k for k in range(3, len(groups)) if len(groups[k]) >= args.min_citizen_clips][: args.calls]
    spare = [k for k in range(3, len(groups)) if k not in citizens]

    print(f"{len(groups)} voices with 3+ clips", flush=True)
    voices = []
    for k, g in enumerate(groups):
        role = "operator" if k in operators else "citizen" if k in citizens else "enrol-citizen" if k in spare else ""
        f0 = median_f0(np.concatenate([clips[i] for i in g[:6]]))
        voices.append((f"v{k:02d}", role, len(g), round(sum(len(clips[i]) for i in g) / SR, 1), round(f0)))
    with open(out / "voices.tsv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, delimiter="\t", lineterminator="\n")
        w.writerow(["voice", "role", "clips", "seconds", "median_f0_hz"])
        w.writerows(voices)

    # Disjoint halves of each operator's clips: enrolment | test.
    op_clips = {}
    for k in operators:
        idx = list(groups[k])
        rng.shuffle(idx)
        half = max(4, len(idx) // 3)
        op_clips[k] = {"enrol": idx[:half], "test": idx[half:]}

    def write_call(path16: Path, audio: np.ndarray) -> None:
        sf.write(path16, audio, SR, subtype="PCM_16")

    manifest, manifest_8k, enrol_rows = [], [], []
    mismatch_call = rng.randrange(min(args.calls, len(citizens)))
    for n, cit in enumerate(citizens):
        op = operators[n % len(operators)]
        for shift in range(len(operators)):  # take the next operator if this pair is too alike
            cand = operators[(n + shift) % len(operators)]
            if float(centroid[cand] @ centroid[cit]) < args.max_pair_similarity:
                op = cand
                break
        else:
            print(f"call {n}: no operator clearly differs from citizen v{cit:02d}; skipped")
            continue
        sim = float(centroid[op] @ centroid[cit])
        n_op, n_cit = rng.randint(6, 9), rng.randint(6, 9)
        op_turns = turns_of([clips[i] for i in rng.sample(op_clips[op]["test"], min(n_op, len(op_clips[op]["test"])))], n_op, rng)
        cit_turns = turns_of([clips[i] for i in groups[cit]], n_cit, rng)
        operator_first = rng.random() < 0.6
        first, second = ("operator", "citizen") if operator_first else ("citizen", "operator")
        sides = {"operator": op_turns, "citizen": cit_turns}
        order = alternate(first, second, len(sides[first]), len(sides[second]), rng)
        audio, turns = mix_call(sides, order, rng, overlaps=rng.randint(2, 3), quiet_db=(2.0, 8.0), noise_dbfs=-58.0)
        call_id = f"real{n:02d}"
        wav = out / "wav16k" / f"{call_id}.wav"
        write_call(wav, audio)
        telephone(wav, out / "tel8k" / f"{call_id}.wav")
        (out / "rttm" / f"{call_id}.rttm").write_text(to_rttm(turns, call_id), encoding="utf-8")
        ext = OPERATOR_EXTS[operators.index(op)]
        logged = OPERATOR_EXTS[(operators.index(op) + 1) % 3] if n == mismatch_call else ext
        manifest.append((f"wav16k/{call_id}.wav", f"rttm/{call_id}.rttm", ext, logged))
        manifest_8k.append((f"tel8k/{call_id}.wav", f"rttm/{call_id}.rttm", ext, logged))
        speech = {s: sum(t.end - t.start for t in turns if t.speaker == s) for s in ("operator", "citizen")}
        print(
            f"{call_id}: {len(audio) / SR:5.1f} s, operator v{op:02d} ({ext}) {len(op_turns)} turns {speech['operator']:.1f} s, "
            f"citizen v{cit:02d} {len(cit_turns)} turns {speech['citizen']:.1f} s, centroid similarity {sim:.2f}, "
            f"{'operator' if operator_first else 'citizen'} first{', logged ext ' + logged if logged != ext else ''}",
            flush=True,
        )

    # Enrolment calls: each operator's enrolment clips against spare citizens.
    spare_cycle = spare or citizens
    s = 0
    for op in operators:
        ext = OPERATOR_EXTS[operators.index(op)]
        (out / "enrol" / ext).mkdir(parents=True, exist_ok=True)
        idx = op_clips[op]["enrol"]
        for j in range(2):
            cit = spare_cycle[s % len(spare_cycle)]
            s += 1
            mine = idx[j::2]
            op_turns = turns_of([clips[i] for i in mine], max(3, len(mine)), rng)
            cit_turns = turns_of([clips[i] for i in groups[cit]], 3, rng)
            order = alternate("operator", "citizen", len(op_turns), len(cit_turns), rng)
            audio, _ = mix_call({"operator": op_turns, "citizen": cit_turns}, order, rng, overlaps=1, quiet_db=(2.0, 8.0), noise_dbfs=-58.0)
            path = out / "enrol" / ext / f"{j}.wav"
            write_call(path, audio)
            enrol_rows.append((ext, f"enrol/{ext}/{j}.wav"))

    for name, rows in (("manifest.tsv", manifest), ("manifest_8k.tsv", manifest_8k)):
        with open(out / name, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f, delimiter="\t", lineterminator="\n")
            w.writerow(["file", "rttm", "operator_ext", "logged_ext"])
            w.writerows(rows)
    with open(out / "enrol.tsv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, delimiter="\t", lineterminator="\n")
        w.writerow(["ext", "file"])
        w.writerows(enrol_rows)
    print(f"wrote {len(manifest)} calls (+8 kHz copies) and {len(enrol_rows)} enrolment calls under {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
