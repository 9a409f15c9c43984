"""``/audio/{id}`` for a role that may not read raw text: the recording with its redacted stretches
silenced (:mod:`pipeline.stages.audio_redaction`), answered whole or by byte range.

Every range is cut from the redacted bytes, so seeking in ``<audio>`` never reaches the raw
recording. The redacted bytes of the last few calls are kept in this process's memory only
(never on disk, so no file of a call's audio is written anywhere by the web app); the purge
needs nothing here: a purged call answers 410 before the cache is looked at, and an entry
is keyed on the file's identity and the silenced stretches, so a re-processed or corrected
call gets fresh bytes.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

from fastapi import Request
from fastapi.responses import Response

CACHE_BYTES = 256 * 1024 * 1024  # bytes of redacted audio kept in memory, all calls together
_HEADERS = {"Cache-Control": "private, no-store", "Accept-Ranges": "bytes"}


class RedactedAudioCache:
    """A small least-recently-used map of redacted recordings, bounded in bytes; thread-safe."""

    def __init__(self, max_bytes: int = CACHE_BYTES):
        self.max_bytes = max_bytes
        self._items: OrderedDict[tuple, tuple[bytes, str]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get_or_make(self, key: tuple, make) -> tuple[bytes, str]:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = make()
        with self._lock:
            if key not in self._items and len(value[0]) <= self.max_bytes:
                self._items[key] = value
                self._size += len(value[0])
                while self._size > self.max_bytes:
                    _, (old, _) = self._items.popitem(last=False)
                    self._size -= len(old)
        return value


def cache_key(call_id: str, path: Path, intervals) -> tuple:
    """The recording's identity (path, size, modification time) and the stretches silenced."""
    st = path.stat()
    return (call_id, str(path), st.st_size, st.st_mtime_ns, tuple(intervals))


def byte_range(header: str | None, size: int) -> tuple[int, int] | None | str:
    """``(first, last + 1)`` of a single ``bytes=`` range; None to answer the whole body (no header, another
    unit, several ranges, a malformed one); ``"unsatisfiable"`` for a range outside the body."""
    if not header or not header.strip().lower().startswith("bytes="):
        return None
    spec = header.split("=", 1)[1].strip()
    if "," in spec or "-" not in spec:
        return None
    first, last = (p.strip() for p in spec.split("-", 1))
    if not (first.isdigit() or first == "") or not (last.isdigit() or last == "") or (first == last == ""):
        return None
    if first == "":  # the last N bytes
        n = int(last)
        return (max(0, size - n), size) if n > 0 and size > 0 else "unsatisfiable"
    a = int(first)
    if last and int(last) < a:
        return None  # an invalid range is ignored (RFC 9110, 14.2)
    if a >= size:
        return "unsatisfiable"
    b = min(size - 1, int(last)) if last else size - 1
    return a, b + 1


def respond(request: Request, body: bytes, media_type: str) -> Response:
    """``body`` whole (200) or the requested range of it (206, ``Content-Range``); 416 outside it."""
    size = len(body)
    rng = byte_range(request.headers.get("range"), size)
    if rng == "unsatisfiable":
        return Response(status_code=416, headers=_HEADERS | {"Content-Range": f"bytes */{size}"})
    if rng is None:
        return Response(body, media_type=media_type, headers=dict(_HEADERS))
    a, b = rng
    return Response(body[a:b], status_code=206, media_type=media_type,
                    headers=_HEADERS | {"Content-Range": f"bytes {a}-{b - 1}/{size}"})
