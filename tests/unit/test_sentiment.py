import random
from pathlib import Path

from models.asr_noise import syllable_vocab, vietasr_like
from pipeline.analysis import sentiment

TEST = Path(__file__).resolve().parents[1] / "data" / "sentiment_test.tsv"


def test_f1_per_class_on_the_separate_test_file():
    rows = sentiment.read_rows(TEST)
    ev = sentiment.evaluate(rows)
    assert ev["citizen"]["n"] == 32 and ev["operator"]["n"] == 16
    assert ev["citizen"]["macro_f1"] >= 0.85 and min(ev["citizen"]["f1"].values()) >= 0.75, ev
    assert min(ev["operator"]["f1"].values()) >= 0.85, ev
    rng = random.Random(5)
    vocab = syllable_vocab(t for _, _, t in rows)
    noisy = sentiment.evaluate([(r, lab, vietasr_like(t, rng, vocab=vocab)) for r, lab, t in rows])
    assert noisy["citizen"]["macro_f1"] >= 0.80, noisy


def test_call_level_scores_and_repeat_detection():
    calm = sentiment.score_call(["operator", "citizen"], ["dạ tổng đài xin nghe", "dạ em muốn hỏi giờ làm việc"])
    angry = sentiment.score_call(
        ["citizen", "operator", "citizen"],
        ["tôi báo mấy lần rồi mà vẫn chưa ai xuống", "dạ em xin lỗi anh",
         "mấy người làm ăn kiểu gì vậy hả, tôi đưa lên báo luôn"])
    assert not calm.frustrated and angry.frustrated and angry.frustration > calm.frustration
    assert angry.repeat_unresolved and not calm.repeat_unresolved
    assert [t["role"] for t in angry.turns] == ["citizen", "operator", "citizen"]
    assert angry.courtesy is not None and angry.courtesy > 0.5
    assert sentiment.said_unresolved_before("bao may lan roi ma van chua ai toi")
    assert not sentiment.said_unresolved_before("tôi muốn báo rác ở hẻm")
    empty = sentiment.score_call([], [])
    assert empty.frustration is None and not empty.frustrated
