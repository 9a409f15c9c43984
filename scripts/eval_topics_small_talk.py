"""Topic accuracy when each test utterance is wrapped in call small talk.

Real calls hold far more than the complaint: greetings, the caller's name, a phone
number, an address, thanks. This wraps every row of a labelled TSV (default
tests/data/topics_test.tsv) in small-talk lines written here (none of them in
models/topic_corpus/filler.tsv) as citizen segments, and compares classifying the
whole text with the production ``classify_call``.

    .venv/bin/python scripts/eval_topics_small_talk.py [FILE.tsv] [--model DIR]
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

import numpy as np

from models.topic_model import TOPICS, load_topic_model
from models.topic_training import _label_matrix, multilabel_scores, read_topic_tsv
from pipeline.analysis import topics
from pipeline.records import Segment

BEFORE = ["Alo, chào chị.", "Dạ em chào chị, cho em hỏi chút.", "Alo tổng đài phải không ạ?"]
AFTER = ["Số điện thoại của tôi là không chín không năm một hai ba bốn năm sáu.",
         "Tôi tên là Nguyễn Văn Hùng, nhà ở tổ dân phố 3.", "Dạ vâng, cảm ơn chị nhiều nhé.",
         "Dạ đúng rồi, số nhà 45 ạ.", "Vâng vâng, chị ghi giúp tôi với."]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", default="tests/data/topics_test.tsv")
    parser.add_argument("--model", default=None)
    args = parser.parse_args()
    model = load_topic_model(args.model)
    rows = read_topic_tsv(Path(args.file))
    rng = random.Random(0)
    calls = []
    for text, _ in rows:
        lines = [rng.choice(BEFORE), text] + rng.sample(AFTER, 3)
        calls.append([Segment(i * 5.0, i * 5.0 + 4, t, role="citizen") for i, t in enumerate(lines)])
    truth = _label_matrix([labels for _, labels in rows], TOPICS)

    def score(classify) -> str:
        pred = np.array([[s.assigned for s in classify(c)] for c in calls])
        r = multilabel_scores(truth, pred, TOPICS)
        return f"macro_f1={r['macro_f1']:.3f} micro_f1={r['micro_f1']:.3f}"

    print("whole text    ", score(lambda c: topics.classify_text(topics.citizen_text(c), model)))
    print("classify_call ", score(lambda c: topics.classify_call(c, model)), f"n={len(rows)}")


if __name__ == "__main__":
    main()
