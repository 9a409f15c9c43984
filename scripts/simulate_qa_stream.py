"""A simulated QA correction stream through `hotline topics retrain`'s gate (issue 31).

Calls: the viet-asr-like dev rows (tests/data/topics_v2_dev_vietasr.tsv, topics_two_issue_dev_vietasr.tsv),
loaded into a fresh warehouse with the topics the model in service gives them. Two streams:

- careful QA: every call whose topics are wrong is corrected to its reference labels;
- careless QA: the same calls, but each correction puts a random wrong topic instead.

Each stream goes through pipeline.eval.topic_training.retrain_from_qa (train on corpus + corrections,
score on the fixed test files and the held-out corrections, replace only if macro-F1 holds). With
--fast, the model in service and the candidates are trained with small options (1 ASR variant,
3 folds) so a run takes minutes on 2 shared cores; the gate is the same.

    .venv/bin/python scripts/simulate_qa_stream.py --fast --work /tmp/qa-stream
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from models import topic_training as T  # noqa: E402
from models.topic_model import TOPICS, load_topic_model  # noqa: E402
from pipeline.analysis.topics import assigned_topics  # noqa: E402
from pipeline.eval.topic_training import retrain_from_qa  # noqa: E402
from pipeline.warehouse import db  # noqa: E402

CALLS = ["topics_v2_dev_vietasr", "topics_two_issue_dev_vietasr"]


def build(path: Path, model, rows, careless: bool, rng: random.Random) -> int:
    con = db.connect(path, create=True)
    t0 = datetime(2026, 11, 1, 8, 0)
    wrong = 0
    for i, ((text, labels), scores) in enumerate(zip(rows, model.predict_many([t for t, _ in rows]))):
        cid = f"sim{i:04d}"
        con.execute("INSERT INTO calls (call_id, recording_sha256, status, started_at, topic_model) VALUES (?, ?, 'done', ?, ?)",
                    [cid, f"sim-{i}", t0 + timedelta(hours=i), model.fingerprint])
        con.execute("INSERT INTO segments (call_id, seq, start_s, end_s, role, text) VALUES (?, 0, 0, 5, 'citizen', ?)",
                    [cid, text])
        for s in scores:
            con.execute("INSERT INTO call_topics VALUES (?, ?, ?, 'model', ?)", [cid, s.topic, s.score, s.assigned])
        got = set(assigned_topics(scores))
        if got == set(labels):
            continue
        wrong += 1
        target = set(labels)
        if careless:
            target = {rng.choice([t for t in TOPICS if t not in labels])}
        at = t0 + timedelta(hours=i, minutes=5)
        for t in sorted(got - target):
            con.execute("INSERT INTO topic_corrections VALUES (?, ?, 'remove', 'qa-sim', ?)", [cid, t, at])
        for t in sorted(target - got):
            con.execute("INSERT INTO topic_corrections VALUES (?, ?, 'add', 'qa-sim', ?)", [cid, t, at])
    con.close()
    return wrong


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, required=True, help="scratch folder (warehouses, models); emptied first")
    ap.add_argument("--fast", action="store_true", help="small training options (see the module's doc)")
    args = ap.parse_args(argv)
    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)
    opts = T.TopicTrainOptions(asr_variants=1, cv_folds=3, filler_variants=1) if args.fast else T.TopicTrainOptions()
    fillers = T.read_topic_tsv(T.FILLER_PATH)
    corpus = (T.read_topic_tsv(T.CORPUS_PATH) + T.read_topic_tsv(T.CORPUS_V2_PATH) + T.read_topic_tsv(T.GLOSSARY_PATH)
              + fillers)

    def trainer(rows, version):
        return T.train_topic_model(rows, seed=0, version=version, fillers=fillers, options=opts)

    service = args.work / "model"
    if args.fast:
        T.save_topic_model(trainer(corpus, 1), service)
    else:
        shutil.copytree(ROOT / "models" / "artifacts" / "topic_model", service)
    rows = [r for name in CALLS for r in T.read_topic_tsv(ROOT / "tests" / "data" / f"{name}.tsv")]
    for stream in ("careless", "careful"):
        model = load_topic_model(service)
        wh = args.work / f"{stream}.duckdb"
        wrong = build(wh, model, rows, stream == "careless", random.Random(7))
        print(f"== {stream} QA: {len(rows)} calls, {wrong} corrected; model in service {model.fingerprint}")
        done = retrain_from_qa(wh, service, trainer=trainer)
        print("\n".join(done.lines()), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
