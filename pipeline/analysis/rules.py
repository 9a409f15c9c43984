"""Call categories by rule (phân loại theo quy tắc): conditions as data, evaluated on one stored call.

A rule is a name, a Vietnamese title, whether its hits are urgent (they raise alerts) and a
condition: a JSON object, never code. Conditions (keys in :data:`KINDS`):

- ``{"said": {"by": "citizen", "phrases": ["cháy", "tai nạn"], "first_s": 15}}``: one of the
  phrases said by the citizen / operator / anyone, optionally only in the first or last N
  seconds (``first_s`` / ``last_s``). Phrases match as search does, with the same function
  (:func:`pipeline.textnorm.syllable_says`): in a phrase written with diacritics every syllable
  means what was typed, or the same letters written with none (ASR output that lost them), never
  other marks ("cháy" is not "chạy"; the unmarked "tai" of "tai nạn" is not "tại"); a phrase
  written without any mark matches every accent ("chay" finds "cháy").
  With ``"meant": true`` a mention counts only when it is meant as the urgency detector reads it
  (:func:`pipeline.analysis.urgency.meant_at`): not negated, a risk or the past ("không có cháy",
  "dễ gây tai nạn") and not another sense ("cháy hàng" is sold out).
- ``{"pii": {"by": "citizen", "kinds": ["phone", "national_id"]}}``: the PII detector redacted a
  number of those kinds in that party's speech (its ``[SĐT]``/``[CCCD]`` tags in the redacted
  text; the call's ``pii_counts`` where segments have no tag).
- ``{"silence_over_s": 30}``: a pause between two turns longer than that (leading and trailing
  silence excluded, as :mod:`pipeline.analysis.metrics` measures it).
- ``{"sentiment_end": {"labels": ["angry"], "last_s": 60}}``: a citizen turn labelled so
  (:mod:`pipeline.analysis.sentiment`) ending in the last N seconds.
- ``{"topic": ["environment", "traffic"]}``: one of these topics assigned to the call.
- ``{"urgent": true}``: the urgency detector flagged the call (or, with false, did not).
- ``{"place": ["Bến Nghé"]}``: a ward, commune or other place the call names
  (:mod:`pipeline.analysis.places`, its canonical name) contains one of these as whole words,
  diacritics as for ``said``.
- ``{"overlap": {"by": "operator", "min_s": 1}}``: a turn of that party starts while the other
  party is talking and both talk together at least ``min_s`` seconds (an interruption).
- ``{"metric": {"name": "interruptions", "by": "operator", "over": 2}}``: one of the call's talk
  metrics (:data:`METRICS`: :mod:`pipeline.analysis.metrics`, plus ``talk_share``, a party's
  share 0..1 of the talk time) above ``over`` or below ``under``; ``by`` anyone is the whole call.
- ``{"calllog": {"field": "extension", "values": ["101"]}}``: a call-log field (:data:`CALLLOG_FIELDS`)
  has one of these values (case ignored); a call whose log lacks the field never matches.
- ``{"all": [...]}``, ``{"any": [...]}``, ``{"not": {...}}``: AND / OR / NOT.

:func:`evaluate` returns the moment (seconds from the start of the call) at which a condition
holds, or ``None`` when it does not: for ``said``, ``pii``, ``overlap`` the start of the first
segment doing it; ``place``, ``metric``, ``calllog``, ``topic``, ``urgent`` 0; for
``all`` the latest of its parts; for ``any`` the earliest; for ``not`` the end of the window the
inner condition had (15.0 for "not greeted within the first 15 s"; the end of the call otherwise).
No I/O here: :mod:`pipeline.casework.categories` reads calls and stores hits.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pipeline.analysis.pii import TAGS
from pipeline.analysis.urgency import meant_at
from pipeline.errors import HotlineError
from pipeline.textnorm import is_accent_free, normalize_text, phrase_starts, tokenize

KINDS = ("said", "pii", "silence_over_s", "sentiment_end", "topic", "urgent", "place", "overlap", "metric", "calllog",
         "all", "any", "not")
LEAF_KINDS = KINDS[:-3]
# talk metrics a rule may test: pipeline.analysis.metrics's timing names, plus talk_share (a party's share of talk)
METRICS = ("talk_time_s", "talk_share", "non_talk_share", "longest_silence_s", "overlap_s", "interruptions",
           "talk_speed_spm")
CALLLOG_FIELDS = ("extension", "direction", "line")
PARTIES = ("citizen", "operator", "anyone")
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


class RuleError(HotlineError):
    """A rule's name or condition is not one this module can evaluate; the message names the part."""

    exit_code = 2


