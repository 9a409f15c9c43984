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
