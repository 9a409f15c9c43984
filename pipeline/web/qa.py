"""The QA workspace's data: what the call page draws (timed words, timeline, key figures), the
audited corrections of transcript, places, urgent flag and roles, the evaluation form, the queue.

Plain functions over a DuckDB connection, like :mod:`pipeline.web.data`; every correction
writes its audit row in the same transaction as the change (``call_edits``,
``call_evaluations``: migration 011); the SQL is in :mod:`pipeline.warehouse.qa_workspace`.
"""

from __future__ import annotations

import functools
import re
from datetime import datetime

import duckdb

from pipeline.analysis import pii
from pipeline.analysis.readable import redacted_correction
from pipeline.analysis.routing import default_routing_table
from pipeline.analysis.spoken import spoken_text
from pipeline.stages import audio_redaction
from pipeline.textnorm import fold_accents
from pipeline.warehouse import calls
from pipeline.warehouse import qa_workspace as ws
from pipeline.warehouse import rules as rule_store
from pipeline.warehouse import search
from pipeline.web.data import BadCorrection, call_detail

LOW_WORD_PROBABILITY = 0.5  # words the recogniser was less sure of than this are marked on the page
SILENCE_MARK_S = 2.0  # gaps between turns at least this long are drawn on the timeline
EVAL_ITEMS = ws.EVAL_ITEMS  # the form's criteria, in order
EVAL_ANSWERS = ("met", "not_met", "na")
PLACE_KINDS = ("ward", "commune", "town", "hamlet", "street", "alley", "house_number", "landmark")


def fmt_num(value, digits: int = 1, lang: str = "vi") -> str:
    """``1234.5`` → ``1.234,5`` in Vietnamese, ``1,234.5`` in English; None → ``—``."""
    if value is None:
        return "—"
    text = f"{float(value):,.{digits}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".") if lang == "vi" else text


@functools.lru_cache(maxsize=1)
def own_centre_agencies() -> frozenset[str]:
    """Agencies the routing table gives every call (the hotline's own centre): not worth showing."""
    return frozenset(r.agency for r in default_routing_table().rules
                     if r.topic == "*" and not r.keywords and not r.place_kinds and not r.no_place)


def _timed_words(text: str | None, start: float, end: float, words: list[tuple], align: str | None = None) -> list[dict]:
    """The segment's written words with times: the recogniser's own when they line up with the text
    (one to one, or through ``align``: recogniser words per written token of the readable text,
    "1 1 3 1"; a token's probability is its least sure word's), else spread over the segment by
    length (redaction or an edit changed the text)."""
    tokens = (text or "").split()
    if not tokens:
        return []
    timed = bool(words) and all(w[0] is not None and w[1] is not None for w in words)
    counts = [int(n) for n in align.split()] if align else []
    if timed and counts and len(counts) == len(tokens) and sum(counts) == len(words):
        out, at = [], 0
        for tok, n in zip(tokens, counts):
            span = words[at : at + n]
            probs = [w[2] for w in span if w[2] is not None]
            out.append({"w": tok, "s": round(span[0][0], 2), "e": round(span[-1][1], 2), "p": min(probs) if probs else None,
                        "span": (at, at + n)})
            at += n
        return out
    if timed and len(words) == len(tokens):
        return [{"w": tok, "s": round(w[0], 2), "e": round(w[1], 2), "p": w[2]} for tok, w in zip(tokens, words)]
    total = sum(len(t) + 1 for t in tokens)
    out, at = [], start
    for tok in tokens:
        step = (end - start) * (len(tok) + 1) / total
        out.append({"w": tok, "s": round(at, 2), "e": round(at + step, 2), "p": None})
        at += step
    return out


def _mark_hits(seg: dict, q: str) -> None:
    """``hit`` on the written words that match the search ``q``: matched on the normalised syllables they
    stand for where the readable text lines up with them ("45" is a hit for "bốn mươi lăm"), else on the words."""
    plain = (seg.get("plain") or "").split()
    spans = [w.get("span") for w in seg["words"]]
    if plain and all(spans) and spans[-1][1] == len(plain):
        flags = search.match_flags(plain, q)
        for w, (a, b) in zip(seg["words"], spans):
            w["hit"] = any(flags[a:b])
        return
    for w, hit in zip(seg["words"], search.match_flags([w["w"] for w in seg["words"]], q)):
        w["hit"] = hit


