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
from pipeline.files import open_regular
from pipeline.records import SAMPLE_RATE, DecodedAudio  # noqa: F401 - SAMPLE_RATE: Hz every later stage works at

MIN_DURATION_S = 0.1  # shorter than this is not a call
# A hotline call longer than this is a stuck line or a recorder left running: decoding
# it would hold ~460 MB per hour of 16 kHz float32 and hours of ASR for nothing.
MAX_DURATION_S = 2 * 3600.0  # s


# Decompression bombs: a 189 kB FLAC can declare 8 channels at 192 kHz and decode to
# over 1 GB. A phone call needs neither: the header's channels and rate are bounded
# before decoding, and decoding stops once the decoded samples pass the byte budget.
MAX_CHANNELS = 2  # a call is mono or one channel per party
MAX_SOURCE_RATE = 48000  # Hz; telephony is 8-16 kHz, studio kit 44.1-48 kHz
MAX_DECODED_BYTES = 1 << 30  # float32 bytes at the source rate, all channels: 2 h of 16 kHz stereo fits
BLOCK_S = 30.0  # s of audio decoded per block (bounds memory between checks)


class _TooBig(Exception):
    """Decoding passed a limit; the message says which (raised inside the readers)."""


def _budget(frames: int, channels: int, rate: int, max_bytes: int | None, max_duration_s: float | None) -> None:
    if max_bytes and frames * channels * 4 > max_bytes:
        raise _TooBig(f"decodes to more than the {max_bytes / 2**20:.0f} MiB limit "
                      f"({channels} channel(s) at {rate} Hz); a bad or hostile file")
    if max_duration_s and rate and frames / rate > max_duration_s:
        raise _TooBig(f"longer than the {_hours(max_duration_s)} limit (at least {_hours(frames / rate)})")


def _check_shape(channels: int, rate: int, max_channels: int | None, max_rate: int | None) -> None:
    if max_channels and channels > max_channels:
        raise _TooBig(f"{channels} channels, more than the {max_channels} a call may have")
    if max_rate and rate > max_rate:
        raise _TooBig(f"sample rate {rate} Hz, above the {max_rate} Hz limit")


def _read_soundfile(fh, *, max_channels=None, max_rate=None, max_bytes=None, max_duration_s=None) -> tuple[np.ndarray, int, str]:
    import soundfile as sf

    with sf.SoundFile(fh) as snd:
        info = f"{snd.format}/{snd.subtype}"
        rate, channels = int(snd.samplerate), int(snd.channels)
        _check_shape(channels, rate, max_channels, max_rate)
        block = max(1, int(rate * BLOCK_S))
        chunks, total = [], 0
        while True:
            data = snd.read(block, dtype="float32", always_2d=True)
            if not len(data):
                break
            total += len(data)
            _budget(total, channels, rate, max_bytes, max_duration_s)
            chunks.append(data.T.copy())
            if len(data) < block:
                break
        if not chunks:
            return np.zeros((channels, 0), dtype=np.float32), rate, info
        return np.concatenate(chunks, axis=1), rate, info


def _read_pyav(fh, *, max_channels=None, max_rate=None, max_bytes=None, max_duration_s=None) -> tuple[np.ndarray, int, str]:
    import av

    with av.open(fh, metadata_errors="ignore") as container:
        if not container.streams.audio:
            raise ValueError("no audio stream")
        stream = container.streams.audio[0]
        rate = stream.rate or stream.codec_context.sample_rate
        channels = stream.codec_context.channels or 1
        _check_shape(channels, int(rate or 0), max_channels, max_rate)
        layout = "stereo" if channels >= 2 else "mono"
        out_channels = 2 if channels >= 2 else 1
        resampler = av.AudioResampler(format="fltp", layout=layout, rate=rate)
        chunks, total = [], 0
        for frame in container.decode(stream):
            for out in resampler.resample(frame):
                arr = out.to_ndarray()
                total += arr.shape[1]
                _budget(total, out_channels, int(rate), max_bytes, max_duration_s)
                chunks.append(arr)
        codec = stream.codec_context.name
    if not chunks:
        raise ValueError("no audio frames")
    return np.concatenate(chunks, axis=1).astype(np.float32), int(rate), f"pyav/{codec}"


def header_shape(path: Path) -> tuple[int, int, int] | None:
    """(channels, sample rate Hz, frames or 0) the header declares, without decoding; None if unknown."""
    try:
        import soundfile as sf

        info = sf.info(str(path))
        return int(info.channels), int(info.samplerate), max(0, int(info.frames))
    except Exception:
        pass
    try:
        import av

        with av.open(str(path), metadata_errors="ignore") as container:
            if container.streams.audio:
                stream = container.streams.audio[0]
                rate = int(stream.rate or stream.codec_context.sample_rate or 0)
                frames = int(container.duration * rate / 1_000_000) if container.duration and rate else 0
                return int(stream.codec_context.channels or 1), rate, frames
    except Exception:
        pass
    return None


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
                 max_duration_s: float | None = MAX_DURATION_S, max_channels: int | None = MAX_CHANNELS,
                 max_source_rate: int | None = MAX_SOURCE_RATE,
                 max_decoded_bytes: int | None = MAX_DECODED_BYTES) -> DecodedAudio:
    """Decode a file (or take an array) into :class:`DecodedAudio` at ``sample_rate`` Hz.

    ``source`` may be a path, or a float array of shape ``(n,)`` or ``(channels, n)``
    recorded at ``source_rate`` Hz (default: already at ``sample_rate``).

    Raises :class:`AudioDecodeError` naming the file and the problem: empty file,
    not audio, no samples, shorter than 0.1 s, longer than ``max_duration_s`` seconds
    (checked from the header before decoding; None: no limit), or non-finite samples;
    more than ``max_channels`` channels, a rate above ``max_source_rate`` Hz, or more
    than ``max_decoded_bytes`` of decoded float32 (decompression bombs: checked from
    the header, then again block by block while decoding, which stops at the limit).
    A symbolic link is refused (the file is opened with ``O_NOFOLLOW``).
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
        limits = dict(max_channels=max_channels, max_rate=max_source_rate, max_bytes=max_decoded_bytes,
                      max_duration_s=max_duration_s)
        shape = header_shape(path)
        try:
            if shape is not None:
                _check_shape(shape[0], shape[1], max_channels, max_source_rate)
                _budget(shape[2], shape[0], shape[1], max_decoded_bytes, None)
            try:
                data, rate, fmt = _with_file(path, _read_soundfile, limits)
            except _TooBig:
                raise
            except Exception as first:  # libsndfile raises its own error types
                try:
                    data, rate, fmt = _with_file(path, _read_pyav, limits)
                except _TooBig:
                    raise
                except Exception as second:
                    raise AudioDecodeError(
                        path, f"not decodable as audio (soundfile: {_reason(first, path)}; FFmpeg: {_reason(second, path)})"
                    ) from second
        except _TooBig as exc:
            raise AudioDecodeError(path, str(exc)) from None
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


def _with_file(path: Path, reader, limits: dict):
    try:
        fh = open_regular(path)
    except OSError as exc:
        raise _OpenError(exc.strerror or str(exc)) from exc
    with fh:
        return reader(fh, **limits)


class _OpenError(Exception):
    """The file could not be opened as a regular file (a link, a FIFO, no permission)."""


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
