"""The caller-number HMAC: its key (never the public default in production) and the hash itself.

A caller hash links repeat calls from one number (that is what it is for). It is
reversible by anyone holding the key: Vietnamese mobile numbers are 10 digits, and
with the stored last three digits known only ~10^6 candidates remain, an HMAC over
all of them takes about two seconds. So the key must be secret: either
``HOTLINE_CALLER_SALT`` (from a secret store) or a random key generated on first
use in ``<home>/secrets/caller_salt`` (owner-only). The public development salt
is refused unless ``HOTLINE_DEV_MODE=true``. Rotation: docs/operations.md.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

from pipeline.errors import HotlineError
from pipeline.fsperm import private_dir, write_private

PUBLIC_DEV_SALT = "hotline-analytics-dev-salt"  # published in the repository: tests and demos only


class UnsafeSalt(HotlineError):
    """The caller salt is the public one outside development mode."""

    exit_code = 7


def salt_file(home: Path) -> Path:
    return Path(home) / "secrets" / "caller_salt"


def caller_salt(settings) -> str:
    """The key to hash caller numbers with (see the module docstring). Raises :class:`UnsafeSalt`."""
    if settings.caller_salt:
        if settings.caller_salt == PUBLIC_DEV_SALT and not settings.dev_mode:
            raise UnsafeSalt("HOTLINE_CALLER_SALT is the public development salt: caller hashes made with it "
                             "can be reversed by anyone. Unset it (a secret is generated on first use) or set "
                             "HOTLINE_DEV_MODE=true for tests and demos.")
        return settings.caller_salt
    path = salt_file(settings.home)
    if path.is_file() and not path.is_symlink():
        key = path.read_text(encoding="ascii").strip()
        if key:
            if path.stat().st_mode & 0o077:
                os.chmod(path, 0o600)
            return key
    private_dir(path.parent)
    key = secrets.token_hex(32)
    write_private(path, (key + "\n").encode("ascii"))
    return key


def normalise_number(raw: str) -> str:
    """Digits of a Vietnamese phone number in national form: ``+84 905…`` → ``0905…``."""
    digits = re.sub(r"\D", "", raw or "")
    if digits.startswith("84") and len(digits) >= 11:
        digits = "0" + digits[2:]
    return digits


def hash_caller(raw: str, salt: str) -> tuple[str | None, str | None]:
    """(salted HMAC-SHA-256 hex, last three digits) of a caller number; (None, None) if empty.

    A :func:`caller_token` (the number as a staged file name holds it) gives the same pair.
    """
    token = _CALLER_TOKEN.fullmatch((raw or "").strip())
    if token:
        return token["mac"].translate(_FROM_LETTERS), token["last3"]
    digits = normalise_number(raw)
    if not digits:
        return None, None
    mac = hmac.new(salt.encode(), digits.encode(), hashlib.sha256).hexdigest()
    return mac, digits[-3:]


# Hex digits written as the letters a-p: a token holds no digit run that could read as a number.
_TO_LETTERS = str.maketrans("0123456789abcdef", "abcdefghijklmnop")
_FROM_LETTERS = str.maketrans("abcdefghijklmnop", "0123456789abcdef")
_CALLER_TOKEN = re.compile(r"n(?P<last3>\d{3})z(?P<mac>[a-p]{64})")


def caller_token(raw: str, salt: str) -> str:
    """A caller number as a staged file name holds it (issue 25): ``n<last 3 digits>z<its caller hash
    in letters>``.

    :func:`hash_caller` reads it back as the number's (hash, last 3), so a FreePBX recording
    pulled without a call-log row still links to the caller's other calls; logs show it as
    ``***<last 3>`` (:func:`pipeline.logsafe.mask_numbers`).
    """
    mac, last3 = hash_caller(raw, salt)
    return f"n{last3}z{mac.translate(_TO_LETTERS)}"
