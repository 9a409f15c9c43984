"""Diarization evaluation (``hotline eval diarization MANIFEST.tsv``).

The evaluation runs the production diarizer (:func:`models.diarization.load_diarizer`)
on each file of a manifest (columns ``file``, ``rttm``; paths relative to the
manifest) and scores it with pyannote.metrics' diarization error rate (DER: missed
speech + false alarm + speaker confusion over reference speech, overlapped speech
included), without a collar and with the NIST 0.25 s collar (±0.25 s around each
reference boundary not scored; pyannote's ``collar`` argument is the total width,
0.5 s). When reference speakers are named ``operator``/``citizen`` (as
pipeline/eval/diarization_sets.py writes them), the role decision of
:func:`pipeline.stages.speakers.assign_roles` is scored too.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from models.diarization import load_diarizer
from pipeline.errors import HotlineError
from pipeline.eval.diarization_errors import MissedBreakdown, missed_breakdown
from pipeline.eval.manifest import read_manifest
from pipeline.eval.rttm import read_rttm, to_rttm
from pipeline.records import Segment, SpeakerTurn
from pipeline.stages import operators as ops
from pipeline.stages.audio import decode_audio
from pipeline.stages.speakers import assign_roles

COLLAR_S = 0.25  # s each side of a reference boundary (NIST md-eval convention)


@dataclass(frozen=True)
class FileScore:
    file: str  # path as written in the manifest
    duration_s: float  # s of audio
    seconds: float  # s spent in diarize()
    der: float  # 0..1+, no collar
    der_collar: float  # 0..1+, ±COLLAR_S collar
    speakers: int  # speakers found
    role_ok: bool | None  # operator found where the reference has it; None if not judged
    operator_voice: str | None = None  # extension whose voiceprint matched (with enrolment)
    flagged: bool | None = None  # operator_voice_mismatch raised; None without a logged_ext column
    flag_expected: bool | None = None  # the manifest's logged_ext differs from its operator_ext
    role_ok_cues: bool | None = None  # with enrolment: what the cue/first-speaker rule alone would have decided


@dataclass(frozen=True)
class DerParts:
    """DER and its three parts, each as a fraction of the scored reference speech."""

    missed: float  # reference speech with no hypothesis speaker
    false_alarm: float  # hypothesis speech where the reference has none
    confusion: float  # speech given to the wrong (mapped) speaker
    total_s: float  # s of scored reference speech

    @property
    def der(self) -> float:
        return self.missed + self.false_alarm + self.confusion

    @classmethod
    def of(cls, components: dict) -> "DerParts":
        total = float(components.get("total", 0.0))
        if total <= 0:
            return cls(0.0, 0.0, 0.0, 0.0)
        return cls(
            float(components["missed detection"]) / total,
            float(components["false alarm"]) / total,
            float(components["confusion"]) / total,
            total,
        )


@dataclass(frozen=True)
class DiarizationScore:
    files: tuple[FileScore, ...]
    der: float  # total errors / total reference speech, no collar
    der_collar: float  # same with the collar
    rtf: float  # diarize seconds / audio seconds
    parts: DerParts | None = None  # no collar, summed over files
    parts_collar: DerParts | None = None  # with the collar
    missed: object = None  # pipeline.eval.diarization_errors.MissedBreakdown, summed over files

    @property
    def roles_judged(self) -> int:
        return sum(f.role_ok is not None for f in self.files)

    @property
    def roles_ok(self) -> int:
        return sum(bool(f.role_ok) for f in self.files)


def read_diarization_manifest(path: Path) -> list[tuple[Path, Path, str, dict]]:
    """(audio path, rttm path, file as written, the whole row) per manifest row (columns
    ``file``, ``rttm``, both files that must exist; :func:`pipeline.eval.manifest.read_manifest`)."""
    return [(row.path("file"), row.path("rttm"), row["file"], row.fields)
            for row in read_manifest(path, ("file", "rttm"), files=("file", "rttm"))]


def _annotation(turns, uri: str):
    from pyannote.core import Annotation
    from pyannote.core import Segment as Span

    ann = Annotation(uri=uri)
    for i, t in enumerate(turns):
        if t.end > t.start:
            ann[Span(t.start, t.end), i] = t.speaker
    return ann


def _role_ok(reference: list[SpeakerTurn], turns: tuple[SpeakerTurn, ...], operator: str | None = None) -> bool | None:
    """Does the speaker called operator (``operator``, else assign_roles' choice)
    overlap the reference operator most? None when the reference names no operator."""
    if not any(t.speaker == "operator" for t in reference):
        return None
    if operator is None:
        _, roles, _ = assign_roles([Segment(t.start, t.end, "", speaker=t.speaker) for t in turns])
        operator = next((sp for sp, role in roles.items() if role == "operator"), None)
    if operator is None:
        return False
    overlap: dict[str, float] = {}
    for ref in reference:
        for hyp in turns:
            if hyp.speaker == operator:
                overlap[ref.speaker] = overlap.get(ref.speaker, 0.0) + max(0.0, min(ref.end, hyp.end) - max(ref.start, hyp.start))
    return max(overlap, key=overlap.get, default=None) == "operator"


def evaluate_diarization(manifest: Path, diarizer, *, num_speakers: int | None = None, progress=None,
                         voiceprints=None, save_hyp: Path | None = None) -> DiarizationScore:
    """Score ``diarizer`` (anything with ``diarize(waveform) -> turns``) on a manifest.

    Audio is decoded to mono 16 kHz with :func:`pipeline.stages.audio.decode_audio`.
    ``progress(FileScore)`` is called after each file. ``save_hyp``: folder to write
    each hypothesis as RTTM (named after the reference RTTM). ``voiceprints``: enrolled
    operators (pipeline.stages.operators); roles then come from the voice match when there is
    one (the diarizer needs ``diarize_voices``), and a manifest column ``logged_ext``
    is checked against the match (operator_voice_mismatch). Raises HotlineError for a
    missing or bad manifest (a ManifestError naming the row), audio or RTTM file.
    """
    from pyannote.core import Segment as Span
    from pyannote.core import Timeline
    from pyannote.metrics.diarization import DiarizationErrorRate

    plain = DiarizationErrorRate(collar=0.0, skip_overlap=False)
    collared = DiarizationErrorRate(collar=2 * COLLAR_S, skip_overlap=False)
    scores: list[FileScore] = []
    missed = MissedBreakdown()
    total_audio = total_seconds = 0.0
    for audio_path, rttm_path, name, row in read_diarization_manifest(manifest):
        refs = read_rttm(rttm_path)
        reference_turns = [t for turns in refs.values() for t in turns]
        waveform = decode_audio(audio_path).mono()
        duration = len(waveform) / 16000.0
        started = time.perf_counter()
        if voiceprints:
            turns, embeddings = diarizer.diarize_voices(waveform, num_speakers=num_speakers)
        else:
            turns, embeddings = diarizer.diarize(waveform, num_speakers=num_speakers), {}
        seconds = time.perf_counter() - started
        match = ops.match_operator(ops.voices_from_turns(turns, embeddings), voiceprints) if voiceprints else None
        logged = (row.get("logged_ext") or "").strip() or None
        flag_expected = None if logged is None or not row.get("operator_ext") else logged != row["operator_ext"].strip()
        missed.add(missed_breakdown(reference_turns, turns))
        if save_hyp is not None:
            Path(save_hyp).mkdir(parents=True, exist_ok=True)
            (Path(save_hyp) / rttm_path.name).write_text(to_rttm(turns, Path(name).stem), encoding="utf-8")
        uem = Timeline([Span(0.0, duration)])
        reference = _annotation(reference_turns, name)
        hypothesis = _annotation(turns, name)
        der = plain(reference, hypothesis, uem=uem)
        der_collar = collared(reference, hypothesis, uem=uem)
        score = FileScore(
            file=name,
            duration_s=duration,
            seconds=seconds,
            der=float(der),
            der_collar=float(der_collar),
            speakers=len({t.speaker for t in turns}),
            role_ok=_role_ok(reference_turns, turns, match.speaker if match else None),
            operator_voice=match.extension if match else None,
            flagged=bool(ops.mismatch_flags(match, logged)) if voiceprints and logged else None,
            flag_expected=flag_expected if voiceprints else None,
            role_ok_cues=_role_ok(reference_turns, turns) if voiceprints else None,
        )
        scores.append(score)
        total_audio += duration
        total_seconds += seconds
        if progress:
            progress(score)
    if not scores:
        raise HotlineError(f"{manifest}: no rows")
    return DiarizationScore(
        files=tuple(scores),
        der=float(abs(plain)),
        der_collar=float(abs(collared)),
        rtf=total_seconds / total_audio if total_audio else 0.0,
        parts=DerParts.of(plain.accumulated_),
        parts_collar=DerParts.of(collared.accumulated_),
        missed=missed,
    )


def enrol_from_manifest(path: Path, diarizer, voices_of: Callable | None = None) -> list:
    """Voiceprints from a TSV with columns ``ext``, ``file`` (enrolment calls per
    extension, paths relative to it), as pipeline.eval.diarization_sets.build_real writes.

    ``voices_of(files, diarizer)``: the operator's voices in those recordings (default
    ``pipeline.stages.operators.enrolment_voices``, as ``hotline operators enrol`` uses).
    """
    voices_of = voices_of or ops.enrolment_voices

    by_ext: dict[str, list[Path]] = {}
    for row in read_manifest(path, ("ext", "file"), files=("file",), what="enrolment list"):
        by_ext.setdefault(row["ext"], []).append(row.path("file"))
    return [ops.build_voiceprint(ext, voices_of(files, diarizer), consent_note="evaluation set (synthetic consent)")
            for ext, files in by_ext.items()]


def file_line(s: FileScore) -> str:
    """The line ``hotline eval diarization`` prints per file."""
    role = "" if s.role_ok is None else f" role={'ok' if s.role_ok else 'WRONG'}"
    if s.operator_voice is not None or s.flagged is not None:
        role += f" voice={s.operator_voice or '-'}"
    if s.flagged is not None:
        role += f" mismatch_flag={'yes' if s.flagged else 'no'}{'' if s.flagged == s.flag_expected else ' (WRONG)'}"
    return (f"{s.file}\tdur={s.duration_s:.1f}s der={s.der:.3f} der_collar={s.der_collar:.3f} "
            f"speakers={s.speakers} rtf={s.seconds / s.duration_s:.3f}{role}")


def summary_lines(result: DiarizationScore) -> list[str]:
    """The lines ``hotline eval diarization`` prints after the files; the last is
    ``der=… der_collar=… rtf=… files=N``."""
    lines = []
    if result.roles_judged:
        lines.append(f"roles={result.roles_ok}/{result.roles_judged}")
    cues = [f for f in result.files if f.role_ok_cues is not None]
    if cues:
        lines.append(f"roles without enrolment (first speaker, cues)={sum(f.role_ok_cues for f in cues)}/{len(cues)}; "
                     f"recognised by voice {sum(f.operator_voice is not None for f in result.files)}/{len(result.files)}")
    flags = [f for f in result.files if f.flagged is not None]
    if flags:
        lines.append(f"mismatch flags right={sum(f.flagged == f.flag_expected for f in flags)}/{len(flags)}")
    for name, parts in (("no collar", result.parts), (f"collar {COLLAR_S:g} s", result.parts_collar)):
        lines.append(
            f"{name}: missed={parts.missed:.3f} false_alarm={parts.false_alarm:.3f} "
            f"confusion={parts.confusion:.3f} der={parts.der:.3f} (of {parts.total_s:.1f} s speech)"
        )
    m = result.missed
    if m is not None and m.reference_s > 0:
        cats = " ".join(f"{c}={v / m.reference_s:.3f}" for c, v in m.missed_s.items())
        speakers = " ".join(f"{sp}={ms / rs:.3f}" for sp, (ms, rs) in sorted(m.by_speaker.items()) if rs > 0)
        lines.append(f"missed speech by place (of reference speech): {cats}; by reference speaker: {speakers}")
    lines.append(f"der={result.der:.3f} der_collar={result.der_collar:.3f} rtf={result.rtf:.3f} files={len(result.files)}")
    return lines


def production_diarizer(settings):
    """The diarizer ``hotline run`` uses: :func:`models.diarization.load_diarizer` with ``settings``
    (the entry point's)."""
    return load_diarizer(min_speakers=settings.min_speakers, max_speakers=settings.max_speakers,
                         threads=settings.cpu_threads)


def run_diarization_eval(manifest: Path, settings, *, voices_of: Callable | None = None, enrol: Path | None = None,
                         num_speakers: int | None = None, save_hyp: Path | None = None, progress=None,
                         on_enrolled=None, diarizer=None) -> DiarizationScore:
    """``hotline eval diarization``: check the manifest (and the enrolment list) first, then
    load the production diarizer of ``settings`` (unless ``diarizer`` is given), enrol the operators of
    ``enrol`` with ``voices_of`` (see :func:`enrol_from_manifest`; ``on_enrolled(voiceprints)``
    is told) and score the manifest with :func:`evaluate_diarization`.
    """
    read_diarization_manifest(manifest)  # a bad row is refused before any model loads
    if enrol is not None:
        read_manifest(enrol, ("ext", "file"), files=("file",), what="enrolment list")
    diarizer = diarizer or production_diarizer(settings)
    voiceprints = None
    if enrol is not None:
        voiceprints = enrol_from_manifest(enrol, diarizer, voices_of)
        if on_enrolled:
            on_enrolled(voiceprints)
    return evaluate_diarization(manifest, diarizer, num_speakers=num_speakers, progress=progress,
                                voiceprints=voiceprints, save_hyp=save_hyp)
