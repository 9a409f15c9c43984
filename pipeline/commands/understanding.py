"""Understanding v2 commands: ``hotline eval two-issue FILE``, ``hotline eval sentiment FILE``,
``hotline sentiment train`` and ``hotline summary`` (summary of a text, for checking)."""

from __future__ import annotations

import json
from pathlib import Path

from models.topic_model import load_topic_model
from models.topic_training import read_topic_tsv
from pipeline.analysis import sentiment
from pipeline.analysis.summary import summarize_text
from pipeline.errors import HotlineError
from pipeline.eval.topics import score_topics, two_issue_recall


def _two_issue(args) -> int:
    model = load_topic_model(args.model)
    try:
        rows = read_topic_tsv(args.file, model.topics)
    except (OSError, ValueError) as exc:
        raise HotlineError(str(exc)) from exc
    print(score_topics(rows, model).table())
    print(two_issue_recall(rows, model).line())
    return 0


def _eval_sentiment(args) -> int:
    try:
        rows = sentiment.read_rows(args.file)
    except (OSError, ValueError) as exc:
        raise HotlineError(str(exc)) from exc
    print(json.dumps(sentiment.evaluate(rows), ensure_ascii=False, indent=2))
    return 0


def _train_sentiment(args) -> int:
    rows = sentiment.read_rows()
    model = sentiment.train(rows, seed=args.seed)
    meta = {"training_rows": len(rows), "augmented_variants_per_row": 3, "seed": args.seed}
    out = sentiment.save(model, Path(args.out) if args.out else sentiment.ARTIFACT, meta)
    print(f"rows={len(rows)} out={out}")
    return 0


def _summary(args) -> int:
    print(summarize_text(args.citizen, args.operator or ""))
    return 0


def register(sub, eval_sub) -> None:
    p = eval_sub.add_parser("two-issue", help="topic scores and main/second-topic recall on a two-issue TSV")
    p.add_argument("file", type=Path, help="TSV text, labels (main topic first)")
    p.add_argument("--model", type=Path, default=None, help="topic model folder (default: shipped artifact)")
    p.set_defaults(func=_two_issue)
    p = eval_sub.add_parser("sentiment", help="F1 per class of the sentiment model on a TSV role, label, text")
    p.add_argument("file", type=Path, help="TSV with columns role, label, text")
    p.set_defaults(func=_eval_sentiment)
    p = sub.add_parser("sentiment", help="sentiment model maintenance")
    s = p.add_subparsers(dest="sentiment_cmd", required=True, metavar="ACTION")
    t = s.add_parser("train", help="retrain the sentiment model from models/sentiment_corpus/train.tsv")
    t.add_argument("--out", type=Path, default=None, metavar="DIR", help="artifact folder to write (default: the shipped model's)")
    t.add_argument("--seed", type=int, default=0, help="seed of the augmentation")
    t.set_defaults(func=_train_sentiment)
    p = sub.add_parser("summary", help="one-line summary of what a citizen said (and the operator answered)")
    p.add_argument("citizen", help="what the citizen said")
    p.add_argument("--operator", default="", help="what the operator answered")
    p.set_defaults(func=_summary)
