"""Topic commands: ``hotline classify TEXT``, ``hotline eval topics FILE.tsv [--vietasr-like SEED]`` and
``hotline topics train [--from-db DB] [--out DIR]``, ``hotline topics retrain --db DB`` (gated
by macro-F1) and ``hotline topics retag --db DB``."""

from __future__ import annotations

import json
from pathlib import Path

from models.asr_noise import vietasr_like_rows
from models.topic_model import load_topic_model
from models.topic_training import read_topic_tsv
from pipeline.analysis.topics import assigned_topics, classify_text
from pipeline.errors import HotlineError
from pipeline.eval.topic_training import FIXED_TEST_FILES, retag_calls, retrain_from_qa, retrain_topic_model
from pipeline.eval.topics import score_topics, two_issue_recall


def _classify(args) -> int:
    scores = classify_text(args.text, load_topic_model(args.model))
    out = {
        "topics": list(assigned_topics(scores)),
        "scores": [{"topic": s.topic, "score": s.score, "assigned": s.assigned} for s in scores],
    }
    print(json.dumps(out, ensure_ascii=False, indent=2))
    return 0


def _eval_topics(args) -> int:
    model = load_topic_model(args.model)
    try:
        rows = read_topic_tsv(args.file, model.topics)
    except (OSError, ValueError) as exc:
        raise HotlineError(str(exc)) from exc
    if args.vietasr_like is not None:  # the same rows as scripts/make_asr_like.py --style vietasr --seed N writes
        rows = vietasr_like_rows(rows, args.vietasr_like)
    report = score_topics(rows, model)
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
        return 0
    print(f"model=v{model.version} {model.fingerprint} file={args.file.name}"
          + (f" vietasr_like_seed={args.vietasr_like}" if args.vietasr_like is not None else ""))
    two = two_issue_recall(rows, model)
    if two.n:
        print(two.line())
    print(report.table())  # ends with the summary line scripts parse
    return 0


def _train(args) -> int:
    done = retrain_topic_model(args.out, from_db=args.from_db, seed=args.seed)
    cv = done.model.meta["cv_metrics"]
    print(
        f"version={done.model.version} rows={done.rows} qa_calls={done.qa_calls} "
        f"cv_macro_f1={cv['macro_f1']:.3f} cv_micro_f1={cv['micro_f1']:.3f} out={done.out}"
    )
    return 0


def _retrain(args) -> int:
    tests = tuple(args.test) if args.test else FIXED_TEST_FILES
    try:
        done = retrain_from_qa(args.db, args.out, test_files=tests, holdout_share=args.holdout_share,
                               max_drop=args.max_drop, seed=args.seed)
    except (OSError, ValueError) as exc:
        raise HotlineError(str(exc)) from exc
    print("\n".join(done.lines()))
    return 0


def _retag(args) -> int:
    done = retag_calls(args.db, args.model)
    print(f"retag model={done.fingerprint} calls={done.calls} changed={done.changed}")
    return 0


def register(sub, eval_sub) -> None:
    p = sub.add_parser("classify", help="topics of a text, as JSON")
    p.add_argument("text", help="what the citizen said (any case, diacritics optional)")
    p.add_argument("--model", type=Path, default=None, help="topic model folder (default: shipped artifact)")
    p.set_defaults(func=_classify)

    p = eval_sub.add_parser("topics", help="precision/recall/F1 of the topic classifier on a labelled TSV")
    p.add_argument("file", type=Path, help="TSV with columns `text` and `labels` (comma-separated keys)")
    p.add_argument("--model", type=Path, default=None, help="topic model folder (default: shipped artifact)")
    p.add_argument("--json", action="store_true",
                   help="print the scores as JSON with the taxonomy keys (the table names topics by their labels)")
    p.add_argument("--vietasr-like", type=int, default=None, metavar="SEED",
                   help="score the file's viet-asr-like rendering instead (as scripts/make_asr_like.py "
                        "--style vietasr --seed SEED writes it), e.g. 1022")
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
    t = topics_sub.add_parser("retrain", help="train on the corpus + QA corrections; replace the model only if "
                              "macro-F1 holds on the fixed test files and held-out corrections")
    t.add_argument("--db", type=Path, required=True, metavar="DB", help="DuckDB warehouse holding QA's topic corrections")
    t.add_argument("--out", type=Path, default=None, metavar="DIR",
                   help="model folder in service, replaced on success (default: models/artifacts/topic_model)")
    t.add_argument("--test", type=Path, action="append", metavar="FILE.tsv",
                   help="fixed test file (repeatable; default: the topics_v2/two_issue holdouts, written and viet-asr-like)")
    t.add_argument("--holdout-share", type=float, default=0.2, help="share of corrected calls kept out to score on")
    t.add_argument("--max-drop", type=float, default=0.0, help="macro-F1 drop tolerated on any set (default 0)")
    t.add_argument("--seed", type=int, default=0, help="seed of the augmentation and folds")
    t.set_defaults(func=_retrain)
    t = topics_sub.add_parser("retag", help="re-tag the calls another topic model tagged, from their stored text")
    t.add_argument("--db", type=Path, required=True, metavar="DB", help="DuckDB warehouse to re-tag")
    t.add_argument("--model", type=Path, default=None, help="topic model folder (default: shipped artifact)")
    t.set_defaults(func=_retag)
