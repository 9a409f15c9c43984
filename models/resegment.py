"""A second look at a diarization's turns: their timing, their speaker, their edges.

Three passes run after pyannote (``PyannoteDiarizer.diarize_voices``), each measured on
every diarization set (docs/diarization.md):

- :func:`shift_turns`: pyannote's turns come out ~40 ms early at both edges (median onset
  40 ms, offset 30 ms before the reference on the real-voice set; the set's audio starts
  and stops exactly at the reference edges, so this is not a reference artefact); moving
  them 40 ms later lowered DER on all five sets.
- :func:`relabel_turns`: every turn re-judged by voice models trained on the call itself
  (below).
- :func:`trim_quiet_edges`: a turn does not begin or end in frames as quiet as the call's
  pauses.

Relabelling: pyannote's clustering decides each 10 s chunk's speakers from CAM++ embeddings; on
telephone-band audio CAM++ (trained on 16 kHz speech) separates some voices poorly and
whole turns land on the wrong speaker (the real-voice set's 8 kHz copies: confusion
0.025 of the speech, in 4 of 9 calls). This pass is the classic GMM resegmentation of
telephone diarization, at turn level: one small Gaussian mixture per speaker on MFCCs of
the telephone band (300–3400 Hz, so both sample rates look alike) from the frames
where that speaker speaks alone, away from turn edges; a turn whose frames the other
speaker's model explains better by more than ``margin`` nats a frame on average goes to
that speaker; the models are re-trained on the new labels and the turns judged again
(``iterations`` times, or until nothing changes). Frames within 0.1 s of a turn's edges
neither train nor judge (they straddle pause and voice), and one frame's vote is clipped
to 10 nats. Then a turn whose head or tail (at least 0.5 s) the other voice wins by more
than ``split_gain`` nats in all (and ``margin`` a frame) is cut in two there: pyannote
merges two voices that follow each other without a pause at 8 kHz.
"""

from __future__ import annotations

import threading
import warnings
from dataclasses import replace
from typing import Sequence

import numpy as np

from pipeline import intervals
from pipeline.records import SAMPLE_RATE, SpeakerTurn

FPS = 100  # feature frames per second (10 ms hop)
_EDGE_FRAMES = 10  # frames (0.1 s) next to a turn edge straddle pause and voice: neither trained on nor judged
_MAX_FRAME_NATS = 10.0  # one frame's vote is clipped to this (an odd frame must not decide a turn)
_MIN_TRAIN_FRAMES = 200  # a speaker with under 2 s of clean frames: no models, turns kept
_MAX_TRAIN_FRAMES = 3000  # per speaker: longer calls train on every k-th frame (speed)
_MIN_TURN_FRAMES = 20  # turns with under 0.2 s of clean frames are not re-judged
_MIN_PIECE_FRAMES = 50  # a split leaves at least 0.5 s on each side
_MFCC_CHUNK_S = 300  # s; features computed 5 min at a time (a 25-min call's STFT at once took ~0.6 GB)
_fit_lock = threading.Lock()  # threadpool_limits is process-wide: one limited section at a time


