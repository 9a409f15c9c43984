"""Redacted audio on real speech: ``hotline eval redaction-audio EVAL_DIR`` (issue 25).

Builds calls in which numbers and names are spoken by real voices, runs the product on them
(recogniser, speakers, PII detection, warehouse), silences what a manager may not hear exactly
as ``/audio`` serves it (:mod:`pipeline.stages.audio_redaction`), transcribes the redacted audio
again with the recogniser, and counts what survives.

**The calls.** The read-speech sets of EVAL_DIR (``asr-dev``, ``fosd-pool``: news sentences,
no hotline talk, very few numbers) are aligned word by word to their references with the
recogniser's own CTC graph (forced alignment). Each call alternates two speakers' sentences
(carriers: clips whose references name no person) and holds spoken personal data:

- phone numbers (10 digits, read 4-3-3) and ID-card numbers (12 digits, 4-4-4), spliced from
  digit words ("không", "một", "hai"… and "tư" for four) cut out of the clips at their aligned
  times; after a spliced cue ("số của tôi là", "số chứng minh của tôi là") or the clip "hãy chỉ
  gọi vào máy di động của tôi" where it exists, or none;
- names: a self-introduction spliced from syllables ("tôi tên là" + surname, middle, given name,
  each cut from other words: "nguyễn" from a street name, "hải" from a person…), and the clips
  whose references name people, whole (gold: :data:`NAME_LABELS`, word positions labelled by
  hand, no text copied).

The clips are split in two by file name (a stable hash): calls built from the ``tune`` half chose
the padding; the ``test`` half is reported. A digit or syllable found only in the other half is
not used (numbers are drawn from the digits the half has). Half the calls are stereo (operator
left, citizen right, each leaking into the other at −30 dB). Every call exists as 16 kHz PCM and
as 8 kHz μ-law band-limited telephone audio (``sox IN -r 8000 -e u-law OUT sinc 300-3400``).

Everything is written under OUT (default ``var/redaction-audio``): the built calls and their
gold, a warehouse per version, the redacted audio, the scores. Nothing from EVAL_DIR is copied
into the repository.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
import shutil
import subprocess
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from models.viet_asr import embedded_ctc
from models.vietasr_ctc import FEATURE_S, ctc_align, frame_end, frame_start
from pipeline.eval.manifest import read_manifest
from pipeline.intake.ingest import hash_file
from pipeline.intervals import Interval, intersect, merge, total
from pipeline.records import Recording
from pipeline.stages.audio import decode_audio
from pipeline.stages.audio_redaction import (PAD_AFTER_S, PAD_BEFORE_S, RedactedSpan, call_spans, redacted_recording,
                                             silence_intervals)
from pipeline.stages.process import get_models, process_recording, transcribe_stage
from pipeline.stages.transcribe import options_for
from pipeline.warehouse import calls as warehouse_calls
from pipeline.warehouse import db, load

SR = 16000  # Hz of the built calls (the telephone copies are 8 kHz)
DIGIT_WORDS = {"không": "0", "một": "1", "hai": "2", "ba": "3", "bốn": "4", "tư": "4", "năm": "5", "sáu": "6",
               "bảy": "7", "tám": "8", "chín": "9"}
# Words the recogniser may write for a digit it hears (its usual variants: "mốt", "lăm", "linh"…)
HEARD_DIGITS = set(DIGIT_WORDS) | {"mốt", "lăm", "linh", "lẻ", "mười", "mươi", "tư", "bẩy", "lăm", "nhăm"}

# Person names in the clips' references, as (first word, one past the last) positions, labelled by
# hand from the references of ../shared/eval (asr-dev, fosd-pool). A clip listed here is never a
# carrier; the whole-clip names are spoken PII of the calls that use them. Keyed by file name.
NAME_LABELS: dict[str, tuple[tuple[int, int], ...]] = {
    "fosd_FPTOpenSpeechData_Set001_V0.1_006753.mp3": ((0, 3),),  # a full name at the start
    "fosd_FPTOpenSpeechData_Set001_V0.1_001735.mp3": ((1, 4),),  # ông + a full name
    "fosd_FPTOpenSpeechData_Set001_V0.1_011939.mp3": ((2, 6),),  # "hắn tên" + a full name
    "fosd_FPTOpenSpeechData_Set001_V0.1_013917.mp3": ((0, 3),),
    "fosd_FPTOpenSpeechData_Set001_V0.1_014092.mp3": ((11, 12), (13, 16), (17, 20)),  # a child's given name, two full names
    "fosd_FPTOpenSpeechData_Set001_V0.1_008684.mp3": ((2, 4),),  # tiến sĩ + a full name
    "fosd_FPTOpenSpeechData_Set001_V0.1_009134.mp3": ((0, 3),),
    "fosd_FPTOpenSpeechData_Set001_V0.1_009200.mp3": ((0, 2), (10, 13)),
}
# Clips whose references name a person by a given name alone, a foreign name, or ambiguously:
# never carriers (their names are not labelled, so they would count as non-PII speech).
NAMED_ELSEWHERE = {
    "005726", "003877", "000218", "common_voice", "000660", "001011", "001652", "002500", "002536", "002664",
    "003239", "003718", "003749", "005657", "006806", "007337", "007406", "008015", "009287", "009516",
    "010912", "011136", "012605", "013885", "010930", "011806", "011980", "012357", "013526", "013633",
    "013682", "013929", "000045", "008862", "005329",
}
# Syllables a spliced self-introduction is made of (cut from any word that is that syllable)
SURNAMES = ("nguyễn", "hoàng", "phạm", "lê", "trần", "võ")
MIDDLES = ("văn", "thị", "minh", "thanh")
GIVEN = ("hải", "hương", "long", "bình", "dũng", "hoa", "tâm", "phương", "quốc", "đức", "thành", "an", "lan", "hùng")


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


# --------------------------------------------------------------------------- forced alignment

@dataclass(frozen=True)
class AlignedWord:
    word: str
    start: float  # s in the clip
    end: float  # s


def encode(words: Sequence[str], vocab: dict[int, str]) -> tuple[list[int], list[int]]:
    """Token ids of ``words`` in the recogniser's vocabulary (a syllable is one unit; anything else greedy
    longest-match), and for each token the index of its word."""
    inv = {piece: i for i, piece in vocab.items()}
    tokens, owner = [], []
    for k, w in enumerate(words):
        w = nfc(w)
        if "\u2581" + w in inv:
            tokens.append(inv["\u2581" + w])
            owner.append(k)
            continue
        pos, first = 0, True
        while pos < len(w):
            for end in range(len(w), pos, -1):
                piece = ("\u2581" if first else "") + w[pos:end]
                if piece in inv:
                    tokens.append(inv[piece])
                    owner.append(k)
                    pos, first = end, False
                    break
            else:
                pos += 1  # a character the vocabulary lacks: skipped
    return tokens, owner


def align(ctc, samples: np.ndarray, words: Sequence[str]) -> list[AlignedWord]:
    """Times of ``words`` in 16 kHz mono ``samples`` by Viterbi CTC alignment on the recogniser's posteriors."""

    x = (np.clip(samples, -1, 1) * 32767).astype(np.int16)
    logp = ctc.posteriors([ctc.features(x, SR)])[0]
    tokens, owner = encode(words, ctc.vocab)
    if not tokens or len(logp) == 0:
        return []
    spans = ctc_align(logp, tokens)
    out: list[list] = [[w, None, None] for w in words]
    for (a, b), k in zip(spans, owner):
        if a < 0:
            continue
        s, e = frame_start(a), frame_end(b)
        out[k][1] = s if out[k][1] is None else min(out[k][1], s)
        out[k][2] = e if out[k][2] is None else max(out[k][2], e)
    dur = len(samples) / SR
    words_out = []
    for i, (w, s, e) in enumerate(out):
        if s is None:
            continue
        words_out.append(AlignedWord(w, round(s, 3), round(min(dur, max(e, s + FEATURE_S)), 3)))
    # a word runs until the next one starts when the gap is short (CTC spikes say little about ends)
    fixed = []
    for w, nxt in zip(words_out, words_out[1:] + [None]):
        end = w.end
        if nxt is not None and 0 < nxt.start - w.end < 0.25:
            end = nxt.start
        if nxt is not None:
            end = min(end, max(nxt.start, w.start + FEATURE_S))
        fixed.append(AlignedWord(w.word, w.start, round(end, 3)))
    return fixed


