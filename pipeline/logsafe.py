"""Keep phone numbers out of logs: PBX file names often hold the caller's number."""

from __future__ import annotations

import re

# A run of digits with the separators people and PBXs write numbers with: spaces, dots,
# dashes, underscores (FreePBX-style file names: ``0905_123_456``) and an area code in
# brackets (``(0262)3812345``, ``(0262) 381 2345``).
_DIGIT_RUN = re.compile(r"(?<!\d)(\+?\(?\d[\d .\-_()]{5,}\d)(?!\d)")
# What :func:`mask_numbers` matched before issue 25 (no ``_`` or brackets): values stored then
# (``calls.source_path``) are still found again by it (:func:`masked_forms`).
_LEGACY_RUN = re.compile(r"(?<!\d)(\+?\d[\d .-]{5,}\d)(?!\d)")


# An Asterisk uniqueid (epoch seconds "." sequence, 1764490502.11): the CDR's key, not a number to hide.
_UNIQUEID = re.compile(r"1\d{9}\.\d{1,6}")


def is_phone_run(run: str) -> bool:
    """Whether a digit run (as :data:`_DIGIT_RUN` finds them) is a phone number: 9+ digits, or 7+
    starting with 0 or + (dates such as ``20261103`` and Asterisk uniqueids are not)."""
    if _UNIQUEID.fullmatch(run):
        return False
    digits = re.sub(r"\D", "", run)
    return len(digits) >= 9 or (len(digits) >= 7 and run.lstrip("(")[0] in "0+")


def _mask_run(run: str) -> str:
    return f"***{re.sub(r'[^0-9]', '', run)[-3:]}" if is_phone_run(run) else run


_DATE = re.compile(r"(?:19|20)\d{2}-\d{2}-\d{2}")


def _chunks(run: str) -> list[str]:
    """``run`` cut into the pieces judged one by one (their concatenation is ``run``).

    An underscore joins short digit groups (0905_123_456), not the long fields of a file
    name (rec_20261103_082512: a date and a time, each judged on its own); an ISO date
    (2026-11-30) is its own piece, so "2026-11-30 10:15" stays readable.
    """
    pieces = run.split("_")
    joined = [pieces[0]]
    for piece in pieces[1:]:
        before = re.search(r"\d*$", joined[-1]).group(0)
        after = re.match(r"\d*", piece).group(0)
        if len(before) <= 4 and len(after) <= 4:
            joined[-1] += "_" + piece
        else:
            joined += ["_", piece]
    out = []
    for piece in joined:
        at = 0
        for m in _DATE.finditer(piece):
            out += [piece[at:m.start()], m.group(0)]
            at = m.end()
        out.append(piece[at:])
    return [p for p in out if p]


def replace_numbers(text: str, replace) -> str:
    """``text`` with each phone-number run (:func:`is_phone_run`) replaced by ``replace(run)``."""

    def one(chunk: str) -> str:
        lead = re.match(r"[ .\-_)]*", chunk).group(0)  # what separated it from the piece before stays
        return lead + replace(chunk[len(lead):]) if is_phone_run(chunk[len(lead):]) else chunk

    return _DIGIT_RUN.sub(lambda m: "".join(one(c) for c in _chunks(m.group(1))), str(text))


# A caller number in a staged file name, as pipeline.intake.ingest.caller_token writes it: shown as ***<last 3>.
_TOKEN = re.compile(r"n(\d{3})z[a-p]{64}")


def mask_numbers(text: str) -> str:
    """Replace phone-number-like digit runs by ``***`` + their last 3 digits.

    A run (spaces, dots, dashes, underscores and brackets allowed inside) is masked when
    it has 9+ digits, or 7+ digits starting with 0 or +; dates such as ``20261103`` stay
    readable. A keyed caller token of a staged file name is shown the same way. For text
    written to a log or a terminal use :func:`safe`, which also escapes line breaks.
    """
    return _TOKEN.sub(r"***\1", replace_numbers(text, _mask_run))


def masked_forms(text: str) -> set[str]:
    """``text`` masked as now and as before issue 25, and as the retention purge leaves a stored name
    (``***678`` → ``***``): to find a file again from a stored masked name (hash checked by the caller)."""
    forms = {mask_numbers(text), _LEGACY_RUN.sub(lambda m: _mask_run(m.group(1)), str(text))}
    return forms | {re.sub(r"\*\*\*\d{3}", "***", f) for f in forms}


# Line breaks and other control characters a file name or a call-log cell may hold:
# in a log line they would forge further lines (``\n``, ``\r``, U+2028/U+2029, NEL).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def escape_controls(text: str) -> str:
    """Control characters written as visible escapes (``\\n``, ``\\x1b``, ``\\u2028``)."""

    def _esc(m: re.Match) -> str:
        ch = m.group(0)
        return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(ch) or (f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")

    return _CONTROL.sub(_esc, str(text))


def safe(text) -> str:
    """One log-safe line: numbers masked (:func:`mask_numbers`) and control characters escaped.

    The one path for a file name, call-log cell, error message or any other caller-derived
    text on its way to a log, a terminal or a problem report.
    """
    return mask_numbers(escape_controls(str(text)))
