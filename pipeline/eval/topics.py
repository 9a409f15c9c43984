"""Measure the topic classifier against a labelled TSV (columns ``text``, ``labels``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models.topic_model import TopicModel
from models.topic_training import multilabel_scores, read_topic_tsv
from pipeline.i18n import translator
from pipeline.report import formats
from pipeline.report.formats import topic_labels


@dataclass(frozen=True)
class TopicMetrics:
    topic: str  # taxonomy key
    precision: float  # 0..1
    recall: float  # 0..1
    f1: float  # 0..1
    support: int  # reference rows that carry the topic


@dataclass(frozen=True)
class TopicReport:
    per_topic: tuple[TopicMetrics, ...]  # in taxonomy order
    macro_f1: float  # mean of per-topic F1, every taxonomy key counted
    micro_f1: float  # F1 of all (row, topic) decisions pooled
    n: int  # rows scored

    def summary_line(self) -> str:
        """``macro_f1=0.xxx micro_f1=0.xxx n=N``, the line scripts parse."""
        return f"macro_f1={self.macro_f1:.3f} micro_f1={self.micro_f1:.3f} n={self.n}"

    def table(self, lang: str = "vi") -> str:
        """Per-topic table in fixed-width text, topics by their labels in ``lang`` (issue 29: a person reads it;
        :meth:`as_dict` keeps the keys), then the summary line."""
        t, labels = translator(lang), topic_labels(lang)
        names = [labels.get(m.topic, m.topic) for m in self.per_topic]
        heads = [t("ev_topic"), t("ev_precision"), t("ev_recall"), "F1", t("ev_support")]
        width = max(len(n) for n in [*names, heads[0]])
        cols = [max(len(h), 6) for h in heads[1:]]
        lines = [f"{heads[0]:<{width}}  " + "  ".join(f"{h:>{w}}" for h, w in zip(heads[1:], cols))]
        for name, m in zip(names, self.per_topic):
            cells = (formats.decimal(m.precision, 3, lang), formats.decimal(m.recall, 3, lang),
                     formats.decimal(m.f1, 3, lang), str(m.support))
            lines.append(f"{name:<{width}}  " + "  ".join(f"{c:>{w}}" for c, w in zip(cells, cols)))
        lines.append(self.summary_line())
        return "\n".join(lines)

    def as_dict(self) -> dict:
        """The report for machines (``hotline eval topics --json``): taxonomy keys, plain numbers."""
        return {"per_topic": [{"topic": m.topic, "precision": m.precision, "recall": m.recall, "f1": m.f1,
                               "support": m.support} for m in self.per_topic],
                "macro_f1": self.macro_f1, "micro_f1": self.micro_f1, "n": self.n}


def score_topics(rows: Sequence[tuple[str, Sequence[str]]], model: TopicModel) -> TopicReport:
    """Compare the model's assigned topics with the reference labels of ``rows``."""
    texts = [text for text, _ in rows]
    truth = np.zeros((len(rows), len(model.topics)), dtype=bool)
    for i, (_, labels) in enumerate(rows):
        for t in labels:
            truth[i, model.topics.index(t)] = True
    pred = model.assign(model.predict_proba(texts), texts) if rows else truth
    scores = multilabel_scores(truth, pred, model.topics)
    per_topic = tuple(
        TopicMetrics(t, m["precision"], m["recall"], m["f1"], m["support"])
        for t, m in scores["per_topic"].items()
    )
    return TopicReport(per_topic, scores["macro_f1"], scores["micro_f1"], len(rows))


def evaluate_topics(path: Path, model: TopicModel) -> TopicReport:
    """:func:`score_topics` over the TSV at ``path``. Raises ValueError for a bad row."""
    return score_topics(read_topic_tsv(Path(path), model.topics), model)


@dataclass(frozen=True)
class TwoIssueReport:
    n: int  # rows with two or more reference labels
    main_recall: float  # share of rows whose first (main) label is assigned
    second_recall: float  # share of rows whose second label is assigned
    both_recall: float  # share with every reference label assigned

    def line(self) -> str:
        return (f"two_issue n={self.n} main_recall={self.main_recall:.3f} second_recall={self.second_recall:.3f} "
                f"both={self.both_recall:.3f}")


def two_issue_recall(rows: Sequence[tuple[str, Sequence[str]]], model: TopicModel) -> TwoIssueReport:
    """Recall of the main and of the second topic on rows labelled ``main,second``."""
    rows = [(t, tuple(labels)) for t, labels in rows if len(labels) > 1]
    if not rows:
        return TwoIssueReport(0, 0.0, 0.0, 0.0)
    texts = [t for t, _ in rows]
    pred = model.assign(model.predict_proba(texts), texts)
    col = {t: i for i, t in enumerate(model.topics)}
    main = [pred[i, col[labels[0]]] for i, (_, labels) in enumerate(rows)]
    second = [pred[i, col[labels[1]]] for i, (_, labels) in enumerate(rows)]
    both = [all(pred[i, col[t]] for t in labels) for i, (_, labels) in enumerate(rows)]
    return TwoIssueReport(len(rows), float(np.mean(main)), float(np.mean(second)), float(np.mean(both)))
