"""Decode recordings into 16 kHz float32 arrays with channels kept apart.

soundfile (libsndfile) decodes wav, flac, ogg and mp3; PyAV (FFmpeg, bundled with
faster-whisper) is the fallback for anything else it can read, e.g. a file whose
extension lies about its format.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from pipeline.errors import AudioDecodeError
from pipeline.records import DecodedAudio

SAMPLE_RATE = 16000  # Hz every later stage works at
AUDIO_EXTENSIONS = frozenset({".wav", ".mp3", ".flac", ".ogg"})
MIN_DURATION_S = 0.1  # shorter than this is not a call
# A hotline call longer than this is a stuck line or a recorder left running: decoding
# it would hold ~460 MB per hour of 16 kHz float32 and hours of ASR for nothing.
MAX_DURATION_S = 2 * 3600.0  # s


def _read_soundfile(path: Path) -> tuple[np.ndarray, int, str]:
    import soundfile as sf

    with sf.SoundFile(str(path)) as fh:
        info = f"{fh.format}/{fh.subtype}"
        data = fh.read(dtype="float32", always_2d=True)
        return data.T, int(fh.samplerate), info


def _read_pyav(path: Path) -> tuple[np.ndarray, int, str]:
    import av

    with av.open(str(path), metadata_errors="ignore") as container:
        if not container.streams.audio:
            raise ValueError("no audio stream")
        stream = container.streams.audio[0]
        rate = stream.rate or stream.codec_context.sample_rate
        channels = stream.codec_context.channels or 1
        layout = "stereo" if channels >= 2 else "mono"
        resampler = av.AudioResampler(format="fltp", layout=layout, rate=rate)
        chunks = []
        for frame in container.decode(stream):
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray())
        codec = stream.codec_context.name
    if not chunks:
        raise ValueError("no audio frames")
    return np.concatenate(chunks, axis=1).astype(np.float32), int(rate), f"pyav/{codec}"


def header_duration(path: Path) -> float | None:
    """Duration in seconds the file's header declares, without decoding; None if unknown."""
    try:
        import soundfile as sf

        info = sf.info(str(path))
        if info.samplerate > 0 and info.frames > 0:
            return info.frames / float(info.samplerate)
    except Exception:  # libsndfile cannot read it; PyAV may
        pass
    try:
        import av

        with av.open(str(path), metadata_errors="ignore") as container:
            if container.duration:
                return container.duration / 1_000_000.0  # av.time_base: microseconds
    except Exception:  # not audio at all: decode_audio reports it
        pass
    return None


def wav_is_truncated(path: Path) -> bool:
    """True when a RIFF/WAVE header declares more sample data than the file holds.

    Decoders silently return what is there; only the header tells the call was cut.
    """
    with open(path, "rb") as fh:
        head = fh.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return False
        size = path.stat().st_size
        while True:
            chunk = fh.read(8)
            if len(chunk) < 8:
                return False
            length = int.from_bytes(chunk[4:], "little")
            if chunk[:4] == b"data":
                return length != 0xFFFFFFFF and fh.tell() + length > size
            fh.seek(length + (length & 1), 1)


def resample(samples: np.ndarray, orig_rate: int, target_rate: int) -> np.ndarray:
    """Resample float32 ``(channels, n)`` or ``(n,)`` audio from ``orig_rate`` to ``target_rate`` Hz."""
    if orig_rate == target_rate:
        return samples.astype(np.float32, copy=False)
    import librosa

    return librosa.resample(samples, orig_sr=orig_rate, target_sr=target_rate, res_type="soxr_hq", axis=-1).astype(np.float32)


def _reason(exc: Exception, path: Path) -> str:
    """A decoder's complaint without the file path it repeats (the error names the file once)."""
    text = str(exc).replace(f"Error opening {str(path)!r}: ", "").replace(f": {str(path)!r}", "")
    text = text.replace(str(path), "").strip(" :")
    if "does not exist or is not a regular file" in text:  # libsndfile's words for "unknown format"
        text = "format not recognised"
    return re.sub(r"^\[Errno -?\d+\] ", "", text) or type(exc).__name__


