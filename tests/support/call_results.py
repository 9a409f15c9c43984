"""A processed call as the stages hand it to the run book, for tests that load a new call into a warehouse."""

from __future__ import annotations

from pathlib import Path

from pipeline.records import (CallAnalysis, CallResult, Metric, Place, Recording, RedactedSegment, Segment, SpeakerResult,
                              TopicScore, TranscriptInfo, Word)


def call_result(sha: str, text: str, *, topic: str = "environment", ward: str = "Tân Tiến",
                start_s: float = 0.5) -> CallResult:
    """One citizen turn saying ``text`` from ``start_s``, the ``topic`` assigned and ``ward`` named."""
    seg = Segment(start=start_s, end=start_s + 3.0, text=text, avg_logprob=-0.3, no_speech_prob=0.05,
                  words=(Word(start_s, start_s + 0.5, text.split()[0], 0.9),), channel=1, speaker="ch1", role="citizen",
                  confidence=0.7)
    rec = Recording(path=Path(f"/src/{sha[:8]}.wav"), relpath=f"{sha[:8]}.wav", sha256=sha, size_bytes=10)
    analysis = CallAnalysis(topics=(TopicScore(topic, 0.9, True), TopicScore("other", 0.1, False)),
                            places=(Place("ward", ward.lower(), ward, "X", None, 0, 8),),
                            metrics=(Metric("call", "talk_time_s", 3.0),), segments=(RedactedSegment(seg, text),),
                            confidence=0.7)
    return CallResult(recording=rec, duration_s=start_s + 4.0, channels=2, source_sample_rate=8000,
                      info=TranscriptInfo("vi", 1.0, start_s + 4.0), speakers=SpeakerResult((seg,), 1, 1.0, "channels"),
                      analysis=analysis, asr_model="base", asr_fingerprint="sha256:x", timings={"decode": 0.1})


def one_turn_result(sha: str = "ab" * 32, text: str = "rác không ai thu gom", topic: str = "environment") -> CallResult:
    """The smallest processed call: one citizen turn at 0.5–2.0 s in a 3 s stereo call from ``/src/a.wav``."""
    seg = Segment(start=0.5, end=2.0, text=text, avg_logprob=-0.3, no_speech_prob=0.05,
                  words=(Word(0.5, 1.0, "rác", 0.9),), channel=1, speaker="ch1", role="citizen", confidence=0.7)
    rec = Recording(path=Path("/src/a.wav"), relpath="a.wav", sha256=sha, size_bytes=10)
    analysis = CallAnalysis(topics=(TopicScore(topic, 0.9, True), TopicScore("other", 0.1, False)),
                            places=(Place("ward", "tân tiến", "Tân Tiến", "X", None, 0, 8),),
                            metrics=(Metric("call", "talk_time_s", 1.5),), segments=(RedactedSegment(seg, text),),
                            confidence=0.7)
    return CallResult(recording=rec, duration_s=3.0, channels=2, source_sample_rate=8000,
                      info=TranscriptInfo("vi", 1.0, 3.0), speakers=SpeakerResult((seg,), 1, 1.0, "channels"),
                      analysis=analysis, asr_model="base", asr_fingerprint="sha256:x", timings={"decode": 0.1})
