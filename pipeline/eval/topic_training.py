"""Retraining the topic model: the shipped corpus plus QA's topic corrections
(``hotline topics train [--from-db DB]``)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from models import topic_training as training
from models.topic_model import ARTIFACT_DIR, TOPICS, load_topic_model
from pipeline.analysis.topics import apply_corrections, citizen_text
from pipeline.errors import HotlineError, ModelUnavailable
from pipeline.warehouse import db
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
    fillers = training.read_topic_tsv(training.FILLER_PATH)
    rows = (training.read_topic_tsv(training.CORPUS_PATH) + training.read_topic_tsv(training.CORPUS_V2_PATH)
            + training.read_topic_tsv(training.GLOSSARY_PATH) + fillers)
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
