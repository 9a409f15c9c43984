"""The decoder's language models: the shipped one from written text (``hotline lm build --shipped``), and a
site's own (``hotline lm build``): its corrected transcripts, places and texts mixed into the shipped one.

The shipped model (:func:`build_shipped`) is estimated from the licence-clear files of
../shared/lm-corpus (read in place, never copied into the repository), turned into the
recogniser's form; its sources and licences travel inside the file (docs/asr.md says why
these sources).

A site's model:

Sources, each turned into the recogniser's form (:mod:`models.lm_text`):

- **corrected transcripts**: the latest text QA gave each sentence it corrected
  (``call_edits``, kind ``transcript``). That text is the redacted form: personal data
  is already a placeholder (``[SĐT]``, ``[TÊN]``…), where a sentence is cut, so no
  personal data reaches the model;
- **places**: the gazetteer's units with their kind word ("phường Tân Tiến", "xã Hòa
  Thắng") and the street list ("đường Lê Duẩn") of ``models/data/`` (aliases are
  mishearings and are left out: the model must not learn them);
- **admin texts**: every ``*.txt`` file in ``<home>/lm-text/`` and the files given with
  ``--text`` (one sentence or paragraph a line, as written).

The site's n-gram model is estimated from these alone and mixed with the shipped model
(:class:`models.ngram_lm.MixedLM`); the mixture weight is estimated (EM) on every
tenth corrected sentence held out, the model then rebuilt on all of them. The files go to
``<home>/lm/`` (``Settings.site_lm_dir``) (owner-only: they hold n-grams of calls): ``site-<fingerprint>.npz``
and ``site.json``, which ``HOTLINE_ASR_LM=auto`` (the default) decodes with from the
next call on (a running process reloads the recogniser when site.json changes). The new fingerprint is in every call's ``asr_fingerprint`` and ``asr_lm``,
so ``hotline backfill`` re-runs the calls decoded with the previous one.
"""

from __future__ import annotations

import gzip
import json
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from models import language_model
from models.lm_text import spoken_lines, spoken_sentences
from models.ngram_lm import (MixedLM, estimate, from_tables, load_model, mixture_fingerprint, mixture_weight,
                             save_model)
from pipeline.analysis import places as place_names
from pipeline.errors import HotlineError
from pipeline.fsperm import private_dir, write_private
from pipeline.warehouse import db, qa_edits

HELD_OUT_EVERY = 10  # every 10th corrected sentence is held out to estimate the mixture weight
MIN_HELD_OUT = 20  # fewer held-out sentences: the default weight below
DEFAULT_SITE_WEIGHT = 0.3  # mixture weight of a site's model when there is too little to estimate it (docs/asr.md)
MAX_SITE_WEIGHT = 0.8  # the shipped model keeps at least this share: a site's text is small
ORDER = 3


class LMBuildError(HotlineError):
    """The site's language model cannot be built (nothing to build from, an unreadable text file)."""


@dataclass
class SiteText:
    """The site's sentences in the recogniser's form, by source."""

    sources: dict[str, list[str]] = field(default_factory=dict)  # name -> spoken sentences
    held_out: list[str] = field(default_factory=list)  # corrected sentences kept out of the first estimate

    @property
    def sentences(self) -> list[str]:
        return [s for sents in self.sources.values() for s in sents]


@dataclass(frozen=True)
class BuildReport:
    path: Path  # site.json written
    fingerprint: str  # of the mixture: what runs record
    site_model: Path
    weight: float  # share of the site's model in the mixture
    weight_estimated: bool  # False: DEFAULT_SITE_WEIGHT (too few held-out sentences)
    sources: dict  # name -> sentence count
    held_out: int  # corrected sentences held out
    perplexity_shipped: float | None  # on the held-out sentences
    perplexity_site: float | None  # the mixture, estimated without them