# --------------------------------------------------------------------------- the clips

@dataclass(frozen=True)
class Clip:
    name: str  # file name (unique across the two sets)
    path: Path
    split: str  # "tune" | "test"
    words: tuple[AlignedWord, ...]  # the reference, aligned
    duration: float  # s

    @property
    def named(self) -> bool:
        """Whether the reference names a person (never a carrier)."""
        return self.name in NAME_LABELS or any(k in self.name for k in NAMED_ELSEWHERE)


def split_of(name: str) -> str:
    """``tune`` or ``test``: a stable half of the clips, by a hash of the file name."""
    return "tune" if int(hashlib.sha1(name.encode()).hexdigest(), 16) % 2 == 0 else "test"


@dataclass(frozen=True)
class _Row:
    name: str
    path: Path
    reference: str
    duration: float  # s, from the manifest


def _manifest_rows(eval_dir: Path) -> list[_Row]:

    rows = []
    for sub in ("asr-dev", "fosd-pool"):
        manifest = eval_dir / sub / "manifest.tsv"
        if manifest.is_file():
            for r in read_manifest(manifest, ("file", "reference"), files=("file",), may_be_empty=("reference",)):
                path = r.path("file")
                rows.append(_Row(path.name, path, nfc(r["reference"]), float(r.get("duration_s") or 0.0)))
    if not rows:
        raise FileNotFoundError(f"{eval_dir}: no asr-dev/manifest.tsv or fosd-pool/manifest.tsv")
    return rows


SOURCES_PER_WORD = 4  # clips a word to splice is cut from, at most, per half
CARRIERS_PER_HALF = 30  # sentences a half's calls are made of (each call takes five, in turn)
CUE_WORDS = ("số", "của", "tôi", "là", "chứng", "minh", "tên")


def choose_clips(rows: Sequence[_Row]) -> set[str]:
    """The clips the calls need aligned, per half in a stable order: sources of each word to splice (up to
    SOURCES_PER_WORD), the clips that name people, the "call my mobile" clip and CARRIERS_PER_HALF carriers."""
    wanted = set(DIGIT_WORDS) | set(SURNAMES) | set(MIDDLES) | set(GIVEN) | set(CUE_WORDS)
    chosen: set[str] = set()
    for split in ("tune", "test"):
        half = sorted((r for r in rows if split_of(r.name) == split), key=lambda r: hashlib.sha1(r.name.encode()).hexdigest())
        counts: dict[str, int] = {}
        carriers = 0
        for r in half:
            words = r.reference.split()
            if r.name in NAME_LABELS or words[:4] == ["hãy", "chỉ", "gọi", "vào"]:
                chosen.add(r.name)
            useful = [w for w in set(words) & wanted if counts.get(w, 0) < SOURCES_PER_WORD]
            if useful:
                chosen.add(r.name)
                for w in set(words) & wanted:
                    counts[w] = counts.get(w, 0) + 1
            named = r.name in NAME_LABELS or any(k in r.name for k in NAMED_ELSEWHERE)
            if not named and 1.5 <= r.duration <= 9.0 and carriers < CARRIERS_PER_HALF:
                chosen.add(r.name)
                carriers += 1
    return chosen


