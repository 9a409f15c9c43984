"""Settings in one place: defaults here, overridden by ``HOTLINE_*`` environment variables.

One :class:`Settings` object holds every knob, in sections: the run (top level), the web
app (:class:`WebSettings`, ``settings.web``) and transcription (:class:`TranscriptionSettings`,
``settings.transcription``). It is built once per process at the entry point (a CLI
command, the web app factory, a flow started by a deployment, a notebook) with
:func:`load_settings` and passed down as an object; Prefect flows take it as a parameter
(a pydantic model: Prefect stores it as JSON and validates it back). Secrets (the caller
salt, the SFTP password) are never serialised: a process that receives settings as JSON
reads them from its own environment.

Environment variables: ``HOTLINE_`` + the field name in upper case for run and web fields
(``HOTLINE_ASR_MODEL``, ``HOTLINE_BUSY_WAIT_S``), ``HOTLINE_ASR_`` + the field name for
transcription fields (``HOTLINE_ASR_BEAM_SIZE``). :func:`env_names` lists them all; the
table of docs/settings.md is checked against it by a test.

Process-wide side effects (telemetry off, Prefect's home, OpenMP's wait policy) happen in
:func:`apply_environment`, called by the entry points, never at import time.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pipeline.errors import SetupError
from pipeline.fsperm import owner_only_umask

REPO_ROOT = Path(__file__).resolve().parent.parent

# Old names still accepted, with a DeprecationWarning: old → current.
DEPRECATED_ENV = {
    "HOTLINE_DB": "HOTLINE_DB_PATH",  # the notebooks read HOTLINE_DB until issue 12
}


def _default_home() -> Path:
    # ./var of the directory the command runs in (absolute, so flow workers agree on it).
    return Path(os.environ.get("HOTLINE_HOME", "var")).absolute()


def _secret_from_env(name: str):
    # Secrets are excluded from the settings' JSON (flow parameters are stored by Prefect):
    # settings validated back from JSON in another process read them from that process's environment.
    return lambda: os.environ.get(name, "")


def ensure_dir(path: Path | str, what: str) -> Path:
    """Create ``path`` (and its parents) if missing and check it is a writable folder.

    ``what`` names the folder's job in the message ("home", "database", "Prefect home"…).
    Raises :class:`~pipeline.errors.SetupError` with one line naming the folder.
    """
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


class _Section(BaseModel):
    """A frozen group of settings; ``ENV_PREFIX`` goes between ``HOTLINE_`` and the field name."""

    model_config = ConfigDict(frozen=True, extra="forbid", protected_namespaces=())
    ENV_PREFIX: ClassVar[str] = ""

    def with_(self, **changes):
        """A copy with ``changes`` applied (None values ignored), validated like the original."""
        values = {name: getattr(self, name) for name in type(self).model_fields}
        values.update({k: v for k, v in changes.items() if v is not None})
        return type(self).model_validate(values)


class WebSettings(_Section):
    """The web app (``hotline serve``): listening address, who may do what, sessions."""

    host: str = "127.0.0.1"  # address `hotline serve` listens on (127.0.0.1: this machine only)
    port: int = 8000  # TCP port `hotline serve` listens on
    raw_text_roles: tuple[str, ...] = ("qa", "admin")  # comma-separated roles that see unredacted transcripts
    correct_roles: tuple[str, ...] = ("qa", "admin")  # comma-separated roles that correct topics, mark reviewed
    dashboard_roles: tuple[str, ...] = ("manager", "admin")  # comma-separated roles that see the dashboard
    export_roles: tuple[str, ...] = ("manager", "admin")  # comma-separated roles that download exports
    secure_cookies: bool = False  # Secure flag on cookies and HSTS header; set when served over HTTPS
    allowed_hosts: tuple[str, ...] = ()  # comma-separated Host header values accepted; empty: any
    hsts_seconds: int = 31536000  # s; Strict-Transport-Security max-age sent with secure_cookies
    page_size: int = 50  # calls per list page
    busy_wait_s: float = 5.0  # s; wait this long for the database (a run loading a call) before answering 503
    session_hours: float = 12.0  # h; a log-in lasts this long (a working day)
    max_failures: int = 5  # failed log-ins for one account from one client (address or browser) within the lockout window lock that client out of it
    lockout_minutes: float = 15.0  # min; the failed log-in window, and how long the lock lasts


class TranscriptionSettings(_Section):
    """Decoding options (defaults measured on asr-dev, docs/asr.md), as the settings hold them.

    The defaults equal :class:`pipeline.stages.transcribe.TranscribeOptions`'s (a test checks it):
    changing one changes the transcripts and the figures measured with them. The stage turns
    them into its options (:func:`pipeline.stages.transcribe.options_for`).
    """

    ENV_PREFIX: ClassVar[str] = "ASR_"

    language: str = "vi"  # decoding language code; detection still flags calls in another language
    beam_size: int = 5  # beam search width (1: greedy)
    vad_filter: bool = True  # Silero VAD: decode only speech, skip silence and hold music
    vad_threshold: float = 0.5  # 0..1; Silero speech probability above which a frame is speech
    vad_min_silence_ms: int = 500  # ms of silence that split speech chunks
    vad_speech_pad_ms: int = 400  # ms kept around each speech chunk
    word_timestamps: bool = True  # per-word times for speaker assignment
    condition_on_previous_text: bool = False  # true feeds a loop in one window into the next
    temperature: tuple[float, ...] = (0.0,)  # comma-separated decoding temperatures, tried in turn
    compression_ratio_threshold: float | None = 2.4  # gzip ratio above which a decode counts as a loop (none: off)
    log_prob_threshold: float | None = -1.0  # mean token log-prob below which a decode is retried (none: off)
    no_speech_threshold: float | None = None  # 0..1; P(no speech) above which a window is skipped (none: off)
    repetition_penalty: float = 1.0  # factor; >1 penalises tokens already generated
    no_repeat_ngram_size: int = 0  # tokens; forbid repeating n-grams of this size (0: off)
    initial_prompt: str | None = None  # text the decoder sees as preceding context (none: no prompt)
    hotwords: str | None = None  # words to bias towards (none: no bias)
    detect_language: bool = True  # run language ID on the call's speech before decoding
    language_flag_probability: float = 0.7  # 0..1; another language at or above this flags the call
    min_speech_coverage: float = 0.5  # 0..1; below this share of VAD speech covered by segments, flag the transcript
    max_piece_s: float = 300.0  # s; longer audio is decoded in pieces cut in pauses (bounds memory)


class Settings(_Section):
    """Everything a run, the web app and the notebooks can be configured with.

    Each field can be set with an environment variable (see the module's docstring and
    :func:`env_names`), e.g. ``HOTLINE_ASR_MODEL=/models/phowhisper-ct2``.
    """

    home: Path = Field(default_factory=_default_home)  # working folder: db, quarantine, model cache
    db_path: Path | None = None  # DuckDB file; default <home>/hotline.duckdb
    model_cache_dir: Path | None = Field(None, json_schema_extra={"env": "HOTLINE_MODEL_CACHE"})  # folder of assembled models; default <home>/models
    asr_model: str = "viet-asr"  # recogniser: viet-asr | viet-asr-16k | base | CTranslate2 folder | hub id (`hotline models`)
    asr_lm: str = "auto"  # language model fused into viet-asr's beam search: auto (the site's from `hotline lm build`, else shipped) | shipped | none | a file
    asr_lm_weight: float = 0.2  # weight of the LM's log-probability per word (tuned on asr-dev, docs/asr.md)
    asr_lm_bonus: float = 3.0  # bonus per word, natural-log units (tuned on asr-dev, docs/asr.md)
    asr_device: str = "auto"  # auto | cpu | cuda
    asr_compute_type: str = "auto"  # auto: float16 on CUDA, int8 on CPU
    cpu_threads: int = 2  # threads for CTranslate2 and torch
    operator_channel: int = 0  # stereo: channel index of the operator (0 = left)
    min_speakers: int = 2  # speakers; mono diarization lower bound
    max_speakers: int = 2  # speakers; mono diarization upper bound
    known_operators: bool = True  # mono: recognise enrolled operators by voice (hotline operators enrol)
    dask_scheduler: str = ""  # tcp://HOST:PORT of a Dask scheduler: `hotline run`/`watch` send per-call work to its workers (empty: this process)
    # Key of the caller-number HMAC. Empty: a random secret generated on first use in
    # <home>/secrets/caller_salt (owner-only). The public dev salt is refused unless dev_mode.
    caller_salt: str = Field(default_factory=_secret_from_env("HOTLINE_CALLER_SALT"), exclude=True, repr=False)  # secret text; never serialised
    dev_mode: bool = False  # allow the public development salt (tests, demos); never in production
    keep_raw_text: bool = True  # keep unredacted text for roles allowed to see it
    keep_operator_name: bool = True  # true/false: an operator's own name ("em là Hương, tổng đài viên") stays in redacted text
    max_duration_s: float = 7200.0  # s; longer recordings are quarantined from their header (0: no limit)
    max_channels: int = 2  # channels; more is quarantined from the header (decompression bombs)
    max_source_rate_hz: int = 48000  # Hz; a higher recorded rate is quarantined from the header
    max_decoded_mb: float = 1024.0  # MiB of decoded float32 per recording; decoding stops past it (0: no limit)
    settle_s: float = 5.0  # s; `hotline run` leaves files modified more recently for a later run
    watch_interval_s: float = 10.0  # s between two polls of `hotline watch` (also how long a poll waits for another run)
    early_pass_s: float = 30.0  # s of each new recording `hotline watch` hears first for urgent words, alerting before the full run (0: off)
    # Below this mean segment confidence (0..1) a call goes to review; negative: the selected
    # recogniser's value calibrated on asr-dev (models/registry.py, docs/asr.md).
    review_confidence: float = -1.0  # 0..1, or negative: the recogniser's calibrated value
    agency_name: str = "Tổng đài 1022 tỉnh Đắk Lắk"  # text: the agency named in the period report's header
    # Official documents (.docx, Nghị định 30/2020/NĐ-CP: pipeline/report/documents.py, docs/documents.md).
    agency_parent: str = "UBND tỉnh Đắk Lắk"  # text: cơ quan chủ quản above the issuing body (empty: none)
    agency_symbol: str = "TĐ1022"  # text: chữ viết tắt of the issuing body in "Số: …/BC-TĐ1022"
    agency_place: str = "Đắk Lắk"  # text: địa danh in "Đắk Lắk, ngày … tháng … năm …"
    signer_authority: str = ""  # text: quyền hạn above the title ("KT. GIÁM ĐỐC", "TL. CHỦ TỊCH"); empty: signs in own name
    signer_title: str = "Giám đốc"  # text: chức vụ of the signer (printed in upper case)
    signer_name: str = ""  # text: họ tên of the signer; empty: left blank to write by hand
    report_recipients: tuple[str, ...] = ("UBND tỉnh (để báo cáo)",)  # comma-separated "Nơi nhận" lines before "Lưu: VT, <symbol>"
    report_dir: Path | None = None  # folder for scheduled weekly reports; default <home>/reports
    # Lines (đường dây nóng, pipeline/lines.py): several hotlines in one installation.
    lines_file: Path | None = None  # JSON list of lines (key, name, agency, number, dids, sources, hours, report_header, qa_team); empty: the shipped Đắk Lắk lines
    default_line: str = "tinh-1022"  # line key of a call whose dialled number and source name no line
    # Pulling recordings (pipeline/intake/sources.py, docs/sources.md).
    call_log_format: str = "auto"  # auto | hotline (our calls.csv) | asterisk (cdr-csv Master.csv + FreePBX names)
    sftp_known_hosts: str = "~/.ssh/known_hosts"  # host keys an SFTP server must match (checking is always on)
    sftp_key_path: str = ""  # private key file for SFTP; empty: password auth
    sftp_password: str = Field(default_factory=_secret_from_env("HOTLINE_SFTP_PASSWORD"), exclude=True, repr=False)  # secret; never logged nor serialised (prefer the Secret block)
    sftp_password_secret: str = ""  # name of a Prefect Secret block holding the SFTP password
    sftp_timeout_s: float = 15.0  # s to connect and authenticate
    # 256 MiB: 2 h of 8 kHz stereo WAV, 1 h at 16 kHz, 24 min of CD-quality stereo; compressed codecs far longer.
    max_recording_mb: float = 256.0  # MiB; a larger recording is not pulled (checked while streaming) nor quarantined (0: no limit)
    # Alerts by e-mail (pipeline/casework/alerts.py, docs/rules.md): plain SMTP to a local relay, no credentials.
    smtp_host: str = ""  # SMTP server that relays alert e-mails; empty: alerts are stored, not e-mailed
    smtp_port: int = 25  # TCP port of the SMTP server
    alert_from: str = "hotline@localhost"  # sender address of alert e-mails
    alert_to: tuple[str, ...] = ()  # comma-separated addresses of the duty officer(s) who get urgent alerts
    public_url: str = "http://127.0.0.1:8000"  # address of the web app, for the call link in an alert e-mail
    web: WebSettings = Field(default_factory=WebSettings)  # section: the web app
    transcription: TranscriptionSettings = Field(default_factory=TranscriptionSettings)  # section: decoding options

    @property
    def database(self) -> Path:
        return Path(self.db_path) if self.db_path else self.home / "hotline.duckdb"

    @property
    def quarantine_dir(self) -> Path:
        """Copies of recordings that could not be processed, beside the database."""
        return self.database.parent / "quarantine"

    @property
    def model_cache(self) -> Path:
        return Path(self.model_cache_dir) if self.model_cache_dir else self.home / "models"

    @property
    def site_lm_dir(self) -> Path:
        """The site's language model from ``hotline lm build`` (n-grams of its calls: site data, not a cached model)."""
        return self.home / "lm"

    @property
    def prefect_home(self) -> Path:
        """Where Prefect keeps its state for this process: ``$PREFECT_HOME``, else ``<home>/prefect``."""
        return Path(os.environ.get("PREFECT_HOME") or self.home / "prefect")


