#!/usr/bin/env python
"""Build a diarization evaluation set: two-speaker "calls" mixed from real speech.

    .venv/bin/python scripts/make_diarization_set.py --eval-dir /work/shared/eval/asr-dev --out var/diar-eval

Each mixed call puts one real voice on each side: the single VIVOS speaker against
one FPT Open Speech Data clip (a clip is one speaker; the FPT set has no speaker ids,
so a voice never spans two clips) or the Common Voice clip. The other voice's clip is
cut at its own pauses into 2–4 turns. Turns alternate with 0.2–1.2 s gaps and a few
0.2–0.5 s overlaps; the side that speaks first alternates between calls and is
labelled "operator" in the reference (read speech has no greeting, so the first
speaker is the only role cue). Speaker levels differ by a few dB; a faint noise floor
is added.

Two more calls are synthesised with espeak-ng (two different voices, a scripted
hotline dialogue with greeting).

Written under --out (derived from evaluation data: never commit it):
  wav16k/<id>.wav   mono 16 kHz PCM
  tel8k/<id>.wav    8 kHz μ-law, 300–3400 Hz (the telephone channel), via sox
  rttm/<id>.rttm    reference turns, speakers "operator" / "citizen"
  manifest.tsv, manifest_8k.tsv, manifest_espeak.tsv   columns file, rttm (relative)

Reference turns are the speech regions of each placed clip as Silero VAD finds them
(pauses under 0.3 s bridged; not the pyannote model being evaluated), so turn edges
are approximate to ~0.1 s: read DER with a collar beside the collar-free figure.
"""

from __future__ import annotations

import argparse
import csv
import random
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline.eval.rttm import to_rttm  # noqa: E402
from pipeline.records import SpeakerTurn  # noqa: E402
from pipeline.stages.audio import decode_audio  # noqa: E402

SR = 16000  # Hz of the mixes
TARGET_DBFS = -24.0  # speech RMS level of the louder side
BRIDGE_S = 0.3  # s: pauses shorter than this stay inside a reference turn


@dataclass(frozen=True)
class Piece:
    audio: np.ndarray  # float32 (n,), 16 kHz, trimmed to speech
    regions: tuple[tuple[float, float], ...]  # s from the piece start: speech regions


