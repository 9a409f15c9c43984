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
    return Path(os.environ.get("HOTLINE_HOME", REPO_ROOT / "var"))


@dataclass(frozen=True)
class Settings:
    """Everything a run can be configured with.

    Each field can be set with an environment variable named ``HOTLINE_`` plus the
    field name in upper case (``HOTLINE_ASR_MODEL=/models/phowhisper-ct2``).
    """

    home: Path = field(default_factory=_default_home)  # working folder: db, quarantine, model cache
    db_path: Path | None = None  # DuckDB file; default <home>/hotline.duckdb
    asr_model: str = "base"  # "base" (bundled), a CTranslate2 folder, or a hub id
    asr_device: str = "auto"  # auto | cpu | cuda
    asr_compute_type: str = "auto"  # auto: float16 on CUDA, int8 on CPU
    cpu_threads: int = 2  # threads for CTranslate2 and torch
    operator_channel: int = 0  # stereo: channel index of the operator (0 = left)
    min_speakers: int = 2  # mono diarization bounds
    max_speakers: int = 2
    known_operators: bool = True  # mono: recognise enrolled operators by voice (hotline operators enrol)
    caller_salt: str = "hotline-analytics-dev-salt"  # salt for caller number hashes; set in production
    keep_raw_text: bool = True  # keep unredacted text for roles allowed to see it
    max_duration_s: float = 7200.0  # s; longer recordings are quarantined from their header (0: no limit)
    # Below this mean segment confidence a call goes to review; calibrated for Whisper
    # base on asr-dev (docs/asr.md): recalibrate for another model.
    review_confidence: float = 0.40

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
    """Defaults, then ``HOTLINE_*`` environment variables, then ``overrides`` (None ignored)."""
    base = Settings()
    env = {}
    for f in fields(Settings):
        raw = os.environ.get(f"HOTLINE_{f.name.upper()}")
        if raw is None:
            continue
        current = getattr(base, f.name)
        if f.name in {"home", "db_path"}:
            env[f.name] = Path(raw)
        else:
            env[f.name] = _coerce(raw, current)
    return replace(base, **env).with_(**overrides)
