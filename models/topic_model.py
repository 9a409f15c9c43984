"""Multi-label topic classifier for citizen calls: what the pipeline loads and runs.

Features: TF-IDF over word 1–2-grams and character 2–5-grams (``char_wb``) of both the
normalised text and its accent-folded form, so a transcript that lost its diacritics
still meets the n-grams learned from written Vietnamese. Classifier: one-vs-rest
logistic regression, whose outputs are probabilities. The decision (see
:func:`assign_topics`) uses a threshold per topic plus one relative cut against the
row's best topic, all chosen by cross-validation on the training corpus; ``other`` is
the fallback when nothing else is assigned.

This module is inference only: the model record, the text forms the pickled
vectorisers call (the shipped ``model.joblib`` refers to ``models.topic_model.accented_form``
and ``folded_form`` by name, so they stay here), calibration, the decision rule and
loading the artifact. Training, ASR-like augmentation, metrics, the corpus files and
saving an artifact are in :mod:`models.topic_training`.

Only :mod:`pipeline.textnorm` and :mod:`pipeline.records` are imported from
``pipeline``: both are pure and free of heavy dependencies.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pipeline.errors import ModelUnavailable
from pipeline.records import TopicScore
from pipeline.textnorm import fold_accents, normalize_text

log = logging.getLogger(__name__)

MODELS_DIR = Path(__file__).resolve().parent
TAXONOMY_PATH = MODELS_DIR / "taxonomy.json"
ARTIFACT_DIR = MODELS_DIR / "artifacts" / "topic_model"
PIPELINE_FILE = "model.joblib"
META_FILE = "meta.json"
FALLBACK_TOPIC = "other"  # assigned when no other topic clears its threshold


def load_topic_keys(path: Path = TAXONOMY_PATH) -> tuple[str, ...]:
    """Topic keys of the taxonomy, in file order."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return tuple(t["key"] for t in data["topics"])


TOPICS = load_topic_keys()


# --- text forms fed to the vectorisers ---------------------------------------------------

_DIGIT_RE = re.compile(r"\d")


def accented_form(text: str) -> str:
    """Normalised text with every digit masked: numbers say nothing about the topic,
    and phone or ID numbers must not end up in the artifact's vocabulary."""
    return _DIGIT_RE.sub("0", normalize_text(text))


def folded_form(text: str) -> str:
    """Accent-folded form of :func:`accented_form`, what diacritic-less ASR output looks like."""
    return _DIGIT_RE.sub("0", fold_accents(text))