def place_lines(gazetteer_csv: Path | None = None, streets_csv: Path | None = None) -> list[str]:
    """Place names as said: every unit with its kind word and alone, every street with "đường"."""
    g = place_names.load_gazetteer(gazetteer_csv or place_names.GAZETTEER_CSV, streets_csv or place_names.STREETS_CSV)
    lines = []
    for unit in g.units:
        lines += [unit.label, unit.name]
    for street in g.streets:
        lines += [f"đường {street.name}", street.name]
    return lines


def read_texts(paths: list[Path]) -> list[str]:
    """Lines of admin-supplied text files (UTF-8); :class:`LMBuildError` names a file that cannot be read."""
    lines = []
    for p in paths:
        try:
            lines += Path(p).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise LMBuildError(f"{p}: cannot read this text file ({exc}); give UTF-8 text, one sentence a line") from exc
    return lines


def gather(*, corrected: list[str], places: list[str], texts: list[str]) -> SiteText:
    """Turn the sources into spoken sentences; every HELD_OUT_EVERY-th corrected sentence is held out."""
    site = SiteText()
    kept, held = [], []
    for i, line in enumerate(corrected):
        (held if i % HELD_OUT_EVERY == HELD_OUT_EVERY - 1 else kept).extend(spoken_sentences(line))
    site.sources["corrected transcripts"] = kept
    site.held_out = held
    site.sources["places"] = [" ".join(s.split()) for s in spoken_lines(places)]
    site.sources["admin texts"] = list(spoken_lines(texts))
    return site


def build(site_dir: Path, site: SiteText, *, shipped: Path | None = None, now: datetime | None = None) -> BuildReport:
    """Estimate the site's model, mix it with the shipped one, write both files; returns what was built."""
    shipped = shipped or language_model.SHIPPED_LM
    if not site.sentences and not site.held_out:
        raise LMBuildError("nothing to build a site language model from: no corrected transcripts, places or texts")
    base = load_model(shipped)
    weight, estimated = DEFAULT_SITE_WEIGHT, False
    ppl_shipped = ppl_site = None
    if len(site.held_out) >= MIN_HELD_OUT and site.sentences:
        first = from_tables(*estimate(site.sentences, order=ORDER, prune=(0, 0, 0)), {"fingerprint": "held-out"})
        lam = mixture_weight([base, first], site.held_out)
        weight, estimated = min(MAX_SITE_WEIGHT, lam[1]), True
        ppl_shipped = base.perplexity(site.held_out)[0]
        ppl_site = MixedLM([base, first], [1 - weight, weight]).perplexity(site.held_out)[0]
    every = site.sentences + site.held_out
    vocab, tables = estimate(every, order=ORDER, prune=(0, 0, 0))
    out = private_dir(site_dir)
    sources = {name: len(s) for name, s in site.sources.items()}
    sources["corrected transcripts"] = sources.get("corrected transcripts", 0) + len(site.held_out)
    meta = {"kind": "site", "sources": [{"name": k, "sentences": v, "licence": "the site's own text (confidential)"}
                                        for k, v in sources.items()], "order": ORDER}
    tmp = out / "site-new.npz"
    fp = save_model(vocab, tables, tmp, meta, private=True)
    model_path = out / f"site-{fp.split(':', 1)[1]}.npz"
    tmp.replace(model_path)
    weights = [1 - weight, weight]
    mix_fp = mixture_fingerprint([base.fingerprint, fp], weights)
    desc = {
        "fingerprint": mix_fp,
        "parts": [{"path": shipped.name if shipped == language_model.SHIPPED_LM else str(shipped),
                   "shipped": shipped == language_model.SHIPPED_LM, "fingerprint": base.fingerprint,
                   "weight": weights[0], "name": "shipped"},
                  {"path": model_path.name, "fingerprint": fp, "weight": weights[1], "name": "site"}],
        "sources": meta["sources"],
        "weight_estimated": estimated,
        "held_out": len(site.held_out),
        "perplexity_held_out": {"shipped": ppl_shipped, "site": ppl_site},
        "built_at": (now or datetime.now()).isoformat(timespec="seconds"),
    }
    path = out / language_model.SITE_FILE
    write_private(path.with_name(path.name + ".tmp"), json.dumps(desc, ensure_ascii=False, indent=1).encode("utf-8"))
    path.with_name(path.name + ".tmp").replace(path)
    return BuildReport(path, mix_fp, model_path, weight, estimated, sources, len(site.held_out), ppl_shipped, ppl_site)