# ---- environment variables ----------------------------------------------------------------------


def _env_name(section: type[_Section], name: str) -> str:
    extra = section.model_fields[name].json_schema_extra or {}
    return extra.get("env") or f"HOTLINE_{section.ENV_PREFIX}{name.upper()}"


def _sections() -> list[tuple[str | None, type[_Section]]]:
    return [(None, Settings), ("web", WebSettings), ("transcription", TranscriptionSettings)]


def env_names() -> dict[str, tuple[str | None, str]]:
    """Every environment variable :func:`load_settings` reads → (section or None, field name)."""
    out: dict[str, tuple[str | None, str]] = {}
    for section_name, section in _sections():
        for name, info in section.model_fields.items():
            if isinstance(info.default_factory, type) and issubclass(info.default_factory, _Section):
                continue  # a section, not a value
            env = _env_name(section, name)
            if env in out:
                raise AssertionError(f"two settings read {env}")  # caught by the tests, never at run time
            out[env] = (section_name, name)
    return out


_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off", ""}


def _parse(raw: str, annotation: Any, env: str):
    """One environment value as the field's type: booleans, comma lists, none for optional values."""
    text = str(annotation)
    if "None" in text and raw.strip().lower() in {"", "none", "null"}:
        return None
    if annotation is bool or text == "bool":
        value = raw.strip().lower()
        if value not in _TRUE | _FALSE:
            raise SetupError(f"{env}={raw!r}: write true or false")
        return value in _TRUE
    if text.startswith("tuple"):
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    return raw


