"""The readable transcript's model: training data from written text, training, and its figures.

``hotline text train --corpus DIR`` and ``hotline eval readable --corpus DIR`` (docs/asr.md,
"Readable text"). The corpus folder holds gzip files of written Vietnamese, one sentence a
line (../shared/lm-corpus); it is read in place, never copied.

How a written line becomes an example: numbers are said in words
(:func:`pipeline.analysis.spoken.say_numbers`), the text is split into syllables normalised as
the recogniser writes them, and each syllable keeps its written case and the punctuation
written after it. Consecutive sentences of a file are joined into runs of 1..6 sentences, so
that sentence ends inside a run are learnt from the words alone.

The split, per file, by line number: lines in blocks of 200; block 0, 20, 40… is the test
part, block 10, 30, 50… the development part (used to choose the punctuation bias), the rest
trains. Test lines are never read for training or tuning.
"""

from __future__ import annotations

import csv
import gzip
import logging
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from models.readable_text import NUM, UNK, load_readable_model, shape
from models.readable_training import LinearOptions, Run, TrainOptions, save_model, train, train_linear
from pipeline.analysis.readable import gazetteer_names, make_readable, written_tokens
from pipeline.analysis.spoken import say_numbers
from pipeline.errors import HotlineError
from pipeline.textnorm import nfc, normalize_text

log = logging.getLogger(__name__)

# Licence-clear text the shipped model is trained on (docs/asr.md says why), and the rest.
CLEAR_FILES = ("legal.txt.gz", "viwiki.txt.gz")
OTHER_FILES = ("news_dantri.txt.gz", "news_baomoi.txt.gz")
BLOCK = 200  # lines per split block
TEST_EVERY, TEST_AT, DEV_AT = 20, 0, 10
MAX_RUN_SENTENCES = 6
MAX_RUN_SYLLABLES = 160
MAX_SENTENCE_SYLLABLES = 120
_TOKEN = re.compile(r"[\w\u0300-\u036f]+|[^\w\s]", re.UNICODE)
_PUNCT_CLASS = {",": 1, ";": 1, ":": 1, ".": 2, "!": 2, "…": 2, "?": 3}


class CorpusError(HotlineError):
    """The corpus folder or one of its files cannot be read."""

    exit_code = 2


@dataclass(frozen=True)
class Sentence:
    """One written sentence as the model sees it."""

    syllables: tuple[str, ...]  # normalised, numbers in words
    forms: tuple[str, ...]  # each syllable as written (its case)
    cases: tuple[int, ...]  # models.readable_text.CASES index
    puncts: tuple[int, ...]  # models.readable_text.PUNCTS index after each syllable
    text: str = ""  # the line as written


def case_class(form: str) -> int:
    """0 lower, 1 Capitalised, 2 UPPER (two letters or more), 3 anything else ("iPhone")."""
    if form == form.lower():
        return 0
    if form[:1].isupper() and form[1:] == form[1:].lower():
        return 1
    if form.isupper() and len(form) > 1:
        return 2
    return 3


def sentence_of(line: str) -> Sentence | None:
    """The example of a written line, or None for a line that is a heading, all capitals, too
    short or too long, or has no full stop or question mark at its end."""
    line = nfc(line.strip())
    letters = [c for c in line if c.isalpha()]
    if not letters or sum(c.isupper() for c in letters) > 0.4 * len(letters):
        return None
    syllables, forms, cases, puncts = [], [], [], []
    for tok in _TOKEN.findall(say_numbers(line)):
        if tok[0].isalnum():
            for part in normalize_text(tok).split():
                syllables.append(part)
                forms.append(tok if len(normalize_text(tok).split()) == 1 else part)
                cases.append(case_class(tok))
                puncts.append(0)
        elif syllables and tok in _PUNCT_CLASS:
            cls = _PUNCT_CLASS[tok]
            puncts[-1] = max(puncts[-1], cls) if puncts[-1] != 3 else 3
    if not (4 <= len(syllables) <= MAX_SENTENCE_SYLLABLES) or puncts[-1] not in (2, 3):
        return None
    return Sentence(tuple(syllables), tuple(forms), tuple(cases), tuple(puncts), line)