def load_clips(eval_dir: Path, cache: Path, ctc_factory: Callable, progress=None) -> list[Clip]:
    """The clips of EVAL_DIR's two sets that the calls need (:func:`choose_clips`), references aligned; the
    alignments are cached in ``cache`` (JSON, under var/)."""

    known = json.loads(cache.read_text(encoding="utf-8")) if cache.is_file() else {}
    ctc = None
    rows = _manifest_rows(eval_dir)
    chosen = choose_clips(rows)
    rows = [r for r in rows if r.name in chosen]
    clips = []
    for i, row in enumerate(rows):
        words = row.reference.split()
        entry = known.get(row.name)
        if entry is None or entry.get("n") != len(words):
            ctc = ctc or ctc_factory()
            audio = decode_audio(row.path).mono()
            aligned = align(ctc, audio, words)
            entry = {"n": len(words), "duration": len(audio) / SR, "words": [[w.word, w.start, w.end] for w in aligned]}
            known[row.name] = entry
            if progress:
                progress(f"aligned {i + 1}/{len(rows)}")
            if (i + 1) % 10 == 0:
                cache.write_text(json.dumps(known, ensure_ascii=False), encoding="utf-8")
        clips.append(Clip(row.name, row.path, split_of(row.name), tuple(AlignedWord(*w) for w in entry["words"]),
                          float(entry["duration"])))
    cache.write_text(json.dumps(known, ensure_ascii=False), encoding="utf-8")
    return clips


class Audio:
    """Decoded clips, each once (16 kHz mono)."""

    def __init__(self):
        self._cache: dict[Path, np.ndarray] = {}

    def __call__(self, path: Path) -> np.ndarray:
        if path not in self._cache:

            self._cache[path] = decode_audio(path).mono()
        return self._cache[path]


