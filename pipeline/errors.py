"""Named errors. The CLI turns each into one clear message and an exit code."""

from __future__ import annotations

from pipeline.logsafe import safe


class HotlineError(Exception):
    """Base class for every error this package raises on purpose."""

    exit_code = 1


class AudioDecodeError(HotlineError):
    """A recording cannot be decoded: empty, truncated, not audio, unsupported."""

    exit_code = 3

    def __init__(self, path, problem: str):
        self.path = str(path)
        self.problem = problem
        # The message reaches logs (Prefect logs failed tasks): PBX file names often hold
        # the caller's number, so it is masked there; ``path`` keeps the real one.
        super().__init__(f"{safe(self.path)}: {problem}")


class CallLogError(HotlineError):
    """The call log (PBX CSV export) is unreadable or unsafe."""

    exit_code = 4


class ModelUnavailable(HotlineError):
    """A model is missing, incomplete or unreachable; the message says how to fix it."""

    exit_code = 5


class DatabaseBusy(HotlineError):
    """Another process holds the DuckDB file for writing."""

    exit_code = 6


class WarehouseError(HotlineError):
    """The warehouse file is missing, a folder, or not a DuckDB database."""

    exit_code = 7


class SetupError(HotlineError):
    """A folder the product writes into cannot be created or written, or an argument is unusable."""

    exit_code = 8