@dataclass(frozen=True)
class Segment:
    start_s: float  # s from the start of the call
    end_s: float  # s
    role: str  # citizen | operator | unknown
    text: str  # redacted text
    sentiment: str | None = None  # the turn's label (calm | worried | annoyed | angry | ...), None: not scored


@dataclass(frozen=True)
class CallFacts:
    """What a rule may look at in one stored call (never unredacted text)."""

    call_id: str
    duration_s: float  # s
    segments: tuple[Segment, ...]  # in time order
    topics: frozenset[str] = frozenset()  # assigned topic keys
    urgent: bool = False
    pii_counts: Mapping[str, int] = field(default_factory=dict)  # kind -> n in the whole call
    places: frozenset[str] = frozenset()  # canonical names of the places named (wards, communes, streets...)
    metrics: Mapping[tuple[str, str], float] = field(default_factory=dict)  # (scope, name) -> value
    calllog: Mapping[str, str] = field(default_factory=dict)  # CALLLOG_FIELDS present in the call log


@dataclass(frozen=True)
class Rule:
    name: str  # ascii slug, the rule's key: "khan-cap-tu-khoa"
    title: str  # Vietnamese, for people
    condition: Mapping[str, Any]  # see the module docstring
    urgent: bool = False  # hits raise alerts
    enabled: bool = True
    version: int = 0  # 0: shipped default never saved; stored versions count from 1
    saved_by: str = "shipped"
    saved_at: datetime | None = None

    def condition_json(self) -> str:
        return json.dumps(self.condition, ensure_ascii=False, sort_keys=True)


@dataclass(frozen=True)
class Hit:
    rule: str  # rule name
    version: int  # rule version
    moment_s: float  # s from the start of the call
    urgent: bool


# ---- the shipped defaults ----------------------------------------------------------------------

GREETINGS = ("chào", "xin nghe", "kính chào", "tổng đài xin nghe")
NEXT_STEPS = ("chuyển", "ghi nhận", "báo", "sẽ", "liên hệ lại", "gọi lại", "phản hồi", "kiểm tra", "xử lý",
              "hướng dẫn", "gửi đơn", "mang")
EMERGENCY_WORDS = ("cháy", "tai nạn", "đuối nước", "sập")

DEFAULTS: tuple[Rule, ...] = (
    Rule("chua-chao-15s", "Tổng đài viên không chào trong 15 giây đầu",
         {"not": {"said": {"by": "operator", "phrases": list(GREETINGS), "first_s": 15}}}),
    Rule("chua-neu-buoc-tiep", "Tổng đài viên không nêu bước tiếp theo trước khi kết thúc",
         {"not": {"said": {"by": "operator", "phrases": list(NEXT_STEPS), "last_s": 60}}}),
    Rule("doc-so-ca-nhan", "Công dân đọc số điện thoại hoặc số CCCD/CMND trên cuộc gọi",
         {"pii": {"by": "citizen", "kinds": ["phone", "national_id"]}}),
    Rule("im-lang-30s", "Im lặng quá 30 giây", {"silence_over_s": 30}),
    Rule("buc-xuc-cuoi-cuoc", "Công dân bức xúc ở cuối cuộc gọi",
         {"sentiment_end": {"labels": ["angry"], "last_s": 60}}),
    Rule("khan-cap-tu-khoa", "Công dân nói \"cháy\", \"tai nạn\", \"đuối nước\", \"sập\" (khẩn cấp)",
         {"said": {"by": "citizen", "phrases": list(EMERGENCY_WORDS), "meant": True}}, urgent=True),
)


