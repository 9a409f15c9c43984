"""The shipped topic model against the targets of issue 16, on files it was not tuned on."""

from pathlib import Path

import pytest

from models.topic_model import load_topic_model
from models.topic_training import read_topic_tsv
from pipeline.eval.topics import score_topics, two_issue_recall

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="module")
def model():
    return load_topic_model()


@pytest.mark.parametrize("name, macro", [("topics_v2_holdout", 0.90), ("topics_v2_holdout_vietasr", 0.85)])
def test_holdout_targets(model, name, macro):
    report = score_topics(read_topic_tsv(DATA / f"{name}.tsv"), model)
    assert report.macro_f1 >= macro, report.table()
    # 5 rows a topic: one row moves a topic's F1 by ~0.1. v4 (relabelled by docs/topics-guideline.md)
    # scored "other" 0.75 here and the floor was lowered to 0.75; v5 (more "other" calls, other's own
    # threshold) brings it back to v3's 0.80.
    assert min(m.f1 for m in report.per_topic) >= 0.80, report.table()


def test_second_topic_of_two_issue_calls(model):
    rep = two_issue_recall(read_topic_tsv(DATA / "topics_two_issue_holdout.tsv"), model)
    assert rep.n == 20 and rep.second_recall >= 0.8, rep.line()
    noisy = two_issue_recall(read_topic_tsv(DATA / "topics_two_issue_holdout_vietasr.tsv"), model)
    assert noisy.second_recall >= 0.7, noisy.line()
