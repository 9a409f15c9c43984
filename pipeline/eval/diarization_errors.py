"""Where missed speech goes: a breakdown of a diarization hypothesis's missed speech.

Missed speech is reference speech (per reference speaker) that no hypothesis turn
covers. Each missed second is put in the first category that holds it:

- ``overlap``: the reference has two speakers there and the hypothesis one or none;
- ``edge``: within ``edge_s`` of the start or end of a reference turn (boundary
  disagreement, what a collar forgives);
- ``short_gap``: inside a hypothesis gap shorter than ``short_gap_s`` between two
  hypothesis turns (a pause inside a turn that the reference bridges and the hypothesis
  does not: what ``min_duration_off`` fills);
- ``interior``: the rest (whole words or turns not detected).

Per reference speaker too, so a quiet speaker shows up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from pipeline.intervals import intersect, merge, subtract, total
from pipeline.records import SpeakerTurn

CATEGORIES = ("overlap", "edge", "short_gap", "interior")
FPS = 100  # frames per second of frame_errors
COLLAR_FRAMES = 25  # 0.25 s


@dataclass
class MissedBreakdown:
    reference_s: float = 0.0  # s of reference speech, counted per speaker (overlap twice)
    missed_s: dict = field(default_factory=lambda: {c: 0.0 for c in CATEGORIES})  # category -> s
    by_speaker: dict = field(default_factory=dict)  # reference speaker -> (missed s, reference s)

    @property
    def missed_total(self) -> float:
        return sum(self.missed_s.values())

    def add(self, other: "MissedBreakdown") -> "MissedBreakdown":
        self.reference_s += other.reference_s
        for c in CATEGORIES:
            self.missed_s[c] += other.missed_s[c]
        for sp, (m, r) in other.by_speaker.items():
            om, orr = self.by_speaker.get(sp, (0.0, 0.0))
            self.by_speaker[sp] = (om + m, orr + r)
        return self


def _spans(turns: Sequence[SpeakerTurn], speaker: str | None = None) -> list[tuple[float, float]]:
    return merge((t.start, t.end) for t in turns if t.end > t.start and (speaker is None or t.speaker == speaker))


def missed_breakdown(
    reference: Sequence[SpeakerTurn],
    hypothesis: Sequence[SpeakerTurn],
    *,
    edge_s: float = 0.25,
    short_gap_s: float = 0.5,
) -> MissedBreakdown:
    """Missed seconds of ``hypothesis`` against ``reference`` by category (see module doc).

    Counting is per reference speaker, as DER counts overlapped speech once per
    speaker: with two reference speakers and one hypothesis speaker in an overlap, one
    speaker's share is missed (attributed to ``overlap``).
    """
    out = MissedBreakdown()
    speakers = sorted({t.speaker for t in reference})
    hyp = _spans(hypothesis)
    # Overlap regions of the reference: where at least two speakers' spans intersect.
    per_speaker = {sp: _spans(reference, sp) for sp in speakers}
    ref_overlap: list[tuple[float, float]] = []
    for i, a in enumerate(speakers):
        for b in speakers[i + 1 :]:
            ref_overlap += intersect(per_speaker[a], per_speaker[b])
    ref_overlap = merge(ref_overlap)
    # Hypothesis overlap: two hypothesis speakers at once.
    hyp_speakers = sorted({t.speaker for t in hypothesis})
    hyp_per = {sp: _spans(hypothesis, sp) for sp in hyp_speakers}
    hyp_overlap: list[tuple[float, float]] = []
    for i, a in enumerate(hyp_speakers):
        for b in hyp_speakers[i + 1 :]:
            hyp_overlap += intersect(hyp_per[a], hyp_per[b])
    hyp_overlap = merge(hyp_overlap)
    edges = merge(
        (max(0.0, x - edge_s), x + edge_s) for t in reference if t.end > t.start for x in (t.start, t.end)
    )
    gaps = [(hyp[i][1], hyp[i + 1][0]) for i in range(len(hyp) - 1) if hyp[i + 1][0] - hyp[i][1] < short_gap_s]

    for sp in speakers:
        spans = per_speaker[sp]
        ref_s = total(spans)
        missed = subtract(spans, hyp)
        # In a reference overlap the hypothesis has at most one speaker there unless it
        # also overlaps: that speaker's share is missed for one of the two.
        in_overlap = subtract(intersect(spans, ref_overlap), hyp_overlap)
        # Attribute the overlap shortfall to the speaker the hypothesis covers less:
        # count half of it per speaker of a two-speaker overlap (DER counts it once).
        overlap_short = 0.5 * total(intersect(in_overlap, hyp))
        rest = missed
        m_overlap = total(intersect(rest, ref_overlap)) + overlap_short
        rest = subtract(rest, ref_overlap)
        m_edge = total(intersect(rest, edges))
        rest = subtract(rest, edges)
        m_gap = total(intersect(rest, gaps))
        rest = subtract(rest, gaps)
        m_int = total(rest)
        out.reference_s += ref_s
        for c, v in zip(CATEGORIES, (m_overlap, m_edge, m_gap, m_int)):
            out.missed_s[c] += v
        out.by_speaker[sp] = (m_overlap + m_edge + m_gap + m_int, ref_s)
    return out


def fill_short_gaps(turns: Sequence[SpeakerTurn], max_gap_s: float) -> tuple[SpeakerTurn, ...]:
    """Join consecutive turns of one speaker separated by less than ``max_gap_s`` (what
    pyannote's ``min_duration_off`` does), sorted by start."""
    out: list[SpeakerTurn] = []
    last: dict[str, int] = {}
    for t in sorted(turns, key=lambda t: (t.start, t.end)):
        i = last.get(t.speaker)
        if i is not None and t.start - out[i].end < max_gap_s:
            out[i] = SpeakerTurn(out[i].start, max(out[i].end, t.end), t.speaker)
            continue
        out.append(t)
        last[t.speaker] = len(out) - 1
    return tuple(sorted(out, key=lambda t: (t.start, t.end, t.speaker)))


def _mask(turns, n: int) -> np.ndarray:
    m = np.zeros(n, bool)
    for t in turns:
        m[int(t.start * FPS): int(t.end * FPS)] = True
    return m


def _count(turns, n: int) -> np.ndarray:
    c = np.zeros(n, int)
    for sp in {t.speaker for t in turns}:
        c += _mask([t for t in turns if t.speaker == sp], n)
    return c


def frame_errors(ref_turns, hyp_turns, duration_s: float) -> dict[str, float]:
    """Where a hypothesis's false alarm lies, frame by frame (10 ms): seconds of reference
    speech (``reference``); false alarm in pauses near (≤ 0.25 s) and far from a reference
    edge (``fa_pause_near``, ``fa_pause_far``); speakers over-counted inside speech (the
    hypothesis has more speakers active than the reference: pyannote counts it as false
    alarm), near and far (``overcount_near``, ``overcount_far``); seconds of overlap in
    the reference and in the hypothesis; missed speech far from edges (``missed_far``)."""
    n = int(duration_s * FPS) + 1
    rc, hc = _count(ref_turns, n), _count(hyp_turns, n)
    r, h = rc > 0, hc > 0
    edges = np.flatnonzero(np.diff(r.astype(int)) != 0)
    dist = np.full(n, 10**9)
    idx = np.arange(n)
    for e in edges:
        dist = np.minimum(dist, np.abs(idx - e))
    far = dist > COLLAR_FRAMES
    over = (hc > rc) & r
    out = {
        "reference": r.sum(), "fa_pause_near": (h & ~r & ~far).sum(), "fa_pause_far": (h & ~r & far).sum(),
        "overcount_near": (over & ~far).sum(), "overcount_far": (over & far).sum(),
        "overlap_reference": (rc > 1).sum(), "overlap_hypothesis": (hc > 1).sum(), "missed_far": (r & ~h & far).sum(),
    }
    return {k: float(v) / FPS for k, v in out.items()}
