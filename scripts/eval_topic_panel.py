"""Score a topic model on every topic test file, written and viet-asr-like, in one table.

Which file is what (docs/understanding.md, "Topics"): ``topics_independent`` (132 rows written
by the lead from the guideline; scored once with v4, now a development set), the v2 and
two-issue dev files (tuned on) and holdouts (never tuned on), the old ``topics_test``. The
viet-asr-like rendering is made in memory, as ``scripts/make_asr_like.py --style vietasr
--seed SEED`` writes it::

    PYTHONPATH=. .venv/bin/python scripts/eval_topic_panel.py --model models/artifacts/topic_model
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from models.asr_noise import vietasr_like_rows  # noqa: E402
from models.topic_model import load_topic_model  # noqa: E402
from models.topic_training import read_topic_tsv  # noqa: E402
from pipeline.eval.topics import score_topics, two_issue_recall  # noqa: E402

DATA = ROOT / "tests" / "data"
FILES = (  # (name, role)
    ("topics_independent", "dev (was held out for v4)"),
    ("topics_v2_dev", "dev"),
    ("topics_two_issue_dev", "dev"),
    ("topics_v2_holdout", "holdout"),
    ("topics_two_issue_holdout", "holdout"),
    ("topics_test", "holdout (old)"),
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None, help="topic model folder (default: shipped)")
    parser.add_argument("--seed", type=int, default=1022, help="seed of the viet-asr-like rendering")
    parser.add_argument("--per-topic", action="store_true", help="also print each file's per-topic table")
    parser.add_argument("--errors", default="", metavar="NAME", help="print the wrong rows of this file")
    args = parser.parse_args(argv)
    model = load_topic_model(args.model)
    print(f"model v{model.version} {model.fingerprint}")
    for name, role in FILES:
        rows = read_topic_tsv(DATA / f"{name}.tsv", model.topics)
        for form, data in (("written", rows), ("vietasr", vietasr_like_rows(rows, args.seed))):
            rep = score_topics(data, model)
            low = min(rep.per_topic, key=lambda m: m.f1 if m.support else 2.0)
            two = two_issue_recall(data, model)
            print(f"{name:26s} {role:26s} {form:8s} macro={rep.macro_f1:.3f} low={low.topic}:{low.f1:.2f} "
                  f"second={two.second_recall:.3f} main={two.main_recall:.3f} n2={two.n}")
            if args.per_topic:
                print(rep.table())
            if args.errors == name:
                texts = [t for t, _ in data]
                pred = model.assign(model.predict_proba(texts), texts)
                for (t, labels), p in zip(data, pred):
                    got = tuple(k for k, a in zip(model.topics, p) if a)
                    if set(got) != set(labels):
                        print(f"  [{form}] want={','.join(labels)} got={','.join(got)} | {t}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
