"""viet-asr (PyPI ``viet-asr==0.1.0.dev11``, import ``vietasr``) behind the ASR protocol.

The package embeds a 66 MiB int8 ONNX streaming Conformer with a CTC head in its
shared library and runs offline. Its SDK is used only the way that was measured to
work (../shared/STACK.md, docs/asr.md):

- it is never handed more than :data:`MAX_PIECE_S` seconds: one ``transcribe()`` on
  more than ~30 s silently drops text and past ~200 s it raises. Speech from the
  Silero VAD is grouped into pieces ≤ 15 s cut in pauses; a stretch of speech longer
  than that is cut at its quietest 100 ms;
- 8 kHz telephone audio is fed at 8 kHz (its native rate) — measured better than the
  16 kHz upsampled copy (docs/asr.md);
- **route "onnx" (default)**: the SDK's embedded graph is run directly
  (:mod:`models.vietasr_ctc`: the SDK's features, chunking and beam search, read from
  its library), which gives word times from the CTC alignment and word/segment
  probabilities from the posteriors (``Capabilities`` "model"). Its text equals the
  SDK's on most clips; where not, it differs in near-tied syllables (docs/asr.md).
- **route "sdk"** (``viet-asr-sdk``): the SDK writes text only. Word times are then
  **approximate** (each piece's text spread over that piece's speech in proportion to
  syllable length) and so is the segment confidence (a proxy from the speaking rate,
  see :func:`rate_confidence`); the schema and docs name them as such.
- it knows Vietnamese only: language ID borrows Whisper base's (loaded lazily, only
  when a call is checked).
"""

from __future__ import annotations

import atexit
import hashlib
import importlib.metadata
import logging
import re
import threading
import weakref
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from models.asr import load_asr
from models.recognizer import SAMPLE_RATE, Capabilities, silero_speech, spread_words
from models.vietasr_ctc import VietAsrCtc
from pipeline.errors import ModelUnavailable
from pipeline.records import Segment, Word

log = logging.getLogger(__name__)

# The SDK frees its native pipeline in __del__, which at interpreter shutdown runs after
# cffi's module state is gone and prints a TypeError traceback per instance. Close every
# open pipeline at exit instead, while the library is still whole.
_OPEN_PIPELINES: "weakref.WeakSet" = weakref.WeakSet()


@atexit.register
def _close_pipelines() -> None:
    for pipeline in list(_OPEN_PIPELINES):
        try:
            pipeline.close()
        except Exception:  # nothing to do at exit: the process is ending anyway
            pass

NAME = "viet-asr"
PACKAGE_VERSION = "0.1.0.dev11"
# SHA-256 the author publishes for model.onnx; the bytes embedded in libvietasr.so hash to it.
MODEL_SHA256 = "b34e699e5557f87741c6fca80246267268922c9d57045602da6fdf77039f0057"
MODEL_BYTES = 69_420_285  # size of the embedded graph the library reports loading
MAX_PIECE_S = 15.0  # s: longest audio handed to the SDK at once
PIECE_GAP_S = 0.3  # s of each pause kept on either side of a piece
TARGET_DBFS = -20.0  # quiet pieces are raised to about this RMS level (quiet clips came back empty)
# Plausible Vietnamese speaking rates, syllables per second of VAD speech: outside them
# text was dropped (too slow) or invented (too fast). Used by rate_confidence.
RATE_LOW, RATE_HIGH = 2.0, 7.0


def rate_confidence(n_words: int, speech_s: float) -> float:
    """Approximate confidence 0..1 of a piece from its syllable rate over ``speech_s`` s of speech.

    1.0 inside [RATE_LOW, RATE_HIGH] syllables/s, falling linearly to 0 at no text and
    at twice RATE_HIGH. Not a model probability: the SDK gives none.
    """
    if speech_s <= 0:
        return 0.0
    rate = n_words / speech_s
    if rate < RATE_LOW:
        return float(max(0.0, rate / RATE_LOW))
    if rate > RATE_HIGH:
        return float(max(0.0, 1.0 - (rate - RATE_HIGH) / RATE_HIGH))
    return 1.0


