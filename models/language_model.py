"""Which language model the recogniser's beam search fuses: the shipped one, a site's own, or none.

``HOTLINE_ASR_LM`` (``Settings.asr_lm``) names it:

- ``auto`` (default): the site's model when ``hotline lm build`` has made one
  (``<home>/lm/site.json``: site data, beside the warehouse, not in the model cache), else the shipped model;
- ``shipped``: :data:`SHIPPED_LM`, built by ``hotline lm build --shipped`` from licence-clear
  written Vietnamese (docs/asr.md, "The language model");
- ``none``: no language model (the decoder is then the SDK's beam search);
- a path to a model file (``.npz`` written by :mod:`models.ngram_lm`) or to a site
  description (``site.json``).

A site description is JSON: ``{"parts": [{"path", "fingerprint", "weight"}…], "fingerprint",
"sources", "built_at", …}``; its model is the parts mixed with those weights
(:class:`models.ngram_lm.MixedLM`). Every part's file is checked against the fingerprint
recorded for it, so a run never records one model and decodes with another.
"""

from __future__ import annotations

import functools
import json
import threading
from dataclasses import dataclass
from pathlib import Path

from models.ngram_lm import LMFormatError, MixedLM, file_fingerprint, load_model
from pipeline.errors import ModelUnavailable

ARTIFACTS = Path(__file__).resolve().parent / "artifacts" / "lm"
SHIPPED_LM = ARTIFACTS / "vi-3gram.npz"
SITE_FILE = "site.json"  # in the site's folder, Settings.site_lm_dir (<home>/lm/)
CHOICES = ("auto", "shipped", "none")


@dataclass(frozen=True)
class LMChoice:
    """A resolved choice: what to load and what to call it."""

    kind: str  # "none" | "shipped" | "site" | "file"
    path: Path | None  # model file or site.json; None for "none"


def resolve(spec: str, site_dir: Path | None) -> LMChoice:
    """The model ``spec`` (``auto`` | ``shipped`` | ``none`` | a path) names on this installation;
    ``site_dir``: where ``hotline lm build`` writes the site's model (``Settings.site_lm_dir``)."""
    spec = (spec or "auto").strip()
    if spec == "none":
        return LMChoice("none", None)
    if spec == "shipped":
        return LMChoice("shipped", SHIPPED_LM)
    if spec == "auto":
        site = Path(site_dir) / SITE_FILE if site_dir else None
        if site is not None and site.is_file():
            return LMChoice("site", site)
        return LMChoice("shipped", SHIPPED_LM)
    path = Path(spec).expanduser()
    return LMChoice("site" if path.suffix == ".json" else "file", path)


def state(spec: str, site_dir: Path | None) -> tuple:
    """What ``spec`` resolves to now and that file's modification time: a long-running process (``hotline
    watch``) compares it before each call and reloads the recogniser when ``hotline lm build`` wrote a new model."""
    choice = resolve(spec, site_dir)
    try:
        return choice.kind, str(choice.path), choice.path.stat().st_mtime_ns if choice.path else None
    except OSError:
        return choice.kind, str(choice.path), None


def fingerprint(choice: LMChoice) -> str | None:
    """The model's fingerprint without loading it (what a loaded one reports): a model file's hash
    (remembered per file version), a site description's recorded mixture fingerprint; None for none."""
    if choice.kind == "none" or choice.path is None:
        return None
    try:
        st = choice.path.stat()
    except OSError:
        return "?"  # missing: loading it says what is wrong
    if choice.kind == "site":
        return _site_fingerprint(str(choice.path), st.st_mtime_ns, st.st_size)
    return _file_fingerprint(str(choice.path), st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=16)
def _file_fingerprint(path: str, mtime_ns: int, size: int) -> str:
    return file_fingerprint(path)


@functools.lru_cache(maxsize=16)
def _site_fingerprint(path: str, mtime_ns: int, size: int) -> str:
    return str(read_site(Path(path)).get("fingerprint") or "?")