def _read_env(section: type[_Section], environ) -> dict:
    values = {}
    for name, info in section.model_fields.items():
        env = _env_name(section, name)
        if env not in environ:
            continue
        values[name] = _parse(environ[env], info.annotation, env)
    return values


def _deprecated_aliases(environ) -> dict:
    """``environ`` with old variable names copied to their new names (the new name wins), warning once each."""
    environ = dict(environ)
    for old, new in DEPRECATED_ENV.items():
        if old in environ:
            # FutureWarning: shown by default (a DeprecationWarning is hidden outside __main__).
            warnings.warn(f"{old} is deprecated: set {new} instead"
                          + (f" (both are set; {new} wins)" if new in environ else ""), FutureWarning, stacklevel=3)
            environ.setdefault(new, environ[old])
    return environ


def load_settings(environ=None, **overrides) -> Settings:
    """Defaults, then ``HOTLINE_*`` environment variables, then ``overrides`` (None ignored).

    ``environ`` defaults to ``os.environ``. A bad value is one :class:`~pipeline.errors.SetupError`
    naming the variable. Also makes every file and folder this process creates from now on
    owner-only (umask 077): the database, quarantine, exports and Prefect's result cache hold
    confidential calls.
    """
    owner_only_umask()
    environ = _deprecated_aliases(os.environ if environ is None else environ)
    values = _read_env(Settings, environ)
    for section_name, section in _sections()[1:]:
        values[section_name] = _read_env(section, environ)
    for secret, env in (("caller_salt", "HOTLINE_CALLER_SALT"), ("sftp_password", "HOTLINE_SFTP_PASSWORD")):
        values.setdefault(secret, environ.get(env, ""))
    if "home" not in values:
        values["home"] = Path(environ.get("HOTLINE_HOME", "var")).absolute()
    try:
        settings = Settings.model_validate(values)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = [str(p) for p in err["loc"]]
        section = {"web": WebSettings, "transcription": TranscriptionSettings}.get(loc[0]) if len(loc) > 1 else None
        env = _env_name(section or Settings, loc[-1] if section else loc[0]) if loc else "HOTLINE_*"
        raise SetupError(f"{env}: {err['msg']} (got {err.get('input')!r})") from None
    return settings.with_(**overrides)


