"""``hotline models``: the recognisers the product can run, their provenance and last measured accuracy."""

from __future__ import annotations

from models.language_model import describe
from models.readable_text import ARTIFACT, ARTIFACT_DIR, ReadableModelMissing, load_readable_model
from models.registry import DEFAULT, REGISTRY, fingerprint_of
from pipeline.config import entry_settings


def _fmt(m) -> str:
    return f"wer={m.wer:.3f} cer={m.cer:.3f} rtf={m.rtf:.2f} ({m.date})" if m else "not measured"


def describe_models(selected: str | None = None) -> list[str]:
    """Lines for each registry entry; the selected one (settings) is marked ``*``."""
    selected = (selected or DEFAULT).strip()
    lines = []
    for name, e in REGISTRY.items():
        mark = "*" if name == selected else " "
        lines += [
            f"{mark} {name}" + ("  (default)" if name == DEFAULT else ""),
            f"    family: {e.family}   version: {e.version}   size: {e.size_bytes / 2**20:.1f} MiB",
            f"    fingerprint: {fingerprint_of(name)}",
            f"    licence: {e.licence}",
            f"    weights: {e.weights_from}",
            f"    asr-dev wideband:  {_fmt(e.wideband)}",
            f"    asr-dev telephone: {_fmt(e.telephone)}",
        ]
        if e.per_dataset:
            lines.append("    per dataset (WER wideband / telephone): "
                         + ", ".join(f"{k} {w:.3f}/{t:.3f}" for k, (w, t) in e.per_dataset.items()))
        if e.notes:
            lines.append(f"    notes: {e.notes}")
    if selected not in REGISTRY:
        lines.append(f"* {selected}  (a Whisper model folder or hub id from HOTLINE_ASR_MODEL; not in the registry)")
    return lines


def describe_readable() -> list[str]:
    """Lines for the case and punctuation model of the readable transcript (models.readable_text)."""
    try:
        m = load_readable_model()
    except ReadableModelMissing as exc:
        return ["readable text (capitals, punctuation): missing", f"    {exc}"]
    return [
        "readable text (capitals, punctuation; digits and gazetteer names by rule)",
        f"    file: {ARTIFACT.relative_to(ARTIFACT_DIR.parents[2])}   size: {ARTIFACT.stat().st_size / 2**20:.1f} MiB",
        f"    fingerprint: {m.fingerprint}",
        f"    trained on: {m.meta.get('files', '?')} ({m.meta.get('sentences', '?')} sentences, "
        f"{m.meta.get('steps', '?')} steps); licence and figures: {ARTIFACT_DIR.relative_to(ARTIFACT_DIR.parents[2])}/README.md",
    ]


def _models(args) -> int:
    settings = entry_settings(args)
    print("\n".join(describe_models(settings.asr_model) + describe_readable()))
    print("\n".join(["", "language model fused into viet-asr's beam search (`hotline lm build` makes a site's own):",
                      *describe(settings.asr_lm, settings.site_lm_dir)]))
    return 0


def register(sub, eval_sub) -> None:
    p = sub.add_parser("models", help="list the speech recognisers (HOTLINE_ASR_MODEL selects one)")
    p.set_defaults(func=_models)
