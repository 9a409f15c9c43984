"""Keep phone numbers out of logs: PBX file names often hold the caller's number."""

from __future__ import annotations

import re

_DIGIT_RUN = re.compile(r"(?<!\d)(\+?\d[\d .-]{5,}\d)(?!\d)")


def mask_numbers(text: str) -> str:
    """Replace each run of 7+ digits (spaces, dots, dashes allowed inside) by ``***`` + its last 3 digits."""

    def _mask(m: re.Match) -> str:
        digits = re.sub(r"\D", "", m.group(1))
        return m.group(1) if len(digits) < 7 else f"***{digits[-3:]}"

    return _DIGIT_RUN.sub(_mask, str(text))