def split_of(line_no: int) -> str:
    """"test", "dev" or "train" for a line of a corpus file (0-based line number)."""
    block = (line_no // BLOCK) % TEST_EVERY
    return "test" if block == TEST_AT else ("dev" if block == DEV_AT else "train")


def read_sentences(path: Path, part: str, *, limit: int | None = None) -> Iterator[list[Sentence]]:
    """Sentences of one part of a corpus file, in order, grouped by unbroken stretches of lines
    (a dropped line or a block boundary starts a new group)."""
    try:
        handle = gzip.open(path, "rt", encoding="utf-8", errors="replace")
    except OSError as exc:
        raise CorpusError(f"{path}: cannot open ({exc})") from exc
    group: list[Sentence] = []
    n = 0
    try:
        for line_no, line in enumerate(handle):
            if split_of(line_no) != part:
                if group:
                    yield group
                    group = []
                continue
            s = sentence_of(line)
            if s is None:
                if group:
                    yield group
                    group = []
                continue
            group.append(s)
            n += 1
            if limit and n >= limit:
                break
    except (OSError, EOFError) as exc:
        raise CorpusError(f"{path}: unreadable ({exc})") from exc
    finally:
        handle.close()
    if group:
        yield group


def runs_of(groups: Iterable[list[Sentence]], rng: np.random.Generator) -> Iterator[list[Sentence]]:
    """Groups cut into runs of 1..MAX_RUN_SENTENCES consecutive sentences (at most MAX_RUN_SYLLABLES)."""
    for group in groups:
        k = 0
        while k < len(group):
            want = int(rng.integers(1, MAX_RUN_SENTENCES + 1))
            run, size = [], 0
            while k < len(group) and len(run) < want and (not run or size + len(group[k].syllables) <= MAX_RUN_SYLLABLES):
                run.append(group[k])
                size += len(group[k].syllables)
                k += 1
            yield run


@dataclass(frozen=True)
class Joined:
    """A run of sentences joined into one stretch, as the recogniser would write it."""

    syllables: tuple[str, ...]
    forms: tuple[str, ...]
    cases: tuple[int, ...]
    puncts: tuple[int, ...]
    text: str = ""  # the sentences as written


def join(run: Sequence[Sentence]) -> Joined:
    return Joined(*(tuple(x for s in run for x in getattr(s, f)) for f in ("syllables", "forms", "cases", "puncts")),
                  " ".join(s.text for s in run))


def corpus_files(corpus: Path, names: Sequence[str]) -> list[Path]:
    corpus = Path(corpus)
    if not corpus.is_dir():
        raise CorpusError(f"{corpus}: not a folder (pass the lm-corpus folder, e.g. ../shared/lm-corpus)")
    paths = [corpus / n for n in names]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise CorpusError(f"corpus file(s) missing: {', '.join(missing)}")
    return paths


@dataclass
class Prepared:
    runs: list  # models.readable_training.Run
    vocab: list[str]
    mixed: dict[str, str]  # syllable -> mixed written form seen most
    syllables: int = 0
    sentences: int = 0
    per_file: dict = field(default_factory=dict)  # file -> sentences


def prepare_training(paths: Sequence[Path], *, vocab_size: int = 32000, min_count: int = 2, seed: int = 0,
                     limit_per_file: int | None = None, limits: dict[str, int] | None = None) -> Prepared:
    """Training runs of ``paths`` (their train part), the vocabulary and the mixed-case lexicon.

    ``limits`` caps the sentences read from the files it names; ``limit_per_file`` from every file."""
    rng = np.random.default_rng(seed)
    joined: list[Joined] = []
    per_file = {}
    for path in paths:
        before = len(joined)
        n = 0
        limit = (limits or {}).get(path.name, limit_per_file)
        for run in runs_of(read_sentences(path, "train", limit=limit), rng):
            joined.append(join(run))
            n += len(run)
        per_file[path.name] = n
        log.info("%s: %d sentences in %d runs", path.name, n, len(joined) - before)
    counts = Counter(s for j in joined for s in j.syllables)
    words = [w for w, c in counts.most_common() if c >= min_count and not any(ch.isdigit() for ch in w)]
    vocab = ["<pad>", "<unk>", "<num>"] + words[: vocab_size - 3]
    index = {w: i for i, w in enumerate(vocab)}
    mixed_counts: dict[str, Counter] = {}
    runs = []
    for j in joined:
        for syl, form, case in zip(j.syllables, j.forms, j.cases):
            if case == 3:
                mixed_counts.setdefault(syl, Counter())[form] += 1
        ids = np.array([NUM if any(c.isdigit() for c in s) else index.get(s, UNK) for s in j.syllables], dtype=np.int32)
        runs.append(Run(ids, np.array([shape(s) for s in j.syllables], dtype=np.int8),
                        np.array(j.cases, dtype=np.int8), np.array(j.puncts, dtype=np.int8)))
    mixed = {s: c.most_common(1)[0][0] for s, c in mixed_counts.items() if sum(c.values()) >= 3}
    return Prepared(runs, vocab, mixed, syllables=sum(len(r.ids) for r in runs), sentences=sum(per_file.values()),
                    per_file=per_file)


@dataclass(frozen=True)
class TrainedModel:
    path: Path  # the array file written
    sentences: int  # training sentences
    syllables: int  # training syllables
    steps: int
    seconds: float  # wall seconds of the training loop
    size_bytes: int


def train_readable(corpus: Path, out: Path, *, files: Sequence[str] = CLEAR_FILES, options=None,
                   limit_per_file: int | None = None, limits: dict[str, int] | None = None,
                   progress=None) -> TrainedModel:
    """Train the case and punctuation model on the train part of ``files`` in ``corpus`` and write it to ``out``.

    ``options``: :class:`LinearOptions` (the shipped kind, the default) or :class:`TrainOptions` (the CNN).
    The punctuation bias stays zero here; :func:`tune_bias` sets it from the development part.
    """
    options = options or LinearOptions()
    paths = corpus_files(corpus, files)
    prep = prepare_training(paths, seed=options.seed, limit_per_file=limit_per_file, limits=limits)
    log.info("training on %d sentences, %d syllables, vocabulary %d", prep.sentences, prep.syllables, len(prep.vocab))
    if isinstance(options, LinearOptions):
        done = train_linear(prep.runs, len(prep.vocab), options)
        done.arrays["vocab"] = np.array(prep.vocab)
    else:
        done = train(prep.runs, prep.vocab, options, progress=progress)
    meta = {"files": ",".join(files), "sentences": prep.sentences, "syllables": prep.syllables,
            "per_file": ";".join(f"{k}={v}" for k, v in prep.per_file.items()), "steps": done.steps,
            "split": f"line blocks of {BLOCK}: block % {TEST_EVERY} == {TEST_AT} test, == {DEV_AT} dev, rest train",
            "options": repr(options)}
    path = save_model(done.arrays, out, mixed=prep.mixed, meta=meta)
    return TrainedModel(path, prep.sentences, prep.syllables, done.steps, done.seconds, path.stat().st_size)


# ---------------------------------------------------------------------------
# Figures


def test_runs(path: Path, part: str = "test", *, max_sentences: int = 3000, seed: int = 1) -> list[Joined]:
    """Runs of 1..6 consecutive sentences of one file's ``part`` (the first ``max_sentences``)."""
    rng = np.random.default_rng(seed)
    out, n = [], 0
    for run in runs_of(read_sentences(path, part, limit=max_sentences), rng):
        out.append(join(run))
        n += len(run)
    return out


def _forms_of(token_text: str, n: int) -> list[str]:
    """The per-syllable written forms of a token covering ``n`` syllables ("M'gar" → "M", "gar")."""
    parts = [p for p in re.split(r"[^\w]+", token_text) if p]
    return parts if len(parts) == n else [token_text] * n


@dataclass
class Counts:
    """Counts behind the figures of one evaluation."""

    syllables: int = 0  # scored for case (numbers written in digits left out)
    case_right: int = 0
    lower_right: int = 0  # what all-lower-case text gets right (the recogniser's own)
    comma: list = field(default_factory=lambda: [0, 0, 0])  # true positives, predicted, in the reference
    end: list = field(default_factory=lambda: [0, 0, 0])  # sentence ends inside a run (the last is forced)
    question: list = field(default_factory=lambda: [0, 0, 0])
    names: list = field(default_factory=lambda: [0, 0])  # gazetteer names cased right, seen

    def add(self, other: "Counts") -> None:
        for name in ("syllables", "case_right", "lower_right"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in ("comma", "end", "question", "names"):
            mine = getattr(self, name)
            for k, v in enumerate(getattr(other, name)):
                mine[k] += v

    @staticmethod
    def f1(tp_pred_ref: Sequence[int]) -> float:
        tp, pred, ref = tp_pred_ref
        return 2 * tp / (pred + ref) if pred + ref else 0.0

    def figures(self) -> dict:
        return {
            "syllables": self.syllables,
            "case_accuracy": self.case_right / self.syllables if self.syllables else 0.0,
            "lower_case_baseline": self.lower_right / self.syllables if self.syllables else 0.0,
            "comma_f1": self.f1(self.comma), "commas": self.comma[2],
            "sentence_end_f1": self.f1(self.end), "sentence_ends": self.end[2],
            "question_f1": self.f1(self.question), "questions": self.question[2],
            "gazetteer_names_right": self.names[0] / self.names[1] if self.names[1] else None,
            "gazetteer_names": self.names[1],
        }


def score_run(run: Joined, model) -> Counts:
    """Case, punctuation and gazetteer-name counts of the readable text of one run against what was written."""
    words = list(run.syllables)
    tokens = written_tokens(words, {}, model)
    pred_form = [""] * len(words)
    pred_punct = [""] * len(words)
    numbers = set()
    for t in tokens:
        pred_punct[t.end - 1] = t.punct
        if t.number:
            numbers.update(range(t.start, t.end))
            continue
        for k, form in zip(range(t.start, t.end), _forms_of(t.text, t.end - t.start)):
            pred_form[k] = form
    c = Counts()
    for k, w in enumerate(words):
        if k not in numbers and any(ch.isalpha() for ch in run.forms[k]):
            c.syllables += 1
            ref = case_class(run.forms[k])
            got = case_class(pred_form[k])
            c.case_right += int(got == ref and (ref != 3 or pred_form[k] == run.forms[k]))
            c.lower_right += int(ref == 0)
        if k == len(words) - 1:
            continue
        ref_p, got_p = run.puncts[k], pred_punct[k]
        c.comma[0] += int(ref_p == 1 and got_p == ",")
        c.comma[1] += int(got_p == ",")
        c.comma[2] += int(ref_p == 1)
        c.end[0] += int(ref_p in (2, 3) and got_p in (".", "?"))
        c.end[1] += int(got_p in (".", "?"))
        c.end[2] += int(ref_p in (2, 3))
    for k, w in enumerate(words):  # questions, the run's last sentence included
        ref_p, got_p = run.puncts[k], pred_punct[k]
        c.question[0] += int(ref_p == 3 and got_p == "?")
        c.question[1] += int(got_p == "?")
        c.question[2] += int(ref_p == 3)
    names = gazetteer_names()
    for i, w in enumerate(words):
        for name in names.get(w, ()):
            n = len(name.syllables)
            if tuple(words[i : i + n]) != name.syllables:
                continue
            ref_forms = [f for f in run.forms[i : i + n]]
            want = [f for word, m in name.written for f in _forms_of(word, m)]
            if [case_class(f) for f in ref_forms] == [case_class(f) for f in want]:
                c.names[1] += 1
                c.names[0] += int([case_class(f) for f in pred_form[i : i + n]] == [case_class(f) for f in want])
            break
    return c


def count_model(runs: Sequence[Joined], model) -> Counts:
    total = Counts()
    for run in runs:
        total.add(score_run(run, model))
    return total


def evaluate_model(runs: Sequence[Joined], model) -> dict:
    total = count_model(runs, model)
    return total.figures() | {"runs": len(runs), "sentences": total.end[2] + len(runs)}


def read_number_cases(path: Path) -> list[tuple[str, str, str]]:
    """(spoken, written, kind) rows of a number test file (tests/data/readable/numbers_*.tsv)."""
    try:
        with open(path, encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f, delimiter="\t"))
    except OSError as exc:
        raise CorpusError(f"{path}: cannot read ({exc})") from exc
    if not rows or not {"spoken", "written"} <= set(rows[0]):
        raise CorpusError(f"{path}: needs the tab-separated columns spoken, written (and kind)")
    return [(r["spoken"], r["written"], r.get("kind") or "") for r in rows]


_TRAILING = re.compile(r"[,.?!]+(?=\s|$)")


def score_numbers(path: Path, model) -> dict:
    """Share of cases whose readable text, lower-cased and without the punctuation after words, is ``written``."""
    cases = read_number_cases(path)
    right, misses, by_kind = 0, [], {}
    for spoken, want, kind in cases:
        got = _TRAILING.sub("", make_readable(spoken, model).text).lower()
        ok = got == want.lower()
        right += ok
        k = by_kind.setdefault(kind, [0, 0])
        k[0] += ok
        k[1] += 1
        if not ok:
            misses.append((spoken, got, want))
    return {"cases": len(cases), "exact": right / len(cases) if cases else 0.0, "misses": misses,
            "by_kind": {k: v[0] / v[1] for k, v in sorted(by_kind.items())}}


_DIGITS = re.compile(r"\d+(?:[.,/]\d+)*%?")


def score_corpus_numbers(runs: Sequence[Joined], model) -> dict:
    """Numbers written in digits in held-out text that the readable text of the same sentences
    said in words writes the same way: all of them, and those of 10 and more."""
    seen = hit = seen10 = hit10 = 0
    for run in runs:
        written = run.text
        got = _DIGITS.findall(make_readable(" ".join(run.syllables), model).text)
        pool = list(got)
        for num in _DIGITS.findall(written):
            value = int(re.sub(r"\D.*", "", num) or 0)
            big = value >= 10 or len(re.sub(r"\D", "", num)) > 1
            ok = num in pool
            if ok:
                pool.remove(num)
            seen += 1
            hit += ok
            seen10 += big
            hit10 += ok and big
    return {"numbers": seen, "written_same": hit / seen if seen else 0.0,
            "numbers_10_plus": seen10, "written_same_10_plus": hit10 / seen10 if seen10 else 0.0}


def tune_bias(model, runs: Sequence[Joined]) -> tuple[float, float, float, float]:
    """The punctuation bias (added to the logits of none, comma, full stop, question) that gives the best
    comma F1 and sentence-end F1 on ``runs`` (the development part), each chosen on its own."""
    logits, refs = [], []
    for run in runs:
        _, p = model.logits(list(run.syllables))
        logits.append(p[:-1] - model.punct_bias)
        refs.append(np.array(run.puncts[:-1]))
    raw = np.concatenate(logits)
    ref = np.concatenate(refs)
    grid = np.arange(-1.0, 3.01, 0.25)

    def f1(pred_mask, ref_mask):
        tp = int((pred_mask & ref_mask).sum())
        return 2 * tp / (int(pred_mask.sum()) + int(ref_mask.sum()) or 1)

    best_end = max(grid, key=lambda b: f1(np.isin((raw + [0, 0, b, b]).argmax(1), (2, 3)), np.isin(ref, (2, 3))))
    best_comma = max(grid, key=lambda b: f1((raw + [0, b, best_end, best_end]).argmax(1) == 1, ref == 1))
    return (0.0, float(best_comma), float(best_end), float(best_end))


def set_bias(path: Path, bias: Sequence[float]) -> None:
    """Store the punctuation bias in the model file (the rest unchanged)."""
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    arrays["punct_bias"] = np.array(bias, dtype=np.float32)
    tmp = Path(path).with_suffix(".tmp.npz")
    np.savez_compressed(tmp, **arrays)
    tmp.replace(path)


def evaluate_readable(corpus: Path, model_path: Path | None = None, *, files: Sequence[str] = CLEAR_FILES + OTHER_FILES,
                      max_sentences: int = 3000, numbers: Sequence[Path] = ()) -> dict:
    """Every figure of the readable text on the test part of ``files``: per file and all together, plus
    the number test files and the digits of held-out text."""
    model = load_readable_model(model_path)
    out: dict = {"model": model.source, "fingerprint": model.fingerprint, "trained_on": model.meta.get("files", ""),
                 "files": {}}
    total, n_runs = Counts(), 0
    for path in corpus_files(corpus, files):
        runs = test_runs(path, max_sentences=max_sentences)
        counts = count_model(runs, model)
        total.add(counts)
        n_runs += len(runs)
        figures = counts.figures() | {"runs": len(runs), "sentences": counts.end[2] + len(runs)}
        figures["digits"] = score_corpus_numbers(runs, model)
        out["files"][path.name] = figures
    out["all"] = total.figures() | {"runs": n_runs, "sentences": total.end[2] + n_runs}
    out["numbers"] = {str(p): score_numbers(Path(p), model) for p in numbers}
    return out