def speech_regions(audio: np.ndarray, *, bridge_s: float = BRIDGE_S) -> list[tuple[float, float]]:
    """Speech regions (s) found by Silero VAD (it ships in the faster-whisper wheel, and
    is independent of the pyannote model under test); pauses shorter than ``bridge_s``
    stay inside a region."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(
        threshold=0.5,
        min_speech_duration_ms=150,
        min_silence_duration_ms=int(bridge_s * 1000),
        speech_pad_ms=30,
    )
    found = get_speech_timestamps(audio.astype(np.float32), options, sampling_rate=SR)
    return [(r["start"] / SR, r["end"] / SR) for r in found]


def make_piece(audio: np.ndarray) -> Piece | None:
    regions = speech_regions(audio)
    if not regions:
        return None
    a, b = int(regions[0][0] * SR), int(regions[-1][1] * SR)
    shift = regions[0][0]
    return Piece(audio[a:b], tuple((s - shift, e - shift) for s, e in regions))


def split_at_pauses(audio: np.ndarray, rng: random.Random, *, max_pieces: int = 4, min_piece_s: float = 1.0) -> list[Piece]:
    """Cut one clip into up to ``max_pieces`` turns at its longest pauses (read
    sentences pause briefly, so pauses down to 0.1 s are candidates)."""
    regions = speech_regions(audio, bridge_s=0.1)
    if not regions:
        return []
    gaps = sorted(
        ((regions[i + 1][0] - regions[i][1], i) for i in range(len(regions) - 1)),
        reverse=True,
    )
    cuts: list[int] = []
    for _, i in gaps:
        if len(cuts) + 1 >= max_pieces:
            break
        candidate = sorted(cuts + [i])
        bounds = [0.0] + [regions[j][1] for j in candidate] + [regions[-1][1]]
        starts = [regions[0][0]] + [regions[j + 1][0] for j in candidate]
        if all(bounds[k + 1] - starts[k] >= min_piece_s for k in range(len(starts))):
            cuts = candidate
    pieces, first = [], 0
    for j in sorted(cuts) + [len(regions) - 1]:
        a, b = regions[first][0], regions[j][1]
        piece = make_piece(audio[int(a * SR) : int(b * SR) + 1])
        if piece:
            pieces.append(piece)
        first = j + 1
    return pieces


def rms_dbfs(piece: Piece) -> float:
    parts = [piece.audio[int(s * SR) : int(e * SR)] for s, e in piece.regions]
    speech = np.concatenate(parts) if parts else piece.audio
    return 20 * np.log10(np.sqrt(np.mean(speech.astype(np.float64) ** 2)) + 1e-9)


def mix_call(
    sides: dict[str, list[Piece]],
    order: list[str],
    rng: random.Random,
    *,
    overlaps: int,
    quiet_db: tuple[float, float] = (2.0, 5.0),
    noise_dbfs: float = -62.0,
) -> tuple[np.ndarray, list[SpeakerTurn]]:
    """Place turns one after the other; ``order`` names the side of each turn. Sides
    after the first are ``quiet_db`` (range, dB) quieter; noise floor at ``noise_dbfs``."""
    gains = {side: TARGET_DBFS - (0.0 if k == 0 else rng.uniform(*quiet_db)) for k, side in enumerate(sides)}
    queues = {side: list(pieces) for side, pieces in sides.items()}
    change_points = [i for i in range(1, len(order)) if order[i] != order[i - 1]]
    overlap_at = set(rng.sample(change_points, min(overlaps, len(change_points))))
    placed: list[tuple[float, str, Piece]] = []
    t = rng.uniform(0.3, 0.8)
    prev_end = 0.0
    for i, side in enumerate(order):
        piece = queues[side].pop(0)
        if i > 0:
            if i in overlap_at:
                t = prev_end - rng.uniform(0.2, 0.5)
            elif order[i] == order[i - 1]:
                t = prev_end + rng.uniform(0.3, 0.7)  # same speaker, next sentence
            else:
                t = prev_end + rng.uniform(0.2, 1.2)
        placed.append((t, side, piece))
        prev_end = t + len(piece.audio) / SR
    total = prev_end + rng.uniform(0.5, 1.0)
    out = np.zeros(int(total * SR) + 1, np.float64)
    turns: list[SpeakerTurn] = []
    for start, side, piece in placed:
        gain = 10 ** ((gains[side] - rms_dbfs(piece)) / 20)
        a = int(round(start * SR))
        out[a : a + len(piece.audio)] += gain * piece.audio
        turns += [SpeakerTurn(round(start + s, 3), round(start + e, 3), side) for s, e in piece.regions]
    out += rng_noise(len(out), rng) * 10 ** (noise_dbfs / 20)
    peak = np.max(np.abs(out))
    if peak > 0.98:
        out *= 0.98 / peak
    return out.astype(np.float32), turns


def rng_noise(n: int, rng: random.Random) -> np.ndarray:
    return np.random.default_rng(rng.randrange(2**32)).standard_normal(n)


def interleave(first: str, second: str, n_first: int, n_second: int, rng: random.Random) -> list[str]:
    """Turn order starting with ``first``, alternating while both sides have turns,
    extra turns of the longer side attached as same-speaker continuations."""
    order = []
    a, b = n_first, n_second
    while a or b:
        if a:
            order.append(first)
            a -= 1
            if a > b and rng.random() < 0.6:
                order.append(first)
                a -= 1
        if b:
            order.append(second)
            b -= 1
            if b > a and rng.random() < 0.6:
                order.append(second)
                b -= 1
    return order


def telephone(src: Path, dst: Path) -> None:
    subprocess.run(
        ["sox", str(src), "-r", "8000", "-c", "1", "-e", "u-law", str(dst), "sinc", "300-3400"],
        check=True,
        capture_output=True,
    )


def load_clips(eval_dir: Path) -> tuple[list[np.ndarray], list[tuple[str, np.ndarray]]]:
    """(VIVOS speaker's clips, [(name, clip)] of single-clip voices, most speech first)."""
    with open(eval_dir / "manifest.tsv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    vivos, others = [], []
    for row in rows:
        audio = decode_audio(eval_dir / row["file"], sample_rate=SR).mono()
        if row["dataset"].startswith("VIVOS"):
            vivos.append(audio)
        else:
            others.append((Path(row["file"]).stem, audio))
    # Rank single-clip voices by speech seconds; skip clips whose energy-based speech
    # regions miss much of the clip (noisy or very quiet speech: a vague reference).
    scored = []
    for name, audio in others:
        speech = sum(e - s for s, e in speech_regions(audio))
        if speech >= 0.7 * len(audio) / SR:
            scored.append((speech, name, audio))
    scored.sort(key=lambda item: -item[0])
    return vivos, [(name, audio) for _, name, audio in scored]


ESPEAK_CALLS = [
    (
        ("vi+m3", "vi-vn-x-south+f4"),
        [
            (0, "Tổng đài một không hai hai xin nghe, tôi có thể giúp gì cho anh chị ạ?"),
            (1, "Chào chị, tôi muốn phản ánh đèn đường ở phường Tân Lợi bị hỏng đã ba ngày nay."),
            (0, "Dạ, anh cho tôi xin địa chỉ cụ thể để chúng tôi chuyển cho đơn vị xử lý."),
            (1, "Nhà tôi ở số mười hai đường Lê Duẩn, đoạn gần chợ, tối đi lại rất nguy hiểm."),
            (0, "Dạ vâng, tôi xin phép ghi nhận phản ánh của anh."),
            (1, "Vâng, cảm ơn chị."),
            (0, "Chúng tôi sẽ chuyển cho công ty chiếu sáng đô thị, cảm ơn anh đã gọi."),
        ],
    ),
    (
        ("vi-vn-x-central+f2", "vi+m1"),
        [
            (0, "Xin chào, tổng đài thành phố thông minh xin nghe."),
            (1, "Alo, cho tôi hỏi, rác ở đầu hẻm nhà tôi một tuần nay không ai thu gom."),
            (0, "Dạ, hẻm đó ở đường nào và thuộc phường nào ạ?"),
            (1, "Ở đường Y Jút, phường Thống Nhất. Mùi hôi lắm, trẻ con đi học qua đó."),
            (0, "Dạ tôi đã ghi nhận, chúng tôi sẽ chuyển cho công ty môi trường đô thị trong hôm nay."),
            (1, "Cảm ơn em nhiều."),
        ],
    ),
]


def espeak_pieces(voice: str, text: str, tmp: Path) -> Piece:
    raw = tmp / "say.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", "155", "-w", str(raw), text], check=True, capture_output=True)
    audio = decode_audio(raw, sample_rate=SR).mono()
    piece = make_piece(audio)
    if piece is None:
        raise RuntimeError(f"espeak-ng produced silence for voice {voice}")
    return piece


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--eval-dir", type=Path, required=True, help="folder with manifest.tsv (asr-dev)")
    parser.add_argument("--out", type=Path, required=True, help="output folder (not committed)")
    parser.add_argument("--calls", type=int, default=8, help="number of mixed real-speech calls")
    parser.add_argument("--seed", type=int, default=1022)
    args = parser.parse_args(argv)
    for tool in ("sox", "espeak-ng"):
        if shutil.which(tool) is None:
            parser.error(f"{tool} not found on PATH (Debian: apt-get install sox libsox-fmt-all espeak-ng)")

    out = args.out
    for sub in ("wav16k", "tel8k", "rttm"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)
    vivos, voices = load_clips(args.eval_dir)
    vivos_pieces = [p for p in (make_piece(a) for a in vivos) if p]
    manifests: dict[str, list[tuple[str, str]]] = {"manifest.tsv": [], "manifest_8k.tsv": [], "manifest_espeak.tsv": []}

    def write(call_id: str, audio: np.ndarray, turns: list[SpeakerTurn], manifest: str) -> None:
        wav = out / "wav16k" / f"{call_id}.wav"
        sf.write(wav, audio, SR, subtype="PCM_16")
        telephone(wav, out / "tel8k" / f"{call_id}.wav")
        (out / "rttm" / f"{call_id}.rttm").write_text(to_rttm(turns, call_id), encoding="utf-8")
        rttm = f"rttm/{call_id}.rttm"
        if manifest == "manifest.tsv":
            manifests["manifest.tsv"].append((f"wav16k/{call_id}.wav", rttm))
            manifests["manifest_8k.tsv"].append((f"tel8k/{call_id}.wav", rttm))
        else:
            manifests[manifest] += [(f"wav16k/{call_id}.wav", rttm), (f"tel8k/{call_id}.wav", rttm)]
        speech = {side: sum(t.end - t.start for t in turns if t.speaker == side) for side in ("operator", "citizen")}
        print(f"{call_id}: {len(audio) / SR:5.1f} s, operator {speech['operator']:.1f} s, citizen {speech['citizen']:.1f} s, {len(turns)} turns")

    for k in range(min(args.calls, len(voices))):
        name, clip = voices[k]
        other = split_at_pauses(clip, rng)
        mine = rng.sample(vivos_pieces, k=len(vivos_pieces))  # all of the VIVOS voice, shuffled
        vivos_first = k % 2 == 0
        first, second = ("vivos", name) if vivos_first else (name, "vivos")
        sides = {first: mine if vivos_first else other, second: other if vivos_first else mine}
        order = interleave(first, second, len(sides[first]), len(sides[second]), rng)
        audio, turns = mix_call(sides, order, rng, overlaps=rng.randint(2, 3))
        roles = {first: "operator", second: "citizen"}
        turns = [SpeakerTurn(t.start, t.end, roles[t.speaker]) for t in turns]
        write(f"mix{k:02d}", audio, turns, "manifest.tsv")

    with tempfile.TemporaryDirectory() as tmp:
        for k, (voice_pair, script) in enumerate(ESPEAK_CALLS):
            sides: dict[str, list[Piece]] = {"operator": [], "citizen": []}
            order = []
            for who, text in script:
                side = ("operator", "citizen")[who]
                sides[side].append(espeak_pieces(voice_pair[who], text, Path(tmp)))
                order.append(side)
            audio, turns = mix_call(sides, order, rng, overlaps=1)
            write(f"espeak{k:02d}", audio, turns, "manifest_espeak.tsv")

    for manifest, rows in manifests.items():
        with open(out / manifest, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f, delimiter="\t", lineterminator="\n")
            writer.writerow(["file", "rttm"])
            writer.writerows(rows)
    print(f"wrote {sum(len(r) for r in manifests.values())} manifest rows under {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
