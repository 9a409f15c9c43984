"""Settings in one place: defaults here, overridden by ``HOTLINE_*`` environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

# Call audio is confidential: no library may phone home. Set before any import of them.
os.environ.setdefault("PYANNOTE_METRICS_ENABLED", "0")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
# Idle OpenMP threads (torch, CTranslate2) spin by default; on a busy 2-core machine
# that starved diarization to a crawl (see models/diarization.py).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

REPO_ROOT = Path(__file__).resolve().parent.parent


def _default_home() -> Path:
    # ./var of the directory the command runs in (absolute, so flow workers agree on it).
    return Path(os.environ.get("HOTLINE_HOME", "var")).absolute()


def ensure_dir(path: Path | str, what: str) -> Path:
    """Create ``path`` (and its parents) if missing and check it is a writable folder.

    ``what`` names the folder's job in the message ("home", "database", "Prefect home"…).
    Raises :class:`~pipeline.errors.SetupError` with one line naming the folder.
    """
    from pipeline.errors import SetupError

    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise SetupError(f"{path}: the {what} folder is a file; remove it or choose another path") from None
    except OSError as exc:
        raise SetupError(f"{path}: cannot create the {what} folder ({exc.strerror or exc})") from None
    if not path.is_dir():
        raise SetupError(f"{path}: the {what} folder is not a folder")
    if not os.access(path, os.W_OK | os.X_OK):
        raise SetupError(f"{path}: the {what} folder is not writable by this user")
    return path


@dataclass(frozen=True)
class Settings:
    """Everything a run can be configured with.

    Each field can be set with an environment variable named ``HOTLINE_`` plus the
    field name in upper case (``HOTLINE_ASR_MODEL=/models/phowhisper-ct2``).
    """

    home: Path = field(default_factory=_default_home)  # working folder: db, quarantine, model cache
    db_path: Path | None = None  # DuckDB file; default <home>/hotline.duckdb
    asr_model: str = "viet-asr"  # recogniser: viet-asr | viet-asr-16k | base | CTranslate2 folder | hub id (`hotline models`)
    asr_device: str = "auto"  # auto | cpu | cuda
    asr_compute_type: str = "auto"  # auto: float16 on CUDA, int8 on CPU
    cpu_threads: int = 2  # threads for CTranslate2 and torch
    operator_channel: int = 0  # stereo: channel index of the operator (0 = left)
    min_speakers: int = 2  # mono diarization bounds
    max_speakers: int = 2
    known_operators: bool = True  # mono: recognise enrolled operators by voice (hotline operators enrol)
    # Key of the caller-number HMAC. Empty: a random secret generated on first use in
    # <home>/secrets/caller_salt (owner-only). The public dev salt is refused unless dev_mode.
    caller_salt: str = ""
    dev_mode: bool = False  # allow the public development salt (tests, demos); never in production
    keep_raw_text: bool = True  # keep unredacted text for roles allowed to see it
    keep_operator_name: bool = True  # true/false: an operator's own name ("em là Hương, tổng đài viên") stays in redacted text
    max_duration_s: float = 7200.0  # s; longer recordings are quarantined from their header (0: no limit)
    max_channels: int = 2  # channels; more is quarantined from the header (decompression bombs)
    max_source_rate_hz: int = 48000  # Hz; a higher recorded rate is quarantined from the header
    max_decoded_mb: float = 1024.0  # MiB of decoded float32 per recording; decoding stops past it (0: no limit)
    settle_s: float = 5.0  # s; `hotline run` leaves files modified more recently for a later run
    # Below this mean segment confidence (0..1) a call goes to review; negative: the selected
    # recogniser's value calibrated on asr-dev (models/registry.py, docs/asr.md).
    review_confidence: float = -1.0
    agency_name: str = "Tổng đài 1022 tỉnh Đắk Lắk"  # text: the agency named in the period report's header
    report_dir: Path | None = None  # folder for scheduled weekly reports; default <home>/reports
    # Pulling recordings (pipeline/sources.py, docs/sources.md).
    call_log_format: str = "auto"  # auto | hotline (our calls.csv) | asterisk (cdr-csv Master.csv + FreePBX names)
    sftp_known_hosts: str = "~/.ssh/known_hosts"  # host keys an SFTP server must match (checking is always on)
    sftp_key_path: str = ""  # private key file for SFTP; empty: password auth
    sftp_password: str = field(default="", repr=False)  # SFTP password; never logged (prefer the Secret block)
    sftp_password_secret: str = ""  # name of a Prefect Secret block holding the SFTP password
    sftp_timeout_s: float = 15.0  # s to connect and authenticate

    def __post_init__(self):
        # Flow parameters arrive as JSON: paths may come in as strings.
        object.__setattr__(self, "home", Path(self.home))
        if self.db_path is not None:
            object.__setattr__(self, "db_path", Path(self.db_path))

    @property
    def database(self) -> Path:
        return Path(self.db_path) if self.db_path else self.home / "hotline.duckdb"

    @property
    def quarantine_dir(self) -> Path:
        """Copies of recordings that could not be processed, beside the database."""
        return self.database.parent / "quarantine"

    @property
    def model_cache(self) -> Path:
        return Path(os.environ.get("HOTLINE_MODEL_CACHE", self.home / "models"))

    def with_(self, **changes) -> "Settings":
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def _coerce(value: str, current):
    if isinstance(current, bool):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(current, int):
        return int(value)
    if isinstance(current, float):
        return float(value)
    return value


def load_settings(**overrides) -> Settings:
    """Defaults, then ``HOTLINE_*`` environment variables, then ``overrides`` (None ignored).

    Also makes every file and folder this process creates from now on owner-only
    (umask 077): the database, quarantine, exports and Prefect's result cache hold
    confidential calls.
    """
    from pipeline.fsperm import owner_only_umask

    owner_only_umask()
    base = Settings()
    env = {}
    for f in fields(Settings):
        raw = os.environ.get(f"HOTLINE_{f.name.upper()}")
        if raw is None:
            continue
        current = getattr(base, f.name)
        if f.name in {"home", "db_path", "report_dir"}:
            env[f.name] = Path(raw)
        else:
            env[f.name] = _coerce(raw, current)
    return replace(base, **env).with_(**overrides)
