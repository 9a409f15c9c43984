"""Precision and recall of call search on a labelled search set (``hotline eval search``).

The set (``tests/data/search_set.json``) holds citizen stories with intents, written several
ways, plus distractors, and queries each naming the intent whose calls should match. A
synthetic warehouse is built from it (:func:`build_search_db`): calls mix a story, street
names and the operator's lines, and a share of calls lose their diacritics as ASR output
sometimes does; a story's optional ``unit`` becomes its calls' routed unit. Then every query
runs through :func:`pipeline.warehouse.search.search_calls`. Besides the figures over all
queries, :func:`summary_unmarked` gives the precision of the queries typed with diacritics that
hold an unmarked syllable ("công an": its "an" must not find "ăn").
"""

from __future__ import annotations

import json
import random
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import duckdb

from pipeline.config import REPO_ROOT
from pipeline.textnorm import fold_accents, is_accent_free, normalize_text
from pipeline.warehouse import db, search
from pipeline.warehouse.eval_data import insert_rows

DEFAULT_SET = REPO_ROOT / "tests" / "data" / "search_set.json"


@dataclass(frozen=True)
class QueryScore:
    q: str
    intent: str
    n_relevant: int
    n_returned: int
    n_correct: int

    @property
    def precision(self) -> float:
        return self.n_correct / self.n_returned if self.n_returned else 1.0

    @property
    def recall(self) -> float:
        return self.n_correct / self.n_relevant if self.n_relevant else 1.0


def read_search_set(path: Path = DEFAULT_SET) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def build_search_db(con: duckdb.DuckDBPyConnection, spec: dict, *, n_calls: int = 400, seed: int = 14,
                    accentless_share: float = 0.15) -> dict[str, set[str]]:
    """Fill a migrated warehouse with ``n_calls`` calls from ``spec``; returns {call_id: intents}."""
    rng = random.Random(seed)
    stories = spec["stories"]
    calls, segs, routes, labels = [], [], [], {}
    for i in range(n_calls):
        story = stories[rng.randrange(len(stories))]
        text = rng.choice(story["texts"]).format(n=rng.randrange(2, 300), street=rng.choice(spec["streets"]))
        lines = [("operator", spec["operator"][0]), ("citizen", text),
                 ("operator", rng.choice(spec["operator"][1:]))]
        if rng.random() < accentless_share:
            lines = [(role, fold_accents(t)) for role, t in lines]  # ASR that lost the diacritics
        cid = f"s{i:05d}{rng.getrandbits(40):010x}"
        labels[cid] = set(story["intents"])
        for seq, (role, t) in enumerate(lines):
            segs.append({"call_id": cid, "seq": seq, "start_s": 2.0 * seq, "end_s": 2.0 * seq + 1.8, "role": role,
                         "text": t, "confidence": 0.8})
        if story.get("unit"):
            routes.append({"call_id": cid, "seq": 0, "agency": "unit", "agency_vi": story["unit"], "reason": "eval"})
        calls.append({"call_id": cid, "recording_sha256": cid * 3, "status": "done",
                      "started_at": datetime(2026, 11, 1) + timedelta(minutes=17 * i), "duration_s": 6.0,
                      "transcript": " ".join(t for _, t in lines), "operator_ext": "101"})
    for table, rows in (("calls", calls), ("segments", segs), ("call_routes", routes)):
        if rows:
            insert_rows(con, table, rows)
    search.refresh_search_index(con)
    return labels


def evaluate(con: duckdb.DuckDBPyConnection, spec: dict, labels: dict[str, set[str]],
             rewrite=None) -> list[QueryScore]:
    """Score every query of ``spec``; ``rewrite(q)`` changes the query first (to compare syntaxes)."""
    out = []
    for case in spec["queries"]:
        q = rewrite(case["q"]) if rewrite else case["q"]
        got = {h.call_id for h in search.search_calls(con, q, limit=None)}
        relevant = {cid for cid, intents in labels.items() if case["intent"] in intents}
        out.append(QueryScore(case["q"], case["intent"], len(relevant), len(got), len(got & relevant)))
    return out


def summary(scores: list[QueryScore]) -> dict[str, float]:
    """Micro precision/recall (summed over queries) and macro (mean of per-query figures)."""
    ret, cor, rel = (sum(getattr(s, k) for s in scores) for k in ("n_returned", "n_correct", "n_relevant"))
    return {"micro_precision": cor / ret if ret else 1.0, "micro_recall": cor / rel if rel else 1.0,
            "macro_precision": sum(s.precision for s in scores) / len(scores),
            "macro_recall": sum(s.recall for s in scores) / len(scores), "queries": len(scores)}


def has_unmarked_syllable(q: str) -> bool:
    """A query typed with diacritics that holds a syllable typed without ("công an", "tai nạn")."""
    words = [w for w in q.replace('"', " ").split() if w not in ("OR", "HOẶC", "|")]
    return not is_accent_free(q) and any(is_accent_free(w) for w in words if normalize_text(w))


def summary_unmarked(scores: list[QueryScore]) -> dict[str, float] | None:
    """:func:`summary` of the queries with an unmarked syllable (:func:`has_unmarked_syllable`); None without any."""
    picked = [s for s in scores if has_unmarked_syllable(s.q)]
    return summary(picked) if picked else None


def old_style(q: str) -> str:
    """The search before issue 14, approximated: every word accent-folded and OR-ed."""
    return " OR ".join(fold_accents(q).split())


# The query syntaxes ``hotline eval search`` compares: today's, and the search before issue 14.
REWRITES = (("default", None), ("old-or-folded", old_style))


@dataclass(frozen=True)
class SearchEval:
    name: str  # "default" or "old-or-folded" (REWRITES)
    scores: list[QueryScore]  # per query
    summary: dict[str, float]  # :func:`summary` of them
    unmarked: dict[str, float] | None  # :func:`summary_unmarked`: the queries with an unmarked syllable
    calls: int  # calls in the synthetic warehouse


def evaluate_search_set(path: Path = DEFAULT_SET, *, n_calls: int = 400, seed: int = 14) -> list[SearchEval]:
    """Build a synthetic warehouse from the search set at ``path`` in a temporary folder and
    score every query with each syntax of :data:`REWRITES`."""
    spec = read_search_set(path)
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        con = db.connect(Path(tmp) / "search.duckdb")
        try:
            labels = build_search_db(con, spec, n_calls=n_calls, seed=seed)
            for name, rewrite in REWRITES:
                scores = evaluate(con, spec, labels, rewrite=rewrite)
                out.append(SearchEval(name, scores, summary(scores), summary_unmarked(scores), len(labels)))
        finally:
            con.close()
    return out
