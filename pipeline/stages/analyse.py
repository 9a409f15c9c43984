"""Turn a call's segments into what QA and managers act on.

Topics come mainly from what the citizen says; places, urgency and routing too.
Personal data is redacted in every segment; conversation metrics use the audio.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from models.registry import review_confidence_for
from pipeline.analysis.metrics import measure_conversation
from pipeline.analysis.pii import redact_turns
from pipeline.analysis.places import extract_places
from pipeline.analysis.readable import readable_turn
from pipeline.analysis.routing import route_call
from pipeline.analysis.sentiment import score_call
from pipeline.analysis.summary import summarize
from pipeline.analysis.topics import assigned_topics, citizen_text, classify_call
from pipeline.analysis.urgency import detect_urgency
from pipeline.config import Settings
from pipeline.records import CallAnalysis, DecodedAudio, Metric, RedactedSegment, Segment, TranscriptInfo

# Call-level transcript flags that send a call to the QA queue.
_REVIEW_FLAGS = ("not_vietnamese", "no_speech", "loop_removed", "hallucination_removed", "speech_not_transcribed")


def mean_confidence(segments: Sequence[Segment]) -> float:
    """Duration-weighted mean segment confidence, 0..1 (0 when there is no speech)."""
    total = sum(max(0.0, s.end - s.start) for s in segments)
    if total <= 0:
        return 0.0
    return sum(s.confidence * max(0.0, s.end - s.start) for s in segments) / total


def review_threshold(settings: Settings) -> float:
    """The review-confidence threshold: the setting, or (when negative) the selected recogniser's calibrated one."""
    if settings.review_confidence >= 0:
        return settings.review_confidence
    return review_confidence_for(settings.asr_model)


def review_reasons(segments: Sequence[Segment], info: TranscriptInfo, topics, *, role_confidence: float,
                   settings: Settings, confidence: float | None = None) -> tuple[str, ...]:
    """Why the call goes to the QA queue; ``confidence`` is :func:`mean_confidence` of ``segments`` when given."""
    reasons = [f for f in _REVIEW_FLAGS if f in info.flags]
    if any("loop_removed" in s.flags for s in segments) and "loop_removed" not in reasons:
        reasons.append("loop_removed")
    if confidence is None:
        confidence = mean_confidence(segments)
    if segments and confidence < review_threshold(settings):
        reasons.append("low_confidence")
    if segments and role_confidence < 0.5:
        reasons.append("roles_uncertain")
    assigned = [t.topic for t in topics if t.assigned]
    if not assigned or assigned == ["other"]:
        reasons.append("no_confident_topic")
    return tuple(reasons)


def redacted_segment(seg: Segment, redacted: str, readable_model=None) -> RedactedSegment:
    """The stored form of one segment: its redacted text and, with a model, its readable forms."""
    if readable_model is None:
        return RedactedSegment(seg, redacted)
    shown, raw, align = readable_turn(seg.text, redacted, readable_model, len(seg.words))
    return RedactedSegment(seg, redacted, readable=shown, readable_raw=raw, readable_align=align)


def analyse_call(audio: DecodedAudio, segments: Sequence[Segment], info: TranscriptInfo, *, topic_model,
                 settings: Settings, role_confidence: float = 1.0, call_date: date | None = None,
                 readable_model=None) -> CallAnalysis:
    """Topics, places, routing, urgency, redacted text, PII counts, metrics, review decision, and the
    readable text of each segment when ``readable_model`` (models.readable_text) is given.

    ``call_date`` (from the call log) decides which administrative map a place name
    is read on: before 1 July 2025 the old wards and communes, after it the new ones.
    """
    topics = tuple(classify_call(segments, topic_model))
    said = citizen_text(segments)
    places = tuple(extract_places(said, as_of=call_date))
    routes = tuple(route_call([t.topic for t in topics if t.assigned], places, text=said))
    urgency = detect_urgency(said)
    texts = [s.text for s in segments]
    roles = [s.role for s in segments]
    redaction = redact_turns(texts, roles, keep_operator_name=settings.keep_operator_name)
    metrics = measure_conversation(segments, audio)
    confidence = mean_confidence(segments)
    reasons = tuple(audio.warnings) + review_reasons(segments, info, topics, role_confidence=role_confidence,
                                                     settings=settings, confidence=confidence)
    if urgency.urgent:
        reasons = reasons + ("urgent",)
    mood = score_call(roles, texts)
    if mood.frustrated and mood.repeat_unresolved:
        # an angry caller whose earlier report went nowhere: QA sees it first
        reasons = reasons + ("frustrated_repeat",)
    operator = " ".join(s.text for s in segments if s.role == "operator")
    summary = summarize(assigned_topics(topics), said, operator, [p.as_row() for p in places],
                        [{"agency_vi": r.agency_vi} for r in routes], urgent=bool(urgency.urgent))
    return CallAnalysis(
        topics=topics,
        places=places,
        routes=routes,
        urgent=bool(urgency.urgent),
        urgency_reasons=tuple(urgency.reasons),
        metrics=tuple(Metric(scope, name, value) for (scope, name), value in metrics.items() if value is not None),
        segments=tuple(redacted_segment(seg, r.text, readable_model) for seg, r in zip(segments, redaction.redactions)),
        pii_counts=dict(redaction.counts),
        caller_initials=redaction.caller_initials,
        confidence=confidence,
        needs_review=bool(reasons),
        review_reasons=reasons,
        summary=summary,
        sentiment=mood.as_dict(),
        topic_model=str(getattr(topic_model, "fingerprint", "") or ""),
    )