_LOADED: dict[tuple, object] = {}
_LOCK = threading.Lock()


def load(choice: LMChoice):
    """The model of ``choice`` (loaded once per process and file state), or None for ``none``.

    Raises :class:`~pipeline.errors.ModelUnavailable` naming the file and the problem.
    """
    if choice.kind == "none" or choice.path is None:
        return None
    path = choice.path
    if not path.is_file():
        if choice.kind == "shipped":
            raise ModelUnavailable(f"{path}: the shipped language model is missing (a broken checkout?); "
                                   "HOTLINE_ASR_LM=none decodes without one")
        raise ModelUnavailable(f"{path}: no such language model file (HOTLINE_ASR_LM)")
    st = path.stat()
    key = (str(path), st.st_mtime_ns, st.st_size)
    with _LOCK:
        if key not in _LOADED:
            _LOADED[key] = _site(path) if choice.kind == "site" else _model(path)
        return _LOADED[key]


def _model(path: Path):
    try:
        return load_model(path)
    except (LMFormatError, OSError) as exc:
        raise ModelUnavailable(f"{path}: cannot read the language model ({exc})") from exc


def read_site(path: Path) -> dict:
    """The site description at ``path``; :class:`ModelUnavailable` when it is unreadable."""
    try:
        site = json.loads(Path(path).read_text(encoding="utf-8"))
        if not isinstance(site, dict) or not isinstance(site.get("parts"), list) or not site["parts"]:
            raise ValueError("no parts")
        return site
    except (OSError, ValueError) as exc:
        raise ModelUnavailable(f"{path}: not a site language model description ({exc}); "
                               "rebuild it with `hotline lm build`") from exc


def _site(path: Path):
    site = read_site(path)
    parts, weights = [], []
    for part in site["parts"]:
        p = Path(part["path"])
        p = p if p.is_absolute() else (SHIPPED_LM.parent / p if part.get("shipped") else path.parent / p)
        model = _model(p)
        if part.get("fingerprint") and model.fingerprint != part["fingerprint"]:
            raise ModelUnavailable(f"{p}: fingerprint {model.fingerprint}, {path} expects {part['fingerprint']}: "
                                   "the file changed since `hotline lm build`; run it again")
        parts.append(model)
        weights.append(float(part["weight"]))
    meta = {k: v for k, v in site.items() if k != "parts"}
    return MixedLM(parts, weights, meta)


def describe(spec: str, site_dir: Path | None) -> list[str]:
    """Lines for ``hotline models``: the language model this installation decodes with, its fingerprint and sources."""
    choice = resolve(spec, site_dir)
    if choice.kind == "none":
        return ["  language model: none (HOTLINE_ASR_LM=none): the beam search alone"]
    try:
        lm = load(choice)
    except ModelUnavailable as exc:
        return [f"  language model: UNAVAILABLE: {exc}"]
    lines = [f"  language model ({choice.kind}, HOTLINE_ASR_LM={spec or 'auto'}): {choice.path}",
             f"    fingerprint: {lm.fingerprint}   n-grams: {'/'.join(str(n) for n in lm.sizes)}"]
    parts = getattr(lm, "parts", [lm])
    weights = getattr(lm, "weights", [1.0])
    for part, w in zip(parts, weights):
        meta = part.meta
        size = Path(meta.get("path", "")).stat().st_size if meta.get("path") and Path(meta["path"]).is_file() else 0
        lines.append(f"    part {Path(meta.get('path', '?')).name} (weight {w:.2f}, {size / 2**20:.1f} MiB, "
                     f"{part.fingerprint}):")
        for src in meta.get("sources", []):
            lines.append(f"      - {src.get('name')}: {src.get('sentences', '?')} sentences; {src.get('licence', '')}")
    if getattr(lm, "meta", {}).get("built_at"):
        lines.append(f"    built: {lm.meta['built_at']} by `hotline lm build`")
    return lines
