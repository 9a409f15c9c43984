"""Retraining the topic model: the shipped corpus plus QA's topic corrections
(``hotline topics train [--from-db DB]``)."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from models import topic_training as training
from models.topic_model import ARTIFACT_DIR, TOPICS, load_topic_model
from pipeline.analysis.topics import apply_corrections, assigned_topics, citizen_text, classify_call
from pipeline.errors import HotlineError, ModelUnavailable
from pipeline.eval.topics import score_topics
from pipeline.warehouse import db, topic_tags
from pipeline.warehouse.eval_data import corrected_calls

log = logging.getLogger(__name__)


def read_corrected_rows(db_path: Path) -> list[tuple[str, tuple[str, ...]]]:
    """Training rows from QA review in a warehouse: one per call that has topic corrections.

    Labels: the topics the model assigned (``call_topics`` with source ``model``), then
    every correction of ``topic_corrections`` in time order. Text: what the citizen said
    (:func:`pipeline.analysis.topics.citizen_text` over the call's ``segments``, which hold
    redacted text). Calls without citizen text are skipped. The database is opened
    read-only (:func:`pipeline.warehouse.eval_data.corrected_calls` reads it).
    """
    if not Path(db_path).is_file():
        raise HotlineError(f"{db_path}: no such database; pass the warehouse file to --from-db")
    con = db.connect(db_path, read_only=True, create=False)  # WarehouseError for a file that is not DuckDB
    try:
        calls = corrected_calls(con, source=str(db_path))
    finally:
        con.close()

    rows, skipped = [], 0
    known = set(TOPICS)
    for call in calls:
        text = citizen_text(call.segments)
        labels = tuple(t for t in apply_corrections(list(call.model_topics), list(call.corrections)) if t in known)
        if not text or not labels:
            skipped += 1
            continue
        rows.append((text, labels))
    log.info("%d reviewed calls usable for training, %d skipped (no citizen text)", len(rows), skipped)
    return rows


@dataclass(frozen=True)
class Retrained:
    model: object  # models.topic_model.TopicModel, saved
    out: Path  # artefact folder written
    rows: int  # training rows, corpus and QA together
    qa_calls: int  # of them, calls QA corrected


def retrain_topic_model(out: Path | None = None, *, from_db: Path | None = None, seed: int = 0) -> Retrained:
    """Train a new topic model version on the corpus, glossary and fillers (and the calls QA
    corrected in ``from_db``) and save it to ``out`` (default: the shipped artefact folder).

    The version counts up from whichever model it replaces (``out`` or the shipped one).
    """
    out = Path(out) if out else ARTIFACT_DIR
    rows, fillers = training.corpus_rows()
    qa_rows = read_corrected_rows(from_db) if from_db else []
    previous = 0
    for candidate in (out, ARTIFACT_DIR):
        try:
            previous = max(previous, load_topic_model(candidate).version)
        except ModelUnavailable:
            pass
    model = training.train_topic_model(rows + qa_rows, seed=seed, version=previous + 1, fillers=fillers)
    training.save_topic_model(model, out, extra_meta={"qa_corrected_calls": len(qa_rows)})
    return Retrained(model, out, len(rows) + len(qa_rows), len(qa_rows))


# --- retraining from QA that cannot silently get worse (issue 31) ----------------------------

REPO_DATA = Path(__file__).resolve().parents[2] / "tests" / "data"
# The fixed test files every candidate is scored on: written rows and the same rows through
# viet-asr-like noise, single- and two-issue. Never trained on.
FIXED_TEST_FILES = tuple(REPO_DATA / f"{name}.tsv" for name in (
    "topics_v2_holdout", "topics_v2_holdout_vietasr", "topics_two_issue_holdout", "topics_two_issue_holdout_vietasr"))
QA_HOLDOUT_SHARE = 0.2  # of the corrected calls, kept out of training to score candidates on


def split_corrections(rows, share: float = QA_HOLDOUT_SHARE) -> tuple[list, list]:
    """(train, held_out) of QA rows. A row's side is fixed by a hash of its text, so a
    correction stays in the same slice from one retraining to the next (a held-out row is
    never trained on later)."""
    train, held = [], []
    for text, labels in rows:
        bucket = int(hashlib.sha256(text.encode("utf-8")).hexdigest()[:8], 16) % 1000
        (held if bucket < share * 1000 else train).append((text, labels))
    return train, held


def present_macro_f1(rows, model) -> float:
    """Macro-F1 over the topics that occur in ``rows``' labels (a slice of 30 corrections does
    not hold every topic; an absent topic would count as F1 0 for every model)."""
    report = score_topics(rows, model)
    present = [m.f1 for m in report.per_topic if m.support > 0]
    return float(sum(present) / len(present)) if present else 0.0


@dataclass(frozen=True)
class GateScore:
    name: str  # test file name, or "qa_holdout"
    n: int  # rows scored
    current: float  # macro-F1 of the model in service
    candidate: float  # macro-F1 of the new one


@dataclass(frozen=True)
class RetrainDecision:
    accepted: bool  # the candidate replaced the model
    reason: str  # one line, why
    scores: tuple[GateScore, ...]
    current_fingerprint: str
    candidate_fingerprint: str  # "" when refused (never saved)
    qa_train: int  # corrected calls trained on
    qa_held_out: int  # corrected calls scored on

    def lines(self) -> list[str]:
        out = [f"{s.name}: n={s.n} current={s.current:.3f} candidate={s.candidate:.3f}" for s in self.scores]
        out.append(f"decision={'replaced' if self.accepted else 'refused'} current={self.current_fingerprint} "
                   f"candidate={self.candidate_fingerprint or '-'} qa_train={self.qa_train} "
                   f"qa_held_out={self.qa_held_out} reason={self.reason}")
        return out


def gate(current, candidate, sets: dict, *, max_drop: float = 0.0) -> tuple[bool, str, tuple[GateScore, ...]]:
    """Whether ``candidate`` may replace ``current``: on every non-empty set of ``sets`` (name →
    rows) its macro-F1 (:func:`present_macro_f1`) is at least the current model's minus ``max_drop``."""
    scores = tuple(GateScore(name, len(rows), present_macro_f1(rows, current), present_macro_f1(rows, candidate))
                   for name, rows in sets.items() if rows)
    worse = [s for s in scores if s.candidate < s.current - max_drop - 1e-9]
    if not scores:
        return False, "nothing to score the candidate on", scores
    if worse:
        w = worse[0]
        return False, f"macro-F1 drops on {w.name} ({w.current:.3f} -> {w.candidate:.3f})", scores
    return True, "macro-F1 holds or improves on every set", scores


