"""Topics of a call: what the citizen called about, as scores over the fixed taxonomy.

The classifier itself lives in :mod:`models.topic_model`; this stage chooses which
words it reads. The operator's scripted lines ("Tổng đài 1022 xin nghe", "anh chị
phản ánh về rác hay điện ạ?") would otherwise vote for topics the caller never
raised, so only what the citizen says decides.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from models.topic_model import FALLBACK_TOPIC, TopicModel
from pipeline.records import Segment, TopicScore

# Roles whose speech is used when the call has no segment labelled "citizen".
_UNLABELLED_ROLES = (None, "unknown")


def citizen_text(segments: Sequence[Segment]) -> str:
    """Text the topic is decided from: the citizen's segments in time order, or, when no
    segment has the role ``citizen``, those with role ``unknown`` or none. Operator
    segments are never used; a call with only operator speech gives ``""``.
    """
    ordered = sorted(segments, key=lambda s: (s.start, s.end))
    chosen = [s for s in ordered if s.role == "citizen"]
    if not chosen:
        chosen = [s for s in ordered if s.role in _UNLABELLED_ROLES]
    return " ".join(s.text.strip() for s in chosen if s.text and s.text.strip())


def classify_text(text: str, model: TopicModel) -> tuple[TopicScore, ...]:
    """One :class:`TopicScore` per taxonomy key for ``text``; ``other`` is assigned when
    no other topic clears its threshold (and for empty text)."""
    return tuple(model.predict(text))


# A window holds about as much as one training utterance: a real call's citizen side
# (name, phone number, thanks, "vâng vâng") read as one text drowns the complaint.
WINDOW_SYLLABLES = 30


def citizen_windows(segments: Sequence[Segment], *, max_syllables: int = WINDOW_SYLLABLES) -> list[str]:
    """The :func:`citizen_text` segments grouped, in order, into windows of at most
    ``max_syllables`` syllables (a longer segment is a window of its own)."""
    ordered = sorted(segments, key=lambda s: (s.start, s.end))
    chosen = [s for s in ordered if s.role == "citizen"] or [s for s in ordered if s.role in _UNLABELLED_ROLES]
    windows: list[list[str]] = []
    size = 0
    for seg in chosen:
        text = seg.text.strip() if seg.text else ""
        if not text:
            continue
        n = len(text.split())
        if windows and size + n <= max_syllables:
            windows[-1].append(text)
            size += n
        else:
            windows.append([text])
            size = n
    return [" ".join(w) for w in windows]


def classify_call(segments: Sequence[Segment], model: TopicModel) -> tuple[TopicScore, ...]:
    """Topic scores of a call from its segments (roles filled by the speakers stage).

    The citizen's speech (:func:`citizen_text`) is read in windows of about one
    utterance (:func:`citizen_windows`) and as a whole; a topic's score is its best
    score in any of them, so a complaint stated once in a long call is not diluted by
    the rest. ``other`` keeps its whole-call score. The model's own decision rule
    (thresholds, relative cut, ``other`` fallback) then assigns topics.
    """
    windows = citizen_windows(segments)
    whole = " ".join(windows)
    if len(windows) <= 1:
        return classify_text(whole, model)
    texts = windows + [whole]
    proba = model.predict_proba(texts)
    best = proba.max(axis=0)
    k = model.topics.index(FALLBACK_TOPIC)
    best[k] = proba[-1, k]
    assigned = model.assign(best[None, :], [whole])[0]
    return tuple(TopicScore(t, round(float(p), 4), bool(a)) for t, p, a in zip(model.topics, best, assigned))


def assigned_topics(scores: Iterable[TopicScore]) -> tuple[str, ...]:
    """Keys of the assigned topics, highest score first."""
    chosen = sorted((s for s in scores if s.assigned), key=lambda s: -s.score)
    return tuple(s.topic for s in chosen) or (FALLBACK_TOPIC,)


def apply_corrections(
    model_topics: Iterable[str], corrections: Iterable[tuple[str, str]]
) -> tuple[str, ...]:
    """Label set of a call after QA review.

    ``model_topics``: topics the model assigned; ``corrections``: ``(topic, action)``
    in the order they were made, action ``"add"`` or ``"remove"``. ``other`` is kept
    only when nothing else remains (and is the answer when nothing does).
    Raises ValueError for another action.
    """
    labels = list(dict.fromkeys(model_topics))
    for topic, action in corrections:
        if action == "add":
            if topic not in labels:
                labels.append(topic)
        elif action == "remove":
            labels = [t for t in labels if t != topic]
        else:
            raise ValueError(f"correction action {action!r} must be 'add' or 'remove'")
    real = [t for t in labels if t != FALLBACK_TOPIC]
    return tuple(sorted(real)) if real else (FALLBACK_TOPIC,)
