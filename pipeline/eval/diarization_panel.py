"""The diarization panel: every diarization change, run on the same sets, side by side.

``hotline eval diarization-panel --diar-eval var/diar-eval --diar-real var/diar-real
[--set NAME=MANIFEST …] [--variant NAME:key=value,… …]`` runs each variant (fields of
:class:`models.diarization.DiarizationOptions`; the first variant is the baseline, by
default the shipped options) on every file of every set, variants interleaved file by file
so that time ratios are fair on a shared, loaded machine. The sets:

- ``mixes16``, ``mixes8``, ``espeak``: ``var/diar-eval`` (asr-dev voices: VIVOS against
  single FOSD clips; espeak-ng calls), :func:`pipeline.eval.diarization_sets.build_mixes`;
- ``real16``, ``real8``: ``var/diar-real`` (two fosd-pool voices a call, enrolment calls),
  :func:`pipeline.eval.diarization_sets.build_real`;
- ``sample``: pyannote's own two-speaker sample (inside the installed package: a peer
  recording nobody here made);
- any ``--set NAME=MANIFEST`` (an ``enrol.tsv`` beside it is used for enrolment).

Per set and variant: DER and its parts without and with the 0.25 s collar, roles right
(with the set's enrolled operators; from the call log's extension, i.e. the voice the
other calls logged to it share; by the first-speaker/phrase rule alone), the diarize time
ratio, files whose turns equal the baseline's, and for each variant after the first its
DER change with a **paired bootstrap over files**: ``resamples`` draws of the set's files
with replacement, the same draw for both variants, the change in pooled DER (errors over
reference speech) per draw; the 2.5–97.5 percentiles are the 95 % interval. A change is
**worse** when its interval lies above 0, **better** when below, else within noise. A set
of one file cannot be resampled: there a change of more than :data:`ONE_FILE_TOLERANCE`
counts.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np

from models.diarization import DiarizationOptions, PyannoteDiarizer
from pipeline.errors import HotlineError
from pipeline.eval.diarization import _annotation, _role_ok, enrol_from_manifest, read_diarization_manifest
from pipeline.eval.diarization_sets import pyannote_sample
from pipeline.eval.rttm import read_rttm, to_rttm
from pipeline.stages import operators as ops
from pipeline.stages.audio import decode_audio

COLLAR_S = 0.25  # s each side of a reference boundary (as pipeline.eval.diarization)
ONE_FILE_TOLERANCE = 0.01  # DER change that counts on a one-file set (no files to resample)
TUNED_SETS = ("mixes16", "mixes8", "espeak", "real16", "real8")  # options were chosen on these in earlier rounds


@dataclass(frozen=True)
class PanelSet:
    name: str
    rows: tuple  # (audio path, rttm path, file as written, manifest row fields) per file
    about: str = ""
    enrol: Path | None = None  # enrolment list (columns ext, file)


@dataclass
class FileResult:
    """One file diarized by one variant: seconds of each error kind (pyannote.metrics), time, roles."""

    file: str
    seconds: float  # s in diarize
    errors: np.ndarray  # (missed, false alarm, confusion, reference total) s, no collar
    errors_collar: np.ndarray  # same with the collar
    turns: tuple = ()
    voices: list = field(default_factory=list)  # pipeline.stages.operators.SpeakerVoice of the hypothesis
    role_first: bool | None = None  # first-speaker/phrase rule right
    role_enrolled: bool | None = None  # with the set's enrolled operators (rule as fallback)
    role_log: bool | None = None  # from the call log's extension (peer calls; rule as fallback)


@dataclass
class VariantSummary:
    set_name: str
    variant: str
    files: list[FileResult]

    def _pooled(self, collar: bool) -> np.ndarray:
        return np.sum([f.errors_collar if collar else f.errors for f in self.files], axis=0)

    def der(self, collar: bool = False) -> float:
        m, fa, c, total = self._pooled(collar)
        return float((m + fa + c) / total) if total > 0 else 0.0

    def parts(self, collar: bool = False) -> tuple[float, float, float]:
        m, fa, c, total = self._pooled(collar)
        return (float(m / total), float(fa / total), float(c / total)) if total > 0 else (0.0, 0.0, 0.0)

    @property
    def seconds(self) -> float:
        return sum(f.seconds for f in self.files)

    def roles(self, kind: str) -> tuple[int, int]:
        judged = [getattr(f, f"role_{kind}") for f in self.files if getattr(f, f"role_{kind}") is not None]
        return sum(bool(r) for r in judged), len(judged)


def parse_variant(text: str):
    """``name:key=value,key=value`` -> (name, DiarizationOptions); keys are its fields.
    Raises HotlineError for an unknown key or a bad value."""
    name, _, spec = text.partition(":")
    if not name:
        raise HotlineError(f"variant {text!r}: give it a name, e.g. allemb:max_embedding_s=0")
    kinds = {f.name: f.type for f in fields(DiarizationOptions)}
    casts = {"float": float, "int": int, "str": str, "bool": lambda v: v.lower() in ("1", "true", "yes")}
    values = {}
    for item in filter(None, spec.split(",")):
        key, _, value = item.partition("=")
        if key not in kinds:
            raise HotlineError(f"variant {name}: unknown option {key!r}; known: {', '.join(kinds)}")
        kind = kinds[key] if isinstance(kinds[key], str) else kinds[key].__name__
        try:
            values[key] = casts[kind](value)
        except ValueError:
            raise HotlineError(f"variant {name}: {key}={value!r} is not a {kind}") from None
    return name, DiarizationOptions(**values)


def paired_bootstrap(base: Sequence[np.ndarray], other: Sequence[np.ndarray], *, resamples: int = 2000,
                     seed: int = 0) -> tuple[float, float, float]:
    """(change in pooled DER, 2.5th, 97.5th percentile) of ``other`` against ``base``, both
    per-file error arrays (missed, false alarm, confusion, reference s), resampling files
    with replacement (the same draw for both). With one file: (change, change, change)."""
    b = np.asarray(base, dtype=np.float64)
    o = np.asarray(other, dtype=np.float64)
    if b.shape != o.shape or b.ndim != 2 or b.shape[1] != 4:
        raise ValueError("need two (files, 4) error arrays of the same files")

    def der(rows: np.ndarray) -> np.ndarray:
        total = rows[..., 3]
        return np.where(total > 0, rows[..., :3].sum(axis=-1) / np.where(total > 0, total, 1.0), 0.0)

    delta = float(der(o.sum(axis=0)) - der(b.sum(axis=0)))
    n = len(b)
    if n < 2:
        return delta, delta, delta
    draws = np.random.default_rng(seed).integers(0, n, size=(resamples, n))
    deltas = der(o[draws].sum(axis=1)) - der(b[draws].sum(axis=1))
    lo, hi = np.percentile(deltas, [2.5, 97.5])
    return delta, float(lo), float(hi)


def verdict(delta: float, lo: float, hi: float, n_files: int) -> str:
    """"worse" / "better" / "same" (within noise) for a DER change and its interval."""
    if n_files < 2:
        return "worse" if delta > ONE_FILE_TOLERANCE else "better" if delta < -ONE_FILE_TOLERANCE else "same"
    if lo > 0:
        return "worse"
    if hi < 0:
        return "better"
    return "same"


def panel_sets(*, diar_eval: Path | None = None, diar_real: Path | None = None, extra: Sequence[str] = (),
               sample: bool = True, limit: int = 0) -> list[PanelSet]:
    """The sets named by the command line (see the module doc); ``extra``: ``NAME=MANIFEST``.
    Raises HotlineError (a ManifestError naming the row) for a missing or bad manifest."""
    named: list[tuple[str, Path, str]] = []
    if diar_eval is not None:
        named += [("mixes16", Path(diar_eval) / "manifest.tsv", "asr-dev voices (VIVOS vs one FOSD clip), 16 kHz"),
                  ("mixes8", Path(diar_eval) / "manifest_8k.tsv", "same, 8 kHz mu-law"),
                  ("espeak", Path(diar_eval) / "manifest_espeak.tsv", "espeak-ng calls, 16 + 8 kHz")]
    if diar_real is not None:
        named += [("real16", Path(diar_real) / "manifest.tsv", "two fosd-pool voices a call, 16 kHz"),
                  ("real8", Path(diar_real) / "manifest_8k.tsv", "same, 8 kHz mu-law")]
    for item in extra:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise HotlineError(f"--set {item!r}: give NAME=MANIFEST.tsv")
        named.append((name, Path(path), f"{path}"))
    out = []
    seen = set()
    for name, manifest, about in named:
        if name in seen:
            raise HotlineError(f"two sets named {name}")
        seen.add(name)
        rows = tuple(read_diarization_manifest(manifest))
        enrol = manifest.parent / "enrol.tsv"
        out.append(PanelSet(name, rows[: limit or None], about, enrol if enrol.is_file() else None))
    if sample:
        wav, rttm = pyannote_sample()
        out.append(PanelSet("sample", ((wav, rttm, "pyannote/sample.wav", {}),), "pyannote.audio's sample (English, peer)"))
    if not out:
        raise HotlineError("no sets: give --diar-eval, --diar-real or --set (or keep pyannote's sample)")
    return out


def _score(reference_turns, turns, duration: float, name: str) -> tuple[np.ndarray, np.ndarray]:
    from pyannote.core import Segment as Span
    from pyannote.core import Timeline
    from pyannote.metrics.diarization import DiarizationErrorRate

    uem = Timeline([Span(0.0, duration)])
    ref, hyp = _annotation(reference_turns, name), _annotation(turns, name)
    out = []
    for collar in (0.0, 2 * COLLAR_S):
        c = DiarizationErrorRate(collar=collar, skip_overlap=False)(ref, hyp, uem=uem, detailed=True)
        out.append(np.array([c["missed detection"], c["false alarm"], c["confusion"], c["total"]], dtype=np.float64))
    return out[0], out[1]


def run_panel(sets: Sequence[PanelSet], variants: Sequence[tuple[str, object]], *, make_diarizer: Callable | None = None,
              progress: Callable[[str], None] | None = None, save_hyp: Path | None = None) -> list[VariantSummary]:
    """Diarize every file of every set with every variant (interleaved file by file) and
    score it; roles as in the module doc. ``make_diarizer(options)`` builds a diarizer
    (default :class:`models.diarization.PyannoteDiarizer`); it needs ``diarize_voices``."""
    if make_diarizer is None:
        def make_diarizer(options):
            return PyannoteDiarizer(options=options)

    diarizers = {name: make_diarizer(options) for name, options in variants}
    summaries = []
    for panel_set in sets:
        prints = {}
        if panel_set.enrol is not None:
            for name, _ in variants:
                prints[name] = enrol_from_manifest(panel_set.enrol, diarizers[name])
        results: dict[str, list[FileResult]] = {name: [] for name, _ in variants}
        for audio, rttm, file, _row in panel_set.rows:
            reference = [t for turns in read_rttm(rttm).values() for t in turns]
            wave = decode_audio(audio).mono()
            duration = len(wave) / 16000
            for name, _ in variants:
                started = time.perf_counter()
                turns, embeddings = diarizers[name].diarize_voices(wave)
                seconds = time.perf_counter() - started
                errors, errors_collar = _score(reference, turns, duration, file)
                voices = ops.voices_from_turns(turns, embeddings)
                result = FileResult(file, seconds, errors, errors_collar, tuple(turns), voices,
                                    role_first=_role_ok(reference, turns))
                if name in prints:
                    match = ops.match_operator(voices, prints[name])
                    result.role_enrolled = _role_ok(reference, turns, match.speaker if match else None)
                results[name].append(result)
                if save_hyp is not None:
                    folder = Path(save_hyp) / panel_set.name / name
                    folder.mkdir(parents=True, exist_ok=True)
                    (folder / Path(rttm).name).write_text(to_rttm(turns, Path(file).stem), encoding="utf-8")
            if progress:
                progress(f"{panel_set.name} {file}: {duration:.1f} s")
        logged = [(row.get("logged_ext") or "").strip() for _, _, _, row in panel_set.rows]
        for name, _ in variants:
            for i, result in enumerate(results[name]):
                if not logged[i] or result.role_first is None:
                    continue
                peers = [results[name][j].voices for j in range(len(logged)) if j != i and logged[j] == logged[i]]
                match = ops.match_by_peer_calls(result.voices, peers, logged[i])
                reference = [t for turns in read_rttm(panel_set.rows[i][1]).values() for t in turns]
                result.role_log = _role_ok(reference, result.turns, match.speaker if match else None)
            summaries.append(VariantSummary(panel_set.name, name, results[name]))
    return summaries


def _roles_text(s: VariantSummary) -> str:
    parts = []
    for kind in ("enrolled", "log", "first"):
        ok, n = s.roles(kind)
        parts.append(f"{ok}/{n}" if n else "-")
    return " ".join(parts)


def report_lines(sets: Sequence[PanelSet], summaries: Sequence[VariantSummary], *, resamples: int = 2000,
                 tuned: Sequence[str] = TUNED_SETS) -> list[str]:
    """The tables ``hotline eval diarization-panel`` prints: one per set, then the panel side
    by side with each variant's verdict against the first."""
    by = {(s.set_name, s.variant): s for s in summaries}
    variants = list(dict.fromkeys(s.variant for s in summaries))
    base_name = variants[0]
    lines = [f"paired bootstrap over files: {resamples} resamples, 95 % interval (2.5-97.5 percentiles); "
             f"one-file sets: a change over {ONE_FILE_TOLERANCE} counts",
             "roles right: enrolled operators / call log's extension (peer calls) / first speaker + phrases; "
             "'-' where the set has no enrolment list, call log or operator label"]
    verdicts: dict[tuple[str, str], str] = {}
    for panel_set in sets:
        base = by[(panel_set.name, base_name)]
        audio = sum(f.errors[3] for f in base.files)
        lines.append("")
        lines.append(f"== {panel_set.name}: {panel_set.about}; {len(base.files)} files, {audio:.0f} s of reference speech, "
                     f"{'tuned on' if panel_set.name in tuned else 'held out'}")
        lines.append(f"{'variant':>12} {'DER':>6} {'miss':>6} {'FA':>6} {'conf':>6} {'collar':>7}  "
                     f"{'dDER [95% interval]':>28} {'dcollar [95% interval]':>28}  roles e/log/first  time  same")
        for name in variants:
            s = by[(panel_set.name, name)]
            miss, fa, conf = s.parts()
            if name == base_name:
                change = change_collar = f"{'(baseline)':>28}"
            else:
                n = len(s.files)
                d, lo, hi = paired_bootstrap([f.errors for f in base.files], [f.errors for f in s.files], resamples=resamples)
                dc, loc, hic = paired_bootstrap([f.errors_collar for f in base.files], [f.errors_collar for f in s.files],
                                                resamples=resamples)
                v, vc = verdict(d, lo, hi, n), verdict(dc, loc, hic, n)
                verdicts[(panel_set.name, name)] = "worse (collar)" if v != "worse" and vc == "worse" else v
                change = f"{d:+.3f} [{lo:+.3f},{hi:+.3f}] {v:>6}"
                change_collar = f"{dc:+.3f} [{loc:+.3f},{hic:+.3f}] {vc:>6}"
            ratio = s.seconds / base.seconds if base.seconds else float("nan")
            same = sum(a.turns == b.turns for a, b in zip(s.files, base.files))
            lines.append(f"{name:>12} {s.der():6.3f} {miss:6.3f} {fa:6.3f} {conf:6.3f} {s.der(True):7.3f}  "
                         f"{change:>28} {change_collar:>28}  {_roles_text(s):>17}  {ratio:4.2f}  {same}/{len(s.files)}")
    lines.append("")
    lines.append("== panel, side by side: DER / collar DER (verdict against the first variant)")
    lines.append(f"{'set':>10} " + " ".join(f"{v:>26}" for v in variants))
    for panel_set in sets:
        cells = []
        for name in variants:
            s = by[(panel_set.name, name)]
            mark = "" if name == base_name else f" {verdicts[(panel_set.name, name)]}"
            cells.append(f"{s.der():.3f} / {s.der(True):.3f}{mark}".rjust(26))
        lines.append(f"{panel_set.name:>10} " + " ".join(cells))
    total_files = sum(len(by[(p.name, base_name)].files) for p in sets)
    for i, a in enumerate(variants):
        for b in variants[i + 1:]:
            same = sum(x.turns == y.turns for p in sets for x, y in zip(by[(p.name, a)].files, by[(p.name, b)].files))
            lines.append(f"same turns, {a} and {b}: {same}/{total_files} files")
    for name in variants[1:]:
        worse = [p.name for p in sets if verdicts[(p.name, name)].startswith("worse")]
        lines.append(f"{name}: " + (f"WORSE than {base_name} beyond noise on {', '.join(worse)}" if worse
                                    else f"no set worse than {base_name} beyond noise"))
    return lines