# ---- checking a condition ----------------------------------------------------------------------

def validate(condition: Any, where: str = "condition") -> None:
    """Raise :class:`RuleError` naming the first part of ``condition`` that is not well formed."""
    if not isinstance(condition, Mapping) or len(condition) != 1:
        raise RuleError(f"{where}: one of {', '.join(KINDS)} as an object with one key, got {condition!r}"[:300])
    (kind, arg), = condition.items()
    here = f"{where}.{kind}"
    if kind in ("all", "any"):
        if not isinstance(arg, list) or not arg:
            raise RuleError(f"{here}: a non-empty list of conditions")
        for i, part in enumerate(arg):
            validate(part, f"{here}[{i}]")
    elif kind == "not":
        validate(arg, here)
    elif kind in ("said", "pii", "sentiment_end"):
        if not isinstance(arg, Mapping):
            raise RuleError(f"{here}: an object")
        allowed = {"said": {"by", "phrases", "first_s", "last_s", "meant"}, "pii": {"by", "kinds"},
                   "sentiment_end": {"labels", "last_s"}}[kind]
        unknown = set(arg) - allowed
        if unknown:
            raise RuleError(f"{here}: unknown key(s) {', '.join(sorted(unknown))}; allowed: {', '.join(sorted(allowed))}")
        if arg.get("by", "anyone") not in PARTIES:
            raise RuleError(f"{here}.by: one of {', '.join(PARTIES)}")
        listed = {"said": "phrases", "pii": "kinds", "sentiment_end": "labels"}[kind]
        items = arg.get(listed)
        if not isinstance(items, list) or not items or not all(isinstance(p, str) and normalize_text(p) for p in items):
            raise RuleError(f"{here}.{listed}: a non-empty list of words")
        if kind == "pii" and set(items) - set(TAGS):
            raise RuleError(f"{here}.kinds: among {', '.join(TAGS)}")
        if "first_s" in arg and "last_s" in arg:
            raise RuleError(f"{here}: first_s or last_s, not both")
        for key in ("first_s", "last_s"):
            if key in arg and not (_number(arg[key]) and arg[key] > 0):
                raise RuleError(f"{here}.{key}: a number of seconds above 0")
        if "meant" in arg and not isinstance(arg["meant"], bool):
            raise RuleError(f"{here}.meant: true or false")
    elif kind == "place":
        if not isinstance(arg, list) or not arg or not all(isinstance(p, str) and normalize_text(p) for p in arg):
            raise RuleError(f"{here}: a non-empty list of place names")
    elif kind in ("overlap", "metric", "calllog"):
        _validate_object(kind, arg, here)
    elif kind == "silence_over_s":
        if not isinstance(arg, (int, float)) or isinstance(arg, bool) or arg <= 0:
            raise RuleError(f"{here}: a number of seconds above 0")
    elif kind == "topic":
        if not isinstance(arg, list) or not arg or not all(isinstance(t, str) for t in arg):
            raise RuleError(f"{here}: a non-empty list of topic keys")
    elif kind == "urgent":
        if not isinstance(arg, bool):
            raise RuleError(f"{here}: true or false")
    else:
        raise RuleError(f"{where}: unknown condition {kind!r}; known: {', '.join(KINDS)}")


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value


