"""A realistic warehouse of N calls without audio, written in bulk by DuckDB (issue 32).

Every row is made by set-based SQL (``range(n)`` joined to small pools), never per call in
Python: 100 000 calls take seconds. Randomness is ``hash(i, salt)`` mapped to [0, 1), so a
seed gives the same warehouse on any machine and DuckDB may run it in parallel.

Where each distribution comes from (the pools are read by :mod:`pipeline.commands.demo_data`):

- topics and what citizens say: the topic corpus (``models/topic_corpus/train.tsv``, one text
  drawn per call, so topic frequencies are the corpus's label frequencies);
- wards and communes: the 2025 units of the gazetteer (``models/data/gazetteer_daklak.csv``),
  skewed (index ~ u²) so that a few wards get most calls, as city wards do;
- the operator's turns: the demo calls (``samples/manifest.json``);
- duration: log-normal, median 150 s, σ 0.55 (an assumption: the demo calls are 20–40 s
  synthetic clips, too short to be a distribution); turns: one per 12 s of call, 3..40;
- time: 5 years back from ``end``, volume growing linearly (density ∝ age⁻¹), 85 % of calls in
  working hours 07–18, the rest at any hour; lines: 0262.1022 55 %, Buôn Ma Thuột 35 %,
  former Phú Yên 10 % (only after 2025-07-01, the merger);
- sentiment: frustration u² (mean 0.33; frustrated from 0.5 as pipeline.analysis.sentiment);
  confidence 0.55 + 0.45·u; urgent 3 %; callers: 60 % of calls from distinct numbers
  (the rest are repeat callers);
- cases: one per call (complaints 80 %, questions 20 %); a complaint older than 30 days is
  closed (90 %) or resolved, newer ones spread over new/forwarded/in_progress/resolved.
"""

from __future__ import annotations

from datetime import datetime

import duckdb

from pipeline.warehouse.db import transaction

# uniform [0, 1) from the call index and a key < 64 (hash(i, k) of two arguments is correlated across k)
_U = "(hash({i} * 64 + {k})::DOUBLE / 18446744073709551616.0)"


def _u(i: str, k: int) -> str:
    return _U.format(i=i, k=k)


