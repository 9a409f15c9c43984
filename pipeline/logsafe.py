"""Keep phone numbers out of logs: PBX file names often hold the caller's number."""

from __future__ import annotations

import re

_DIGIT_RUN = re.compile(r"(?<!\d)(\+?\d[\d .-]{5,}\d)(?!\d)")


def mask_numbers(text: str) -> str:
    """Replace phone-number-like digit runs by ``***`` + their last 3 digits.

    A run (spaces, dots, dashes allowed inside) is masked when it has 9+ digits, or
    7+ digits starting with 0 or +; dates such as ``20261103`` stay readable.
    """

    def _mask(m: re.Match) -> str:
        run = m.group(1)
        digits = re.sub(r"\D", "", run)
        if len(digits) >= 9 or (len(digits) >= 7 and run[0] in "0+"):
            return f"***{digits[-3:]}"
        return run

    return _DIGIT_RUN.sub(_mask, str(text))


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
    """One log-safe line: numbers masked (:func:`mask_numbers`) and control characters escaped."""
    return mask_numbers(escape_controls(str(text)))
