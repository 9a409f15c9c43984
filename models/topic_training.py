"""Training the topic classifier of :mod:`models.topic_model`: corpus files, ASR-like
augmentation, cross-validated thresholds and calibration, metrics, saving the artifact.

The corpus is ``topic_corpus/train.tsv`` (hand-written calls) plus ``train_v2.tsv`` and
``topic_corpus/glossary.tsv`` (short domain terms per topic, for vocabulary the calls
did not happen to use). Training rows are augmented with ASR-like variants (lower case, no punctuation, lost
diacritics, swapped tones, dropped syllables, fillers) because the model reads
Whisper output, not written text.

The pipeline never imports this module: it loads the shipped artifact through
:func:`models.topic_model.load_topic_model`. Evaluations and ``hotline topics train`` do.
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from models import topic_model as _inference
from models.asr_noise import make_asr_like, syllable_vocab, vietasr_like
from models.topic_model import (
    FALLBACK_TOPIC,
    META_FILE,
    MODELS_DIR,
    PIPELINE_FILE,
    TOPICS,
    TopicModel,
    accented_form,
    assign_topics,
    calibrate,
    empty_mask,
    folded_form,
    _logit,
)

CORPUS_PATH = MODELS_DIR / "topic_corpus" / "train.tsv"  # hand-written citizen utterances
CORPUS_V2_PATH = MODELS_DIR / "topic_corpus" / "train_v2.tsv"  # more of them: two issues, encroachment, "other"
CORPUS_V3_PATH = MODELS_DIR / "topic_corpus" / "train_v3.tsv"  # v5: colloquial "other" calls, guideline boundaries
GLOSSARY_PATH = MODELS_DIR / "topic_corpus" / "glossary.tsv"  # domain terms per topic
FILLER_PATH = MODELS_DIR / "topic_corpus" / "filler.tsv"  # call small talk: names, numbers, thanks (other)


@dataclass(frozen=True)
class TopicTrainOptions:
    """Everything that shapes a trained model; defaults in one place."""

    asr_variants: int = 2  # ASR-like copies generated per training row
    asr_style: str = "mixed"  # "vietasr" (models.asr_noise), "whisper" (make_asr_like) or "mixed" (alternate)
    pair_examples: float = 0.6  # two-issue examples (two rows of different topics joined), per training row
    filler_variants: int = 2  # copies of each topical row with call small talk around it
    cv_folds: int = 5  # folds used to choose thresholds and report metrics
    c: float = 20.0  # inverse L2 regularisation of each logistic regression
    max_char_features: int = 40000  # per char_wb vectoriser; bounds the artifact size
    max_word_features: int = 20000  # per word vectoriser
    threshold_grid: tuple[float, ...] = tuple(round(x, 2) for x in np.arange(0.04, 0.91, 0.02))


# --- corpus files ------------------------------------------------------------------------


def read_topic_tsv(path: Path, topics: Sequence[str] = TOPICS) -> list[tuple[str, tuple[str, ...]]]:
    """Rows ``(text, labels)`` of a TSV with columns ``text`` and ``labels``
    (comma-separated taxonomy keys). Raises ValueError naming the line of a bad row."""
    known = set(topics)
    rows: list[tuple[str, tuple[str, ...]]] = []
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        if not reader.fieldnames or not {"text", "labels"} <= set(reader.fieldnames):
            raise ValueError(f"{path}: needs a header with columns 'text' and 'labels'")
        for line, rec in enumerate(reader, start=2):
            labels = tuple(k.strip() for k in (rec["labels"] or "").split(",") if k.strip())
            unknown = [k for k in labels if k not in known]
            if not labels or unknown:
                raise ValueError(
                    f"{path}:{line}: labels {rec['labels']!r} must be comma-separated keys of "
                    f"models/taxonomy.json ({', '.join(topics)})"
                )
            rows.append((rec["text"], labels))
    return rows


def corpus_rows() -> tuple[list[tuple[str, tuple[str, ...]]], list[tuple[str, tuple[str, ...]]]]:
    """``(rows, fillers)``: every shipped training row (calls v1–v3, glossary, fillers) and,
    of them, the small-talk fillers — what ``hotline topics train`` and ``retrain`` learn from."""
    fillers = read_topic_tsv(FILLER_PATH)
    rows = [r for path in (CORPUS_PATH, CORPUS_V2_PATH, CORPUS_V3_PATH, GLOSSARY_PATH) for r in read_topic_tsv(path)]
    return rows + fillers, fillers


# --- training and metrics ---------------------------------------------------------------


def fit_calibration(raw: np.ndarray, truth: np.ndarray) -> list[tuple[float, float]]:
    """Platt parameters per column, fitted on out-of-fold probabilities.

    The regularised logistic regressions are under-confident on calls unlike their
    training rows (out of fold, a raw 0.15 is right about 40% of the time), so the raw
    outputs are rescaled to match observed frequencies.
    """
    from sklearn.linear_model import LogisticRegression

    params = []
    for j in range(raw.shape[1]):
        lr = LogisticRegression(C=1e4).fit(_logit(raw[:, [j]]), truth[:, j])
        params.append((float(lr.coef_[0, 0]), float(lr.intercept_[0])))
    return params


def expected_calibration_error(proba: np.ndarray, truth: np.ndarray, bins: int = 10) -> float:
    """|mean probability - observed frequency| over equal-width bins, weighted by size."""
    p, t = np.ravel(proba), np.ravel(truth).astype(float)
    which = np.minimum((p * bins).astype(int), bins - 1)
    return float(sum(
        np.mean(which == b) * abs(p[which == b].mean() - t[which == b].mean())
        for b in range(bins) if np.any(which == b)
    ))


def _build_pipeline(opts: TopicTrainOptions, seed: int):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import FeatureUnion, Pipeline

    def words(form):
        # Vietnamese has meaningful one-letter syllables ("ở", "đi" is two) that the
        # default token pattern (2+ characters) would throw away.
        return TfidfVectorizer(
            preprocessor=form, token_pattern=r"(?u)\b\w+\b", ngram_range=(1, 2),
            sublinear_tf=True, max_features=opts.max_word_features, dtype=np.float32,
        )

    def chars(form):
        return TfidfVectorizer(
            preprocessor=form, analyzer="char_wb", ngram_range=(2, 5), min_df=2,
            sublinear_tf=True, max_features=opts.max_char_features, dtype=np.float32,
        )

    features = FeatureUnion([
        ("word_accented", words(accented_form)),
        ("word_folded", words(folded_form)),
        ("char_accented", chars(accented_form)),
        ("char_folded", chars(folded_form)),
    ])
    clf = OneVsRestClassifier(LogisticRegression(C=opts.c, max_iter=2000, random_state=seed))
    return Pipeline([("features", features), ("clf", clf)])


def _label_matrix(label_sets: Sequence[Sequence[str]], topics: Sequence[str]) -> np.ndarray:
    index = {t: i for i, t in enumerate(topics)}
    y = np.zeros((len(label_sets), len(topics)), dtype=int)
    for r, labels in enumerate(label_sets):
        for t in labels:
            y[r, index[t]] = 1
    return y


def _f1(tp: float, fp: float, fn: float) -> float:
    return 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)


def multilabel_scores(y_true: np.ndarray, y_pred: np.ndarray, topics: Sequence[str]) -> dict:
    """Precision/recall/F1 per topic plus macro and micro F1 of boolean matrices."""
    per_topic = {}
    tps = fps = fns = 0
    for j, t in enumerate(topics):
        tp = int(np.sum(y_true[:, j] & y_pred[:, j]))
        fp = int(np.sum(~y_true[:, j] & y_pred[:, j]))
        fn = int(np.sum(y_true[:, j] & ~y_pred[:, j]))
        tps, fps, fns = tps + tp, fps + fp, fns + fn
        per_topic[t] = {
            "precision": tp / (tp + fp) if tp + fp else 0.0,
            "recall": tp / (tp + fn) if tp + fn else 0.0,
            "f1": _f1(tp, fp, fn),
            "support": int(np.sum(y_true[:, j])),
        }
    return {
        "per_topic": per_topic,
        "macro_f1": float(np.mean([m["f1"] for m in per_topic.values()])),
        "micro_f1": _f1(tps, fps, fns),
    }


def with_small_talk(text: str, fillers: Sequence[str], rng: random.Random) -> str:
    """``text`` with one to three lines of call small talk before and after it."""
    picked = rng.sample(list(fillers), k=min(len(fillers), rng.randint(1, 3)))
    cut = rng.randint(0, len(picked))
    return " ".join(picked[:cut] + [text] + picked[cut:])


def train_topic_model(
    rows: Iterable[tuple[str, Sequence[str]]],
    *,
    seed: int = 0,
    version: int = 1,
    options: TopicTrainOptions | None = None,
    topics: Sequence[str] = TOPICS,
    fillers: Iterable[tuple[str, Sequence[str]]] | None = None,
) -> TopicModel:
    """Train on ``(text, labels)`` rows; thresholds and reported metrics come from
    cross-validation in which a row and its ASR-like variants stay in the same fold.

    Raises ValueError if a label is not a taxonomy key or a topic has fewer examples
    than folds.
    """
    opts = options or TopicTrainOptions()
    topics = tuple(topics)
    rows = [(str(text), tuple(labels)) for text, labels in rows]
    unknown = sorted({t for _, labels in rows for t in labels} - set(topics))
    if unknown:
        raise ValueError(f"labels not in the taxonomy: {', '.join(unknown)}")
    rng = random.Random(seed)
    fillers = [t for t, _ in fillers or ()]
    texts, label_sets, groups = [], [], []
    vocab = syllable_vocab(t for t, _ in rows)

    def noisy(text: str, i: int) -> str:
        # viet-asr (the default recogniser) keeps diacritics and mishears syllables;
        # Whisper loses diacritics: "mixed" trains on both.
        if opts.asr_style == "vietasr" or (opts.asr_style == "mixed" and i % 2 == 0):
            return vietasr_like(text, rng, vocab=vocab)
        return make_asr_like(text, rng)

    for g, (text, labels) in enumerate(rows):
        variants = [text] + [noisy(text, i) for i in range(opts.asr_variants)]
        if fillers and FALLBACK_TOPIC not in labels:
            # A real call wraps the complaint in a name, a number, an address, thanks:
            # the whole-call text must still read as the complaint.
            variants += [with_small_talk(text, fillers, rng) for _ in range(opts.filler_variants)]
        for v in variants:
            texts.append(v)
            label_sets.append(labels)
            groups.append(g)
    # Out-of-fold probabilities, folds over original rows (variants share a fold).
    fold_of_row = np.random.default_rng(seed).permutation(len(rows)) % opts.cv_folds
    # Two issues in one call: without examples of it, cross-validation learns to keep
    # only the main topic. Join two rows of different topics from the same fold (so
    # no row crosses folds), noisy as ASR output half the time.
    single = [g for g, (_, labels) in enumerate(rows) if len(labels) == 1 and FALLBACK_TOPIC not in labels]
    by_fold: dict[int, list[int]] = {}
    for g in single:
        by_fold.setdefault(int(fold_of_row[g]), []).append(g)
    n_pairs = int(opts.pair_examples * len(rows))
    tries = 0
    while n_pairs > 0 and tries < 20 * n_pairs and len(single) > 1:
        tries += 1
        a = rng.choice(single)
        pool = by_fold[int(fold_of_row[a])]
        b = rng.choice(pool)
        if rows[a][1] == rows[b][1]:
            continue
        text = rows[a][0] + " " + rows[b][0]
        texts.append(noisy(text, rng.randrange(2)) if rng.random() < 0.5 else text)
        label_sets.append(tuple(dict.fromkeys(rows[a][1] + rows[b][1])))
        groups.append(a)
        n_pairs -= 1
    y = _label_matrix(label_sets, topics)
    counts = _label_matrix([labels for _, labels in rows], topics).sum(axis=0)
    thin = [t for t, n in zip(topics, counts) if n < opts.cv_folds]
    if thin:
        raise ValueError(
            f"topics with fewer than {opts.cv_folds} training rows: {', '.join(thin)}; "
            "add rows for them to the corpus"
        )

    fold = fold_of_row[np.asarray(groups)]
    oof = np.zeros(y.shape, dtype=float)
    for k in range(opts.cv_folds):
        test = fold == k
        pipe = _build_pipeline(opts, seed).fit([t for t, m in zip(texts, ~test) if m], y[~test])
        oof[test] = pipe.predict_proba([t for t, m in zip(texts, test) if m])

    raw_ece = expected_calibration_error(oof, y)
    platt = fit_calibration(oof, y)
    oof = calibrate(oof, platt)
    thresholds, relative = _choose_cuts(oof, y.astype(bool), topics, texts, opts.threshold_grid)

    calibration = dict(zip(topics, platt))
    model = TopicModel(
        _build_pipeline(opts, seed).fit(texts, y), topics, thresholds, {"other_rule": True},
        relative_cut=relative, calibration=calibration,
    )
    cv_pred = model.assign(oof, texts)
    cv = multilabel_scores(y.astype(bool), cv_pred, topics)
    cv["brier"] = float(np.mean((oof - y) ** 2))
    cv["ece"] = expected_calibration_error(oof, y)
    cv["ece_before_calibration"] = raw_ece
    cv["folds"] = opts.cv_folds
    import sklearn

    meta = {
        "version": int(version),
        "trained_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "training_rows": len(rows),
        "training_examples": len(texts),
        "asr_variants_per_row": opts.asr_variants,
        "asr_style": opts.asr_style,
        "seed": seed,
        "sklearn_version": sklearn.__version__,
        "topics": list(topics),
        "thresholds": thresholds,
        "relative_cut": relative,
        "calibration": {t: list(ab) for t, ab in calibration.items()},
        "cv_metrics": _rounded(cv),
        "options": {"c": opts.c, "cv_folds": opts.cv_folds, "pair_examples": opts.pair_examples},
        "other_rule": True,  # other's threshold decides off-topic rows (models.topic_model.assign_topics)
    }
    return TopicModel(model.pipeline, topics, thresholds, meta, relative, calibration)


OTHER_OFF = 1.01  # an ``other`` threshold no probability reaches: the other_wins rule off


def _choose_cuts(
    oof: np.ndarray, truth: np.ndarray, topics: Sequence[str], texts: Sequence[str], grid: Sequence[float]
) -> tuple[dict[str, float], float]:
    """Per-topic thresholds and the relative cut that maximise the cross-validated macro
    F1 of the final decision (see :func:`assign_topics`), by coordinate ascent from each
    topic's own best threshold. Ties go to the value nearest 0.5, the least surprising."""
    n = len(topics)
    own_best = [
        max(grid, key=lambda c: (_f1(*_counts(truth[:, j], oof[:, j] >= c)), -abs(c - 0.5)))
        for j in range(n)
    ]
    k_other = list(topics).index(FALLBACK_TOPIC)
    own_best[k_other] = OTHER_OFF  # other's own threshold (other_wins) starts off
    cut = np.array(own_best + [0.0])  # last coordinate: the relative cut, starting off
    empty = empty_mask(texts)

    def macro(c: np.ndarray) -> float:
        pred = assign_topics(oof, c[:n], topics, empty, relative=c[n], other_wins=True)
        return multilabel_scores(truth, pred, topics)["macro_f1"]

    best = macro(cut)
    for _ in range(4):
        improved = False
        for j in range(n + 1):
            for c in (0.0, *grid) if j == n else (*grid, OTHER_OFF) if j == k_other else grid:
                trial = cut.copy()
                trial[j] = c
                score = macro(trial)
                closer = abs(c - 0.5) < abs(cut[j] - 0.5)
                if score > best + 1e-9 or (abs(score - best) <= 1e-9 and closer):
                    improved = improved or score > best + 1e-9
                    best, cut = max(best, score), trial
        if not improved:
            break
    return {t: float(c) for t, c in zip(topics, cut[:n])}, float(cut[n])