def build_demo_calls(con: duckdb.DuckDBPyConnection, n: int, *, texts: list[tuple[str, str]], wards: list[str],
                     operator_turns: list[str], lines: list[tuple[str, float, str | None]], end: datetime,
                     seed: int = 32, run_id: str = "demo-data") -> dict[str, int]:
    """Write ``n`` demo calls (calls, segments, call_topics, call_places, cases, case_calls) to ``con``.

    ``texts``: (citizen text, topic key) pool; ``wards``: canonical ward/commune names;
    ``operator_turns``: operator sentences; ``lines``: (line key, share 0..1, first day or None).
    Calls are numbered after those already there, so a second run adds ``n`` more. Returns row counts.
    """
    if n <= 0:
        return {}
    start_i = con.execute("SELECT count(*) FROM calls WHERE run_id = ?", [run_id]).fetchone()[0]
    with transaction(con):
        con.execute("INSERT INTO runs (run_id, started_at, source_dir, status) SELECT ?, now(), 'demo', 'done' "
                    "WHERE NOT EXISTS (SELECT 1 FROM runs WHERE run_id = ?)", [run_id, run_id])
        con.execute("CREATE OR REPLACE TEMP TABLE demo_texts AS SELECT unnest(?) AS text, unnest(?) AS topic, "
                    "unnest(range(1, ?)) AS k", [[t for t, _ in texts], [k for _, k in texts], len(texts) + 1])
        con.execute("CREATE OR REPLACE TEMP TABLE demo_wards AS SELECT unnest(?) AS ward, unnest(range(1, ?)) AS k",
                    [wards, len(wards) + 1])
        con.execute("CREATE OR REPLACE TEMP TABLE demo_ops AS SELECT unnest(?) AS text, unnest(range(1, ?)) AS k",
                    [operator_turns, len(operator_turns) + 1])
        total = sum(share for _, share, _ in lines) or 1.0
        bounds, acc = [], 0.0
        for key, share, since in lines:
            bounds.append((key, acc / total, (acc + share) / total, since))
            acc += share
        con.execute("CREATE OR REPLACE TEMP TABLE demo_lines AS SELECT unnest(?) AS line, unnest(?) AS lo, "
                    "unnest(?) AS hi, unnest(?)::DATE AS since",
                    [[b[0] for b in bounds], [b[1] for b in bounds], [b[2] for b in bounds], [b[3] for b in bounds]])
        n_texts, n_wards, n_ops = len(texts), len(wards), len(operator_turns)
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE demo_base AS
            WITH idx AS (
                SELECT i FROM range(?, ?) r(i)
            ), drawn AS (
                SELECT i,
                       format('{{:016x}}', hash(i, ?)) AS call_id,
                       -- volume grows: density of the age in days is linear in time
                       ?::TIMESTAMP - INTERVAL 1 DAY * floor(1826 * (1 - sqrt({_u('i', 1)})))::INTEGER AS day0,
                       CASE WHEN {_u('i', 2)} < 0.85 THEN 7 + floor(11 * {_u('i', 3)}) ELSE floor(24 * {_u('i', 3)}) END AS hh,
                       floor(3600 * {_u('i', 4)}) AS secs,
                       exp(ln(150) + 0.55 * sqrt(-2 * ln(1 - {_u('i', 5)})) * cos(2 * pi() * {_u('i', 6)})) AS duration_s,
                       1 + floor({n_texts} * {_u('i', 7)})::INTEGER AS text_k,
                       1 + floor({n_wards} * pow({_u('i', 8)}, 2))::INTEGER AS ward_k,
                       {_u('i', 9)} AS line_u,
                       pow({_u('i', 10)}, 2) AS frustration,
                       0.55 + 0.45 * {_u('i', 11)} AS confidence,
                       {_u('i', 12)} < 0.03 AS urgent,
                       floor(? * 0.6 * {_u('i', 13)})::BIGINT AS caller_k,
                       101 + floor(12 * {_u('i', 14)})::INTEGER AS ext,
                       {_u('i', 15)} AS case_u
                FROM idx
            )
            SELECT d.*, date_trunc('day', d.day0) + INTERVAL 1 HOUR * d.hh + INTERVAL 1 SECOND * d.secs AS started_at,
                   least(40, greatest(3, round(d.duration_s / 12)))::INTEGER AS n_turns,
                   t.text AS citizen_text, t.topic, w.ward
            FROM drawn d JOIN demo_texts t ON t.k = d.text_k JOIN demo_wards w ON w.k = d.ward_k
        """, [start_i, start_i + n, seed, end, start_i + n])
        # The line: by share; a call before a line's first day goes to the first line.
        con.execute("""
            CREATE OR REPLACE TEMP TABLE demo_line AS
            SELECT b.call_id, CASE WHEN l.since IS NULL OR b.started_at >= l.since THEN l.line
                                   ELSE (SELECT line FROM demo_lines ORDER BY lo LIMIT 1) END AS line
            FROM demo_base b JOIN demo_lines l ON b.line_u >= l.lo AND (b.line_u < l.hi OR l.hi >= 1)
        """)
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE demo_segments AS
            SELECT b.call_id, s.seq,
                   b.duration_s * s.seq / b.n_turns AS start_s,
                   b.duration_s * (s.seq + 1) / b.n_turns AS end_s,
                   CASE WHEN s.seq % 2 = 0 THEN 'operator' ELSE 'citizen' END AS role,
                   CASE WHEN s.seq % 2 = 0 THEN o.text
                        WHEN s.seq = 1 THEN b.citizen_text || ' Ở ' || b.ward || '.'
                        ELSE t2.text END AS text,
                   b.confidence AS confidence
            FROM demo_base b, range(b.n_turns) s(seq)
            JOIN demo_ops o ON o.k = 1 + (hash(b.i * 4096 + s.seq * 64 + 21) % {n_ops})
            JOIN demo_texts t2 ON t2.k = 1 + (hash(b.i * 4096 + s.seq * 64 + 22) % {n_texts})
        """)
        con.execute("""
            INSERT INTO segments (call_id, seq, start_s, end_s, speaker, role, channel, text, confidence)
            SELECT call_id, seq, start_s, end_s, role, role, CASE WHEN role = 'operator' THEN 0 ELSE 1 END, text,
                   confidence FROM demo_segments
        """)
        con.execute("""
            INSERT INTO calls (call_id, recording_sha256, source_path, pbx_call_id, started_at, duration_s, channels,
                               sample_rate_hz, language, language_prob, status, caller_hash, caller_last3, operator_ext,
                               direction, transcript, confidence, needs_review, review_reasons, urgent, urgency_reasons,
                               frustration, frustrated, run_id, asr_model, processed_at, line)
            WITH text AS (
                SELECT call_id, string_agg(text, ' ' ORDER BY seq) AS transcript FROM demo_segments GROUP BY call_id
            )
            SELECT b.call_id, sha256(b.call_id), 'demo/' || b.call_id || '.wav', 'demo.' || b.i, b.started_at,
                   round(b.duration_s, 1), 2, 8000, 'vi', 0.99, 'done', sha256('caller' || b.caller_k),
                   lpad((b.caller_k % 1000)::VARCHAR, 3, '0'), b.ext::VARCHAR, 'inbound', t.transcript, b.confidence,
                   b.confidence < 0.6, CASE WHEN b.confidence < 0.6 THEN 'low_confidence' END, b.urgent,
                   CASE WHEN b.urgent THEN 'keyword' END, b.frustration, b.frustration >= 0.5, ?, 'demo', now(), l.line
            FROM demo_base b JOIN text t USING (call_id) JOIN demo_line l USING (call_id)
        """, [run_id])
        con.execute("""
            INSERT INTO call_topics (call_id, topic, score, source, assigned)
            SELECT call_id, trim(topic), 0.9, 'model', TRUE FROM (SELECT call_id, unnest(string_split(topic, ',')) AS topic
                                                                   FROM demo_base)
        """)
        con.execute("INSERT INTO call_places (call_id, seq, kind, text, name) "
                    "SELECT call_id, 0, CASE WHEN ward LIKE 'Xã %' THEN 'commune' ELSE 'ward' END, ward, ward "
                    "FROM demo_base")
        con.execute("""
            INSERT INTO cases (case_id, kind, status, topic, topics, place, summary, unit, urgent, priority,
                               caller_hash, opened_at, due_date, resolved_at, closed_at)
            WITH c AS (
                SELECT b.*, CASE WHEN b.case_u < 0.2 THEN 'inquiry' ELSE 'complaint' END AS kind,
                       ?::TIMESTAMP - b.started_at > INTERVAL 30 DAY AS old
                FROM demo_base b
            )
            SELECT 'PA-' || call_id, kind,
                   CASE WHEN kind = 'inquiry' THEN 'answered'
                        WHEN old AND case_u < 0.92 THEN 'closed' WHEN old THEN 'resolved'
                        ELSE ['new', 'forwarded', 'in_progress', 'resolved'][1 + floor(4 * (case_u - 0.2) / 0.8)::INTEGER]
                   END,
                   split_part(topic, ',', 1), topic, ward, left(citizen_text, 120), NULL, urgent,
                   CASE WHEN urgent THEN 1 WHEN kind = 'inquiry' THEN 3 ELSE 2 END,
                   sha256('caller' || caller_k), started_at, CAST(started_at AS DATE) + 15,
                   CASE WHEN old THEN started_at + INTERVAL 7 DAY END,
                   CASE WHEN old AND case_u < 0.92 THEN started_at + INTERVAL 10 DAY END
            FROM c
        """, [end])
        con.execute("INSERT INTO case_calls SELECT call_id, 'PA-' || call_id, started_at, 'pipeline' FROM demo_base")
        for t in ("demo_texts", "demo_wards", "demo_ops", "demo_lines", "demo_base", "demo_line", "demo_segments"):
            con.execute(f"DROP TABLE {t}")  # fixed names
    return {"calls": n}


def checkpoint(con: duckdb.DuckDBPyConnection) -> None:
    """Write the WAL into the file, so that its size on disk is the warehouse's."""
    con.execute("CHECKPOINT")
