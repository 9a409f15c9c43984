"""Issue 31: the guideline's procedure rule, retraining from QA that refuses a worse model,
and which model tagged each call (re-tag)."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import datetime

import numpy as np
import pytest

from models import topic_training as tm
from models.topic_model import TOPICS, load_topic_model, procedure_pairs
from models.topic_training import TopicTrainOptions, read_topic_tsv, save_topic_model, train_topic_model
from pipeline.cli import main
from pipeline.eval.topic_training import gate, retag_calls, retrain_from_qa, split_corrections
from pipeline.warehouse import db

FAST = TopicTrainOptions(asr_variants=1, cv_folds=3, filler_variants=0)


def _rows(per_topic: int, skip: int = 0) -> list[tuple[str, tuple[str, ...]]]:
    taken: dict[str, list] = defaultdict(list)
    seen: dict[str, int] = defaultdict(int)
    for text, labels in read_topic_tsv(tm.CORPUS_PATH):
        if len(labels) != 1:
            continue
        seen[labels[0]] += 1
        if seen[labels[0]] > skip and len(taken[labels[0]]) < per_topic:
            taken[labels[0]].append((text, labels))
    return [row for rows in taken.values() for row in rows]


@pytest.fixture(scope="module")
def good_model():
    return train_topic_model(_rows(10), seed=1, options=FAST)


@pytest.fixture(scope="module")
def bad_model():
    """Trained on the same rows with the labels shuffled: what a stream of wrong corrections makes."""
    rows = _rows(10)
    labels = [lab for _, lab in rows]
    random.Random(3).shuffle(labels)
    return train_topic_model([(t, lab) for (t, _), lab in zip(rows, labels)], seed=1, options=FAST)


def _assigned(topics_on: list[str]) -> np.ndarray:
    return np.array([[t in topics_on for t in TOPICS]])


@pytest.mark.parametrize("text, before, after", [
    ("Dạ tôi hỏi thủ tục sang tên sổ đỏ mua bán làm ở đâu", ["land"], {"land", "administrative_procedures"}),
    ("Nhà bên rào lấn sang đất nhà tôi, tôi có sổ đỏ rõ ràng", ["land"], {"land"}),
    ("Cho hỏi đổi giấy phép lái xe sang thẻ nhựa", ["administrative_procedures"], {"traffic", "administrative_procedures"}),
    ("Làm căn cước cho con ở đâu", ["administrative_procedures"], {"administrative_procedures"}),
    ("alo alo thủ tục sổ đỏ", ["other"], {"other"}),
])
def test_a_procedure_attached_to_a_domain_carries_both_topics(text, before, after):
    got = procedure_pairs(_assigned(before), [text], TOPICS)[0]
    assert {t for t, a in zip(TOPICS, got) if a} == after


def test_corrections_keep_their_slice_from_one_retraining_to_the_next():
    rows = [(f"câu số {i} về rác", ("environment",)) for i in range(200)]
    train, held = split_corrections(rows, 0.2)
    assert 20 <= len(held) <= 60 and len(train) + len(held) == 200
    again_train, again_held = split_corrections(rows[::-1] + [("câu mới", ("land",))], 0.2)
    assert set(held) <= set(again_held) and set(train) <= set(again_train)


def test_the_gate_refuses_a_worse_model_and_accepts_an_equal_one(good_model, bad_model):
    held = _rows(4, skip=10)  # rows neither model saw
    ok, reason, scores = gate(good_model, bad_model, {"fixed": held})
    assert not ok and "drops on fixed" in reason
    assert scores[0].candidate < scores[0].current
    ok, _, _ = gate(good_model, good_model, {"fixed": held})
    assert ok


def _warehouse_with_corrections(path, texts_labels):
    con = db.connect(path, create=True)
    t0 = datetime(2026, 11, 2, 9, 0)
    for i, (text, labels) in enumerate(texts_labels):
        cid = f"c{i:03d}"
        con.execute("INSERT INTO calls (call_id, recording_sha256, status, started_at) VALUES (?, ?, 'done', ?)",
                    [cid, f"sha{i}", t0])
        con.execute("INSERT INTO segments (call_id, seq, start_s, end_s, role, text) VALUES (?, 0, 0, 3, 'citizen', ?)",
                    [cid, text])
        con.execute("INSERT INTO call_topics VALUES (?, 'other', 0.6, 'model', true)", [cid])
        for topic in labels:
            con.execute("INSERT INTO topic_corrections VALUES (?, ?, 'add', 'qa1', ?)", [cid, topic, t0])
    con.close()


def test_retrain_refuses_a_worse_candidate_and_leaves_the_model_in_service(tmp_path, good_model, bad_model):
    out = save_topic_model(good_model, tmp_path / "model")
    before = (out / "model.joblib").read_bytes()
    fixed = tmp_path / "fixed.tsv"
    fixed.write_text("text\tlabels\n" + "".join(f"{t}\t{','.join(lab)}\n" for t, lab in _rows(3, skip=10)),
                     encoding="utf-8")
    _warehouse_with_corrections(tmp_path / "w.duckdb", _rows(3, skip=13))
    decision = retrain_from_qa(tmp_path / "w.duckdb", out, test_files=[fixed], trainer=lambda rows, v: bad_model)
    assert not decision.accepted and decision.candidate_fingerprint == ""
    assert (out / "model.joblib").read_bytes() == before
    assert load_topic_model(out).fingerprint == decision.current_fingerprint

    decision = retrain_from_qa(tmp_path / "w.duckdb", out, test_files=[fixed], trainer=lambda rows, v: good_model)
    assert decision.accepted  # as good as the model in service: allowed
    assert {s.name for s in decision.scores} >= {"fixed.tsv"}
    assert decision.qa_train + decision.qa_held_out == len(_rows(3, skip=13))


def test_retrain_cli_prints_the_decision(tmp_path, good_model, bad_model, monkeypatch, capsys):
    out = save_topic_model(good_model, tmp_path / "model")
    fixed = tmp_path / "fixed.tsv"
    fixed.write_text("text\tlabels\n" + "".join(f"{t}\t{','.join(lab)}\n" for t, lab in _rows(3, skip=10)),
                     encoding="utf-8")
    _warehouse_with_corrections(tmp_path / "w.duckdb", _rows(2, skip=13))
    monkeypatch.setattr(tm, "train_topic_model", lambda rows, **kw: bad_model)
    assert main(["topics", "retrain", "--db", str(tmp_path / "w.duckdb"), "--out", str(out), "--test", str(fixed)]) == 0
    assert "decision=refused" in capsys.readouterr().out


def test_retag_records_the_model_and_keeps_qa_rows(tmp_path, good_model):
    out = save_topic_model(good_model, tmp_path / "model")
    path = tmp_path / "w.duckdb"
    _warehouse_with_corrections(path, [("Dạ rác để cả tuần không ai thu gom, hôi thối quá", ("environment",))])
    con = db.connect(path, create=False)
    con.execute("INSERT INTO call_topics VALUES ('c000', 'environment', NULL, 'qa', true)")
    con.close()
    done = retag_calls(path, out)
    fp = load_topic_model(out).fingerprint
    assert done.calls == 1 and done.fingerprint == fp and len(fp) == 12
    con = db.connect(path, read_only=True)
    assert con.execute("SELECT topic_model FROM calls").fetchall() == [(fp,)]
    model_rows = con.execute("SELECT count(*) FROM call_topics WHERE source = 'model'").fetchone()[0]
    qa_rows = con.execute("SELECT count(*) FROM call_topics WHERE source = 'qa'").fetchone()[0]
    con.close()
    assert model_rows == len(TOPICS) and qa_rows == 1
    assert retag_calls(path, out).calls == 0  # already tagged by this model: nothing to do