def telephone_band_mfcc(samples: np.ndarray) -> np.ndarray:
    """(frames, 38): 19 MFCCs (c0 dropped: loudness is not a voice) of 40 mel bands over
    300–3400 Hz plus their deltas, standardised over the call; 25 ms windows, 10 ms hop,
    one frame per 10 ms of audio."""
    import librosa

    hop = SAMPLE_RATE // FPS
    samples = np.asarray(samples, dtype=np.float32)
    step = _MFCC_CHUNK_S * SAMPLE_RATE
    pieces = []
    for at in range(0, max(len(samples), 1), step):
        chunk = samples[at: at + step]
        mfcc = librosa.feature.mfcc(y=chunk, sr=SAMPLE_RATE, n_mfcc=20, n_fft=512, hop_length=hop, win_length=400,
                                    n_mels=40, fmin=300.0, fmax=3400.0)[1:]
        pieces.append(mfcc[:, : -(-len(chunk) // hop)])
    mfcc = np.hstack(pieces)
    feats = np.vstack([mfcc, librosa.feature.delta(mfcc)])
    feats = (feats - feats.mean(axis=1, keepdims=True)) / (feats.std(axis=1, keepdims=True) + 1e-8)
    return feats.T


def warm_up() -> None:
    """Pay the one-off costs now (librosa's first MFCC ~1.3 s, scikit-learn's import
    ~0.3 s): the diarizer calls it when it loads, so the first call is not slower."""
    from sklearn.mixture import GaussianMixture  # noqa: F401

    telephone_band_mfcc(np.zeros(SAMPLE_RATE, np.float32))


def _frames(turn: SpeakerTurn, n: int) -> slice:
    return slice(min(n, int(round(turn.start * FPS))), min(n, int(round(turn.end * FPS))))


def _merge(turns: Sequence[SpeakerTurn]) -> tuple[SpeakerTurn, ...]:
    """Same-speaker turns that overlap or touch become one."""
    out = [SpeakerTurn(start=a, end=b, speaker=speaker) for speaker in {t.speaker for t in turns}
           for a, b in intervals.merge((t.start, t.end) for t in turns if t.speaker == speaker)]
    return tuple(sorted(out, key=lambda t: (t.start, t.end, t.speaker)))


def _clean_frames(turns: Sequence[SpeakerTurn], labels: list[int], n: int) -> list[np.ndarray]:
    """Per turn, the indices of its frames where its speaker speaks alone, at least
    ``_EDGE_FRAMES`` from its edges: what the models train on and what judges it."""
    active = np.zeros((2, n), bool)
    for t, k in zip(turns, labels):
        active[k, _frames(t, n)] = True
    alone = active.sum(axis=0) == 1
    out = []
    for t in turns:
        s = _frames(t, n)
        inner = np.arange(s.start + _EDGE_FRAMES, s.stop - _EDGE_FRAMES)
        out.append(inner[alone[inner]] if len(inner) else inner)
    return out


def _votes(feats: np.ndarray, turns, labels: list[int], clean: list[np.ndarray], components: int) -> np.ndarray | None:
    """(frames, ) clipped log-likelihood ratio speaker 1 over speaker 0 under mixtures
    trained on each speaker's clean frames, or None when a speaker has too few."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture

    scores = np.zeros((len(feats), 2))
    for k in range(2):
        rows = np.concatenate([c for c, label in zip(clean, labels) if label == k] or [np.zeros(0, int)])
        if len(rows) < _MIN_TRAIN_FRAMES:
            return None
        rows = np.sort(rows)[:: -(-len(rows) // _MAX_TRAIN_FRAMES)]  # evenly thinned: 10 ms frames are near-copies
        gmm = GaussianMixture(components, covariance_type="diag", reg_covar=1e-3, max_iter=50, random_state=0,
                              init_params="kmeans")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # 50 EM rounds are plenty to compare two voices
            gmm.fit(feats[rows])
        scores[:, k] = gmm.score_samples(feats)
    return np.clip(scores[:, 1] - scores[:, 0], -_MAX_FRAME_NATS, _MAX_FRAME_NATS)


def relabel_turns(samples: np.ndarray, turns: Sequence[SpeakerTurn], *, components: int = 8, iterations: int = 3,
                  margin: float = 0.3, split_gain: float = 200.0,
                  features: np.ndarray | None = None) -> tuple[SpeakerTurn, ...]:
    """``turns`` of a 16 kHz mono call (finite samples) with each turn's speaker re-judged
    and turns holding both voices split (see the module docstring). ``margin``: nats a
    frame by which the other voice must win a turn; ``split_gain``: nats in all by which
    it must win a head or tail to split it there (0: never); ``iterations``: rounds of
    train and re-judge at most. Calls with other than two speakers, or a speaker with
    under 2 s of clean speech, come back unchanged (sorted); flips that would leave a
    speaker so are undone. ``features``: precomputed :func:`telephone_band_mfcc` frames.
    The defaults are :class:`models.diarization.DiarizationOptions`'s."""
    turns = sorted(turns, key=lambda t: (t.start, t.end, t.speaker))
    speakers = sorted({t.speaker for t in turns})
    if len(speakers) != 2:
        return tuple(turns)
    from threadpoolctl import threadpool_limits

    feats = telephone_band_mfcc(samples) if features is None else features
    # small fits: threads only cost (0.3 s a 4-min call on one thread, 0.8-2.8 s on two loaded cores)
    with _fit_lock, threadpool_limits(1):
        judged = _judge(feats, turns, [speakers.index(t.speaker) for t in turns], components, iterations, margin)
    if judged is None:
        return tuple(turns)
    labels, clean, votes = judged
    out = [replace(t, speaker=speakers[k]) for t, k in zip(turns, labels)]
    if split_gain > 0:
        out = [piece for t, k, c in zip(out, labels, clean)
               for piece in _split(t, k, c, votes, speakers[1 - k], split_gain, margin)]
    if out == turns:
        return tuple(turns)
    return _merge(out)


def _judge(feats: np.ndarray, turns: list[SpeakerTurn], labels: list[int], components: int, iterations: int,
           margin: float) -> tuple[list[int], list[np.ndarray], np.ndarray] | None:
    """The labels after at most ``iterations`` rounds of flips, with the clean frames and
    votes of models trained on exactly those labels; None when even the first round's
    models cannot be trained."""
    n = len(feats)
    last = None
    for round_ in range(iterations + 1):
        clean = _clean_frames(turns, labels, n)
        votes = _votes(feats, turns, labels, clean, components)
        if votes is None:
            break  # these flips left a speaker without clean speech: keep the last labels that had models
        last = (list(labels), clean, votes)
        if round_ == iterations:
            break
        flips = []
        for i, (k, c) in enumerate(zip(labels, clean)):
            if len(c) >= _MIN_TURN_FRAMES and (1 if k == 0 else -1) * float(votes[c].mean()) > margin:
                flips.append(i)
        if not flips:
            break
        for i in flips:
            labels[i] = 1 - labels[i]
    return last


def _split(turn: SpeakerTurn, k: int, clean: np.ndarray, votes: np.ndarray, other: str, gain: float,
           margin: float) -> list[SpeakerTurn]:
    """``turn`` (speaker index ``k``) as one piece, or as two when its head or its tail
    (≥ 0.5 s) is the ``other`` voice by more than ``gain`` nats in all and ``margin``
    nats a frame; only the turn's clean frames vote."""
    s = _frames(turn, len(votes))
    size = s.stop - s.start
    if size < 2 * _MIN_PIECE_FRAMES or not len(clean):
        return [turn]
    d = np.zeros(size)
    d[clean - s.start] = votes[clean] if k == 0 else -votes[clean]
    cut = np.arange(_MIN_PIECE_FRAMES, size - _MIN_PIECE_FRAMES + 1)
    head = np.cumsum(d)[cut - 1]
    tail = d.sum() - head
    best_head, best_tail = int(np.argmax(head)), int(np.argmax(tail))
    if head[best_head] >= tail[best_tail]:
        at, other_first, won = int(cut[best_head]), True, float(head[best_head])
    else:
        at, other_first, won = int(cut[best_tail]), False, float(tail[best_tail])
    piece = at if other_first else size - at
    if won <= gain or won / piece <= margin:
        return [turn]
    middle = round((s.start + at) / FPS, 3)
    first, second = (other, turn.speaker) if other_first else (turn.speaker, other)
    return [replace(turn, end=middle, speaker=first), replace(turn, start=middle, speaker=second)]


def shift_turns(turns: Sequence[SpeakerTurn], seconds: float, duration_s: float) -> tuple[SpeakerTurn, ...]:
    """Every turn moved later by ``seconds`` (clipped to the call); turns left empty are dropped."""
    out = []
    for t in turns:
        start, end = round(max(0.0, t.start + seconds), 3), round(min(duration_s, t.end + seconds), 3)
        if end > start:
            out.append(replace(t, start=start, end=end))
    return tuple(out)


def frame_energy_db(samples: np.ndarray) -> np.ndarray:
    """Mean power (dB) of each 10 ms frame of a 16 kHz waveform."""
    hop = SAMPLE_RATE // FPS
    n = len(samples) // hop
    frames = np.asarray(samples[: n * hop], dtype=np.float32).reshape(n, hop)
    return 10.0 * np.log10(np.square(frames).mean(axis=1, dtype=np.float64) + 1e-12)


def trim_quiet_edges(samples: np.ndarray, turns: Sequence[SpeakerTurn], *, above_floor_db: float = 1.0,
                     max_trim_s: float = 0.2, min_turn_s: float = 0.05) -> tuple[SpeakerTurn, ...]:
    """Each turn's start moved forward (end backward) over the 10 ms frames quieter than
    the call's pause level + ``above_floor_db``, by at most ``max_trim_s`` per edge. The
    pause level is the median frame energy outside every turn (the 10th percentile of
    all frames when under 0.5 s lies outside). Turns left shorter than ``min_turn_s`` are
    dropped."""
    energy = frame_energy_db(samples)
    n = len(energy)
    speech = np.zeros(n, bool)
    for t in turns:
        speech[_frames(t, n)] = True
    level = float(np.median(energy[~speech])) if (~speech).sum() >= 50 else float(np.percentile(energy, 10))
    quiet = energy < level + above_floor_db
    most = int(round(max_trim_s * FPS))
    out = []
    for t in turns:
        s = _frames(t, n)
        head = 0
        while head < most and s.start + head < s.stop and quiet[s.start + head]:
            head += 1
        tail = 0
        while tail < most and s.stop - 1 - tail > s.start + head and quiet[s.stop - 1 - tail]:
            tail += 1
        start = (s.start + head) / FPS if head else t.start
        end = (s.stop - tail) / FPS if tail else t.end
        if end - start > min_turn_s:
            out.append(replace(t, start=round(start, 3), end=round(end, 3)))
    return tuple(sorted(out, key=lambda t: (t.start, t.end, t.speaker)))
