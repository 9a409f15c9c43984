"""viet-asr's embedded Conformer-CTC run directly with onnxruntime: the SDK's text, plus times and probabilities.

The SDK (``libvietasr.so``) returns text only. This module reproduces what it does,
read from its exported symbols and checked against it under a debugger
(docs/asr.md, "The ONNX route"):

- **Features** (``vietasr::FeaturePipeline``, options read from its constructor:
  16 kHz, 80 bins, 25/10 ms, pre-emphasis 0.97, low 20 Hz, high −400 Hz = 7.6 kHz):
  samples at int16 scale, pre-emphasis over the whole waveform (not per frame), no DC
  removal, no dither, Povey window, 512-point power spectrum, a mel bank whose edges
  are *rounded to FFT bins* the python_speech_features way (two of the 80 filters are
  empty and give log(1e-10)), natural log floored at 1e-10. Matches the SDK's frames
  to ~1e-4 (mean absolute difference).
- **Chunks** (``VietAsrModule::RunOneChunk``): 43 frames per chunk, *not overlapping*
  (the SDK pops 43 frames per chunk), ``offset`` +10 per chunk, caches carried; the
  last partial chunk is padded with zeros and keeps ``n // 4`` output frames.
- **Decoding** (``vietasr::CtcBeamSearch``, beam 10, the best 2×10 tokens of each frame):
  CTC prefix beam search, the best prefix detokenised (``▁`` → space).

On top of that: word start/end from the Viterbi CTC alignment of the decoded tokens
on the posteriors, word probabilities from the aligned posteriors (geometric mean of
each token's best frame probability), segment confidence = mean word probability.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field

import numpy as np

SAMPLE_RATE = 16000
N_MELS = 80
FRAME_LEN = 400  # samples: 25 ms at 16 kHz
FRAME_SHIFT = 160  # samples: 10 ms
N_FFT = 512
PREEMPH = 0.97
LOW_HZ, HIGH_HZ = 20.0, -400.0  # Hz; a negative high edge is counted down from Nyquist (7.6 kHz)
LOG_FLOOR = 1e-10
CHUNK = 43  # feature frames per encoder call
CHUNK_OUT = 10  # output frames per full chunk
SUBSAMPLING = 4
BEAM = 10
FEATURE_S = FRAME_SHIFT / SAMPLE_RATE  # 0.01 s per feature frame
WORD_GAP_S = 0.25  # s: a word's end is carried to the next word's start across gaps shorter than this
BLANK = 0
ATT_CACHE = (12, 4, 40, 224)
CNN_CACHE = (12, 448, 30)
N_OUT = 4968  # CTC outputs per frame (the vocabulary's first 4,968 units)


def _mel_matrix() -> np.ndarray:
    """The SDK's mel bank (``BuildMelFilterbank``): HTK mel (1127·ln(1+f/700)), edges floored to FFT bins."""
    high = SAMPLE_RATE * 0.5 + HIGH_HZ if HIGH_HZ <= 0 else HIGH_HZ
    hz2mel = lambda f: np.float32(1127.0) * np.log(np.float32(1.0) + np.float32(f) / np.float32(700.0))  # noqa: E731
    lo, hi = hz2mel(LOW_HZ), hz2mel(high)
    mels = lo + np.arange(N_MELS + 2, dtype=np.float32) * (hi - lo) / np.float32(N_MELS + 1)
    hz = np.float32(700.0) * (np.exp(mels / np.float32(1127.0)) - np.float32(1.0))
    bins = np.clip(np.floor((N_FFT + 1) * hz / SAMPLE_RATE).astype(int), 0, N_FFT // 2)
    w = np.zeros((N_MELS, N_FFT // 2 + 1), np.float32)
    for i in range(N_MELS):
        a, b, c = bins[i], bins[i + 1], bins[i + 2]
        for k in range(a, b):
            w[i, k] = (k - a) / (b - a)
        for k in range(b, c):
            w[i, k] = (c - k) / (c - b)
    return w


_MEL = _mel_matrix()
_WINDOW = ((0.5 - 0.5 * np.cos(np.float32(2 * math.pi) * np.arange(FRAME_LEN, dtype=np.float32)
                               / np.float32(FRAME_LEN - 1))) ** np.float32(0.85)).astype(np.float32)


RESAMPLER_TAPS = 16  # the SDK's AudioResampler(8000, 16000, 16): Hann-windowed sinc, ±16 input samples
RESAMPLER_MARGIN = RESAMPLER_TAPS + 2  # input samples it holds back until Flush()


def _sinc_window(x: np.ndarray, width: float) -> np.ndarray:
    """``AudioResampler::SincWindow``: Hann(x / width) · sin(πx)/(πx), 0 outside ±width."""
    ax = np.abs(x)
    hann = 0.5 * np.cos(np.pi * x / width) + 0.5
    with np.errstate(divide="ignore", invalid="ignore"):
        sinc = np.where(ax < 1e-9, 1.0, np.sin(np.pi * x) / (np.pi * x))
    return np.where(ax >= width, 0.0, hann * sinc)


def sdk_resample(x: np.ndarray, in_rate: int, out_rate: int = SAMPLE_RATE) -> tuple[np.ndarray, int]:
    """The SDK's resampler on a whole piece: (samples at ``out_rate``, how many it gives before its Flush()).

    Output j sits at input time t = j·in/out; it is the window-normalised sum over input
    samples floor(t)−15 … floor(t)+16 that exist, in float64, stored as float32.
    """
    x = np.asarray(x, dtype=np.float64)
    ratio = in_rate / out_rate
    n_out = int(np.ceil(len(x) / ratio - 1e-9))
    t = np.arange(n_out) * ratio
    before_flush = int(np.count_nonzero(t < len(x) - RESAMPLER_MARGIN))
    out = np.empty(n_out, np.float32)
    k = np.arange(1 - RESAMPLER_TAPS, RESAMPLER_TAPS + 1)
    fl = np.floor(t)
    frac = t - fl
    # the window depends only on the fractional position: 2 distinct values for 8 -> 16 kHz
    phases, which = np.unique(frac, return_inverse=True)
    table = _sinc_window(k[None, :] - phases[:, None], float(RESAMPLER_TAPS))
    base = fl.astype(np.int64)
    inner = (base + k[0] >= 0) & (base + k[-1] < len(x))  # all taps inside the input: no edge handling
    rows = np.flatnonzero(inner)
    for a in range(0, len(rows), 16384):  # blocks keep the (outputs × 32) temporaries small
        r = rows[a : a + 16384]
        w = table[which[r]]
        out[r] = (x[base[r, None] + k[None, :]] * w).sum(axis=1) / w.sum(axis=1)
    for j in np.flatnonzero(~inner):  # the few outputs near the edges: only the taps that exist
        ii = base[j] + k
        ok = (ii >= 0) & (ii < len(x))
        wj = table[which[j]] * ok
        acc, wsum = float((x[np.clip(ii, 0, len(x) - 1)] * wj).sum()), float(wj.sum())
        out[j] = acc / wsum if wsum > 1e-9 else acc
    return out, before_flush


def features(samples16: np.ndarray, *, int16_scale: bool = False) -> np.ndarray:
    """(T, 80) log-mel frames of 16 kHz samples, as the SDK computes them.

    ``samples16``: floats in −1..1 (rounded to int16 as the SDK receives them), or, with
    ``int16_scale``, floats already at int16 scale (int16 input, the resampler's output).
    """
    if int16_scale:
        x = np.asarray(samples16, dtype=np.float32)
    else:
        x = (np.clip(np.asarray(samples16, dtype=np.float32), -1.0, 1.0) * 32767).astype(np.int16).astype(np.float32)
    if len(x) < FRAME_LEN:
        return np.zeros((0, N_MELS), np.float32)
    y = np.empty_like(x)
    y[0] = x[0]
    y[1:] = x[1:] - np.float32(PREEMPH) * x[:-1]
    n = 1 + (len(y) - FRAME_LEN) // FRAME_SHIFT
    frames = np.lib.stride_tricks.as_strided(y, shape=(n, FRAME_LEN), strides=(y.strides[0] * FRAME_SHIFT, y.strides[0]))
    spec = np.fft.rfft(frames * _WINDOW, N_FFT)
    power = (spec.real**2 + spec.imag**2).astype(np.float32)
    return np.log(np.maximum(power @ _MEL.T, np.float32(LOG_FLOOR))).astype(np.float32)


def _log_add(a: float, b: float) -> float:
    if a == -math.inf:
        return b
    if b == -math.inf:
        return a
    m = a if a > b else b
    return m + math.log1p(math.exp(-abs(a - b)))


def prefix_beam_search(logp: np.ndarray, beam: int = BEAM) -> list[int]:
    """CTC prefix beam search over (F, V) log-probabilities: the best token sequence (no blanks)."""
    hyps: dict[tuple, tuple[float, float]] = {(): (0.0, -math.inf)}
    k = min(2 * beam, logp.shape[1])
    for t in range(logp.shape[0]):
        row = logp[t]
        top = np.argpartition(row, -k)[-k:]
        nxt: dict[tuple, list[float]] = {}
        for s in top.tolist():
            ps = float(row[s])
            for prefix, (pb, pnb) in hyps.items():
                if s == BLANK:
                    cur = nxt.setdefault(prefix, [-math.inf, -math.inf])
                    cur[0] = _log_add(cur[0], _log_add(pb + ps, pnb + ps))
                    continue
                last = prefix[-1] if prefix else None
                ext = prefix + (s,)
                if s == last:
                    cur = nxt.setdefault(prefix, [-math.inf, -math.inf])
                    cur[1] = _log_add(cur[1], pnb + ps)
                    e = nxt.setdefault(ext, [-math.inf, -math.inf])
                    e[1] = _log_add(e[1], pb + ps)
                else:
                    e = nxt.setdefault(ext, [-math.inf, -math.inf])
                    e[1] = _log_add(e[1], _log_add(pb + ps, pnb + ps))
        ranked = sorted(nxt.items(), key=lambda kv: _log_add(kv[1][0], kv[1][1]), reverse=True)[:beam]
        hyps = {p: (v[0], v[1]) for p, v in ranked}
    best = max(hyps.items(), key=lambda kv: _log_add(kv[1][0], kv[1][1]))[0]
    return list(best)


def ctc_align(logp: np.ndarray, tokens: list[int]) -> list[tuple[int, int]]:
    """Viterbi CTC alignment of ``tokens`` on (F, V) log-probabilities: (first, last) frame of each token."""
    n, f = len(tokens), logp.shape[0]
    if n == 0 or f == 0:
        return []
    ext = [BLANK]
    for t in tokens:
        ext += [t, BLANK]
    s = len(ext)
    ext_arr = np.array(ext)
    emit = logp[:, ext_arr]  # (F, S)
    neg = -1e30
    score = np.full(s, neg)
    score[0] = emit[0, 0]
    if s > 1:
        score[1] = emit[0, 1]
    back = np.zeros((f, s), np.int8)  # 0 stay, 1 from s-1, 2 from s-2
    skip_ok = np.zeros(s, bool)
    for i in range(2, s):
        skip_ok[i] = ext[i] != BLANK and ext[i] != ext[i - 2]
    for t in range(1, f):
        stay = score
        prev1 = np.concatenate(([neg], score[:-1]))
        prev2 = np.where(skip_ok, np.concatenate(([neg, neg], score[:-2])), neg)
        cand = np.stack([stay, prev1, prev2])
        arg = cand.argmax(0)
        score = cand[arg, np.arange(s)] + emit[t]
        back[t] = arg
    end = s - 1 if s == 1 or score[s - 1] >= score[s - 2] else s - 2
    path = np.empty(f, int)
    j = end
    for t in range(f - 1, -1, -1):
        path[t] = j
        j -= int(back[t, j])
    spans: list[list[int]] = [[-1, -1] for _ in tokens]
    for t, j in enumerate(path):
        if j % 2 == 1:
            k = j // 2
            if spans[k][0] < 0:
                spans[k][0] = t
            spans[k][1] = t
    for k, sp in enumerate(spans):  # a token the path skipped (cannot happen for a valid path): borrow a neighbour
        if sp[0] < 0:
            sp[0] = sp[1] = spans[k - 1][1] if k else 0
    return [(a, b) for a, b in spans]


@dataclass
class CtcWord:
    text: str
    start: float  # s from the start of the piece
    end: float
    probability: float


@dataclass
class CtcResult:
    text: str
    words: list[CtcWord] = field(default_factory=list)
    confidence: float = 0.0
    frames: int = 0


def frame_start(i: int) -> float:
    """Start in s of output frame ``i``: chunks of 43 feature frames give 10 outputs each, 4 feature frames apart."""
    return (CHUNK * (i // CHUNK_OUT) + SUBSAMPLING * (i % CHUNK_OUT)) * FEATURE_S


def frame_end(i: int) -> float:
    """End in s of output frame ``i`` (its 4 feature frames plus the 25 ms window of the last)."""
    return frame_start(i) + SUBSAMPLING * FEATURE_S + (FRAME_LEN - FRAME_SHIFT) / SAMPLE_RATE


def words_from_alignment(logp: np.ndarray, tokens: list[int], vocab: dict[int, str]) -> list[CtcWord]:
    """Words (tokens from one ``▁`` to the next) with times from the CTC alignment and posterior probabilities.

    A CTC model emits each token as a spike of one or two frames, usually near the
    token's start: a word starts at its first token's first aligned frame and ends at
    its last token's last aligned frame, carried on to the next word's start when the
    gap is shorter than WORD_GAP_S (within fluent speech the spikes say little about ends).
    """
    spans = ctc_align(logp, tokens)
    words: list[CtcWord] = []
    cur_text, cur_lp, cur_start, cur_end = "", [], 0, 0
    for tok, (a, b) in zip(tokens, spans):
        piece = vocab.get(tok, "")
        lp = float(logp[a : b + 1, tok].max())
        if piece.startswith("\u2581") and cur_text:
            words.append(CtcWord(cur_text, frame_start(cur_start), frame_end(cur_end), math.exp(sum(cur_lp) / len(cur_lp))))
            cur_text, cur_lp = "", []
        if not cur_text:
            cur_start = a
        cur_text += piece.replace("\u2581", "")
        cur_lp.append(lp)
        cur_end = b
    if cur_text:
        words.append(CtcWord(cur_text, frame_start(cur_start), frame_end(cur_end), math.exp(sum(cur_lp) / len(cur_lp))))
    words = [w for w in words if w.text]
    for w, nxt in zip(words, words[1:]):
        if 0 < nxt.start - w.end < WORD_GAP_S:
            w.end = nxt.start
        w.end = min(w.end, max(nxt.start, w.start + FEATURE_S))
    return words


class VietAsrCtc:
    """The embedded graph in onnxruntime; ``decode`` gives the SDK's text with word times and probabilities."""

    def __init__(self, library: bytes, graph_at: int, graph_bytes: int, *, threads: int = 2):
        """The graph at ``library[graph_at : graph_at + graph_bytes]`` and the vocabulary the library holds
        (``models.viet_asr.embedded_ctc`` finds and checks them). Raises ``ValueError`` without a vocabulary."""
        import onnxruntime as ort

        lib, at = library, graph_at
        so = ort.SessionOptions()
        so.intra_op_num_threads = max(1, int(threads))
        so.inter_op_num_threads = 1
        self.session = ort.InferenceSession(lib[at : at + graph_bytes], so, providers=["CPUExecutionProvider"])
        i, j = lib.find(b"<blank> 0\n"), lib.find(b"! 4971\n")
        if i < 0 or j < 0:
            raise ValueError("vocabulary not found in libvietasr.so")
        self.vocab = {int(n): t for t, n in (ln.rsplit(" ", 1) for ln in lib[i : j + 7].decode().splitlines())}
        self.lock = threading.Lock()

    def posteriors(self, feats_list: list[np.ndarray]) -> list[np.ndarray]:
        """(F, V) CTC log-probabilities of each feature matrix; pieces are run as one batch, chunk by chunk."""
        b = len(feats_list)
        if b == 0:
            return []
        n_chunks = [max(1, -(-len(f) // CHUNK)) for f in feats_list]
        outs: list[list[np.ndarray]] = [[] for _ in feats_list]
        att = np.zeros((b, *ATT_CACHE), np.float32)
        cnn = np.zeros((b, *CNN_CACHE), np.float32)
        active = list(range(b))
        c = 0
        while active:
            chunk = np.zeros((len(active), CHUNK, N_MELS), np.float32)
            keep = []
            for r, k in enumerate(active):
                part = feats_list[k][c * CHUNK : (c + 1) * CHUNK]
                chunk[r, : len(part)] = part
                keep.append(CHUNK_OUT if len(part) == CHUNK else len(part) // SUBSAMPLING)
            offset = np.full((len(active), 1), c * CHUNK_OUT, np.int64)
            with self.lock:
                out, att, cnn = self.session.run(None, {"chunk": chunk, "offset": offset, "att_cache": att, "cnn_cache": cnn})
            for r, k in enumerate(active):
                outs[k].append(out[r, : keep[r]])
            c += 1
            still = [r for r, k in enumerate(active) if c < n_chunks[k]]
            active = [active[r] for r in still]
            att, cnn = att[still], cnn[still]
        return [np.concatenate(o) if o else np.zeros((0, N_OUT), np.float32) for o in outs]

    def decode_logp(self, logp: np.ndarray) -> CtcResult:
        tokens = prefix_beam_search(logp) if len(logp) else []
        text = "".join(self.vocab.get(t, "") for t in tokens).replace("\u2581", " ")
        text = " ".join(text.split())
        words = words_from_alignment(logp, tokens, self.vocab) if tokens else []
        conf = float(np.mean([w.probability for w in words])) if words else 0.0
        return CtcResult(text=text, words=words, confidence=conf, frames=len(logp))

    def features(self, samples_int16: np.ndarray, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
        """Log-mel frames of int16 samples at ``sample_rate``; other rates go through the SDK's resampler."""
        if sample_rate == SAMPLE_RATE:
            return features(np.asarray(samples_int16, dtype=np.float32), int16_scale=True)
        # the SDK hands its feature pipeline the resampler's output in two parts (before and
        # after Flush()); the frames come out as from one buffer (checked: restarting the
        # pre-emphasis at the second part made them differ, not agree)
        y, _ = sdk_resample(np.asarray(samples_int16, dtype=np.float32), sample_rate)
        return features(y, int16_scale=True)

    def decode(self, pieces: list[tuple[np.ndarray, int]], batch: int = 8) -> list[CtcResult]:
        """Decode (int16 samples, rate) pieces, each ≤ 15 s; ``batch`` pieces share one encoder call per chunk."""
        results: list[CtcResult] = []
        for i in range(0, len(pieces), max(1, batch)):
            feats = [self.features(x, rate) for x, rate in pieces[i : i + batch]]
            for logp in self.posteriors(feats):
                results.append(self.decode_logp(logp))
        return results