def group_pieces(speech: Sequence[tuple[float, float]], duration_s: float, max_s: float = MAX_PIECE_S,
                 samples: np.ndarray | None = None) -> list[tuple[float, float, list[tuple[float, float]]]]:
    """Group speech stretches into pieces ≤ ``max_s`` s: (start, end, stretches inside) in s.

    Pieces start and end in pauses (up to PIECE_GAP_S of silence kept each side). A
    single stretch longer than ``max_s`` is cut at its quietest 100 ms frame (by RMS
    of ``samples`` when given, else evenly) so no piece ever exceeds ``max_s``.
    """
    stretches: list[tuple[float, float]] = []
    for a, b in sorted(speech):
        a, b = max(0.0, a), min(duration_s, b)
        if b <= a:
            continue
        stack = [(a, b)]
        while stack:  # split overlong stretches
            a, b = stack.pop(0)
            if b - a <= max_s - 2 * 0.05:
                stretches.append((a, b))
                continue
            cut = _quietest(samples, a, b, max_s)
            stack[:0] = [(a, cut), (cut, b)]
    pieces: list[tuple[float, float, list]] = []
    for a, b in stretches:
        if pieces and b - pieces[-1][0] <= max_s - 2 * 0.05:
            pieces[-1][2].append((a, b))
            pieces[-1] = (pieces[-1][0], b, pieces[-1][2])
        else:
            pieces.append((a, b, [(a, b)]))
    out = []
    for i, (a, b, inner) in enumerate(pieces):
        prev_end = pieces[i - 1][1] if i else 0.0
        next_start = pieces[i + 1][0] if i + 1 < len(pieces) else duration_s
        room = max(0.0, (max_s - (b - a)) / 2)
        start = max(prev_end, a - min(PIECE_GAP_S, room), (a + prev_end) / 2 if i else 0.0)
        end = min(next_start, b + min(PIECE_GAP_S, room), (b + next_start) / 2 if i + 1 < len(pieces) else duration_s)
        out.append((max(0.0, start), min(duration_s, end), inner))
    return out


def _quietest(samples: np.ndarray | None, a: float, b: float, max_s: float) -> float:
    """A cut time in (a, b) leaving the first part ≤ max_s: the quietest 100 ms frame in its second half."""
    lo, hi = a + min(max_s, b - a) * 0.5, a + min(max_s - 0.2, b - a - 0.1)
    if samples is None or hi <= lo:
        return (lo + hi) / 2 if hi > lo else a + (b - a) / 2
    frame = SAMPLE_RATE // 10
    i0, i1 = int(lo * SAMPLE_RATE), int(hi * SAMPLE_RATE)
    seg = np.asarray(samples[i0:i1], dtype=np.float32)
    n = len(seg) // frame
    if n < 1:
        return (lo + hi) / 2
    rms = np.sqrt((seg[: n * frame].reshape(n, frame) ** 2).mean(axis=1))
    return lo + (int(np.argmin(rms)) + 0.5) * frame / SAMPLE_RATE


def _to_int16(samples: np.ndarray) -> np.ndarray:
    x = np.asarray(samples, dtype=np.float32)
    rms = float(np.sqrt(np.mean(x**2))) if len(x) else 0.0
    target = 10 ** (TARGET_DBFS / 20)
    if 1e-5 < rms < target:  # raise quiet audio, never lower loud audio
        x = x * min(target / rms, 1.0 / max(1e-6, float(np.abs(x).max())))
    return (np.clip(x, -1.0, 1.0) * 32767).astype(np.int16)


def model_fingerprint() -> str:
    """Fingerprint of the weights: the published SHA-256 of the embedded graph, with the package version."""
    return f"sha256:{MODEL_SHA256[:16]}@{PACKAGE_VERSION}"


def library_path() -> Path:
    import vietasr

    return Path(vietasr.__file__).parent / "_native" / "libvietasr.so"


def find_embedded_model(path: Path | None = None) -> tuple[int, str] | None:
    """(offset, SHA-256) of the ONNX graph inside the shared library, or None when no graph header is found.

    An ONNX ``ModelProto`` starts with field 1 (``ir_version``, varint) and field 2
    (``producer_name``, a short string): the candidates are found by that header and
    the first whose ``MODEL_BYTES`` bytes hash to the published value wins.
    """
    data = (path or library_path()).read_bytes()
    first = None
    for m in re.finditer(rb"\x08[\x03-\x0c]\x12[\x01-\x20](?:pytorch|tf2onnx|onnx|skl2onnx|onnxruntime)", data):
        at = m.start()
        if at + MODEL_BYTES > len(data):
            continue
        digest = hashlib.sha256(data[at : at + MODEL_BYTES]).hexdigest()
        if digest == MODEL_SHA256:
            return at, digest
        first = first or (at, digest)
    return first


def verify_embedded_model(path: Path | None = None) -> bool:
    """True when the library embeds the graph whose SHA-256 the author publishes for model.onnx."""
    found = find_embedded_model(path)
    return bool(found) and found[1] == MODEL_SHA256


def embedded_ctc(*, threads: int = 2) -> VietAsrCtc:
    """The library's embedded graph in onnxruntime. Raises ``ValueError`` when it is not the published one."""
    found = find_embedded_model()
    if not found or found[1] != MODEL_SHA256:
        raise ValueError("libvietasr.so does not embed the graph with the published SHA-256")
    return VietAsrCtc(library_path().read_bytes(), found[0], MODEL_BYTES, threads=threads)