def build_for_settings(settings, *, db_path: Path | None = None, texts: list[Path] = (), transcripts: bool = True,
                       places: bool = True) -> BuildReport:
    """``hotline lm build``: gather the site's text from the warehouse and files of ``settings``, build, write."""
    corrected: list[str] = []
    if transcripts:
        with db.connect(db_path or settings.database, read_only=True, create=False) as con:
            corrected = qa_edits.corrected_sentences(con)
    folder = settings.home / "lm-text"
    files = sorted(folder.glob("*.txt")) if folder.is_dir() else []
    site = gather(corrected=corrected, places=place_lines() if places else [], texts=read_texts([*files, *texts]))
    return build(settings.site_lm_dir, site)


# ----- the shipped model

SHIPPED_SOURCES = ("legal", "viwiki")  # licence-clear: docs/asr.md, "The language model"
SHIPPED_PRUNE = (0, 1, 1)  # per order: n-grams seen this often or less are dropped
LICENCES = {
    "legal": "Vietnamese codes and laws (undertheseanlp/resources @ cbdb3c3a, CP_Vietnamese-VLC): legal normative "
             "documents are not protected by copyright (Vietnam IP law, Art. 15)",
    "viwiki": "Vietnamese Wikipedia, 2,597 articles (undertheseanlp/corpus.viwiki @ 0b727cc0): CC BY-SA "
              "(attribution, share-alike: the model built from it is shared under CC BY-SA 4.0)",
    "news_dantri": "Dân trí articles (undertheseanlp/resources @ cbdb3c3a): © their publisher (not shipped)",
    "news_baomoi": "baomoi articles, 2017 (magizbox/scraper @ 3387ada6): scraped news, no licence stated (not shipped)",
}


@dataclass(frozen=True)
class ShippedReport:
    path: Path
    fingerprint: str
    sources: dict  # name -> sentence count
    sizes: list  # n-grams per order
    seconds: float


def corpus_sentences(corpus: Path, name: str) -> list[str]:
    """The spoken sentences of ``corpus/NAME.txt.gz`` (one written sentence a line)."""
    path = Path(corpus) / f"{name}.txt.gz"
    if not path.is_file():
        raise LMBuildError(f"{path}: no such corpus file (--corpus names the folder of NAME.txt.gz files)")
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return list(spoken_lines(fh))


def build_shipped(corpus: Path, out: Path, *, sources=SHIPPED_SOURCES, prune=SHIPPED_PRUNE,
                  order: int = ORDER) -> ShippedReport:
    """Estimate the shipped model from ``sources`` of ``corpus`` and write it to ``out`` with its sources inside."""
    t = time.perf_counter()
    sentences, described = [], []
    for name in sources:
        sents = corpus_sentences(corpus, name)
        sentences += sents
        described.append({"name": name, "sentences": len(sents), "words": sum(len(s.split()) for s in sents),
                          "licence": LICENCES.get(name, "unknown: check before shipping")})
    vocab, tables = estimate(sentences, order=order, prune=prune)
    meta = {"kind": "shipped", "sources": described, "order": order, "prune": list(prune),
            "built_by": "hotline lm build --shipped"}
    fp = save_model(vocab, tables, out, meta)
    return ShippedReport(Path(out), fp, {d["name"]: d["sentences"] for d in described},
                         [len(t.keys) for t in tables], time.perf_counter() - t)