def _counts(truth: np.ndarray, pred: np.ndarray) -> tuple[int, int, int]:
    truth, pred = truth.astype(bool), pred.astype(bool)
    return int(np.sum(truth & pred)), int(np.sum(~truth & pred)), int(np.sum(truth & ~pred))


def _rounded(obj):
    if isinstance(obj, float):
        return round(obj, 4)
    if isinstance(obj, dict):
        return {k: _rounded(v) for k, v in obj.items()}
    return obj


# --- artifact ----------------------------------------------------------------------------


def save_topic_model(model: TopicModel, directory: Path, *, extra_meta: dict | None = None) -> Path:
    """Write ``model.joblib`` and ``meta.json`` into ``directory`` (created); returns it."""
    import joblib

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    joblib.dump(model.pipeline, directory / PIPELINE_FILE, compress=3)
    meta = dict(model.meta, **(extra_meta or {}))
    meta["fingerprint"] = _inference.artifact_fingerprint(directory / PIPELINE_FILE, model.thresholds,
                                                          model.relative_cut, model.calibration)
    meta.setdefault("topics", list(model.topics))
    meta["thresholds"] = dict(model.thresholds)
    meta["relative_cut"] = model.relative_cut
    meta["calibration"] = {t: list(ab) for t, ab in model.calibration.items()}
    (directory / META_FILE).write_text(
        json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    _inference._load_cached.cache_clear()  # a reload must see the new files
    return directory
