"""Every metric, scope and reason the pipeline stores has a Vietnamese and an English label."""

import numpy as np

from pipeline.analysis.metrics import measure_conversation
from pipeline.analysis.urgency import REASONS
from pipeline.i18n import LANGS, MESSAGES, translator
from pipeline.records import DecodedAudio, Segment
from pipeline.stages.analyse import _REVIEW_FLAGS


def test_metric_scope_and_reason_labels_exist_in_both_languages():
    rng = np.random.default_rng(0)
    audio = DecodedAudio(samples=(0.1 * rng.standard_normal((1, 48000))).astype(np.float32), sample_rate=16000,
                         source_sample_rate=16000)
    segs = [Segment(0.0, 1.2, "xin chào anh", role="operator"), Segment(1.0, 2.8, "tôi muốn phản ánh", role="citizen")]
    metrics = measure_conversation(segs, audio)
    keys = {f"metric_{name}" for _, name in metrics} | {f"scope_{scope}" for scope, _ in metrics}
    keys |= {f"reason_{r}" for r in (*_REVIEW_FLAGS, "low_confidence", "roles_uncertain", "no_confident_topic",
                                     "truncated", "urgent", *REASONS)}
    missing = [k for k in sorted(keys) if set(MESSAGES.get(k, {})) != set(LANGS)]
    assert missing == []
    assert translator("vi")("metric_talk_time_s") == "Thời gian nói (s)"
    assert translator("en")("metric_unknown", default="unknown") == "unknown"