SDK_CAPABILITIES = Capabilities(word_times="approximate", confidence="approximate", languages=("vi",),
                                punctuation=False, digits=False, max_input_s=MAX_PIECE_S, min_coverage=0.95)
ONNX_CAPABILITIES = Capabilities(word_times="model", confidence="model", languages=("vi",),
                                 punctuation=False, digits=False, max_input_s=MAX_PIECE_S, min_coverage=0.95)
ONNX_BATCH = 8  # pieces per encoder call on the ONNX route: half the CPU of one at a time (int8 rounding then depends on the batch, docs/asr.md)


class VietASR:
    """viet-asr's embedded Conformer-CTC behind :class:`models.recognizer.Recognizer`."""

    name = NAME
    route = "sdk"  # "onnx": graph run directly (times, probabilities); "sdk": the SDK's text only
    capabilities = SDK_CAPABILITIES

    def __init__(self, *, feed_native_8k: bool = True, language_id=None, cache_dir: Path | None = None,
                 route: str = "onnx", batch: int = ONNX_BATCH, threads: int = 2):
        try:
            import vietasr
            from vietasr.ffi import native
        except ImportError as exc:
            raise ModelUnavailable(f"viet-asr is not installed ({exc}): `pip install viet-asr=={PACKAGE_VERSION}` "
                                   "or `make setup`") from exc
        try:
            installed = importlib.metadata.version("viet-asr")
        except importlib.metadata.PackageNotFoundError:
            installed = "?"
        if installed != PACKAGE_VERSION:
            log.warning("viet-asr %s is installed; %s was measured (docs/asr.md)", installed, PACKAGE_VERSION)
        self.version = installed
        self._sdk_module = vietasr  # the SDK's pipeline is built from it on first need (_build_pipeline)
        try:
            native.lib.vietasr_set_log_level(3)  # warnings and errors only: it logs INFO lines on stderr at every load
        except Exception:  # pragma: no cover - older builds
            pass
        self._pipeline = None
        if route == "sdk":
            self._build_pipeline()
        self.feed_native_8k = feed_native_8k
        self._language_id = language_id
        self._cache_dir = cache_dir
        self.lock = threading.Lock()
        if route not in ("onnx", "sdk"):
            raise ValueError(f"viet-asr route {route!r}: 'onnx' or 'sdk'")
        self.route, self.batch, self.threads = route, max(1, int(batch)), threads
        self.capabilities = ONNX_CAPABILITIES if route == "onnx" else SDK_CAPABILITIES
        self._ctc = None
        if route == "onnx":
            self._ctc_model()  # fail at load time, not mid-call

    def _build_pipeline(self):
        """The SDK's pipeline (~0.2 GB): at load on the SDK route, on first use (``bare``) on the ONNX route."""
        if self._pipeline is None:
            try:
                self._pipeline = self._sdk_module.Pipeline.new().add("vietasr").build()
            except Exception as exc:
                raise ModelUnavailable(f"cannot build the viet-asr pipeline: {exc}") from exc
            _OPEN_PIPELINES.add(self._pipeline)
        return self._pipeline

    @property
    def pipeline(self):
        return self._build_pipeline()

    def _ctc_model(self):
        if self._ctc is None:
            try:
                self._ctc = embedded_ctc(threads=self.threads)
            except Exception as exc:
                raise ModelUnavailable(f"cannot run viet-asr's embedded graph with onnxruntime: {exc}; "
                                       "HOTLINE_ASR_MODEL=viet-asr-sdk uses the SDK alone") from exc
        return self._ctc

    @property
    def fingerprint(self) -> str:
        return model_fingerprint() + ("/8k" if self.feed_native_8k else "/16k") + ("/onnx" if self.route == "onnx" else "")

    def find_speech(self, samples: np.ndarray, vad_parameters: dict) -> list[tuple[float, float]]:
        return silero_speech(samples, vad_parameters)

    def language_probabilities(self, samples: np.ndarray) -> dict[str, float]:
        """Whisper base's language ID (viet-asr has none): loaded on first use."""
        if self._language_id is None:
            if self._cache_dir is None:
                raise ModelUnavailable("viet-asr: language ID needs Whisper base; give the adapter a cache_dir "
                                       "(load_recognizer passes the settings' model cache)")
            self._language_id = load_asr("base", cache_dir=self._cache_dir, device="cpu",
                                         compute_type="int8", cpu_threads=self.threads)
        return self._language_id.language_probabilities(samples)

    def _prepare(self, samples16: np.ndarray, source_rate: int) -> tuple[np.ndarray, int]:
        """One piece (≤ MAX_PIECE_S s) of 16 kHz samples as the SDK is fed it: int16, at 8 kHz when the source was."""
        if len(samples16) > MAX_PIECE_S * SAMPLE_RATE + 1:
            raise ValueError(f"piece of {len(samples16) / SAMPLE_RATE:.1f} s is longer than {MAX_PIECE_S} s")
        rate = SAMPLE_RATE
        x = samples16
        if self.feed_native_8k and source_rate and source_rate <= 8000:
            from scipy.signal import resample_poly

            x, rate = resample_poly(np.asarray(samples16, dtype=np.float32), 1, 2), 8000
        return _to_int16(x), rate

    def _sdk(self, samples16: np.ndarray, source_rate: int) -> str:
        """The SDK on one piece (≤ MAX_PIECE_S s) of 16 kHz samples; at 8 kHz when the source was."""
        x, rate = self._prepare(samples16, source_rate)
        with self.lock:
            result = self.pipeline.transcribe(x, sample_rate=float(rate))
        return " ".join(result.text.split())

    def recognize(self, samples: np.ndarray, options, *, language: str = "vi",
                  speech: Sequence[tuple[float, float]] | None = None, source_rate: int = SAMPLE_RATE) -> list[Segment]:
        """One segment per VAD piece (≤ 15 s, cut in pauses), times relative to ``samples``.

        ``language`` other than Vietnamese cannot be honoured: the text is still Vietnamese
        (the call keeps its ``not_vietnamese`` flag).
        """
        samples = np.asarray(samples, dtype=np.float32)
        duration = len(samples) / SAMPLE_RATE
        if speech is None:
            speech = self.find_speech(samples, options.vad_parameters()) if options.vad_filter else [(0.0, duration)]
        pieces = group_pieces(speech, duration, MAX_PIECE_S, samples)
        if self.route == "onnx":
            return self._recognize_onnx(samples, pieces, source_rate)
        out = []
        for start, end, inner in pieces:
            piece = samples[int(start * SAMPLE_RATE) : int(end * SAMPLE_RATE)]
            text = self._sdk(piece, source_rate)
            if not text:
                continue
            speech_s = sum(b - a for a, b in inner)
            confidence = rate_confidence(len(text.split()), speech_s)
            seg_start, seg_end = inner[0][0], inner[-1][1]
            out.append(Segment(start=seg_start, end=seg_end, text=text,
                               words=spread_words(text, seg_start, seg_end, confidence, inner), confidence=confidence))
        return out

    def _recognize_onnx(self, samples: np.ndarray, pieces, source_rate: int) -> list[Segment]:
        """The ONNX route: one segment per piece, words with CTC-aligned times and posterior probabilities."""
        inputs = [self._prepare(samples[int(a * SAMPLE_RATE) : int(b * SAMPLE_RATE)], source_rate) for a, b, _ in pieces]
        results = self._ctc_model().decode(inputs, batch=self.batch)
        out = []
        for (start, end, inner), res in zip(pieces, results):
            if not res.text or not res.words:
                continue
            words = tuple(Word(start=round(start + w.start, 3), end=round(min(end, start + w.end), 3), text=w.text,
                               probability=float(w.probability)) for w in res.words)
            seg_start = min(inner[0][0], words[0].start)
            seg_end = max(inner[-1][1], words[-1].end)
            out.append(Segment(start=seg_start, end=seg_end, text=res.text, words=words, confidence=res.confidence,
                               avg_logprob=float(np.log(max(res.confidence, 1e-6)))))
        return out

    def bare(self, samples: np.ndarray, options, *, source_rate: int = SAMPLE_RATE) -> None:
        """The SDK alone on the same VAD pieces at the same rate (VAD included, no language ID, no clean-up).

        On the ONNX route too: ``asr_over_bare`` then says what the direct route costs against the bare SDK.
        """
        samples = np.asarray(samples, dtype=np.float32)
        duration = len(samples) / SAMPLE_RATE
        speech = self.find_speech(samples, options.vad_parameters())
        for start, end, _ in group_pieces(speech, duration, MAX_PIECE_S, samples):
            self._sdk(samples[int(start * SAMPLE_RATE) : int(end * SAMPLE_RATE)], source_rate)


_LOADED: dict[tuple, VietASR] = {}
_LOAD_LOCK = threading.Lock()


def load_viet_asr(*, feed_native_8k: bool = True, cache_dir: Path | None = None, route: str = "onnx",
                  threads: int = 2) -> VietASR:
    key = (feed_native_8k, str(cache_dir), route, threads)
    with _LOAD_LOCK:
        if key not in _LOADED:
            _LOADED[key] = VietASR(feed_native_8k=feed_native_8k, cache_dir=cache_dir, route=route, threads=threads)
        return _LOADED[key]
