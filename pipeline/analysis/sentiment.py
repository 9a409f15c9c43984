"""Sentiment and frustration per turn and per call, from a small model trained here.

No Vietnamese sentiment weights can be installed offline, so two small classifiers are
trained on hand-written turns (``models/sentiment_corpus/train.tsv``, with
viet-asr-like and Whisper-like variants of each):

- citizen turns: ``calm``, ``worried``, ``annoyed``, ``angry``; a turn's *frustration*
  is P(annoyed) + P(angry);
- operator turns: ``courteous`` or ``not_courteous``; a turn's *courtesy* is
  P(courteous).

Per call: ``frustration`` is the mean of the citizen's two most frustrated turns (one
misheard turn does not decide, a call that ends in anger does), ``frustrated`` when it
is at least :data:`FRUSTRATED_AT`; ``courtesy`` is the operator's lowest turn courtesy.
``repeat_unresolved``: the caller says the problem was reported before and is still
not solved ("báo mấy lần rồi", "vẫn chưa") — with ``frustrated`` it sends the call up
the review queue.

Features: TF-IDF over word 1–2-grams and char 2–5-grams of the normalised and folded
text, one multinomial logistic regression per role. The artifact is
``models/artifacts/sentiment/model.joblib`` (``hotline sentiment train`` rebuilds it).
"""

from __future__ import annotations

import csv
import functools
import json
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models.asr_noise import make_asr_like, syllable_vocab, vietasr_like
from models.topic_model import accented_form, folded_form
from pipeline.textnorm import fold_accents

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "models" / "sentiment_corpus" / "train.tsv"
ARTIFACT = ROOT / "models" / "artifacts" / "sentiment"
CITIZEN_LABELS = ("calm", "worried", "annoyed", "angry")
OPERATOR_LABELS = ("courteous", "not_courteous")
FRUSTRATED_AT = 0.5  # per-call frustration (0..1) from which a caller counts as frustrated

_REPEAT = re.compile(
    r"\b(lan thu (hai|ba|bon|nam|\d+)|may lan roi|bao (may|nhieu) lan|(bao|phan anh|goi) (roi|hoai|mai)|"
    r"(bao|phan anh|goi) (tu|may) (tuan|thang|hom|bua)|van chua|van vay|van nhu cu|chua (ai|thay ai) (xuong|toi|giai quyet)|"
    r"hen (hoai|mai)|ca chuc lan)\b"
)


def read_rows(path: Path = CORPUS) -> list[tuple[str, str, str]]:
    """``(role, label, text)`` rows of a sentiment TSV; ValueError naming a bad line."""
    rows = []
    with open(path, encoding="utf-8", newline="") as fh:
        for line, rec in enumerate(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE), start=2):
            role, label = rec.get("role"), rec.get("label")
            allowed = CITIZEN_LABELS if role == "citizen" else OPERATOR_LABELS if role == "operator" else ()
            if label not in allowed or not rec.get("text"):
                raise ValueError(f"{path}:{line}: role {role!r} / label {label!r} / text must be set and valid")
            rows.append((role, label, rec["text"]))
    return rows


def _pipeline(seed: int):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline

    feats = FeatureUnion([
        ("w", TfidfVectorizer(preprocessor=accented_form, token_pattern=r"(?u)\b\w+\b", ngram_range=(1, 2),
                              sublinear_tf=True)),
        ("wf", TfidfVectorizer(preprocessor=folded_form, token_pattern=r"(?u)\b\w+\b", ngram_range=(1, 2),
                               sublinear_tf=True)),
        ("c", TfidfVectorizer(preprocessor=folded_form, analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)),
    ])
    return Pipeline([("f", feats), ("lr", LogisticRegression(C=10.0, max_iter=3000, random_state=seed))])


def augment(rows: Sequence[tuple[str, str, str]], seed: int = 0, variants: int = 3) -> list[tuple[str, str, str]]:
    """Rows plus ASR-like variants: viet-asr-like (two) and Whisper-like (one) per row."""
    rng = random.Random(seed)
    vocab = syllable_vocab(t for _, _, t in rows)
    out = list(rows)
    for role, label, text in rows:
        for i in range(variants):
            noisy = make_asr_like(text, rng) if i == variants - 1 else vietasr_like(text, rng, vocab=vocab)
            out.append((role, label, noisy))
    return out


@dataclass(frozen=True, eq=False)
class SentimentModel:
    citizen: object  # sklearn pipeline over CITIZEN_LABELS
    operator: object  # sklearn pipeline over OPERATOR_LABELS

    def proba(self, role: str, texts: Sequence[str]) -> np.ndarray:
        """Probabilities, columns in CITIZEN_LABELS / OPERATOR_LABELS order."""
        pipe, labels = (self.operator, OPERATOR_LABELS) if role == "operator" else (self.citizen, CITIZEN_LABELS)
        p = pipe.predict_proba(list(texts))
        order = [list(pipe.classes_).index(lab) for lab in labels]
        return p[:, order]


