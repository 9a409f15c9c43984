""""One incident, many calls": merge proposals on a realistic fixture with the true incidents,
measured as pairwise precision and recall (printed; bounds asserted)."""

from __future__ import annotations

import csv
import itertools
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from pipeline.casework import cases
from pipeline.warehouse import db

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "case_incidents.csv"


def load_fixture(con, path: Path = FIXTURE) -> dict[str, str]:
    """Insert the fixture's calls as loaded calls; returns call_id → true incident."""
    with open(path, encoding="utf-8") as f:
        rows = list(csv.DictReader(line for line in f if not line.startswith("#")))
    calls, segs, topics, places, truth = [], [], [], [], {}
    for r in rows:
        cid = f"{r['call']:0>16}"
        truth[cid] = r["incident"]
        calls.append({"call_id": cid, "recording_sha256": cid * 4, "status": "done",
                      "started_at": datetime.fromisoformat(r["started_at"]), "caller_hash": r["caller"],
                      "urgent": r["urgent"] == "1", "transcript": r["text"]})
        segs.append({"call_id": cid, "seq": 0, "start_s": 0.0, "end_s": 3.0, "role": "citizen", "text": r["text"]})
        topics.append({"call_id": cid, "topic": r["topic"], "score": 0.8, "source": "model", "assigned": True})
        if r["place"]:
            places.append({"call_id": cid, "seq": 0, "kind": r["place_kind"], "text": r["place"], "name": r["place"]})
        if r["street"]:
            places.append({"call_id": cid, "seq": 1, "kind": "street", "text": r["street"], "name": r["street"]})
    for table, data in (("calls", calls), ("segments", segs), ("call_topics", topics), ("call_places", places)):
        con.register("_rows", pd.DataFrame(data))
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _rows")
        con.unregister("_rows")
    return truth


def pairs(groups: dict[str, str]) -> set[frozenset]:
    by: dict[str, list[str]] = {}
    for item, g in groups.items():
        by.setdefault(g, []).append(item)
    return {frozenset(p) for members in by.values() for p in itertools.combinations(sorted(members), 2)}


def proposed_groups(con) -> dict[str, str]:
    """call_id → group, joining every proposal (union-find over cases), as if a person confirmed them all."""
    parent: dict[str, str] = {}

    def find(x):
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    for case_id, into in con.execute("SELECT case_id, into_case_id FROM case_merge_proposals").fetchall():
        parent[find(case_id)] = find(into)
    return {call: find(case) for call, case in con.execute("SELECT call_id, case_id FROM case_calls").fetchall()}


def precision_recall(con, truth: dict[str, str]) -> tuple[float, float, int, int, int]:
    got, want = pairs(proposed_groups(con)), pairs(truth)
    tp = len(got & want)
    return tp / len(got) if got else 1.0, tp / len(want) if want else 1.0, tp, len(got), len(want)


@pytest.fixture
def con(tmp_path):
    con = db.connect(tmp_path / "g.duckdb")
    yield con
    con.close()


def test_merge_proposals_precision_recall_on_realistic_fixture(con):
    truth = load_fixture(con)
    counts = cases.build_cases(con)
    assert counts["opened"] + counts["answered"] == len(truth) == 35
    assert counts["answered"] == 1  # the procedure question
    p, r, tp, n_got, n_want = precision_recall(con, truth)
    print(f"\nmerge proposals: precision {p:.2f} ({tp}/{n_got} proposed pairs), recall {r:.2f} ({tp}/{n_want} true pairs)")
    # Measured 0.86 / 0.86 (18 of 21 proposed pairs right, 18 of 21 true pairs found). Misses: a call whose
    # place was not recognised (c15, 2 pairs) and a repeat call 18 days later, past the 7-day window (c20).
    # False merge: the same street's electricity cut proposed into its water cut (c24 → c22), which joins
    # c24 with the three water calls. The fixture was written alongside the rules: expect less on real calls.
    assert p >= 0.8 and r >= 0.8
    # Reasons are what they say.
    reasons = dict(con.execute("SELECT case_id, reason FROM case_merge_proposals").fetchall())
    assert reasons[cases.case_id_for(f"{'c09':0>16}")] == "same_caller"
    # Two potholes on different streets of one ward are never proposed together.
    assert cases.case_id_for(f"{'c12':0>16}") not in reasons


def test_confirm_merges_calls_and_split_takes_one_back(con):
    load_fixture(con)
    cases.build_cases(con)
    qa = cases.Actor("lan", "qa")
    c02, c01 = cases.case_id_for(f"{'c02':0>16}"), cases.case_id_for(f"{'c01':0>16}")
    assert con.execute("SELECT into_case_id FROM case_merge_proposals WHERE case_id = ?", [c02]).fetchone() == (c01,)
    n_incidents = con.execute("SELECT count(*) FROM stg_cases").fetchone()[0]
    cases.decide_proposal(con, c02, c01, "confirmed", qa)
    assert con.execute("SELECT status, merged_into FROM cases WHERE case_id = ?", [c02]).fetchone() == ("merged", c01)
    assert con.execute("SELECT n_calls FROM stg_cases WHERE case_id = ?", [c01]).fetchone() == (2,)
    # Reports count incidents and calls apart: one incident fewer, the same number of calls.
    assert con.execute("SELECT count(*), sum(n_calls) FROM stg_cases").fetchone() == (n_incidents - 1, 35)
    with pytest.raises(cases.CaseError, match="already"):
        cases.decide_proposal(con, c02, c01, "split", qa)
    with pytest.raises(cases.NotAllowed):
        cases.decide_proposal(con, cases.case_id_for(f"{'c03':0>16}"), c02, "confirmed", cases.Actor("m", "manager"))
    back = cases.split_call(con, c01, f"{'c02':0>16}", qa)
    assert back == c02
    assert con.execute("SELECT status FROM cases WHERE case_id = ?", [c02]).fetchone() == ("new",)
    assert con.execute("SELECT count(*) FROM stg_cases").fetchone()[0] == n_incidents
    # Keeping two cases apart is recorded too.
    c08, c07 = cases.case_id_for(f"{'c08':0>16}"), cases.case_id_for(f"{'c07':0>16}")
    cases.decide_proposal(con, c08, c07, "split", qa)
    assert con.execute("SELECT decision, decided_by FROM case_merge_proposals WHERE case_id = ?", [c08]).fetchone() == (
        "split", "lan")
    assert con.execute("SELECT count(*) FROM case_events WHERE case_id = ? AND action = 'split'", [c08]).fetchone() == (1,)
