"""Diarization evaluation sets: two-speaker "calls" mixed from real speech, and pyannote's sample.

``hotline eval diarization-set mixes --eval-dir ../shared/eval/asr-dev --out var/diar-eval``
(:func:`build_mixes`): each call puts one real voice on each side: the single VIVOS speaker
against one FPT Open Speech Data clip (a clip is one speaker; the FPT set has no speaker
ids, so a voice never spans two clips) or the Common Voice clip. The other voice's clip is
cut at its own pauses into 2–4 turns. Turns alternate with 0.2–1.2 s gaps and a few
0.2–0.5 s overlaps; the side that speaks first alternates between calls and is labelled
"operator" in the reference (read speech has no greeting, so the first speaker is the
only role cue). Speaker levels differ by a few dB; a faint noise floor is added. Two more
calls are synthesised with espeak-ng (two different voices, a scripted hotline dialogue
with greeting). Written under ``out``: ``wav16k/<id>.wav`` (mono 16 kHz PCM),
``tel8k/<id>.wav`` (8 kHz μ-law, 300–3400 Hz, via sox), ``rttm/<id>.rttm`` (speakers
"operator" / "citizen"), ``manifest.tsv``, ``manifest_8k.tsv``, ``manifest_espeak.tsv``.

``hotline eval diarization-set real --pool ../shared/eval/fosd-pool --out var/diar-real``
(:func:`build_real`): both sides of every call are real voices found by clustering the
pool's CAM++ clip embeddings; see docs/diarization.md ("The real two-voice set").

Reference turns are the speech regions of each placed clip as Silero VAD finds them
(pauses under 0.3 s bridged; not the pyannote model being evaluated), so turn edges are
approximate to ~0.1 s: read DER with a collar beside the collar-free figure. Everything
written is derived from evaluation data: build it under an ignored folder (``var/``),
never commit it. The same arguments and seed build the same calls.
"""

from __future__ import annotations