def decode_audio(source: str | Path | np.ndarray, *, sample_rate: int = SAMPLE_RATE, source_rate: int | None = None,
                 max_duration_s: float | None = MAX_DURATION_S) -> DecodedAudio:
    """Decode a file (or take an array) into :class:`DecodedAudio` at ``sample_rate`` Hz.

    ``source`` may be a path, or a float array of shape ``(n,)`` or ``(channels, n)``
    recorded at ``source_rate`` Hz (default: already at ``sample_rate``).

    Raises :class:`AudioDecodeError` naming the file and the problem: empty file,
    not audio, no samples, shorter than 0.1 s, longer than ``max_duration_s`` seconds
    (checked from the header before decoding; None: no limit), or non-finite samples.
    A WAV file cut short is decoded as far as it goes and carries the warning ``truncated``.
    """
    warnings: tuple[str, ...] = ()
    if isinstance(source, np.ndarray):
        data = np.atleast_2d(np.asarray(source, dtype=np.float32))
        rate, fmt, name = int(source_rate or sample_rate), "array", "<array>"
    else:
        path = Path(source)
        name = str(path)
        if not path.is_file():
            raise AudioDecodeError(path, "file not found")
        if path.stat().st_size == 0:
            raise AudioDecodeError(path, "empty file (0 bytes)")
        declared = header_duration(path) if max_duration_s else None
        if declared is not None and declared > max_duration_s:
            raise AudioDecodeError(path, f"longer than the {_hours(max_duration_s)} limit ({_hours(declared)}); "
                                         "split the recording or raise the limit")
        try:
            data, rate, fmt = _read_soundfile(path)
        except Exception as first:  # libsndfile raises its own error types
            try:
                data, rate, fmt = _read_pyav(path)
            except Exception as second:
                raise AudioDecodeError(
                    path, f"not decodable as audio (soundfile: {_reason(first, path)}; FFmpeg: {_reason(second, path)})"
                ) from second
        if wav_is_truncated(path):
            warnings = ("truncated",)
    if data.size == 0 or data.shape[1] == 0:
        raise AudioDecodeError(name, "no audio samples")
    if not np.isfinite(data).all():
        raise AudioDecodeError(name, "audio holds non-finite samples (NaN or inf)")
    if max_duration_s and data.shape[1] / rate > max_duration_s:
        raise AudioDecodeError(name, f"longer than the {_hours(max_duration_s)} limit ({_hours(data.shape[1] / rate)})")
    if data.shape[1] / rate < MIN_DURATION_S:
        raise AudioDecodeError(name, f"too short ({data.shape[1] / rate:.3f} s)")
    samples = resample(data, rate, sample_rate)
    return DecodedAudio(samples=np.ascontiguousarray(samples), sample_rate=sample_rate, source_sample_rate=rate, source_format=fmt,
                        warnings=warnings)


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds / 60:.0f} min"


def simulate_telephone(samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Pass mono audio through a simulated phone line: 8 kHz, 300–3400 Hz band, 8-bit μ-law.

    Returns float32 audio at ``sample_rate`` Hz, the same shape as the input.
    """
    from scipy.signal import butter, sosfiltfilt

    narrow = resample(np.asarray(samples, dtype=np.float32), sample_rate, 8000)
    sos = butter(6, [300, 3400], btype="bandpass", fs=8000, output="sos")
    narrow = sosfiltfilt(sos, narrow).astype(np.float32)
    mu = 255.0
    x = np.clip(narrow, -1.0, 1.0)
    encoded = np.round((np.sign(x) * np.log1p(mu * np.abs(x)) / np.log1p(mu) + 1) / 2 * mu)
    y = encoded / mu * 2 - 1
    decoded = np.sign(y) * ((1 + mu) ** np.abs(y) - 1) / mu
    return resample(decoded.astype(np.float32), 8000, sample_rate)