def entry_settings(args=None) -> Settings:
    """The settings the entry point built for this process (``args.settings``, set by
    :func:`pipeline.cli.main`), else built now from the environment."""
    settings = getattr(args, "settings", None)
    return settings if settings is not None else load_settings()


# ---- process-wide side effects ------------------------------------------------------------------

# Call audio is confidential: no library may phone home. Idle OpenMP threads (torch,
# CTranslate2) spin by default; on a busy 2-core machine that starved diarization to a
# crawl (see models/diarization.py). Only defaults: a value the operator set wins.
QUIET_ENV = {
    "PYANNOTE_METRICS_ENABLED": "0",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "OMP_WAIT_POLICY": "PASSIVE",
}
# Prefect: a slow machine needs time to start the temporary server; print() goes to the
# log; the flow logs one progress line per call, so a line per finished task is noise.
PREFECT_ENV = {
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    "PREFECT_LOGGING_LOG_PRINTS": "true",
    "PREFECT_LOGGING_LOGGERS_PREFECT_TASK_RUNS_LEVEL": "WARNING",
}


def apply_environment(settings: Settings | None = None) -> dict[str, str]:
    """The process-wide side effects, in one place: call at each entry point, before importing
    prefect, torch or pyannote.

    Telemetry off and OpenMP threads that do not spin (always); with ``settings``, Prefect's
    home (``<home>/prefect`` unless ``PREFECT_HOME`` is set) and quiet logging, and the
    owner-only umask. Sets only variables that are not set already; idempotent. Returns what
    it set. The Prefect home folder is created here when possible (Prefect, imported next,
    cannot make missing parents); the commands that start Prefect check it and say what is
    wrong (:func:`flows.environment.prepare_prefect`).
    """
    wanted = dict(QUIET_ENV)
    if settings is not None:
        owner_only_umask()
        wanted.update(PREFECT_ENV)
        wanted["PREFECT_HOME"] = str(settings.prefect_home)
    changed = {}
    for key, value in wanted.items():
        if key not in os.environ:
            os.environ[key] = changed[key] = value
    if settings is not None:
        try:
            Path(os.environ["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)
        except OSError:
            pass  # prepare_prefect names the problem before Prefect starts
    return changed