import csv
import importlib.util
import random
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models.diarization import build_campplus_embedding
from pipeline.errors import HotlineError
from pipeline.eval.rttm import to_rttm
from pipeline.records import SpeakerTurn
from pipeline.report.sheets import write_tsv
from pipeline.stages.audio import decode_audio

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
    """8 kHz mu-law, 300-3400 Hz copy of ``src`` (sox). ``-R``: sox's dither (on by default
    when it reduces the bit depth) with a fixed seed, so a rebuild writes the same bytes
    (without it the 8 kHz copies differed build to build: the earlier 0.125 vs 0.130)."""
    subprocess.run(
        ["sox", "-R", str(src), "-r", "8000", "-c", "1", "-e", "u-law", str(dst), "sinc", "300-3400"],
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


OPERATOR_EXTS = ("101", "102", "103")


def clip_embeddings(pool: Path, cache: Path, log: Callable[[str], None] = print) -> tuple[list[str], list[np.ndarray], np.ndarray]:
    """(file names, 16 kHz clips, L2-normalised CAM++ embeddings (n, 192)); the
    embeddings are kept in ``cache`` (npz) for the next run."""
    import torch

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
                log(f"  {k + 1}/{len(rows)} clips, {time.perf_counter() - started:.0f} s")
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




def _need_tools(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        raise HotlineError(f"{', '.join(missing)} not found on PATH (Debian: apt-get install sox libsox-fmt-all espeak-ng)")


def _write_manifest(path: Path, header: list[str], rows: list[tuple]) -> None:
    write_tsv(path, header, rows)  # the one table writer (pipeline/report/sheets.py)


def build_mixes(eval_dir: Path, out: Path, *, calls: int = 8, seed: int = 1022, log: Callable[[str], None] = print) -> int:
    """The VIVOS/FOSD mixes (16 kHz and 8 kHz copies) and the two espeak-ng calls under
    ``out`` from asr-dev (``eval_dir``: its manifest.tsv and audio); returns the number of
    manifest rows written. Raises HotlineError when sox or espeak-ng is missing."""
    _need_tools("sox", "espeak-ng")
    eval_dir, out = Path(eval_dir), Path(out)
    if not (eval_dir / "manifest.tsv").is_file():
        raise HotlineError(f"{eval_dir}: no manifest.tsv (give the asr-dev folder)")
    for sub in ("wav16k", "tel8k", "rttm"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    import soundfile as sf

    rng = random.Random(seed)
    vivos, voices = load_clips(eval_dir)
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
        log(f"{call_id}: {len(audio) / SR:5.1f} s, operator {speech['operator']:.1f} s, citizen {speech['citizen']:.1f} s, {len(turns)} turns")

    for k in range(min(calls, len(voices))):
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
        _write_manifest(out / manifest, ["file", "rttm"], rows)
    written = sum(len(r) for r in manifests.values())
    log(f"wrote {written} manifest rows under {out}")
    return written


def build_real(pool: Path, out: Path, *, calls: int = 10, voice_distance: float = 0.35, max_pair_similarity: float = 0.5,
               min_citizen_clips: int = 5, seed: int = 1907, louder: str = "operator",
               log: Callable[[str], None] = print) -> int:
    """Calls where both sides are real voices of ``pool`` (fosd-pool: manifest.tsv + audio/)
    under ``out``; returns the number of test calls written.

    Voices are clusters of the clips' CAM++ embeddings (average linkage, cosine distance ≤
    ``voice_distance``): the three largest are the operators (extensions 101–103), the
    next with ≥ ``min_citizen_clips`` clips the citizens, one call each. An operator and a
    citizen are paired only when their centroids' cosine similarity is below
    ``max_pair_similarity`` (else the next operator). Each call: 6–9 turns a side, gaps
    0.2–1.2 s, 2–3 overlaps of 0.2–0.5 s, one side 2–8 dB quieter (the citizen when
    ``louder`` is "operator", either side at random when it is "random"), a −58 dBFS noise
    floor; the operator speaks first in 60 % of the calls. Each operator's clips are split
    into disjoint halves: enrolment calls (two per operator, ``enrol.tsv``) and test calls
    (``manifest.tsv``, ``manifest_8k.tsv``: columns file, rttm, operator_ext, logged_ext;
    logged_ext names the wrong operator in one call). ``voices.tsv``: the voices chosen.
    """
    if louder not in ("operator", "random"):
        raise ValueError(f'louder must be "operator" or "random", not {louder!r}')
    _need_tools("sox")
    pool, out = Path(pool), Path(out)
    if not (pool / "manifest.tsv").is_file():
        raise HotlineError(f"{pool}: no manifest.tsv (give the fosd-pool folder)")
    import soundfile as sf
    from scipy.cluster.hierarchy import fcluster, linkage

    rng = random.Random(seed)
    for sub in ("wav16k", "tel8k", "rttm", "enrol"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    names, clips, emb = clip_embeddings(pool, out / "pool_embeddings.npz", log)
    log("clips embedded")
    labels = fcluster(linkage(emb, "average", metric="cosine"), voice_distance, "distance")
    groups = sorted((np.flatnonzero(labels == c) for c in set(labels)), key=lambda g: (-len(g), g[0]))
    groups = [g for g in groups if len(g) >= 3]
    centroid = {}
    for k, g in enumerate(groups):
        c = emb[g].mean(axis=0)
        centroid[k] = c / np.linalg.norm(c)
    operators = list(range(3))
    citizens = [k for k in range(3, len(groups)) if len(groups[k]) >= min_citizen_clips][:calls]
    spare = [k for k in range(3, len(groups)) if k not in citizens]

    log(f"{len(groups)} voices with 3+ clips")
    voices = []
    for k, g in enumerate(groups):
        role = "operator" if k in operators else "citizen" if k in citizens else "enrol-citizen" if k in spare else ""
        f0 = median_f0(np.concatenate([clips[i] for i in g[:6]]))
        voices.append((f"v{k:02d}", role, len(g), round(sum(len(clips[i]) for i in g) / SR, 1), round(f0)))
    _write_manifest(out / "voices.tsv", ["voice", "role", "clips", "seconds", "median_f0_hz"], voices)

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
    mismatch_call = rng.randrange(min(calls, len(citizens)))
    for n, cit in enumerate(citizens):
        op = operators[n % len(operators)]
        for shift in range(len(operators)):  # take the next operator if this pair is too alike
            cand = operators[(n + shift) % len(operators)]
            if float(centroid[cand] @ centroid[cit]) < max_pair_similarity:
                op = cand
                break
        else:
            log(f"call {n}: no operator clearly differs from citizen v{cit:02d}; skipped")
            continue
        sim = float(centroid[op] @ centroid[cit])
        n_op, n_cit = rng.randint(6, 9), rng.randint(6, 9)
        op_turns = turns_of([clips[i] for i in rng.sample(op_clips[op]["test"], min(n_op, len(op_clips[op]["test"])))], n_op, rng)
        cit_turns = turns_of([clips[i] for i in groups[cit]], n_cit, rng)
        operator_first = rng.random() < 0.6
        first, second = ("operator", "citizen") if operator_first else ("citizen", "operator")
        sides = {"operator": op_turns, "citizen": cit_turns}  # mix_call: the first side is the louder
        if louder == "random" and rng.random() < 0.5:
            sides = {"citizen": cit_turns, "operator": op_turns}
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
        log(
            f"{call_id}: {len(audio) / SR:5.1f} s, operator v{op:02d} ({ext}) {len(op_turns)} turns {speech['operator']:.1f} s, "
            f"citizen v{cit:02d} {len(cit_turns)} turns {speech['citizen']:.1f} s, centroid similarity {sim:.2f}, "
            f"{'operator' if operator_first else 'citizen'} first, {next(iter(sides))} louder"
            f"{', logged ext ' + logged if logged != ext else ''}"
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
        _write_manifest(out / name, ["file", "rttm", "operator_ext", "logged_ext"], rows)
    _write_manifest(out / "enrol.tsv", ["ext", "file"], enrol_rows)
    log(f"wrote {len(manifest)} calls (+8 kHz copies) and {len(enrol_rows)} enrolment calls under {out}")
    return len(manifest)


def pyannote_sample() -> tuple[Path, Path]:
    """(sample.wav, sample.rttm) that pyannote.audio ships inside its package: 30 s, two
    English speakers, a peer recording no one here made or tuned on. Raises HotlineError
    when pyannote.audio (or its sample) is not installed."""
    spec = importlib.util.find_spec("pyannote.audio")
    if spec is None or not spec.submodule_search_locations:
        raise HotlineError("pyannote.audio is not installed: run scripts/install_audio_stack.sh .venv/bin/python")
    folder = Path(list(spec.submodule_search_locations)[0]) / "sample"
    wav, rttm = folder / "sample.wav", folder / "sample.rttm"
    if not (wav.is_file() and rttm.is_file()):
        raise HotlineError(f"pyannote's sample not found in {folder}")
    return wav, rttm