# --- the model ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class TopicModel:
    """A trained classifier: the scikit-learn pipeline, its topics and thresholds."""

    pipeline: object  # sklearn Pipeline: features -> OneVsRest(LogisticRegression)
    topics: tuple[str, ...]  # column order of ``predict_proba``
    thresholds: dict[str, float]  # topic -> probability at or above which it is assigned
    meta: dict = field(default_factory=dict)  # version, trained_at, cv metrics… (see meta.json)
    relative_cut: float = 0.0  # a topic also needs this fraction of the row's best probability
    calibration: dict[str, tuple[float, float]] = field(default_factory=dict)  # topic -> Platt (a, b)

    @property
    def version(self) -> int:
        return int(self.meta.get("version", 0))

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Calibrated probabilities, float shape (len(texts), len(topics)), columns in
        ``topics`` order."""
        raw = np.asarray(self.pipeline.predict_proba(list(texts)), dtype=float)
        return calibrate(raw, [self.calibration.get(t, (1.0, 0.0)) for t in self.topics])

    @property
    def fingerprint(self) -> str:
        """Short id of this exact model (weights, thresholds, calibration): what the warehouse
        records for each call it tagged (``calls.topic_model``)."""
        return str(self.meta.get("fingerprint") or "")

    def assign(self, proba: np.ndarray, texts: Sequence[str]) -> np.ndarray:
        """Boolean assignments for ``proba`` rows: thresholds, then the guideline's
        procedure rule (:func:`procedure_pairs`), then the ``other`` fallback.

        ``other`` is assigned exactly when no other topic is, so every call has at least
        one topic and a call about something concrete is not also "other". An empty
        text gets only ``other``.
        """
        assigned = assign_topics(
            proba, [self.thresholds[t] for t in self.topics], self.topics, empty_mask(texts),
            relative=self.relative_cut, other_wins=bool(self.meta.get("other_rule", False)),
        )
        if self.meta.get("procedure_rule", True):
            assigned = procedure_pairs(assigned, texts, self.topics)
        return assigned

    def predict_many(self, texts: Sequence[str]) -> list[list[TopicScore]]:
        """:meth:`predict` for many texts at once (one vectorisation pass)."""
        texts = list(texts)
        if not texts:
            return []
        proba = self.predict_proba(texts)
        assigned = self.assign(proba, texts)
        return [
            [TopicScore(t, round(float(p), 4), bool(a)) for t, p, a in zip(self.topics, prow, arow)]
            for prow, arow in zip(proba, assigned)
        ]

    def predict(self, text: str) -> list[TopicScore]:
        """One :class:`TopicScore` per taxonomy key, in taxonomy order, for ``text``."""
        return self.predict_many([text])[0]


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def calibrate(raw: np.ndarray, platt: Sequence[tuple[float, float]]) -> np.ndarray:
    """Platt scaling per column: ``sigmoid(a * logit(raw) + b)``."""
    a = np.array([ab[0] for ab in platt])[None, :]
    b = np.array([ab[1] for ab in platt])[None, :]
    return 1.0 / (1.0 + np.exp(-(a * _logit(raw) + b)))


def empty_mask(texts: Sequence[str]) -> np.ndarray:
    """True for each text with no word left after normalisation."""
    return np.array([not normalize_text(t) for t in texts], dtype=bool)


def assign_topics(
    proba: np.ndarray,
    thresholds: Sequence[float],
    topics: Sequence[str],
    empty: np.ndarray,
    *,
    relative: float = 0.0,
    other_wins: bool = False,
) -> np.ndarray:
    """The decision rule, as a boolean matrix shaped like ``proba``.

    A topic is assigned when its probability reaches its threshold and at least
    ``relative`` times the best topic's probability in that row (most calls are about
    one thing; a weak second topic is more often noise than a second issue). ``other``
    is assigned exactly where no other topic is; rows flagged ``empty`` get only ``other``.

    With ``other_wins`` (models from v5), ``other``'s own threshold counts too: a row whose
    ``other`` probability reaches it and beats every topic's is only ``other`` — a short
    off-topic call (a wrong number, the bank, the internet) whose words faintly suggest a
    topic is not given one. A threshold above 1 turns this off.
    """
    proba = np.asarray(proba)
    k = list(topics).index(FALLBACK_TOPIC)
    top = np.delete(proba, k, axis=1).max(axis=1, keepdims=True)
    assigned = (proba >= np.asarray(thresholds)[None, :]) & (proba >= relative * top)
    assigned[np.asarray(empty, dtype=bool)] = False
    if other_wins:
        off_topic = (proba[:, k] >= thresholds[k]) & (proba[:, k] >= top[:, 0])
        assigned[off_topic] = False
    real = np.delete(assigned, k, axis=1)
    assigned[:, k] = ~real.any(axis=1)
    return assigned


# --- the guideline's two-issue rule (docs/topics-guideline.md, section 2A) ---------------

PROCEDURE_TOPIC = "administrative_procedures"
# Words that make a call a question or complaint about an official procedure (accent-folded).
_PROCEDURE_CUES = (
    "thu tuc", "ho so", "giay to", "lam o dau", "nop o dau", "o dau", "bao lau", "le phi", "tre hen", "lam don",
    "nop don", "don xin", "co can", "can xin", "phai xin", "chua giai quyet", "chua lam", "giay gi",
    "cap lai", "cap doi", "lam lai", "dinh chinh", "sang ten", "dang ky", "can nhung gi", "can gi",
    "giay xac nhan", "xin giay", "mot cua", "dich vu cong", "tra ve", "giay hen", "gap ai", "lam sao",
    "lam the nao", "co phai xin", "xin phep", "nop tien", "chua co ket qua", "chua duoc giai quyet",
)
# Per domain, the objects of a procedure that belongs to it (accent-folded).
_PROCEDURE_OBJECTS = {
    "land": ("so do", "so hong", "giay chung nhan quyen su dung", "quyen su dung dat", "tach thua", "hop thua",
             "chuyen muc dich", "len tho cu", "xoa the chap", "tien su dung dat", "bien dong dat", "cap so",
             "lam so", "thua dat"),
    "social_services": ("bao hiem xa hoi", "bao hiem y te", "bhxh", "bhyt", "bao hiem that nghiep", "luong huu",
                        "tro cap", "thai san", "ho ngheo", "nguoi co cong", "mien hoc phi", "khuyet tat"),
    "traffic": ("dang ky xe", "bien so", "giay phep lai xe", "bang lai", "sang ten xe", "nop phat", "dang kiem",
                "xe may cu", "mua xe", "xe cu", "ca vet", "cavet", "phat nguoi", "doi bang", "tien phat"),
    "construction": ("giay phep xay dung", "cap phep xay dung", "xin phep xay", "phep xay dung", "hoan cong",
                     "xin giay phep", "xin phep"),
    "utilities": ("hop dong mua ban dien", "hop dong dien", "hop dong nuoc", "dong ho nuoc", "cong to dien",
                  "lap dat dong ho", "dau noi", "cong to", "hop dong mua dien", "lap dong ho"),
}
_PUNCT_RE = re.compile(r"[^\w ]+")


def _said(folded: str, phrases: Sequence[str]) -> bool:
    return any(f" {p} " in folded for p in phrases)


def procedure_pairs(assigned: np.ndarray, texts: Sequence[str], topics: Sequence[str]) -> np.ndarray:
    """The two-issue rule for procedures: a procedure attached to a domain carries both topics.

    Where a domain (land, social services, vehicles under traffic, construction permits,
    utility contracts) is assigned and the text asks about a procedure for one of that
    domain's objects ("thủ tục sang tên sổ đỏ"), ``administrative_procedures`` is added;
    where ``administrative_procedures`` is assigned and the text names a domain's
    procedure object ("đổi giấy phép lái xe"), the domain is added. Returns a new matrix;
    ``other`` is reset where a topic was added.
    """
    assigned = np.array(assigned, dtype=bool, copy=True)
    topics = list(topics)
    if PROCEDURE_TOPIC not in topics:
        return assigned
    proc = topics.index(PROCEDURE_TOPIC)
    other = topics.index(FALLBACK_TOPIC) if FALLBACK_TOPIC in topics else None
    for i, text in enumerate(texts):
        if other is not None and assigned[i, other]:
            continue  # nothing concrete was heard: no rule adds a topic to "other"
        folded = " " + " ".join(_PUNCT_RE.sub(" ", fold_accents(text)).split()) + " "
        for domain, objects in _PROCEDURE_OBJECTS.items():
            if domain not in topics or not _said(folded, objects):
                continue
            d = topics.index(domain)
            if assigned[i, d] and _said(folded, _PROCEDURE_CUES):
                assigned[i, proc] = True
            elif assigned[i, proc]:
                assigned[i, d] = True
    return assigned


# --- artifact ----------------------------------------------------------------------------


def artifact_fingerprint(pipeline_file: Path, thresholds: dict, relative: float, calibration: dict) -> str:
    """12 hex digits of the sha256 of the pickled pipeline and the decision parameters: two
    artifacts with the same fingerprint tag every call alike."""
    h = hashlib.sha256(Path(pipeline_file).read_bytes())
    h.update(json.dumps([thresholds, relative, {t: list(ab) for t, ab in calibration.items()}], sort_keys=True).encode())
    return h.hexdigest()[:12]


def load_topic_model(path: Path | str | None = None) -> TopicModel:
    """The model saved in ``path`` (default: the shipped artifact), loaded once per path: the one
    topic loader (the pipeline's stages, ``hotline topics``, ``hotline summary``, the evaluations).

    Raises :class:`~pipeline.errors.ModelUnavailable`, and only that, for any folder it cannot
    load: ``model.joblib`` or ``meta.json`` absent, unreadable, or not a topic model's.
    """
    directory = Path(path) if path is not None else ARTIFACT_DIR
    return _load_cached(str(directory.resolve()))


@functools.lru_cache(maxsize=8)
def _load_cached(directory: str) -> TopicModel:
    import joblib
    import sklearn

    d = Path(directory)
    if not (d / PIPELINE_FILE).is_file() or not (d / META_FILE).is_file():
        raise ModelUnavailable(
            f"no topic model in {d} (needs {PIPELINE_FILE} and {META_FILE}); "
            "train one with `hotline topics train --out DIR` or pass the shipped "
            "models/artifacts/topic_model"
        )
    try:
        meta = json.loads((d / META_FILE).read_text(encoding="utf-8"))
        topics = tuple(meta["topics"])
        thresholds = {t: float(meta["thresholds"][t]) for t in topics}
        calibration = {t: tuple(ab) for t, ab in meta.get("calibration", {}).items()}
        relative = float(meta.get("relative_cut", 0.0))
        pipeline = joblib.load(d / PIPELINE_FILE)
    except Exception as exc:  # a truncated copy, a meta.json of something else, a pickle of another version
        raise ModelUnavailable(
            f"topic model in {d} cannot be loaded ({type(exc).__name__}: {exc}); "
            "train it again with `hotline topics train --out DIR` or pass the shipped models/artifacts/topic_model"
        ) from exc
    meta.setdefault("fingerprint", artifact_fingerprint(d / PIPELINE_FILE, thresholds, relative, calibration))
    if not hasattr(pipeline, "predict_proba"):
        raise ModelUnavailable(f"{d / PIPELINE_FILE} is not a topic classifier; train one with `hotline topics train`")
    if meta.get("sklearn_version") != sklearn.__version__:
        log.warning(
            "topic model %s was trained with scikit-learn %s, running %s; retrain if scores look off",
            d, meta.get("sklearn_version"), sklearn.__version__,
        )
    return TopicModel(pipeline, topics, thresholds, meta, relative, calibration)