def train(rows: Sequence[tuple[str, str, str]], seed: int = 0) -> SentimentModel:
    data = augment(rows, seed)
    cit = [(t, lab) for r, lab, t in data if r == "citizen"]
    op = [(t, lab) for r, lab, t in data if r == "operator"]
    c = _pipeline(seed).fit([t for t, _ in cit], [lab for _, lab in cit])
    o = _pipeline(seed).fit([t for t, _ in op], [lab for _, lab in op])
    return SentimentModel(c, o)


def save(model: SentimentModel, directory: Path = ARTIFACT, meta: dict | None = None) -> Path:
    import joblib

    directory.mkdir(parents=True, exist_ok=True)
    joblib.dump({"citizen": model.citizen, "operator": model.operator}, directory / "model.joblib", compress=3)
    (directory / "meta.json").write_text(json.dumps(meta or {}, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    load.cache_clear()
    return directory


@functools.lru_cache(maxsize=2)
def load(directory: Path = ARTIFACT) -> SentimentModel:
    """The shipped model; trained from the corpus (a few seconds) when the artifact is missing."""
    import joblib

    path = Path(directory) / "model.joblib"
    if not path.is_file():
        return train(read_rows())
    d = joblib.load(path)
    return SentimentModel(d["citizen"], d["operator"])


def said_unresolved_before(text: str) -> bool:
    """The caller says it was reported before and is still not solved."""
    return _REPEAT.search(fold_accents(text)) is not None


@dataclass(frozen=True)
class CallSentiment:
    turns: tuple[dict, ...]  # per segment: seq, role, label, score (frustration or courtesy, 0..1)
    frustration: float | None  # 0..1, None without citizen turns
    frustrated: bool
    courtesy: float | None  # operator's lowest turn courtesy, None without operator turns
    repeat_unresolved: bool

    def as_dict(self) -> dict:
        return {"turns": list(self.turns), "frustration": self.frustration, "frustrated": self.frustrated,
                "courtesy": self.courtesy, "repeat_unresolved": self.repeat_unresolved}


def score_call(roles: Sequence[str | None], texts: Sequence[str], model: SentimentModel | None = None) -> CallSentiment:
    """Per-turn and per-call scores; turns of unknown role are read as the citizen's."""
    model = model or load()
    turns: list[dict] = []
    frus, cour = [], []
    cit_idx = [i for i, (r, t) in enumerate(zip(roles, texts)) if r != "operator" and t and t.strip()]
    op_idx = [i for i, (r, t) in enumerate(zip(roles, texts)) if r == "operator" and t and t.strip()]
    by_seq: dict[int, dict] = {}
    if cit_idx:
        p = model.proba("citizen", [texts[i] for i in cit_idx])
        for i, row in zip(cit_idx, p):
            f = float(row[2] + row[3])
            frus.append(f)
            by_seq[i] = {"seq": i, "role": roles[i] or "unknown", "label": CITIZEN_LABELS[int(row.argmax())],
                         "score": round(f, 4)}
    if op_idx:
        p = model.proba("operator", [texts[i] for i in op_idx])
        for i, row in zip(op_idx, p):
            c = float(row[0])
            cour.append(c)
            by_seq[i] = {"seq": i, "role": "operator", "label": OPERATOR_LABELS[int(row.argmax())],
                         "score": round(c, 4)}
    turns = [by_seq[i] for i in sorted(by_seq)]
    frustration = float(np.mean(sorted(frus, reverse=True)[:2])) if frus else None
    citizen_text = " ".join(texts[i] for i in cit_idx)
    return CallSentiment(
        turns=tuple(turns),
        frustration=round(frustration, 4) if frustration is not None else None,
        frustrated=bool(frustration is not None and frustration >= FRUSTRATED_AT),
        courtesy=round(min(cour), 4) if cour else None,
        repeat_unresolved=said_unresolved_before(citizen_text),
    )


def f1_per_class(truth: Sequence[str], pred: Sequence[str], labels: Sequence[str]) -> dict[str, float]:
    out = {}
    for lab in labels:
        tp = sum(t == lab and p == lab for t, p in zip(truth, pred))
        fp = sum(t != lab and p == lab for t, p in zip(truth, pred))
        fn = sum(t == lab and p != lab for t, p in zip(truth, pred))
        out[lab] = 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)
    return out


def evaluate(rows: Sequence[tuple[str, str, str]], model: SentimentModel | None = None) -> dict:
    """F1 per class and macro-F1 per role on labelled ``(role, label, text)`` rows."""
    model = model or load()
    out = {}
    for role, labels in (("citizen", CITIZEN_LABELS), ("operator", OPERATOR_LABELS)):
        sel = [(lab, t) for r, lab, t in rows if r == role]
        if not sel:
            continue
        p = model.proba(role, [t for _, t in sel])
        pred = [labels[int(i)] for i in p.argmax(axis=1)]
        f1 = f1_per_class([lab for lab, _ in sel], pred, labels)
        out[role] = {"f1": f1, "macro_f1": float(np.mean(list(f1.values()))), "n": len(sel),
                     "accuracy": float(np.mean([a == b for (a, _), b in zip(sel, pred)]))}
    return out