def _intersect(a: list[tuple[float, float]], b: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out = []
    for s1, e1 in a:
        for s2, e2 in b:
            lo, hi = max(s1, s2), min(e1, e2)
            if hi > lo:
                out.append((lo, hi))
    return out


def timeline(segments: list[dict], duration: float) -> dict:
    """Speaker lanes, silences and overlaps as fractions of the call (0..1) for the page to draw."""
    duration = max(duration or 0.0, max((s["end_s"] for s in segments), default=0.0), 0.001)

    def span(a: float, b: float) -> dict:
        return {"s": round(a, 2), "e": round(b, 2), "left": round(100 * a / duration, 3),
                "width": round(max(0.3, 100 * (b - a) / duration), 3)}

    lanes: dict[str, list[dict]] = {"operator": [], "citizen": [], "unknown": []}
    for s in segments:
        lane = s["role"] if s["role"] in lanes else "unknown"
        lanes[lane].append(span(s["start_s"], s["end_s"]) | {"seq": s["seq"]})
    ordered = sorted((s["start_s"], s["end_s"]) for s in segments)
    silences, reach = [], 0.0
    for a, b in ordered + [(duration, duration)]:
        if a - reach >= SILENCE_MARK_S:
            silences.append(span(reach, a))
        reach = max(reach, b)
    op = [(s["start_s"], s["end_s"]) for s in segments if s["role"] == "operator"]
    ci = [(s["start_s"], s["end_s"]) for s in segments if s["role"] == "citizen"]
    overlaps = [span(a, b) for a, b in _intersect(op, ci)]
    return {"duration": duration, "lanes": {k: v for k, v in lanes.items() if v or k != "unknown"},
            "silences": silences, "overlaps": overlaps}


def mood_trend(segments: list[dict], duration: float) -> list[dict]:
    """The citizen's turns with a sentiment, in time order, for the strip above the transcript: ``left`` (% of
    the call), ``h`` (% height: the turn's frustration, 0..1, at least 12 so a calm turn still shows)."""
    d = max(duration, 0.001)
    return [{"s": seg["start_s"], "seq": seg["seq"], "label": seg["mood"]["label"], "score": seg["mood"]["score"],
             "left": round(100 * seg["start_s"] / d, 3), "h": round(max(12.0, 100 * (seg["mood"]["score"] or 0.0)), 1)}
            for seg in segments if seg.get("mood") and seg["role"] != "operator"]


def key_figures(metrics: list[dict], duration: float) -> dict:
    """The handful a reviewer reads, from ``stg_call_metrics`` rows (None when not measured)."""
    m = {(r["scope"], r["metric"]): r["value"] for r in metrics}
    op, ci = m.get(("operator", "talk_time_s")), m.get(("citizen", "talk_time_s"))
    share = m.get(("call", "non_talk_share"))
    if share is None and duration and (op is not None or ci is not None):
        share = max(0.0, 1 - ((op or 0) + (ci or 0) - (m.get(("call", "overlap_s")) or 0)) / duration)
    total = (op or 0) + (ci or 0)
    return {
        "operator_talk_s": op, "citizen_talk_s": ci, "non_talk_share": share,
        "longest_silence_s": m.get(("call", "longest_silence_s")),
        "interruptions": m.get(("call", "interruptions")),
        "operator_interruptions": m.get(("operator", "interruptions")),
        "talk_speed_spm": m.get(("operator", "talk_speed_spm"), m.get(("call", "talk_speed_spm"))),
        "overlap_s": m.get(("call", "overlap_s")),
        # The talk-time bar: each side's share of the talk.
        "operator_pct": round(100 * (op or 0) / total, 1) if total else None,
        "citizen_pct": round(100 * (ci or 0) / total, 1) if total else None,
    }


def page_detail(con: duckdb.DuckDBPyConnection, call_id: str, *, raw_text: bool, q: str = "",
                lines: tuple[str, ...] | None = None) -> dict | None:
    """:func:`pipeline.web.data.call_detail` plus what the QA workspace draws; words matching the
    search ``q`` carry ``hit`` (highlighted, and ticks on the timeline)."""
    call = call_detail(con, call_id, raw_text=raw_text, lines=lines)
    if call is None:
        return None
    # Not in stg_calls: the recording's channel count (a stereo call can be heard one side at a time).
    call["channels"] = ws.channels(con, call_id)
    words: dict[int, list[tuple]] = {}
    for seq, s, e, p in ws.word_times(con, call_id):
        words.setdefault(seq, []).append((s, e, p))
    for seg in call["segments"]:
        seg["words"] = _timed_words(seg["text"], seg["start_s"], seg["end_s"], words.get(seg["seq"], []), seg.get("align"))
        seg["low_confidence"] = seg["confidence"] is not None and seg["confidence"] < 0.5
        if q.strip():
            _mark_hits(seg, q)
    edited = ws.edited_segments(con, call_id)
    for seg in call["segments"]:
        seg["edited"] = seg["seq"] in edited
    call["timeline"] = timeline(call["segments"], call.get("duration_s") or 0.0)
    d = call["timeline"]["duration"]
    call["timeline"]["hits"] = [{"s": w["s"], "left": round(100 * w["s"] / d, 3)}
                                for seg in call["segments"] for w in seg["words"] if w.get("hit")]
    call["timeline"]["redacted"] = [] if raw_text else redacted_marks(con, call_id, d)
    call["mood_trend"] = mood_trend(call["segments"], d)
    # Categories by rule (issue 30): the rules in force the call matched, each at its moment (a mark at the
    # call's end is drawn just inside the track).
    call["categories"] = [{**h, "left": round(min(100 * h["moment_s"] / d, 99.0), 3) if d else 0.0}
                          for h in rule_store.hits_in_force(con, call_id)]
    call["figures"] = key_figures(call["metrics"], call.get("duration_s") or 0.0)
    # Topics as they are now, plus model topics QA removed (shown struck through as overridden).
    call["removed_topics"] = ws.removed_topics(con, call_id)
    own = own_centre_agencies()
    shown = [r for r in call["routes"] if r["agency"] not in own]
    call["routes"] = shown or call["routes"]
    call["evaluation"] = evaluation(con, call_id)
    call["eval_suggested"] = suggest_evaluation(call)
    call["history"] = history(con, call_id)
    return call


def redacted_marks(con: duckdb.DuckDBPyConnection, call_id: str, duration: float) -> list[dict]:
    """The stretches silenced in the audio a role without raw text hears (``/audio``), as timeline fractions."""
    rows = calls.redaction_rows(con, call_id)
    if not rows or rows["status"] != "done":
        return []
    d = max(duration, 0.001)
    return [{"s": round(a, 2), "e": round(b, 2), "left": round(100 * a / d, 3), "width": round(max(0.3, 100 * (b - a) / d), 3)}
            for a, b in audio_redaction.silence_intervals(audio_redaction.call_spans(rows), rows["duration_s"])]


def history(con: duckdb.DuckDBPyConnection, call_id: str) -> list[dict]:
    """Every audited change of the call, newest first: ``action`` is a key the page translates."""
    return ws.history(con, call_id)


def _need_call(con: duckdb.DuckDBPyConnection, call_id: str) -> None:
    if not ws.call_exists(con, call_id):
        raise BadCorrection(f"no call {call_id!r}")


def correct_segment_text(con: duckdb.DuckDBPyConnection, call_id: str, seq: int, text: str, user_name: str,
                         ) -> str | None:
    """Replace one segment's text as QA typed it (the readable text: capitals, punctuation, digits);
    returns the readable text now shown to roles that see redacted text, or None if unchanged.

    The normalised text follows the typed one (:func:`pipeline.analysis.spoken.spoken_text`: lower
    case, no punctuation, numbers in words), so search, topics, PII and places read the
    correction as they read the recogniser. Personal data is redacted in both forms for
    ``segments``; the typed text and its normalised form go to ``segments_raw`` where the
    call keeps raw text. The audit row holds the redacted normalised text before and after
    and the redacted readable text saved, so the pipeline's original stays readable.
    """
    _need_call(con, call_id)
    text = " ".join((text or "").split())
    if not text or len(text) > 5000:
        raise BadCorrection("the corrected text must be 1 to 5000 characters")
    row = ws.segment_text(con, call_id, seq)
    if row is None:
        raise BadCorrection(f"call {call_id!r} has no segment {seq}")
    normalised = spoken_text(text)
    if not normalised:
        raise BadCorrection("the corrected text has no words")
    redacted = pii.redact(normalised).text
    shown = redacted_correction(text, redacted)
    if redacted == row[0] and shown == row[1]:
        return None
    ws.write_segment_text(con, call_id, seq, redacted, normalised, row[0], user_name, readable=shown, readable_raw=text)
    if search.index_built(con):  # the corrected words are found at once: a search no longer checks every call
        search.refresh_search_index(con, [call_id])
    return shown


def set_urgent(con: duckdb.DuckDBPyConnection, call_id: str, urgent: bool, user_name: str) -> bool:
    """Set or clear the urgent flag; False (and no audit row) when it already had that value."""
    _need_call(con, call_id)
    now = ws.is_urgent(con, call_id)
    if now == urgent:
        return False
    ws.write_urgent(con, call_id, urgent, now, user_name)
    return True


def swap_roles(con: duckdb.DuckDBPyConnection, call_id: str, user_name: str) -> None:
    """Operator ↔ citizen on every segment and per-speaker metric of the call (diarization got them backwards)."""
    _need_call(con, call_id)
    ws.write_swapped_roles(con, call_id, user_name)


def remove_place(con: duckdb.DuckDBPyConnection, call_id: str, name: str, user_name: str) -> bool:
    """Drop a place the pipeline extracted wrongly (every mention of that name)."""
    _need_call(con, call_id)
    if not ws.n_place_mentions(con, call_id, name):
        return False
    ws.write_place_removed(con, call_id, name, user_name)
    return True


def add_place(con: duckdb.DuckDBPyConnection, call_id: str, name: str, kind: str, user_name: str) -> bool:
    """Add a place the pipeline missed (canonical name and kind, e.g. "Tân Lợi", ward)."""
    _need_call(con, call_id)
    name = " ".join((name or "").split())
    if not name or len(name) > 200:
        raise BadCorrection("a place name must be 1 to 200 characters")
    if kind not in PLACE_KINDS:
        raise BadCorrection(f"place kind {kind!r} must be one of {', '.join(PLACE_KINDS)}")
    if ws.has_place(con, call_id, name, kind):
        return False
    ws.write_place_added(con, call_id, name, kind, user_name)
    return True


# --- Evaluation form ---------------------------------------------------------------------------

_GREETING = re.compile(r"\b(xin nghe|xin chao|kinh chao|tong dai .* xin)\b")
_COURTESY = re.compile(r"\b(da|a|vang|cam on|xin loi|kinh)\b")
_NEXT_STEP = re.compile(r"\b(se|chuyen|gui|mang|hen|lien he|kiem tra|xu ly|giai quyet|xuong)\b")
_UNIT = re.compile(r"\b(cong an|ubnd|uy ban|dien luc|cong ty|doi|ban quan ly|phong|so|bo phan|trung tam)\b")


def suggest_evaluation(call: dict) -> dict[str, str]:
    """A first answer per item from what the transcript shows (QA confirms or changes it)."""
    op = [fold_accents(s["text"] or "") for s in call["segments"] if s["role"] == "operator"]
    first = op[0] if op else ""
    every = " ".join(op)
    if not op:
        return {k: "na" for k in EVAL_ITEMS}
    return {
        "greeting": "met" if _GREETING.search(first) else "not_met",
        "address_captured": "met" if call.get("places") else "not_met",
        "next_step": "met" if _NEXT_STEP.search(every) else "not_met",
        "handling_unit": "met" if _UNIT.search(every) else "not_met",
        "courtesy": "met" if _COURTESY.search(every) else "not_met",
    }


def evaluation(con: duckdb.DuckDBPyConnection, call_id: str) -> dict[str, dict]:
    """The latest saved answer per item: ``{item: {answer, comment, user_name, at}}``."""
    rows = ws.latest_evaluation(con, call_id)
    return {r[0]: dict(zip(("answer", "comment", "user_name", "at"), r[1:])) for r in rows}


def save_evaluation(con: duckdb.DuckDBPyConnection, call_id: str, answers: dict[str, tuple[str, str]],
                    user_name: str) -> int:
    """Store ``{item: (answer, comment)}``; items whose answer and comment did not change are skipped.
    Returns the number of rows written."""
    _need_call(con, call_id)
    for item, (answer, comment) in answers.items():
        if item not in EVAL_ITEMS or answer not in EVAL_ANSWERS:
            raise BadCorrection(f"evaluation item {item!r} / answer {answer!r} unknown")
        if len(comment or "") > 2000:
            raise BadCorrection("an evaluation comment is at most 2000 characters")
    before = evaluation(con, call_id)
    now = datetime.now()
    rows = [[call_id, item, answer, (comment or "").strip() or None, user_name, now]
            for item, (answer, comment) in answers.items()
            if (before.get(item, {}).get("answer"), before.get(item, {}).get("comment"))
            != (answer, (comment or "").strip() or None)]

    if rows:
        ws.insert_evaluation_rows(con, rows)
    return len(rows)


def evaluation_report(con: duckdb.DuckDBPyConnection, start=None, end=None) -> list[dict]:
    """Per item: calls evaluated, met, not met, N/A and the met share of those answered, over a period."""
    rows = ws.evaluation_counts(con, start, end)
    by_item = {r[0]: r for r in rows}
    out = []
    for item in EVAL_ITEMS:
        _, n, met, not_met, na = by_item.get(item, (item, 0, 0, 0, 0))
        out.append({"item": item, "n": n, "met": met, "not_met": not_met, "na": na,
                    "met_share": met / (met + not_met) if met + not_met else None})
    return out


def next_in_queue(con: duckdb.DuckDBPyConnection, after: str | None = None) -> str | None:
    """The review queue's first call other than ``after`` (the one just saved), in priority order."""
    return ws.first_in_queue(con, after)
