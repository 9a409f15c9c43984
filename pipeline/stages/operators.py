"""Known operators: enrol an operator's voice from a few calls, recognise it on mono calls.

A **voiceprint** is one L2-normalised speaker embedding (CAM++, the diarizer's own
embedding model) averaged over the operator's speech in a few calls. It is stored in
the warehouse (``operator_voiceprints``, migration 009) with the consent under which it
was taken; audio is never stored.

Enrolment needs no labelling: on mono calls the operator is the voice the calls share
(each call's other speaker is a different citizen), so from each call the speaker most
similar to the other calls' speakers is taken. On stereo calls the operator channel is
the operator. At least two mono calls are needed (one call alone has two equally
likely voices); one stereo call is enough.

On a mono call, :func:`match_operator` compares each diarized speaker's embedding with
the voiceprints: the best match above ``threshold`` is the operator (roles then no
longer rest on who spoke first), and when the call log names another extension the call
is flagged ``operator_voice_mismatch`` for QA.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import numpy as np

from pipeline.errors import HotlineError
from pipeline.stages.audio import decode_audio
from pipeline.warehouse import db, voiceprints

log = logging.getLogger(__name__)

EMBEDDING_MODEL = "campplus_cn_en_common"  # the diarizer's embedding (models/diarization.py)
# Cosine similarity above which a speaker is taken for an enrolled operator. On the
# real-voice set (docs/diarization.md) the operator's own calls scored 0.62–0.86
# against their voiceprint and other voices at most 0.47.
MATCH_THRESHOLD = 0.55
# The matched operator must beat the call's other speaker(s) by this much.
MATCH_MARGIN = 0.1


@dataclass(frozen=True)
class Voiceprint:
    extension: str  # PBX extension, as the call log writes it
    embedding: np.ndarray  # float32 (192,), L2-normalised
    n_calls: int  # calls it was enrolled from
    speech_s: float  # s of operator speech behind it
    consent_note: str  # how consent was given
    name: str | None = None
    spread: float | None = None  # mean cosine distance of per-call embeddings to it
    enrolled_by: str | None = None
    enrolled_at: datetime | None = None
    model: str = EMBEDDING_MODEL


@dataclass(frozen=True)
class SpeakerVoice:
    """One diarized speaker of one call: embedding and seconds of speech."""

    label: str
    embedding: np.ndarray  # float32 (192,), need not be normalised
    speech_s: float  # s


@dataclass(frozen=True)
class OperatorMatch:
    speaker: str  # diarization label recognised as the operator
    extension: str  # whose voiceprint matched
    similarity: float  # cosine, -1..1
    margin: float  # similarity minus the best other speaker's similarity to that print


def _unit(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64)
    n = np.linalg.norm(v)
    return v / n if n > 0 and np.isfinite(n) else v


def _usable(voices: Sequence[SpeakerVoice]) -> list[SpeakerVoice]:
    return [v for v in voices if np.all(np.isfinite(v.embedding)) and np.linalg.norm(v.embedding) > 0]


def operator_voice_of_calls(calls: Sequence[Sequence[SpeakerVoice]]) -> list[SpeakerVoice]:
    """From each mono call, the speaker that recurs across the calls (the operator).

    Speaker s of call i scores the mean over the other calls j of its best cosine
    similarity to a speaker of call j; the top scorer of each call is taken. Raises
    HotlineError with fewer than two calls that have a speaker.
    """
    usable = [_usable(c) for c in calls]
    usable = [c for c in usable if c]
    if len(usable) < 2:
        raise HotlineError("enrolment from mono calls needs at least two calls with speech: the operator is the voice they share")
    chosen = []
    for i, call in enumerate(usable):
        def score(v: SpeakerVoice) -> float:
            e = _unit(v.embedding)
            return float(np.mean([max(float(e @ _unit(o.embedding)) for o in other) for j, other in enumerate(usable) if j != i]))

        chosen.append(max(call, key=score))
    return chosen


def match_by_peer_calls(
    voices: Sequence[SpeakerVoice],
    peer_calls: Sequence[Sequence[SpeakerVoice]],
    extension: str,
    *,
    threshold: float = MATCH_THRESHOLD,
    margin: float = MATCH_MARGIN,
) -> OperatorMatch | None:
    """The operator of a mono call found without enrolment, from the call log: the other
    calls logged to the same ``extension`` (``peer_calls``: their diarized voices, at least
    two calls) share one voice, the operator's (each has a different citizen); that voice,
    found as in enrolment (:func:`operator_voice_of_calls`) and averaged like a voiceprint,
    is matched to this call's voices as an enrolled one would be (:func:`match_operator`).
    Nothing is stored. None with fewer than two peer calls or no clear match (the call
    then keeps the phrase/first-speaker rule); a wrong extension in the log gives no match,
    since the peers' voice is another operator's."""
    peers = [c for c in (_usable(c) for c in peer_calls) if c]
    if len(peers) < 2 or not _usable(voices):
        return None
    shared = operator_voice_of_calls(peers)
    weights = np.array([max(v.speech_s, 0.1) for v in shared])
    centre = _unit((np.array([_unit(v.embedding) for v in shared]) * weights[:, None]).sum(axis=0))
    print_ = Voiceprint(extension=extension, embedding=centre.astype(np.float32), n_calls=len(shared),
                        speech_s=float(sum(v.speech_s for v in shared)), consent_note="call log (not stored)")
    return match_operator(voices, [print_], threshold=threshold, margin=margin)


def build_voiceprint(
    extension: str,
    voices: Sequence[SpeakerVoice],
    *,
    consent_note: str,
    name: str | None = None,
    enrolled_by: str | None = None,
) -> Voiceprint:
    """The voiceprint of ``voices`` (the operator's speaker in each enrolment call):
    speech-weighted mean of the unit embeddings, normalised. Raises HotlineError
    without consent, extension or voices."""
    if not extension or not extension.strip():
        raise HotlineError("an extension is needed to enrol an operator")
    if not consent_note or not consent_note.strip():
        raise HotlineError("enrolment needs a consent note (how and when the operator agreed to voice recognition)")
    voices = _usable(voices)
    if not voices:
        raise HotlineError("no operator speech to enrol from")
    weights = np.array([max(v.speech_s, 0.1) for v in voices])
    units = np.array([_unit(v.embedding) for v in voices])
    centre = _unit((units * weights[:, None]).sum(axis=0))
    spread = float(np.mean(1.0 - units @ centre))
    return Voiceprint(
        extension=extension.strip(),
        embedding=centre.astype(np.float32),
        n_calls=len(voices),
        speech_s=round(float(sum(v.speech_s for v in voices)), 2),
        consent_note=consent_note.strip(),
        name=name,
        spread=round(spread, 4),
        enrolled_by=enrolled_by,
        enrolled_at=datetime.now().replace(microsecond=0),
    )


def match_operator(
    voices: Sequence[SpeakerVoice],
    prints: Sequence[Voiceprint],
    *,
    threshold: float = MATCH_THRESHOLD,
    margin: float = MATCH_MARGIN,
) -> OperatorMatch | None:
    """The speaker of a call that is an enrolled operator, or None.

    The (speaker, voiceprint) pair with the highest cosine similarity wins if it is at
    least ``threshold`` and beats the call's other speakers' similarity to that same
    voiceprint by ``margin`` (two similar voices are left to the other cues).
    """
    voices = _usable(voices)
    if not voices or not prints:
        return None
    best = None
    for vp in prints:
        p = _unit(vp.embedding)
        sims = {v.label: float(_unit(v.embedding) @ p) for v in voices}
        label = max(sims, key=sims.get)
        others = [s for lab, s in sims.items() if lab != label]
        gap = sims[label] - (max(others) if others else -1.0)
        if best is None or sims[label] > best.similarity:
            best = OperatorMatch(label, vp.extension, round(sims[label], 4), round(gap, 4))
    if best.similarity < threshold or best.margin < margin:
        return None
    return best


def voices_from_turns(turns, embeddings: Mapping[str, np.ndarray]) -> list[SpeakerVoice]:
    """SpeakerVoice per diarized label that still has speech, seconds from its turns (the
    second look at the turns can give all of a label's turns to the other voice; its
    centroid must not then be matched to an operator)."""
    seconds: dict[str, float] = {}
    for t in turns:
        seconds[t.speaker] = seconds.get(t.speaker, 0.0) + max(0.0, t.end - t.start)
    return [SpeakerVoice(label, np.asarray(emb, dtype=np.float32), round(seconds[label], 3))
            for label, emb in embeddings.items() if seconds.get(label, 0.0) > 0]


# --- warehouse ----------------------------------------------------------------------


def save_voiceprint(con, vp: Voiceprint) -> None:
    """Insert or replace the voiceprint of ``vp.extension``."""
    voiceprints.replace(con, dict(zip(voiceprints.COLUMNS, (
        vp.extension, vp.name, [float(x) for x in vp.embedding], vp.model, vp.n_calls, vp.speech_s, vp.spread,
        vp.consent_note, vp.enrolled_by, vp.enrolled_at or datetime.now().replace(microsecond=0)))))


def load_voiceprints(con, *, model: str = EMBEDDING_MODEL) -> tuple[Voiceprint, ...]:
    """Every stored voiceprint of ``model``, by extension."""
    rows = voiceprints.rows_of_model(con, model)
    return tuple(
        Voiceprint(r[0], np.asarray(r[1], dtype=np.float32), r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9]) for r in rows
    )


def delete_voiceprint(con, extension: str) -> bool:
    """Remove an operator's voiceprint (consent withdrawn). True if one was stored."""
    return bool(voiceprints.delete(con, extension))


def read_voiceprints(database: Path) -> tuple[Voiceprint, ...]:
    """Voiceprints from the warehouse file, () when it does not exist or cannot be opened
    now (logged): recognising operators must never stop a call from being processed."""
    database = Path(database)
    if not database.is_file():
        return ()
    try:
        con = db.connect(database, migrate_schema=False)
    except Exception as exc:  # busy or locked by another process
        log.warning("operator voiceprints not loaded from %s: %s", database, exc)
        return ()
    try:
        return load_voiceprints(con)
    except Exception as exc:  # table missing: warehouse not migrated to 009 yet
        log.warning("operator voiceprints not loaded from %s: %s", database, exc)
        return ()
    finally:
        con.close()


def voiceprints_fingerprint(prints: Sequence[Voiceprint]) -> str:
    """A short hash of the enrolled voiceprints (extension, model, vector), '' when none.

    The speakers stage's cached results of mono calls are keyed by it: enrolling,
    re-enrolling or removing an operator changes it, so the next run (``hotline
    backfill`` or a re-run) recomputes those calls' roles and voice matches instead of
    reusing results made with the old voiceprints."""
    if not prints:
        return ""
    h = hashlib.sha256()
    for vp in sorted(prints, key=lambda p: p.extension):
        h.update(f"{vp.extension}\0{vp.model}\0".encode())
        h.update(np.asarray(vp.embedding, dtype=np.float32).tobytes())
    return h.hexdigest()[:12]


def roles_from_match(segments, match: OperatorMatch):
    """(segments with roles, speaker -> role, confidence) when a voiceprint matched:
    the matched speaker is the operator, every other speaker a citizen. Confidence
    0.9–1.0, growing with the match's margin (voice evidence outweighs phrase cues)."""
    speakers = {s.speaker for s in segments if s.speaker}
    roles = {sp: ("operator" if sp == match.speaker else "citizen") for sp in speakers}
    out = tuple(replace(s, role=roles.get(s.speaker, "unknown") if s.speaker else "unknown") for s in segments)
    confidence = round(min(1.0, 0.9 + 0.25 * max(match.margin, 0.0)), 3)
    return out, roles, confidence


def mismatch_flags(match: OperatorMatch | None, logged_ext: str | None) -> tuple[str, ...]:
    """``("operator_voice_mismatch",)`` when the voice matched an enrolled operator other
    than the extension the call log names; () otherwise (no match, no log)."""
    if match is None or not logged_ext or not str(logged_ext).strip():
        return ()
    return () if str(logged_ext).strip() == match.extension else ("operator_voice_mismatch",)


# ---- enrolment -----------------------------------------------------------------------------

def enrolment_voices(paths: list[Path], diarizer, *, operator_channel: int = 0):
    """The operator's SpeakerVoice in each recording: on stereo files the operator
    channel (one speaker), on mono files the voice the files share. Raises HotlineError
    for an unreadable file, or mono files fewer than two."""
    stereo, mono = [], []
    for path in paths:
        path = Path(path)
        if not path.is_file():
            raise HotlineError(f"recording not found: {path}")
        audio = decode_audio(path)
        if audio.channels > 1:
            if not 0 <= operator_channel < audio.channels:
                raise HotlineError(f"{path}: no channel {operator_channel} (operator channel)")
            turns, emb = diarizer.diarize_voices(audio.samples[operator_channel], num_speakers=1)
            voices = voices_from_turns(turns, emb)
            if voices:
                stereo.append(max(voices, key=lambda v: v.speech_s))
        else:
            turns, emb = diarizer.diarize_voices(audio.mono())
            mono.append(voices_from_turns(turns, emb))
    chosen: list[SpeakerVoice] = list(stereo)
    if mono:
        if len(mono) == 1 and stereo:
            # one mono call beside stereo ones: the speaker closest to the stereo voices
            ref = _unit(sum(_unit(v.embedding) for v in stereo))
            chosen.append(max(mono[0], key=lambda v: float(_unit(v.embedding) @ ref)))
        else:
            chosen += operator_voice_of_calls(mono)
    return chosen


def voiceprint_from_calls(extension: str, paths: list[Path], diarizer, *, consent_note: str, name: str | None = None,
                          enrolled_by: str | None = None, operator_channel: int = 0):
    """The operator's Voiceprint from a few recordings (CLI ``operators enrol`` and the web
    page ``/operators`` both use it): :func:`enrolment_voices`, then ``build_voiceprint``. Nothing is
    stored; raises HotlineError as those do."""
    if not extension or not extension.strip():
        raise HotlineError("an extension is needed to enrol an operator")
    if not consent_note or not consent_note.strip():
        raise HotlineError("enrolment needs a consent note (how and when the operator agreed to voice recognition)")
    voices = enrolment_voices(paths, diarizer, operator_channel=operator_channel)
    return build_voiceprint(extension, voices, consent_note=consent_note, name=name, enrolled_by=enrolled_by)