def _frame_db(x: np.ndarray, hop: int = 160) -> np.ndarray:
    n = max(1, len(x) // hop)
    frames = x[: n * hop].reshape(n, hop) if len(x) >= hop else x.reshape(1, -1)
    return 10 * np.log10(np.mean(frames.astype(np.float64) ** 2, axis=1) + 1e-12)


def _level(x: np.ndarray, target_db: float = -24.0) -> np.ndarray:
    """``x`` scaled so its loud frames (within 20 dB of the loudest) have ``target_db`` dBFS RMS."""
    db = _frame_db(x)
    loud = db[db > db.max() - 20] if len(db) else db
    rms_db = 10 * np.log10(np.mean(10 ** (loud / 10))) if len(loud) else -100.0
    return (x * 10 ** ((target_db - rms_db) / 20)).astype(np.float32)


def _fade(x: np.ndarray, ms: float = 8.0) -> np.ndarray:
    n = min(len(x) // 2, int(SR * ms / 1000))
    if n > 0:
        ramp = np.linspace(0.0, 1.0, n, dtype=np.float32)
        x = x.copy()
        x[:n] *= ramp
        x[-n:] *= ramp[::-1]
    return x


ALIGN_LAG_S = 0.3  # s the aligned times come after the sound (see CUT_LEADS): taken off before use


def shifted(words: Sequence[AlignedWord], lag: float = ALIGN_LAG_S) -> tuple[AlignedWord, ...]:
    return tuple(AlignedWord(w.word, round(max(0.0, w.start - lag), 3), round(max(0.01, w.end - lag), 3)) for w in words)


def refine_times(audio: np.ndarray, words: Sequence[AlignedWord]) -> tuple[AlignedWord, ...]:
    """Word times moved to the sound: a CTC alignment marks a token's spike, so a word before a pause ends
    too early and one after a pause may start late. Across a pause, a word's end is carried to where its
    energy falls 25 dB below its peak (or 6 dB above the clip's noise floor), its start back to where the
    energy rises so; inside fluent speech the times stay."""
    db = _frame_db(audio)
    if not len(db) or not words:
        return tuple(words)
    floor = float(np.percentile(db, 10))
    dur = len(audio) / SR
    f = lambda t: max(0, min(len(db) - 1, int(t * 100)))  # noqa: E731
    out: list[AlignedWord] = []
    for i, w in enumerate(words):
        prev_end = out[-1].end if out else 0.0
        nxt = words[i + 1].start if i + 1 < len(words) else dur
        peak = float(db[f(w.start) : f(max(w.end, w.start + 0.1)) + 1].max())
        thr = max(peak - 25.0, floor + 6.0)
        start, end = w.start, w.end
        if nxt - w.end > 0.02:
            k = f(w.end)
            while k + 1 <= f(min(nxt, w.start + 1.2)) and db[k + 1] > thr:
                k += 1
            end = min(nxt, (k + 1) / 100)
        if w.start - prev_end > 0.02:
            k = f(w.start)
            while k - 1 >= f(max(prev_end, w.start - 0.25)) and db[k - 1] > thr:
                k -= 1
            start = max(prev_end, k / 100)
        out.append(AlignedWord(w.word, round(start, 3), round(max(end, start + 0.01), 3)))
    return tuple(out)


# The recogniser's CTC spikes come late: a word's aligned start is ~0.3 s after its sound starts (measured
# on these clips: cut at the aligned times, 0 of 42 digit words were recognised alone; 0.3 s earlier, 12).
# So a word is cut where the recogniser itself, fed the cut alone, writes that word and nothing else.
CUT_LEADS = (0.3, 0.45)  # s before the aligned start a cut may begin
CUT_ENDS = (0.2, 0.1)  # s before the next word's aligned start a cut may end
CUTS_PER_WORD = 3  # good cuts of a word looked for per half (rare words: as many as there are)


def cut_candidates(words: Sequence[AlignedWord], k: int, duration: float) -> list[tuple[float, float]]:
    """(start s, end s) windows tried for word ``k``."""
    w = words[k]
    nxt = words[k + 1].start if k + 1 < len(words) else duration
    out = []
    for lead in CUT_LEADS:
        for back in CUT_ENDS:
            lo, hi = max(0.0, w.start - lead), min(duration, nxt - back if nxt - w.end < 0.25 else w.end + 0.3 - back)
            if hi - lo >= 0.12:
                out.append((round(lo, 3), round(hi, 3)))
    return out


def find_cuts(ctc, audio: np.ndarray, words: Sequence[AlignedWord], wanted: set[str]) -> dict[int, tuple[float, float]]:
    """For each word of ``words`` in ``wanted``: the window (s) that the recogniser, fed it alone (0.3 s of
    silence each side), writes as exactly that word, the most sure one; words with none are left out."""
    dur = len(audio) / SR
    jobs = [(k, lo, hi) for k, w in enumerate(words) if w.word in wanted for lo, hi in cut_candidates(words, k, dur)]
    if not jobs:
        return {}
    pad = np.zeros(int(0.3 * SR), np.float32)
    pieces = [((np.clip(np.concatenate([pad, _level(_fade(audio[int(lo * SR) : int(hi * SR)])), pad]), -1, 1) * 32767)
               .astype(np.int16), SR) for _, lo, hi in jobs]
    best: dict[int, tuple[float, float, float]] = {}
    for (k, lo, hi), res in zip(jobs, ctc.decode(pieces)):
        if res.text.split() == [words[k].word] and (k not in best or res.confidence > best[k][2]):
            best[k] = (lo, hi, res.confidence)
    return {k: (lo, hi) for k, (lo, hi, _) in best.items()}


def word_cut(audio: np.ndarray, window: tuple[float, float]) -> np.ndarray:
    """The samples of ``window`` (s), faded at both ends."""
    return _fade(audio[int(window[0] * SR) : int(window[1] * SR)])


def clip_body(audio: np.ndarray, clip: Clip) -> tuple[np.ndarray, float]:
    """A carrier clip without its leading and trailing silence, and the seconds cut from its start."""
    if not clip.words:
        return _fade(audio), 0.0
    a = max(0.0, clip.words[0].start - 0.1)
    b = min(len(audio) / SR, clip.words[-1].end + 0.15)
    return _fade(audio[int(a * SR) : int(b * SR)]), a


# --------------------------------------------------------------------------- building calls

@dataclass(frozen=True)
class GoldItem:
    """Personal data spoken in a built call."""

    kind: str  # phone | national_id | person_name
    text: str  # digits, or the name's syllables
    start: float  # s in the call
    end: float  # s
    channel: int | None  # stereo: the speaker's channel; None for mono
    source: str  # "spliced" | "clip" (a name said in a clip as recorded)
    words: tuple[tuple[str, float, float], ...] = ()  # (word, start s, end s) of each digit or syllable
    checked: int = 0  # spliced: pieces whose cut the recogniser read alone as that word (find_cuts)


@dataclass
class BuiltCall:
    name: str
    split: str
    stereo: bool
    duration: float  # s
    items: list[GoldItem] = field(default_factory=list)
    speech: list[tuple[str, float, float, int | None]] = field(default_factory=list)  # non-PII words: (word, s, e, channel)
    parts: list[str] = field(default_factory=list)  # what was placed, in order (clip names, "digits", …)


class _Track:
    """Pieces laid end to end on the operator's or the citizen's side."""

    def __init__(self):
        self.pieces: list[tuple[int, int, np.ndarray]] = []  # (side 0 operator / 1 citizen, start sample, audio)
        self.at = int(0.4 * SR)

    def put(self, side: int, x: np.ndarray, gap_s: float = 0.0) -> float:
        self.at += int(gap_s * SR)
        start = self.at
        self.pieces.append((side, start, x))
        self.at += len(x)
        return start / SR

    def render(self, stereo: bool, crosstalk_db: float = -30.0) -> np.ndarray:
        n = self.at + int(0.5 * SR)
        out = np.zeros((2 if stereo else 1, n), np.float32)
        leak = 10 ** (crosstalk_db / 20)
        for side, start, x in self.pieces:
            if stereo:
                out[side, start : start + len(x)] += x
                out[1 - side, start : start + len(x)] += leak * x
            else:
                out[0, start : start + len(x)] += x
        return np.clip(out, -1.0, 1.0)


def _digit_plan(rng: random.Random, available: set[str], n: int, kind: str) -> str | None:
    """A plausible number of ``n`` digits drawn from the digits the half has (None when it cannot)."""
    if "0" not in available:
        return None
    if kind == "phone":
        second = [d for d in "35789" if d in available]
        if not second:
            return None
        head = "0" + rng.choice(second)
    else:  # CCCD: 0 + a province code's digits
        head = "0" + rng.choice(sorted(available - {"0"}))
    rest = sorted(available)
    return head + "".join(rng.choice(rest) for _ in range(n - len(head)))


def cut_table(clips: Sequence[Clip], ctc_factory: Callable, cache: Path, audio: Audio, progress=None,
              splits: Sequence[str] = ("tune", "test")) -> dict:
    """clip name → {word index: (start s, end s)} of the words to splice (:func:`find_cuts`), up to CUTS_PER_WORD
    per word and half; cached in ``cache``."""
    wanted = set(DIGIT_WORDS) | set(SURNAMES) | set(MIDDLES) | set(GIVEN) | set(CUE_WORDS)
    known = json.loads(cache.read_text(encoding="utf-8")) if cache.is_file() else {}
    ctc = None
    for split in splits:
        half = [c for c in clips if c.split == split]
        found: dict[str, int] = {}
        for c in half:  # what the cache already holds counts first
            for k in known.get(c.name, {}):
                found[c.words[int(k)].word] = found.get(c.words[int(k)].word, 0) + 1
        for i, c in enumerate(half):
            todo = {w.word for w in c.words if w.word in wanted and found.get(w.word, 0) < CUTS_PER_WORD}
            if c.name in known or not todo:
                continue
            ctc = ctc or ctc_factory()
            got = find_cuts(ctc, audio(c.path), c.words, todo)
            known[c.name] = {str(k): list(v) for k, v in got.items()}
            for k in got:
                found[c.words[k].word] = found.get(c.words[k].word, 0) + 1
            cache.write_text(json.dumps(known, ensure_ascii=False), encoding="utf-8")
            if progress:
                progress(f"cuts {split} {i + 1}/{len(half)}: {len(got)} words")
    return known


def build_calls(clips: Sequence[Clip], split: str, n_calls: int, out_dir: Path, *, cut_table: dict, seed: int = 25,
                audio: Audio | None = None) -> list[BuiltCall]:
    """``n_calls`` calls from the ``split`` half of ``clips``, written as ``out_dir/<name>.wav`` (16 kHz PCM);
    the words spliced are cut at ``cut_table``'s windows (:func:`cut_table`)."""
    import soundfile as sf

    audio = audio or Audio()
    raw_words = {c.name: c.words for c in clips}
    half = [Clip(c.name, c.path, c.split, refine_times(audio(c.path), shifted(c.words)), c.duration)
            for c in clips if c.split == split and c.words]
    cuts: dict[str, list[tuple[Clip, tuple[float, float]]]] = {}  # word -> cuts the recogniser read alone
    for c in half:
        for k, window in sorted(cut_table.get(c.name, {}).items()):
            cuts.setdefault(raw_words[c.name][int(k)].word, []).append((c, tuple(window)))
    # A word no cut of which the recogniser read alone is cut at its aligned times less ALIGN_LAG_S ("unchecked").
    wanted = set(DIGIT_WORDS) | set(SURNAMES) | set(MIDDLES) | set(GIVEN) | set(CUE_WORDS)
    unchecked: dict[str, list[tuple[Clip, tuple[float, float]]]] = {}
    for c in half:
        ws = raw_words[c.name]
        for k, w in enumerate(ws):
            if w.word in wanted and w.word not in cuts:
                nxt = ws[k + 1].start if k + 1 < len(ws) else c.duration
                lo = max(0.0, w.start - ALIGN_LAG_S)
                hi = min(c.duration, nxt - 0.2 if nxt - w.end < 0.25 else w.end + 0.1)
                if hi - lo >= 0.12:
                    unchecked.setdefault(w.word, []).append((c, (lo, hi)))
    checked_words = set(cuts)
    cuts.update(unchecked)
    digits_by_value: dict[str, list[str]] = {}
    for word, d in DIGIT_WORDS.items():
        if word in cuts:
            digits_by_value.setdefault(d, []).append(word)
    carriers = [c for c in half if not c.named and 1.5 <= c.duration <= 9.0]
    name_clips = [c for c in half if c.name in NAME_LABELS]
    mobile_clip = next((c for c in half if [w.word for w in c.words][:4] == ["hãy", "chỉ", "gọi", "vào"]), None)
    rng = random.Random(f"{seed}-{split}")
    rng.shuffle(carriers)
    calls = []
    carrier_at = 0
    out_dir.mkdir(parents=True, exist_ok=True)

    def cut_of(word: str) -> np.ndarray | None:
        options = cuts.get(word)
        if not options:
            return None
        c, window = rng.choice(options)
        return _level(word_cut(audio(c.path), window))

    def checked(words) -> int:
        return sum(w[0] in checked_words for w in words)

    def say_words(track: _Track, side: int, words: Sequence[str], gap_s: float, call: BuiltCall, channel) -> bool:
        pieces = [cut_of(w) for w in words]
        if any(p is None for p in pieces):
            return False
        for i, (w, p) in enumerate(zip(words, pieces)):
            s = track.put(side, p, gap_s if i == 0 else rng.uniform(0.03, 0.08))
            call.speech.append((w, s, s + len(p) / SR, channel))
        return True

    def say_number(track: _Track, side: int, digits: str, groups: Sequence[int], call: BuiltCall, kind: str, channel):
        words, at = [], 0
        first = None
        for g_i, g in enumerate(groups):
            for j, d in enumerate(digits[at : at + g]):
                word = rng.choice(digits_by_value[d])
                p = cut_of(word)
                gap = rng.uniform(0.25, 0.4) if (j == 0 and g_i == 0) else (rng.uniform(0.2, 0.35) if j == 0 else rng.uniform(0.04, 0.12))
                s = track.put(side, p, gap)
                first = s if first is None else first
                words.append((word, s, s + len(p) / SR))
            at += g
        call.items.append(GoldItem(kind, digits, words[0][1], words[-1][2], channel, "spliced", tuple(words),
                                   checked(words)))

    def say_clip(track: _Track, side: int, clip: Clip, call: BuiltCall, channel, gap_s: float):
        body, offset = clip_body(audio(clip.path), clip)
        body = _level(body)
        s = track.put(side, body, gap_s)
        labelled = {k for a, b in NAME_LABELS.get(clip.name, ()) for k in range(a, b)}
        for a, b in NAME_LABELS.get(clip.name, ()):
            ws = clip.words[a:b]
            if ws:
                call.items.append(GoldItem("person_name", " ".join(w.word for w in ws), s + ws[0].start - offset,
                                           s + ws[-1].end - offset, channel, "clip",
                                           tuple((w.word, s + w.start - offset, s + w.end - offset) for w in ws)))
        for k, w in enumerate(clip.words):
            if k not in labelled:
                call.speech.append((w.word, s + w.start - offset, s + w.end - offset, channel))
        call.parts.append(clip.name)

    def next_carrier() -> Clip:
        nonlocal carrier_at
        c = carriers[carrier_at % len(carriers)]
        carrier_at += 1
        return c

    available = set(digits_by_value)
    for i in range(n_calls):
        stereo = i % 2 == 1
        call = BuiltCall(f"{split}-{i:02d}{'-stereo' if stereo else ''}", split, stereo, 0.0)
        op, cit = (0, 1) if stereo else (None, None)
        track = _Track()
        say_clip(track, 0, next_carrier(), call, op, 0.0)
        say_clip(track, 1, next_carrier(), call, cit, rng.uniform(0.4, 0.9))
        # the citizen's phone number, with a cue
        phone = _digit_plan(rng, available, 10, "phone")
        cue = i % 3
        if cue == 0 and mobile_clip is not None:
            say_clip(track, 1, mobile_clip, call, cit, rng.uniform(0.4, 0.8))
        elif cue == 1:
            say_words(track, 1, ["số", "của", "tôi", "là"], rng.uniform(0.4, 0.8), call, cit)
        if phone:
            say_number(track, 1, phone, (4, 3, 3), call, "phone", cit)
        say_clip(track, 0, next_carrier(), call, op, rng.uniform(0.5, 0.9))
        # a name: a self-introduction spliced from syllables, or a clip that names people
        if i % 2 == 0 or not name_clips:
            name = [rng.choice([w for w in SURNAMES if w in cuts] or [""]), rng.choice([w for w in MIDDLES if w in cuts] or [""]),
                    rng.choice([w for w in GIVEN if w in cuts] or [""])]
            if all(name) and say_words(track, 1, ["tôi", "tên", "là"], rng.uniform(0.4, 0.8), call, cit):
                pieces = [_level(word_cut(audio(c.path), window)) for c, window in (rng.choice(cuts[w]) for w in name)]
                words = []
                for j, (w, p) in enumerate(zip(name, pieces)):
                    s = track.put(1, p, rng.uniform(0.05, 0.12))
                    words.append((w, s, s + len(p) / SR))
                call.items.append(GoldItem("person_name", " ".join(name), words[0][1], words[-1][2], cit, "spliced",
                                           tuple(words), checked(words)))
        else:
            say_clip(track, 1, name_clips[(i // 2) % len(name_clips)], call, cit, rng.uniform(0.4, 0.8))
        # the operator reads the number back (every third call), then an ID-card number (every other call)
        if phone and i % 3 == 2:
            say_number(track, 0, phone, (4, 3, 3), call, "phone", op)
        say_clip(track, 0, next_carrier(), call, op, rng.uniform(0.5, 0.9))
        if i % 2 == 1:
            cccd = _digit_plan(rng, available, 12, "national_id")
            if cccd and say_words(track, 1, ["số", "chứng", "minh", "của", "tôi", "là"], rng.uniform(0.4, 0.8), call, cit):
                say_number(track, 1, cccd, (4, 4, 4), call, "national_id", cit)
        say_clip(track, 1, next_carrier(), call, cit, rng.uniform(0.4, 0.9))
        say_clip(track, 0, next_carrier(), call, op, rng.uniform(0.4, 0.9))
        samples = track.render(stereo)
        call.duration = samples.shape[1] / SR
        sf.write(out_dir / f"{call.name}.wav", samples.T, SR, subtype="PCM_16")
        calls.append(call)
    return calls


def telephone_copy(src: Path, dst: Path) -> None:
    """``sox SRC -r 8000 -e u-law DST sinc 300-3400`` (channels kept): the telephone version of a built call."""
    sox = shutil.which("sox")
    if sox is None:
        raise RuntimeError("sox is not installed (Debian: apt-get install sox libsox-fmt-all)")
    subprocess.run([sox, str(src), "-r", "8000", "-e", "u-law", str(dst), "sinc", "300-3400"], check=True,
                   capture_output=True)


# --------------------------------------------------------------------------- the product on the calls

Timed = tuple[str, float, float]  # (word as written, start s, end s)


@dataclass
class Processed:
    """What the product made of one built call (one version): the spans it silences and the words it heard."""

    call: str
    version: str  # "16k" | "8k"
    path: str  # the call's audio file
    call_id: str
    duration: float
    spans: list[tuple[float, float, str, str]]  # (start s, end s, kind, timing) unpadded, from /audio's code
    words: list[Timed]  # the recogniser's words on the unredacted call, all channels
    pii_counts: dict  # kind -> items the text redaction counted


def _words_of(segments) -> list[Timed]:
    out = []
    for seg in segments:
        if seg.words:
            out.extend((nfc(w.text).lower(), w.start, w.end) for w in seg.words)
        elif seg.text:
            out.append((nfc(seg.text).lower(), seg.start, seg.end))
    return out


def process_calls(paths: Sequence[tuple[str, Path]], version: str, settings, models, work: Path,
                  progress=None) -> list[Processed]:
    """Run the product on each call (:func:`pipeline.stages.process.process_recording`), load it into a fresh
    warehouse under ``work`` and read back the spans the ``/audio`` route silences for a manager."""

    work.mkdir(parents=True, exist_ok=True)
    db_path = work / "warehouse.duckdb"
    for p in (db_path, db_path.with_name(db_path.name + ".wal")):
        p.unlink(missing_ok=True)
    con = db.connect(db_path)
    out = []
    try:
        run_id = load.new_run_id()
        folder = Path(paths[0][1]).parent if paths else work
        load.start_run(con, run_id, str(folder))
        for i, (name, path) in enumerate(paths):
            rec = Recording(path=Path(path).resolve(), relpath=Path(path).name, sha256=hash_file(Path(path)),
                            size_bytes=Path(path).stat().st_size)
            result = process_recording(rec, models, settings)
            load.load_call(con, result, run_id, keep_raw_text=settings.keep_raw_text)
            rows = warehouse_calls.redaction_rows(con, rec.call_id)
            spans = call_spans(rows)
            out.append(Processed(name, version, str(path), rec.call_id, result.duration_s,
                                 [(s.start, s.end, s.kind, s.timing) for s in spans],
                                 _words_of(s.segment for s in result.analysis.segments),
                                 dict(result.analysis.pii_counts)))
            if progress:
                progress(f"{version} processed {i + 1}/{len(paths)} {name}: {len(spans)} spans")
        load.finish_run(con, run_id, found=len(paths), processed=len(paths), skipped=0, failed=0)
    finally:
        con.close()
    return out


def retranscribe(path: Path, settings, models) -> list[Timed]:
    """The recogniser's words on ``path`` (every channel), as the product transcribes a call."""

    transcripts = transcribe_stage(decode_audio(path), models, options_for(settings))
    return _words_of(seg for t in transcripts for seg in t.segments)


# --------------------------------------------------------------------------- scores

TOLERANCE_S = 0.2  # s: a heard word counts for a gold item when it overlaps the item widened by this much


def _is_digit_word(w: str) -> int:
    """How many digits a written word stands for (a digit word: 1; "0905": 4; anything else 0)."""
    w = w.strip(".,;:!?")
    if w.isdigit():
        return len(w)
    return 1 if w in HEARD_DIGITS else 0


def heard(words: Sequence[Timed], item: GoldItem, tolerance: float = TOLERANCE_S) -> int:
    """Digits (numbers) or name syllables (names) of ``item`` among the words heard over its stretch."""
    near = [w for w, s, e in words if s < item.end + tolerance and e > item.start - tolerance]
    if item.kind == "person_name":
        syllables = set(item.text.split())
        return sum(1 for w in near if w.strip(".,;:!?") in syllables)
    return sum(_is_digit_word(w) for w in near)


@dataclass
class ItemScore:
    call: str
    kind: str
    source: str  # spliced | clip
    size: int  # digits or syllables
    detected: bool  # a span of the product overlaps the item
    covered: float  # share of the item's time inside the silence, 0..1
    heard_before: int  # digits / syllables the recogniser wrote over the item on the unredacted call
    heard_after: int  # … on the redacted call
    lead_s: float | None  # s the product's span starts after the item starts (positive: the start needs padding)
    lag_s: float | None  # s the item ends after the product's span ends (positive: the end needs padding)


def score_items(call: BuiltCall, proc: Processed, intervals: list[Interval], after: Sequence[Timed]) -> list[ItemScore]:
    out = []
    for item in call.items:
        gold = [(item.start, item.end)]
        touching = [(a, b) for a, b, _, _ in proc.spans if a < item.end and b > item.start]
        inside = total(intersect(gold, merge(intervals)))
        n = len(item.text) if item.kind != "person_name" else len(item.text.split())
        out.append(ItemScore(
            call.name, item.kind, item.source, n, bool(touching), inside / max(1e-9, item.end - item.start),
            heard(proc.words, item), heard(after, item),
            round(min(a for a, _ in touching) - item.start, 3) if touching else None,
            round(item.end - max(b for _, b in touching), 3) if touching else None))
    return out


def speech_lost(call: BuiltCall, intervals: list[Interval]) -> tuple[float, int, int]:
    """(seconds of non-PII speech inside the silence, words more than half silenced, non-PII words)."""
    speech = merge((s, e) for _, s, e, _ in call.speech)
    lost_s = total(intersect(speech, merge(intervals)))
    lost_words = 0
    for _, s, e, _ in call.speech:
        if e > s and total(intersect([(s, e)], merge(intervals))) > 0.5 * (e - s):
            lost_words += 1
    return lost_s, lost_words, len(call.speech)


@dataclass
class VersionReport:
    version: str
    split: str
    pad_before: float
    pad_after: float
    items: list[ItemScore]
    lost_s: float  # non-PII speech silenced, s
    lost_words: int
    speech_words: int
    speech_s: float  # non-PII speech in the calls, s
    silenced_s: float  # all silence written, s
    audio_s: float

    def lines(self) -> list[str]:
        def block(title, items):
            digits = [i for i in items if i.kind != "person_name"]
            names = [i for i in items if i.kind == "person_name"]
            rows = []
            for label, group, unit in (("numbers", digits, "digits"), ("names", names, "syllables")):
                if not group:
                    continue
                rows.append(f"  {title} {label}: items={len(group)} {unit}={sum(i.size for i in group)} "
                            f"heard_before={sum(i.heard_before for i in group)} "
                            f"survived={sum(i.heard_after for i in group)} "
                            f"fully_silenced={sum(i.covered >= 0.999 for i in group)}")
            return rows

        detected = [i for i in self.items if i.detected]
        missed = [i for i in self.items if not i.detected]
        out = [f"{self.split} {self.version} pad={self.pad_before:.2f}/{self.pad_after:.2f} s: "
               f"items={len(self.items)} detected={len(detected)} "
               f"(numbers {sum(i.detected for i in self.items if i.kind != 'person_name')}/"
               f"{sum(i.kind != 'person_name' for i in self.items)}, names "
               f"{sum(i.detected for i in self.items if i.kind == 'person_name')}/"
               f"{sum(i.kind == 'person_name' for i in self.items)})"]
        out += block("detected", detected)
        out += block("missed", missed)
        out.append(f"  non-PII speech lost: {self.lost_s:.1f} s of {self.speech_s:.1f} s "
                   f"({self.lost_words} of {self.speech_words} words); silence written {self.silenced_s:.1f} s "
                   f"of {self.audio_s:.1f} s of audio")
        return out


def report(version: str, split: str, calls: Sequence[BuiltCall], procs: Sequence[Processed], afters: dict[str, list[Timed]],
           pad_before: float, pad_after: float) -> VersionReport:

    items, lost_s, lost_w, words, speech_s, silenced, audio_s = [], 0.0, 0, 0, 0.0, 0.0, 0.0
    by_name = {p.call: p for p in procs}
    for call in calls:
        proc = by_name[call.name]
        intervals = silence_intervals([RedactedSpan(a, b, k, 0, t) for a, b, k, t in proc.spans], proc.duration,
                                      pad_before=pad_before, pad_after=pad_after)
        items += score_items(call, proc, intervals, afters.get(call.name, []))
        s, w, n = speech_lost(call, intervals)
        lost_s, lost_w, words = lost_s + s, lost_w + w, words + n
        speech_s += total(merge((a, b) for _, a, b, _ in call.speech))
        silenced += total(intervals)
        audio_s += proc.duration
    return VersionReport(version, split, pad_before, pad_after, items, lost_s, lost_w, words, speech_s, silenced, audio_s)


def edge_table(items: Sequence[ItemScore]) -> list[str]:
    """How far the product's spans fall short of the spoken items at each edge (the padding needed)."""
    lines = []
    for label, vals in (("start (span starts after the item)", [i.lead_s for i in items if i.lead_s is not None]),
                        ("end (item ends after the span)", [i.lag_s for i in items if i.lag_s is not None])):
        if vals:
            v = np.array(vals)
            lines.append(f"  {label}: n={len(v)} median={np.median(v):+.3f} s p90={np.percentile(v, 90):+.3f} s "
                         f"max={v.max():+.3f} s")
    return lines


# --------------------------------------------------------------------------- the whole evaluation

def _ctc_factory():

    return embedded_ctc(threads=2)


def _save(path: Path, obj) -> None:
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=1, default=lambda o: asdict(o) if hasattr(o, "__dataclass_fields__") else str(o)),
                    encoding="utf-8")


def _calls_from(path: Path) -> list[BuiltCall]:
    calls = []
    for d in json.loads(path.read_text(encoding="utf-8")):
        d["items"] = [GoldItem(**{**i, "words": tuple(tuple(w) for w in i["words"])}) for i in d["items"]]
        d["speech"] = [tuple(s) for s in d["speech"]]
        calls.append(BuiltCall(**d))
    return calls


def _intervals(spans, duration: float, pad_before: float, pad_after: float) -> list[list[float]]:
    return [[round(a, 4), round(b, 4)] for a, b in silence_intervals(
        [RedactedSpan(a, b, k, 0, t) for a, b, k, t in spans], duration, pad_before=pad_before, pad_after=pad_after)]


def refresh_spans(db_path: Path, procs: Sequence[Processed]) -> list[Processed]:
    """``procs`` with the spans that :mod:`pipeline.stages.audio_redaction` places now, read from the warehouse
    the calls were loaded into (so a change of the placing is measured without running the product again)."""
    con = db.connect(db_path, read_only=True)
    try:
        out = []
        for p in procs:
            spans = call_spans(warehouse_calls.redaction_rows(con, p.call_id))
            out.append(Processed(**{**asdict(p), "spans": [(s.start, s.end, s.kind, s.timing) for s in spans]}))
        return out
    finally:
        con.close()


def evaluate(eval_dir: Path, out: Path, settings, *, splits: Sequence[str] = ("tune", "test"), n_calls: int = 10,
             versions: Sequence[str] = ("16k", "8k"), pads: Sequence[tuple[float, float]] | None = None,
             rebuild: bool = False, progress=None) -> list[VersionReport]:
    """Build (or reuse) the calls, run the product on them, silence, transcribe again, score; every file under ``out``."""

    pads = list(pads or [(PAD_BEFORE_S, PAD_AFTER_S)])
    out.mkdir(parents=True, exist_ok=True)
    clips = None
    audio = Audio()
    models = get_models(settings)
    reports = []
    for split in splits:
        calls_dir = out / "calls" / split
        gold_file = calls_dir / "gold.json"
        if rebuild or not gold_file.is_file():
            clips = clips or load_clips(eval_dir, out / "alignments.json", _ctc_factory, progress)
            cuts = cut_table(clips, _ctc_factory, out / "cuts.json", audio, progress, splits=(split,))
            calls = build_calls(clips, split, n_calls, calls_dir / "16k", cut_table=cuts, audio=audio)
            (calls_dir / "8k").mkdir(parents=True, exist_ok=True)
            for c in calls:
                telephone_copy(calls_dir / "16k" / f"{c.name}.wav", calls_dir / "8k" / f"{c.name}.wav")
            _save(gold_file, [asdict(c) for c in calls])
            for v in versions:
                (out / "runs" / split / v / "processed.json").unlink(missing_ok=True)
        calls = _calls_from(gold_file)
        for version in versions:
            work = out / "runs" / split / version
            processed_file = work / "processed.json"
            if processed_file.is_file():
                procs = [Processed(**p) for p in json.loads(processed_file.read_text(encoding="utf-8"))]
            else:
                procs = process_calls([(c.name, calls_dir / version / f"{c.name}.wav") for c in calls], version, settings,
                                      models, work, progress)
                _save(processed_file, [asdict(p) for p in procs])
            stored = {p.call: _intervals(p.spans, p.duration, 0.0, 0.0) for p in procs}
            procs = refresh_spans(work / "warehouse.duckdb", procs)  # as the /audio code silences them now
            for pad_before, pad_after in pads:
                tag = f"pad-{pad_before:.2f}-{pad_after:.2f}"
                red_dir = work / tag
                red_dir.mkdir(parents=True, exist_ok=True)
                afters_file = red_dir / "heard_after.json"
                afters = json.loads(afters_file.read_text(encoding="utf-8")) if afters_file.is_file() else {}
                for proc in procs:
                    intervals = _intervals(proc.spans, proc.duration, pad_before, pad_after)
                    entry = afters.get(proc.call)
                    if isinstance(entry, list) and stored[proc.call] == _intervals(proc.spans, proc.duration, 0.0, 0.0):
                        afters[proc.call] = {"intervals": intervals, "words": entry}  # heard on these very intervals
                        continue
                    if isinstance(entry, dict) and entry["intervals"] == [list(i) for i in intervals]:
                        continue
                    body, _ = redacted_recording(Path(proc.path), intervals)
                    red_path = red_dir / f"{proc.call}.wav"
                    red_path.write_bytes(body)
                    afters[proc.call] = {"intervals": intervals,
                                         "words": [list(w) for w in retranscribe(red_path, settings, models)]}
                    _save(afters_file, afters)
                    if progress:
                        progress(f"{split} {version} {tag} re-transcribed {proc.call}")
                _save(afters_file, afters)
                afters = {k: [tuple(w) for w in v["words"]] for k, v in afters.items()}
                rep = report(version, split, calls, procs, afters, pad_before, pad_after)
                _save(red_dir / "items.json", [asdict(i) for i in rep.items])
                reports.append(rep)
    return reports
