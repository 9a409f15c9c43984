"""Topic commands: ``hotline classify TEXT``, ``hotline eval topics FILE.tsv`` and
``hotline topics train [--from-db DB] [--out DIR]``."""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from pathlib import Path

from pipeline.errors import HotlineError

log = logging.getLogger(__name__)


def read_corrected_rows(db_path: Path) -> list[tuple[str, tuple[str, ...]]]:
    """Training rows from QA review in a warehouse: one per call that has topic corrections.

    Labels: the topics the model assigned (``call_topics`` with source ``model``), then
    every correction of ``topic_corrections`` in time order. Text: what the citizen said
    (:func:`pipeline.topics.citizen_text` over ``segments``, which hold redacted text).
    Calls without citizen text are skipped. The database is opened read-only.
    """
    import duckdb

    from models.topic_model import TOPICS
    from pipeline.topics import apply_corrections, citizen_text
    from pipeline.records import Segment

    if not Path(db_path).is_file():
        raise HotlineError(f"{db_path}: no such database; pass the warehouse file to --from-db")
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        corrections = con.execute(
            "SELECT call_id, topic, action FROM topic_corrections ORDER BY corrected_at, call_id"
        ).fetchall()
        called = sorted({c for c, _, _ in corrections})
        model_topics = con.execute(
            "SELECT call_id, topic FROM call_topics "
            "WHERE source = 'model' AND assigned AND call_id IN (SELECT unnest($ids)) ORDER BY call_id, topic",
            {"ids": called},
        ).fetchall()
        segments = con.execute(
            "SELECT call_id, seq, role, text FROM segments "
            "WHERE call_id IN (SELECT unnest($ids)) ORDER BY call_id, seq",
            {"ids": called},
        ).fetchall()
    except duckdb.Error as exc:
        raise HotlineError(f"{db_path}: cannot read topic corrections ({exc}); is it a hotline warehouse?") from exc
    finally:
        con.close()

    by_call_topics: dict[str, list[str]] = defaultdict(list)
    for call_id, topic in model_topics:
        by_call_topics[call_id].append(topic)
    by_call_fixes: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for call_id, topic, action in corrections:
        by_call_fixes[call_id].append((topic, action))
    by_call_segments: dict[str, list[Segment]] = defaultdict(list)
    for call_id, seq, role, text in segments:
        by_call_segments[call_id].append(Segment(start=float(seq), end=float(seq), text=text or "", role=role))

    rows, skipped = [], 0
    known = set(TOPICS)
    for call_id in called:
        text = citizen_text(by_call_segments[call_id])
        labels = apply_corrections(by_call_topics[call_id], by_call_fixes[call_id])
        labels = tuple(t for t in labels if t in known)
        if not text or not labels:
            skipped += 1
            continue
        rows.append((text, labels))
    log.info("%d reviewed calls usable for training, %d skipped (no citizen text)", len(rows), skipped)
    return rows


def _classify(args) -> int:
    from pipeline.topics import assigned_topics, classify_text, load_model

    scores = classify_text(args.text, load_model(args.model))
    out = {
        "topics": list(assigned_topics(scores)),
        "scores": [{"topic": s.topic, "score": s.score, "assigned": s.assigned} for s in scores],
    }
    print(json.dumps(out, ensure_ascii=False, indent=2))
    return 0


def _eval_topics(args) -> int:
    from pipeline.eval_topics import evaluate_topics
    from pipeline.topics import load_model

    try:
        report = evaluate_topics(args.file, load_model(args.model))
    except (OSError, ValueError) as exc:
        raise HotlineError(str(exc)) from exc
    print(report.table())
    return 0


def _train(args) -> int:
    from models.topic_model import ARTIFACT_DIR, TopicModelMissing, load_topic_model
    from models.topic_training import (
        CORPUS_PATH,
        CORPUS_V2_PATH,
        FILLER_PATH,
        GLOSSARY_PATH,
        read_topic_tsv,
        save_topic_model,
        train_topic_model,
    )

    out = Path(args.out) if args.out else ARTIFACT_DIR
    fillers = read_topic_tsv(FILLER_PATH)
    rows = read_topic_tsv(CORPUS_PATH) + read_topic_tsv(CORPUS_V2_PATH) + read_topic_tsv(GLOSSARY_PATH) + fillers
    from_db = read_corrected_rows(args.from_db) if args.from_db else []
    # Versions count up from whichever model this one replaces.
    previous = 0
    for candidate in (out, ARTIFACT_DIR):
        try:
            previous = max(previous, load_topic_model(candidate).version)
        except TopicModelMissing:
            pass
    model = train_topic_model(rows + from_db, seed=args.seed, version=previous + 1, fillers=fillers)
    save_topic_model(model, out, extra_meta={"qa_corrected_calls": len(from_db)})
    cv = model.meta["cv_metrics"]
    print(
        f"version={model.version} rows={len(rows) + len(from_db)} qa_calls={len(from_db)} "
        f"cv_macro_f1={cv['macro_f1']:.3f} cv_micro_f1={cv['micro_f1']:.3f} out={out}"
    )
    return 0


def register(sub, eval_sub) -> None:
    p = sub.add_parser("classify", help="topics of a text, as JSON")
    p.add_argument("text", help="what the citizen said (any case, diacritics optional)")
    p.add_argument("--model", type=Path, default=None, help="topic model folder (default: shipped artifact)")
    p.set_defaults(func=_classify)

    p = eval_sub.add_parser("topics", help="precision/recall/F1 of the topic classifier on a labelled TSV")
    p.add_argument("file", type=Path, help="TSV with columns `text` and `labels` (comma-separated keys)")
    p.add_argument("--model", type=Path, default=None, help="topic model folder (default: shipped artifact)")
    p.set_defaults(func=_eval_topics)

    p = sub.add_parser("topics", help="topic model maintenance")
    topics_sub = p.add_subparsers(dest="topics_command", required=True, metavar="ACTION")
    t = topics_sub.add_parser("train", help="retrain the topic model (corpus + QA corrections); new version")
    t.add_argument("--from-db", type=Path, default=None, metavar="DB",
                   help="also train on calls whose topics QA corrected in this DuckDB warehouse")
    t.add_argument("--out", type=Path, default=None, metavar="DIR",
                   help="artifact folder to write (default: models/artifacts/topic_model)")
    t.add_argument("--seed", type=int, default=0, help="seed of the augmentation and folds")
    t.set_defaults(func=_train)