def retrain_from_qa(db_path: Path, out: Path | None = None, *, test_files=FIXED_TEST_FILES,
                    holdout_share: float = QA_HOLDOUT_SHARE, max_drop: float = 0.0, seed: int = 0,
                    trainer=None) -> RetrainDecision:
    """Train a candidate on the shipped corpus plus QA's corrected calls (all but a held-out
    slice, :func:`split_corrections`), score it and the model in service on ``test_files`` and
    on the held-out corrections, and save it over ``out`` (default: the shipped artifact) only
    if :func:`gate` accepts it. ``trainer(rows, version)`` returns a model (default:
    :func:`models.topic_training.train_topic_model`); tests inject a small one.
    """
    out = Path(out) if out else ARTIFACT_DIR
    current = load_topic_model(out)
    qa_rows = read_corrected_rows(db_path)
    qa_train, qa_held = split_corrections(qa_rows, holdout_share)
    rows, fillers = training.corpus_rows()
    if trainer is None:
        def trainer(train_rows, version):
            return training.train_topic_model(train_rows, seed=seed, version=version, fillers=fillers)
    candidate = trainer(rows + qa_train, current.version + 1)
    sets = {Path(f).name: training.read_topic_tsv(Path(f), current.topics) for f in test_files}
    sets["qa_holdout"] = qa_held
    accepted, reason, scores = gate(current, candidate, sets, max_drop=max_drop)
    fingerprint = ""
    if accepted:
        gate_meta = {s.name: {"n": s.n, "current": round(s.current, 4), "candidate": round(s.candidate, 4)} for s in scores}
        training.save_topic_model(candidate, out, extra_meta={
            "qa_corrected_calls": len(qa_train), "qa_held_out": len(qa_held), "replaced": current.fingerprint,
            "gate": gate_meta})
        fingerprint = load_topic_model(out).fingerprint
    log.info("topic retrain: %s (%s)", "replaced" if accepted else "refused", reason)
    return RetrainDecision(accepted, reason, scores, current.fingerprint, fingerprint, len(qa_train), len(qa_held))


@dataclass(frozen=True)
class Retagged:
    fingerprint: str  # the model the calls are now tagged by
    calls: int  # calls re-tagged
    changed: int  # of them, calls whose assigned topics changed


def retag_calls(db_path: Path, model_dir: Path | None = None) -> Retagged:
    """Re-tag every call of the warehouse that another model tagged (``calls.topic_model``) with
    the model in ``model_dir`` (default: shipped), from its stored segments; QA's corrections stay."""
    model = load_topic_model(model_dir)
    if not Path(db_path).is_file():
        raise HotlineError(f"{db_path}: no such database; pass the warehouse file to --db")
    con = db.connect(db_path, create=False)
    try:
        ids = topic_tags.calls_tagged_by_other(con, model.fingerprint)
        before = topic_tags.model_topics(con, ids)
        segments = topic_tags.call_segments(con, ids)
        changed = 0
        for call_id in ids:
            scores = classify_call(segments[call_id], model)
            changed += set(assigned_topics(scores)) != before.get(call_id, set())
            topic_tags.replace_model_topics(con, call_id, scores, model.fingerprint)
    finally:
        con.close()
    return Retagged(model.fingerprint, len(ids), changed)