def _validate_object(kind: str, arg: Any, here: str) -> None:
    allowed = {"overlap": {"by", "min_s"}, "metric": {"name", "by", "over", "under"},
               "calllog": {"field", "values"}}[kind]
    if not isinstance(arg, Mapping):
        raise RuleError(f"{here}: an object")
    unknown = set(arg) - allowed
    if unknown:
        raise RuleError(f"{here}: unknown key(s) {', '.join(sorted(unknown))}; allowed: {', '.join(sorted(allowed))}")
    if arg.get("by", "anyone") not in PARTIES:
        raise RuleError(f"{here}.by: one of {', '.join(PARTIES)}")
    if kind == "overlap":
        if "min_s" in arg and not (_number(arg["min_s"]) and arg["min_s"] >= 0):
            raise RuleError(f"{here}.min_s: a number of seconds, 0 or more")
    elif kind == "metric":
        if arg.get("name") not in METRICS:
            raise RuleError(f"{here}.name: one of {', '.join(METRICS)}")
        bounds = [k for k in ("over", "under") if k in arg]
        if len(bounds) != 1 or not _number(arg[bounds[0]]):
            raise RuleError(f"{here}: a number as over or under (one of them)")
    else:
        if arg.get("field") not in CALLLOG_FIELDS:
            raise RuleError(f"{here}.field: one of {', '.join(CALLLOG_FIELDS)}")
        values = arg.get("values")
        if not isinstance(values, list) or not values or not all(isinstance(v, str) and v.strip() for v in values):
            raise RuleError(f"{here}.values: a non-empty list of values")


def check_rule(rule: Rule) -> Rule:
    """``rule`` if its name and condition are well formed, else :class:`RuleError`."""
    if not NAME_RE.match(rule.name):
        raise RuleError(f"rule name {rule.name!r}: 2-63 lower-case ascii letters, digits and '-'")
    if not rule.title.strip():
        raise RuleError(f"rule {rule.name}: a title is needed")
    validate(rule.condition)
    return rule


# ---- evaluating --------------------------------------------------------------------------------

def says_phrase(text: str, phrase: str, *, meant: bool = False) -> bool:
    """Whether ``phrase`` is said in ``text`` as whole words, by search's own rule
    (:func:`pipeline.textnorm.syllable_says`; the phrase is the query); with ``meant``, only a
    mention the urgency detector would count (not negated, not another sense)."""
    parts = normalize_text(phrase).split()
    words = [t for t in tokenize(text) if t.is_word]
    starts = phrase_starts([w.norm for w in words], [w.fold for w in words], parts,
                           accent_free=is_accent_free(phrase))
    return any(not meant or meant_at(words, i, len(parts)) for i in starts)


def _party(seg: Segment, by: str) -> bool:
    return by == "anyone" or seg.role == by


def _in_window(seg: Segment, arg: Mapping[str, Any], duration_s: float) -> bool:
    if "first_s" in arg:
        return seg.start_s < arg["first_s"]
    if "last_s" in arg:
        return seg.end_s > duration_s - arg["last_s"]
    return True


def _window_end(condition: Mapping[str, Any], call: CallFacts) -> float:
    """When the window of a condition closes: ``first_s`` for an opening window, else the call's end."""
    (kind, arg), = condition.items()
    if kind == "said" and "first_s" in arg:
        return min(float(arg["first_s"]), call.duration_s)
    return call.duration_s


def _silences(segments: Sequence[Segment]) -> list[tuple[float, float]]:
    """(start, length) of each pause between turns, in seconds."""
    out, reached = [], None
    for seg in sorted(segments, key=lambda s: s.start_s):
        if reached is not None and seg.start_s > reached:
            out.append((reached, seg.start_s - reached))
        reached = seg.end_s if reached is None else max(reached, seg.end_s)
    return out


def _interruption(segments: Sequence[Segment], by: str, min_s: float) -> float | None:
    """Start of the first turn of ``by`` that begins while another party talks, overlapping it ``min_s`` or more."""
    turns = sorted((s for s in segments if s.role in ("citizen", "operator")), key=lambda s: s.start_s)
    for seg in turns:
        if not _party(seg, by):
            continue
        for other in turns:
            if other.role != seg.role and other.start_s < seg.start_s < other.end_s and \
                    min(seg.end_s, other.end_s) - seg.start_s >= min_s:
                return seg.start_s
    return None


def metric_value(call: CallFacts, name: str, by: str) -> float | None:
    """A talk metric of ``call`` for ``by`` (anyone: the whole call); None when it was not measured."""
    scope = "call" if by == "anyone" else by
    if name == "talk_share":
        total, own = call.metrics.get(("call", "talk_time_s")), call.metrics.get((scope, "talk_time_s"))
        return own / total if total and own is not None else None
    return call.metrics.get((scope, name))


