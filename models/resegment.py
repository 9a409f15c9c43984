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
(``iterations`` times, or until nothing changes). Then a turn whose head or tail (at
least 0.5 s) the other voice wins by more than ``split_gain`` nats in all is cut in two
there: pyannote merges two voices that follow each other without a pause at 8 kHz.
Turn edges are pyannote's.
"""

from __future__ import annotations

import warnings
from dataclasses import replace
from typing import Sequence

import numpy as np

from pipeline.records import SAMPLE_RATE, SpeakerTurn

FPS = 100  # feature frames per second (10 ms hop)
_EDGE_FRAMES = 10  # frames (0.1 s) next to a turn edge are left out of training
_MIN_TRAIN_FRAMES = 200  # a speaker with under 2 s of clean frames: no models, turns kept
_MAX_TRAIN_FRAMES = 3000  # per speaker: longer calls train on every k-th frame (speed)
_MIN_TURN_FRAMES = 20  # turns with under 0.2 s of single-speaker frames are not re-judged


def telephone_band_mfcc(samples: np.ndarray) -> np.ndarray:
    """(frames, 38): 19 MFCCs (c0 dropped: loudness is not a voice) of 40 mel bands over
    300–3400 Hz plus their deltas, standardised over the call; 25 ms windows, 10 ms hop."""
    import librosa

    mfcc = librosa.feature.mfcc(y=np.asarray(samples, dtype=np.float32), sr=SAMPLE_RATE, n_mfcc=20, n_fft=512,
                                hop_length=SAMPLE_RATE // FPS, win_length=400, n_mels=40, fmin=300.0, fmax=3400.0)[1:]
    feats = np.vstack([mfcc, librosa.feature.delta(mfcc)])
    feats = (feats - feats.mean(axis=1, keepdims=True)) / (feats.std(axis=1, keepdims=True) + 1e-8)
    return feats.T


def _frames(turn: SpeakerTurn, n: int) -> slice:
    return slice(min(n, int(round(turn.start * FPS))), min(n, int(round(turn.end * FPS))))


def _merge(turns: Sequence[SpeakerTurn]) -> tuple[SpeakerTurn, ...]:
    """Same-speaker turns that overlap or touch become one."""
    out: list[SpeakerTurn] = []
    for speaker in sorted({t.speaker for t in turns}):
        mine = sorted((t for t in turns if t.speaker == speaker), key=lambda t: t.start)
        current = mine[0]
        for t in mine[1:]:
            if t.start <= current.end + 1e-3:
                current = replace(current, end=max(current.end, t.end))
            else:
                out.append(current)
                current = t
        out.append(current)
    return tuple(sorted(out, key=lambda t: (t.start, t.end, t.speaker)))


def _speaker_scores(feats: np.ndarray, turns, labels: list[int], alone: np.ndarray, components: int):
    """(frames, 2) log-likelihoods under each speaker's mixture, or None when a speaker
    has too few clean frames to train one."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture

    n = len(feats)
    scores = np.zeros((n, 2))
    for k in range(2):
        train = np.zeros(n, bool)
        for t, label in zip(turns, labels):
            s = _frames(t, n)
            if label == k and s.stop - s.start > 2 * _EDGE_FRAMES:
                train[s.start + _EDGE_FRAMES: s.stop - _EDGE_FRAMES] = True
        train &= alone
        rows = np.flatnonzero(train)
        if len(rows) < _MIN_TRAIN_FRAMES:
            return None
        rows = rows[:: -(-len(rows) // _MAX_TRAIN_FRAMES)]  # evenly thinned: 10 ms frames are near-copies anyway
        gmm = GaussianMixture(components, covariance_type="diag", reg_covar=1e-3, max_iter=50, random_state=0,
                              init_params="kmeans")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # 50 EM rounds are plenty to compare two voices
            gmm.fit(feats[rows])
        scores[:, k] = gmm.score_samples(feats)
    return scores


def relabel_turns(samples: np.ndarray, turns: Sequence[SpeakerTurn], *, components: int = 8, iterations: int = 3,
                  margin: float = 0.3, split_gain: float = 0.0,
                  features: np.ndarray | None = None) -> tuple[SpeakerTurn, ...]:
    """``turns`` of a 16 kHz mono call with each turn's speaker re-judged (see the module
    docstring). Calls with other than two speakers, or a speaker with under 2 s of speech
    alone, come back unchanged (sorted). ``features``: precomputed
    :func:`telephone_band_mfcc` frames (tests)."""
    turns = sorted(turns, key=lambda t: (t.start, t.end, t.speaker))
    speakers = sorted({t.speaker for t in turns})
    if len(speakers) != 2:
        return tuple(turns)
    from threadpoolctl import threadpool_limits

    feats = telephone_band_mfcc(samples) if features is None else features
    with threadpool_limits(1):  # small fits: threads only cost (0.3 s a 4-min call on one, 0.8-2.8 s on two, loaded)
        return _relabel(feats, turns, speakers, components, iterations, margin, split_gain)


def _relabel(feats, turns, speakers, components, iterations, margin, split_gain) -> tuple[SpeakerTurn, ...]:
    n = len(feats)
    scores = alone = None
    original = [speakers.index(t.speaker) for t in turns]
    labels = list(original)
    for _ in range(iterations):
        active = np.zeros((2, n), bool)
        for t, k in zip(turns, labels):
            active[k, _frames(t, n)] = True
        alone = active.sum(axis=0) == 1
        scores = _speaker_scores(feats, turns, labels, alone, components)
        if scores is None:
            break
        flips = []
        for i, t in enumerate(turns):
            s, k = _frames(t, n), labels[i]
            mine = alone[s]
            if mine.sum() >= _MIN_TURN_FRAMES and float((scores[s, 1 - k] - scores[s, k])[mine].mean()) > margin:
                flips.append(i)
        if not flips:
            break
        for i in flips:
            labels[i] = 1 - labels[i]
    if labels == original and not split_gain:
        return tuple(turns)
    out = [replace(t, speaker=speakers[k]) for t, k in zip(turns, labels)]
    if split_gain and scores is not None:
        out = [piece for t, k in zip(out, labels) for piece in _split(t, k, scores, alone, speakers, split_gain, margin)]
    if out == list(turns):
        return tuple(turns)
    return _merge(out)


_MIN_PIECE_FRAMES = 50  # a split leaves at least 0.5 s on each side


def _split(turn: SpeakerTurn, k: int, scores: np.ndarray, alone: np.ndarray, speakers, gain: float, margin: float):
    """``turn`` as one piece, or as two when its head or its tail (≥ 0.5 s) is the other
    voice by more than ``gain`` nats in all and ``margin`` nats a frame."""
    s = _frames(turn, len(scores))
    d = np.where(alone[s], scores[s, 1 - k] - scores[s, k], 0.0)
    if len(d) < 2 * _MIN_PIECE_FRAMES:
        return [turn]
    cut = np.arange(_MIN_PIECE_FRAMES, len(d) - _MIN_PIECE_FRAMES + 1)
    head = np.cumsum(d)[cut - 1]
    tail = d.sum() - head
    best_head, best_tail = int(np.argmax(head)), int(np.argmax(tail))
    at, other_first = (cut[best_head], True) if head[best_head] >= tail[best_tail] else (cut[best_tail], False)
    won = max(head[best_head], tail[best_tail])
    size = at if other_first else len(d) - at
    if won <= gain or won / size <= margin:
        return [turn]
    middle = round(turn.start + at / FPS, 3)
    first, second = (speakers[1 - k], turn.speaker) if other_first else (turn.speaker, speakers[1 - k])
    return [replace(turn, end=middle, speaker=first), replace(turn, start=middle, speaker=second)]


def shift_turns(turns: Sequence[SpeakerTurn], seconds: float, duration_s: float) -> tuple[SpeakerTurn, ...]:
    """Every turn moved later by ``seconds`` (clipped to the call); turns left empty are dropped."""
    out = []
    for t in turns:
        start, end = max(0.0, t.start + seconds), min(duration_s, t.end + seconds)
        if end > start:
            out.append(replace(t, start=round(start, 3), end=round(end, 3)))
    return tuple(out)


def frame_energy_db(samples: np.ndarray) -> np.ndarray:
    """Mean power (dB) of each 10 ms frame of a 16 kHz waveform."""
    hop = SAMPLE_RATE // FPS
    n = len(samples) // hop
    frames = np.asarray(samples[: n * hop], dtype=np.float64).reshape(n, hop)
    return 10.0 * np.log10((frames**2).mean(axis=1) + 1e-12)


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
        start, end = t.start + head / FPS, t.end - tail / FPS
        if end - start > min_turn_s:
            out.append(replace(t, start=round(start, 3), end=round(end, 3)))
    return tuple(sorted(out, key=lambda t: (t.start, t.end, t.speaker)))
