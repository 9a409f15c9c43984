"""The early urgent pass's listening: the first seconds of a new recording, transcribed piece by piece.

Callers say the emergency first ("nhà tôi đang cháy"), so the watcher does not wait for the whole
call's transcription, diarization and analysis before it looks for urgent words: it transcribes
the first :attr:`EarlyOptions.first_s` seconds with the same warm recogniser, in pieces of about
:attr:`EarlyOptions.piece_s` seconds cut in pauses, and hands what it heard so far after each
piece (:func:`listen_early`) to the urgent rules (:mod:`pipeline.runs.early`). No diarization:
a stereo call's roles come from its channels (``operator_channel``); in a mono call every voice
is taken as the citizen's until the full pass tells them apart.

A stage: model inference only, no file, database or network I/O; nothing here is stored.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np

from pipeline.records import SAMPLE_RATE, DecodedAudio
from pipeline.stages.transcribe import TranscribeOptions, clean_segments, find_speech, split_points


@dataclass(frozen=True)
class EarlyOptions:
    """How much of a call the early pass hears, and in what steps."""

    first_s: float = 30.0  # s from the start of the call that the early pass transcribes
    piece_s: float = 10.0  # s per piece (cut in a pause); the rules are checked after each


@dataclass(frozen=True)
class Heard:
    """What the early pass heard up to ``heard_s``: (start s, end s, role, text) turns in time order."""

    heard_s: float  # s of the call transcribed so far
    turns: tuple[tuple[float, float, str, str], ...]


def _role(channel: int, stereo: bool, operator_channel: int) -> str:
    if not stereo:
        return "citizen"  # before diarization every voice of a mono call counts as the citizen's
    return "operator" if channel == operator_channel else "citizen"


def listen_early(audio: DecodedAudio, asr, options: TranscribeOptions = TranscribeOptions(),
                 early: EarlyOptions = EarlyOptions(), *, operator_channel: int = 0) -> Iterator[Heard]:
    """Transcribe the first ``early.first_s`` s of ``audio`` in pieces; yield all that was heard after each piece.

    The pieces are cut in pauses (:func:`pipeline.stages.transcribe.split_points`) so no word is
    split, except at ``first_s`` itself. Language detection is left to the full pass (decoded in
    ``options.language``). A consumer that stops iterating stops the transcription.
    """
    end = min(audio.duration_s, early.first_s)
    stereo = audio.channels > 1
    n = int(end * SAMPLE_RATE)
    channels = [audio.samples[i][:n] for i in range(min(audio.channels, 2))] if stereo else [audio.mono()[:n]]
    mixed = np.mean(np.stack(channels), axis=0) if stereo else channels[0]
    speech = find_speech(mixed, asr, options)
    turns: list[tuple[float, float, str, str]] = []
    if not speech:
        yield Heard(end, ())
        return
    source_rate = audio.source_sample_rate or SAMPLE_RATE
    for start, stop in split_points(speech, end, early.piece_s):
        for ch, samples in enumerate(channels):
            piece = samples[int(start * SAMPLE_RATE): int(stop * SAMPLE_RATE)]
            piece_speech = [(max(a, start) - start, min(b, stop) - start) for a, b in speech if b > start and a < stop]
            if not piece_speech or not len(piece):
                continue
            found = asr.recognize(piece, options, language=options.language, speech=piece_speech,
                                  source_rate=source_rate)
            kept, _ = clean_segments([replace(s, start=s.start + start, end=s.end + start) for s in found])
            role = _role(ch, stereo, operator_channel)
            turns += [(float(s.start), float(s.end), role, s.text) for s in kept]
        yield Heard(float(stop), tuple(sorted(turns)))