def evaluate(condition: Mapping[str, Any], call: CallFacts) -> float | None:
    """The moment (s) at which ``condition`` holds in ``call``, or None when it does not."""
    (kind, arg), = condition.items()
    if kind == "all":
        moments = [evaluate(c, call) for c in arg]
        return None if any(m is None for m in moments) else max(moments)
    if kind == "any":
        moments = [m for m in (evaluate(c, call) for c in arg) if m is not None]
        return min(moments) if moments else None
    if kind == "not":
        return _window_end(arg, call) if evaluate(arg, call) is None else None
    if kind == "said":
        by = arg.get("by", "anyone")
        for seg in call.segments:
            if _party(seg, by) and _in_window(seg, arg, call.duration_s) and any(
                    says_phrase(seg.text, p, meant=arg.get("meant", False)) for p in arg["phrases"]):
                return seg.start_s
        return None
    if kind == "pii":
        by = arg.get("by", "anyone")
        tags = [TAGS[k] for k in arg["kinds"]]
        for seg in call.segments:
            if _party(seg, by) and any(tag in seg.text for tag in tags):
                return seg.start_s
        if not any(TAGS[k] in s.text for s in call.segments for k in TAGS):
            # Segments without tags (older loads): the call's counts, with no moment better than the start.
            if any(call.pii_counts.get(k, 0) for k in arg["kinds"]):
                return 0.0
        return None
    if kind == "silence_over_s":
        for start, length in _silences(call.segments):
            if length > arg:
                return start
        return None
    if kind == "sentiment_end":
        labels = set(arg["labels"])
        last_s = arg.get("last_s", 60)
        for seg in call.segments:
            if seg.role == "citizen" and seg.sentiment in labels and seg.end_s > call.duration_s - last_s:
                return seg.start_s
        return None
    if kind == "topic":
        return 0.0 if call.topics & set(arg) else None
    if kind == "urgent":
        return 0.0 if call.urgent == arg else None
    if kind == "place":
        return 0.0 if any(says_phrase(name, p) for name in call.places for p in arg) else None
    if kind == "overlap":
        return _interruption(call.segments, arg.get("by", "anyone"), float(arg.get("min_s", 1.0)))
    if kind == "metric":
        value = metric_value(call, arg["name"], arg.get("by", "anyone"))
        if value is None:
            return None
        return 0.0 if (value > arg["over"] if "over" in arg else value < arg["under"]) else None
    if kind == "calllog":
        value = (call.calllog.get(arg["field"]) or "").strip().casefold()
        return 0.0 if value and value in {v.strip().casefold() for v in arg["values"]} else None
    raise RuleError(f"unknown condition {kind!r}")


def hits(rules: Sequence[Rule], call: CallFacts) -> list[Hit]:
    """The enabled rules that match ``call``, each with its moment."""
    out = []
    for rule in rules:
        if not rule.enabled:
            continue
        moment = evaluate(rule.condition, call)
        if moment is not None:
            out.append(Hit(rule.name, rule.version, round(moment, 2), rule.urgent))
    return out


# ---- the early urgent pass ---------------------------------------------------------------------

def early_checkable(condition: Mapping[str, Any]) -> bool:
    """Whether ``condition`` can be decided on the first seconds of a call, before diarization and analysis:
    built with AND/OR only from ``said`` (by the citizen or anyone; not in the last N s, which needs the
    call's end) and ``{"urgent": true}``. A hit on the beginning of a call is then a hit on the whole call
    (more text can only add matches); NOT, pauses, metrics, topics and the rest wait for the full pass."""
    (kind, arg), = condition.items()
    if kind in ("all", "any"):
        return all(early_checkable(c) for c in arg)
    if kind == "said":
        return arg.get("by", "anyone") in ("citizen", "anyone") and "last_s" not in arg
    return kind == "urgent" and arg is True


def early_hits(rules: Sequence[Rule], call: CallFacts) -> list[Hit]:
    """The enabled urgent rules that :func:`early_checkable` allows and that match the beginning ``call`` holds."""
    return hits([r for r in rules if r.urgent and early_checkable(r.condition)], call)
