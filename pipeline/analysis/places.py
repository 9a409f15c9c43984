"""Places a caller gives: house number, alley, street, hamlet, ward/commune, district.

Works on ASR output: lower case, missing diacritics, misheard syllables. Matching is
done on accent-folded tokens (:func:`pipeline.textnorm.fold_accents`) plus a
phonetic key that merges letters southern and northern speech confuse
(d/gi/r/j, c/k/q, s/x, y/i), with a small edit-distance tolerance for names of five
letters or more. Returned text and offsets are always those of the input.

Administrative names come from a gazetteer (``models/data/gazetteer_daklak.csv``,
generated from ``vietnamadminunits`` by ``scripts/build_gazetteer.py``: the 102
wards and communes of the 2025 map with their GSO codes, and the pre-2025 units of
Đắk Lắk and Phú Yên): a unit said under its old name is returned as the unit that
replaced it, with ``resolved_from`` set, unless the call date says the old name was
still in force.
"""

from __future__ import annotations

import csv
import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from rapidfuzz.distance import Levenshtein

from pipeline.analysis.numerals import hundreds_at, small_value_at, value_at
from pipeline.errors import HotlineError
from pipeline.records import KIND_WORDS, Place  # noqa: F401 - Place: the record extract_places returns
from pipeline.textnorm import Token, fold_accents, normalize_text, tokenize

DATA_DIR = Path(__file__).resolve().parents[2] / "models" / "data"
GAZETTEER_CSV = DATA_DIR / "gazetteer_daklak.csv"
STREETS_CSV = DATA_DIR / "streets_bmt.csv"

KINDS = ("house_number", "alley", "street", "hamlet", "ward", "commune", "town", "district", "province")
ADMIN_KINDS = ("ward", "commune", "town", "district", "province")
# Word a unit's name is said after, for labels such as "phường Tân Tiến".


class GazetteerError(HotlineError):
    """The gazetteer or street list is unreadable."""

    exit_code = 2




def phonetic_key(folded: str) -> str:
    """Key of a folded syllable sequence that merges commonly confused sounds.

    ``y giut`` and ``y jut`` get the same key; so do ``cu`` / ``ku``, ``xuan`` /
    ``suan``. Used only to compare names, never shown.
    """
    out = []
    for syl in folded.split():
        s = syl
        s = re.sub(r"^gi(?=[aeiouy])", "z", s)
        s = re.sub(r"^gi$", "zi", s)
        s = re.sub(r"^(ngh|ng)", "N", s)
        s = re.sub(r"^gh", "g", s)
        s = re.sub(r"^ph", "f", s)
        s = re.sub(r"^(tr|ch)", "C", s)
        s = re.sub(r"^qu", "kw", s)
        s = re.sub(r"^[dzrj]", "z", s)
        s = re.sub(r"^[cq]", "k", s)
        s = s.replace("x", "s").replace("y", "i")
        out.append(s)
    return " ".join(out)


# ---------------------------------------------------------------------------
# Gazetteer


@dataclass(frozen=True)
class AdminUnit:
    code: str  # GSO code (2025 units, provinces); legacy-<GSO code> for pre-2025 units
    name: str  # canonical name with diacritics, without the kind word
    kind: str  # province | district | ward | commune | town
    parent: str | None  # code of the parent unit
    valid_from: date | None  # first day the unit existed under this name; None = long before
    valid_to: date | None  # last day; None = still valid
    replaced_by: str | None  # code of the unit that took it over
    aliases: tuple[str, ...] = ()  # other spellings and mishearings

    @property
    def label(self) -> str:
        """Name with its kind word: ``phường Tân Tiến``."""
        return f"{KIND_WORDS[self.kind]} {self.name}"

    def valid_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day <= self.valid_to
        )


@dataclass(frozen=True)
class Street:
    name: str  # canonical name with diacritics, without "đường"
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Entry:
    key: str  # phonetic key of one spelling
    flat: str  # key without spaces, for edit distance
    n_syl: int  # syllables in the spelling
    target: AdminUnit | Street


@dataclass(frozen=True)
class Gazetteer:
    """Administrative units and streets, indexed for matching."""

    units: tuple[AdminUnit, ...]
    streets: tuple[Street, ...] = ()
    _by_code: dict = field(default_factory=dict, repr=False, compare=False)
    _entries: tuple[_Entry, ...] = field(default=(), repr=False, compare=False)
    _first_syllables: frozenset = field(default=frozenset(), repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "_by_code", {u.code: u for u in self.units})
        entries = []
        for target in (*self.units, *self.streets):
            for spelling in (target.name, *target.aliases):
                key = phonetic_key(fold_accents(spelling.replace("'", "")))
                if key:
                    entries.append(_Entry(key, key.replace(" ", ""), len(key.split()), target))
        object.__setattr__(self, "_entries", tuple(entries))
        object.__setattr__(self, "_first_syllables", frozenset(e.key.split()[0] for e in entries))

    def unit(self, code: str) -> AdminUnit | None:
        return self._by_code.get(code)

    def resolve(self, unit: AdminUnit, as_of: date | None = None) -> AdminUnit:
        """Follow ``replaced_by`` to the unit valid on ``as_of`` (default: the newest)."""
        seen = {unit.code}
        while unit.replaced_by and (as_of is None or (unit.valid_to and unit.valid_to < as_of)):
            nxt = self._by_code.get(unit.replaced_by)
            if nxt is None or nxt.code in seen:
                break
            seen.add(nxt.code)
            unit = nxt
        return unit

    def match(
        self,
        folded_words: Sequence[str],
        kinds: Iterable[str],
        prefer: str | None = None,
        exact: bool = False,
        as_of: date | None = None,
        near: str | None = None,
    ) -> tuple[int, int, object] | None:
        """Best entry for a prefix of ``folded_words``.

        Returns ``(n_words, distance, target)`` or None. Closer, then longer matches
        win; among equals, units of kind ``prefer``, then units valid on ``as_of``
        (the call date; default: still valid today), then units whose parent is
        ``near`` (a district said in the same call), then the first in the file. Fuzzy
        matches (edit distance on the phonetic key) are allowed for names of five
        letters or more: one edit, two from ten letters; none with ``exact``.
        """
        if exact and (not folded_words or phonetic_key(folded_words[0]) not in self._first_syllables):
            return None
        kinds = set(kinds)
        best = None
        for n in range(min(5, len(folded_words)), 0, -1):
            key = phonetic_key(" ".join(folded_words[:n]))
            flat = key.replace(" ", "")
            for e in self._entries:
                kind = "street" if isinstance(e.target, Street) else e.target.kind
                if kind not in kinds or abs(e.n_syl - n) > 1:
                    continue
                if e.flat == flat:
                    d = 0
                elif len(e.flat) >= 5 and not exact:
                    limit = 2 if len(e.flat) >= 10 else 1
                    d = Levenshtein.distance(e.flat, flat, score_cutoff=limit)
                    if d > limit:
                        continue
                    # a fuzzy match must keep the first letter: "tân" ≠ "hân"
                    if e.flat[0] != flat[0]:
                        continue
                else:
                    continue
                unit = e.target if isinstance(e.target, AdminUnit) else None
                if unit is None:
                    stale = False
                elif as_of is None:
                    stale = unit.valid_to is not None
                else:
                    stale = not unit.valid_on(as_of)
                far = bool(unit and near and unit.parent != near)
                score = (d, -n, bool(unit and unit.kind != prefer), stale, far)
                if best is None or score < best[0]:
                    best = (score, n, d, e.target)
        if best is None:
            return None
        return best[1], best[2], best[3]


def _read_csv(path: Path) -> list[dict]:
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            lines = [line for line in f if line.strip() and not line.lstrip().startswith("#")]
    except OSError as exc:
        raise GazetteerError(f"{path}: cannot read ({exc.strerror}); restore it from git or pass another file") from exc
    rows = list(csv.DictReader(lines))
    if not rows:
        raise GazetteerError(f"{path}: no rows; it needs a header line and at least one row")
    return [{k.strip(): (v or "").strip() for k, v in row.items() if k} for row in rows]


def _date(value: str, path: Path, line: int) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise GazetteerError(f"{path}: row {line}: date {value!r} is not YYYY-MM-DD") from None


def _aliases(value: str) -> tuple[str, ...]:
    return tuple(a.strip() for a in value.split("|") if a.strip())


def load_gazetteer(admin_csv: str | Path = GAZETTEER_CSV, streets_csv: str | Path | None = STREETS_CSV) -> Gazetteer:
    """Read the gazetteer CSV files (see ``models/data/README.md``).

    Raises :class:`GazetteerError` naming the file and row for unreadable files,
    missing columns, unknown kinds, bad dates or dangling ``replaced_by`` codes.
    """
    admin_csv = Path(admin_csv)
    units = []
    for i, row in enumerate(_read_csv(admin_csv), start=1):
        missing = {"code", "name", "kind"} - {k for k, v in row.items() if v}
        if missing:
            raise GazetteerError(f"{admin_csv}: row {i}: empty {', '.join(sorted(missing))}")
        if row["kind"] not in ADMIN_KINDS:
            raise GazetteerError(f"{admin_csv}: row {i}: kind {row['kind']!r} is not one of {', '.join(ADMIN_KINDS)}")
        units.append(
            AdminUnit(
                code=row["code"],
                name=normalize_text(row["name"], keep_punct=True) and row["name"],
                kind=row["kind"],
                parent=row.get("parent") or None,
                valid_from=_date(row.get("valid_from", ""), admin_csv, i),
                valid_to=_date(row.get("valid_to", ""), admin_csv, i),
                replaced_by=row.get("replaced_by") or None,
                aliases=_aliases(row.get("aliases", "")),
            )
        )
    codes = {u.code for u in units}
    for u in units:
        if u.replaced_by and u.replaced_by not in codes:
            raise GazetteerError(f"{admin_csv}: {u.code} is replaced_by {u.replaced_by}, which is not in the file")
    streets = []
    if streets_csv is not None:
        for row in _read_csv(Path(streets_csv)):
            if row.get("name"):
                streets.append(Street(row["name"], _aliases(row.get("aliases", ""))))
    return Gazetteer(tuple(units), tuple(streets))


@functools.lru_cache(maxsize=1)
def default_gazetteer() -> Gazetteer:
    """The gazetteer shipped in ``models/data``, loaded once per process."""
    return load_gazetteer()


# ---------------------------------------------------------------------------
# Extraction


# Keyword (folded words) -> (kind, accented forms that make it unambiguous).
# Folded forms collide with ordinary words ("xa" far, "phuong" direction, "pho"
# noodle soup, "ngo" maize, "buon" trade), so a keyword heard without its accents
# only counts when a gazetteer name or a number follows.
_KEYWORDS: dict[tuple[str, ...], tuple[str, tuple[str, ...]]] = {
    ("to", "dan", "pho"): ("hamlet", ("tổ dân phố",)),
    ("tdp",): ("hamlet", ("tdp",)),
    ("thi", "tran"): ("town", ("thị trấn",)),
    ("thi", "xa"): ("district", ("thị xã",)),
    ("thanh", "pho"): ("district", ("thành phố",)),
    ("tp",): ("district", ("tp",)),
    ("huyen",): ("district", ("huyện",)),
    ("tinh",): ("province", ("tỉnh",)),
    ("phuong",): ("ward", ("phường",)),
    ("xa",): ("commune", ("xã",)),
    ("thon",): ("hamlet", ("thôn",)),
    ("buon",): ("hamlet", ("buôn",)),
    ("xom",): ("hamlet", ("xóm",)),
    ("khoi",): ("hamlet", ("khối",)),
    ("to",): ("hamlet", ("tổ",)),
    ("quoc", "lo"): ("street", ("quốc lộ",)),
    ("ql",): ("street", ("ql",)),
    ("tinh", "lo"): ("street", ("tỉnh lộ",)),
    ("duong",): ("street", ("đường",)),
    ("pho",): ("street", ("phố",)),
    ("hem",): ("alley", ("hẻm", "hẽm")),
    ("kiet",): ("alley", ("kiệt",)),
    ("ngo",): ("alley", ("ngõ",)),
    ("ngach",): ("alley", ("ngách",)),
    ("so", "nha"): ("house_number", ("số nhà",)),
    ("nha", "so"): ("house_number", ("nhà số",)),
}
_MAX_KW = max(len(k) for k in _KEYWORDS)
# Words that end an unknown name: function words, verbs and nouns callers put right
# after a place ("thôn 3 bị mất điện", "phường Tân Tiến có rác").
_STOP = set(
    """
    bi co da dang se la o tai cua va voi nhung thi ma nay do kia day no ho toi em anh chi ong ba
    khong chua roi nhe a ha vay the nen vi de cho can dien nuoc rac ngap chay mat
    cung rat qua lam duoc phai muon xin bao nguoi nha gan canh doan khu vuc sau truoc tren duoi
    phuong xa thon buon to khoi xom duong pho hem kiet ngo huyen tinh thanh thi so
    """.split()
)
# Words before a street name that make a bare name ("ở Lê Duẩn") count as a street.
_STREET_CUES = {("o",), ("tai",), ("tren",), ("doan",), ("nga", "tu"), ("nga", "ba"), ("goc",), ("duoi",)}
# "buôn bán" is trading, "tổ chức" an organisation, "tổ trưởng" the leader: not places.
_NOT_AFTER = {
    ("buon",): {"ban", "lau", "chuyen"},
    ("to",): {"chuc", "truong", "pho", "tung", "cao"},
    ("khoi",): {"luong"},
    ("xa",): {"hoi", "giao", "thon"},  # xã hội (society), xã giao, xã thôn
    ("thon",): {"nu", "que"},  # thôn nữ (village girl), thôn quê (countryside)
}
# Words before a keyword that make it an ordinary word: "nông thôn" (countryside).
_NOT_BEFORE = {("thon",): {"nong"}, ("xom",): {"lang"}}
# Institutions said before a unit word: "ủy ban xã quản lý" is "the commune committee
# manages", so after them only a name the gazetteer knows counts.
_INSTITUTION_BEFORE = {"ban", "ubnd", "truong", "bo", "cap"}
# Words that end a sentence fragment more often than they end a name ("phường tân cả tuần").
_TRAILING = {"ca", "nay", "no", "luon", "lai", "ay", "kia"}
# Words that are never (the start of) an unknown unit name: "phường mình" is "our ward".
_NOT_NAMES = set("minh nay do kia ay ta khac nao cu moi ben nha nguoi dan hoi minh".split())


def _number_at(words: Sequence[Token], i: int) -> int:
    """How many tokens from ``i`` form a house/alley number: ``12``, ``12a``, ``45/3``."""
    j = i
    if j >= len(words) or not re.fullmatch(r"\d{1,4}[a-z]?", words[j].fold):
        return 0
    j += 1
    while (
        j + 1 < len(words)
        and words[j].fold == "/"
        and words[j].start == words[j - 1].end
        and re.fullmatch(r"\d{1,4}[a-z]?", words[j + 1].fold)
    ):
        j += 2
    return j - i


def _spoken_small_number(words: Sequence[Token], i: int) -> tuple[int, int] | None:
    """A number up to 99 read out in words at ``words[i]``: ``(n_tokens, value)`` or None (:func:`pipeline.analysis.numerals.small_value_at`)."""
    return small_value_at(words, i)


def _spoken_number(words: Sequence[Token], i: int) -> tuple[int, str] | None:
    """A house or alley number read out in words, as viet-asr writes it:
    ``(n_tokens, "45")`` for "bốn mươi lăm", ``"123"`` for "một trăm hai mươi ba",
    ``"45/3"`` for "bốn mươi lăm xẹt ba" (also "trên", "xuyệt"). Up to 9999
    (:func:`pipeline.analysis.numerals.value_at`)."""
    first = value_at(words, i)
    if first is None:
        return None
    n, value = first
    text = str(value)
    j = i + n
    if j + 1 < len(words) and any(words[j].says(w) for w in ("xẹt", "xuyệt", "trên")):
        part = hundreds_at(words, j + 1)
        if part:
            n, text = n + 1 + part[0], f"{text}/{part[1]}"
    return n, text


def _title(text: str) -> str:
    return " ".join(w[:1].upper() + w[1:] for w in text.split())


_ROADS = {("quoc", "lo"): "Quốc lộ", ("ql",): "Quốc lộ", ("tinh", "lo"): "Tỉnh lộ"}
_LOCAL_KINDS = {"ward", "commune", "town"}


class _Scan:
    """One pass over the words of a text, collecting places left to right."""

    def __init__(self, text: str, gaz: Gazetteer, as_of: date | None, near: str | None = None):
        self.text, self.gaz, self.as_of, self.near = text, gaz, as_of, near
        toks = tokenize(text)
        # Words, plus "/" (45/3) and "'" (Cư M'gar), which sit inside places.
        self.words = [t for t in toks if t.is_word or t.fold in "/'"]
        self.folds = [t.fold for t in self.words]
        # cut[k]: other punctuation sits between words k and k + 1; places never cross it.
        self.cut = [False] * len(self.words)
        k = -1
        for t in toks:
            if t.is_word or t.fold in "/'":
                k += 1
            elif 0 <= k < len(self.words):
                self.cut[k] = True
        self.found: list[Place] = []

    # -- helpers

    def barrier(self, i: int, j: int) -> bool:
        """True if punctuation separates word ``i`` from word ``j`` (i < j)."""
        return any(self.cut[i:j])

    def name_words(self, i: int) -> list[str]:
        """Up to five folded words from ``i`` for gazetteer matching, stopping at punctuation."""
        out = []
        for k in range(i, min(i + 5, len(self.words))):
            if k > i and self.barrier(k - 1, k):
                break
            if self.folds[k] != "'":
                out.append(self.folds[k])
        return out

    def skip_names(self, i: int, n: int) -> int:
        """Index just past ``n`` name words from ``i``, counting "'" tokens as part of them."""
        j, taken = i, 0
        while j < len(self.words) and taken < n:
            taken += self.folds[j] != "'"
            j += 1
        return j

    def add(self, kind: str, i: int, j: int, name: str, unit: AdminUnit | None = None) -> int:
        """Record words ``i`` to ``j`` (exclusive) as a place; returns ``j``."""
        s, e = self.words[i].start, self.words[j - 1].end
        code = resolved = None
        if unit is not None:
            new = self.gaz.resolve(unit, self.as_of)
            kind, name, code = new.kind, new.name, new.code
            resolved = unit.label if new is not unit and new.label != unit.label else None
        self.found.append(Place(kind, self.text[s:e], name, code, resolved, s, e))
        return j

    def said(self, i: int, j: int, *, norm: bool = True) -> str:
        raw = self.text[self.words[i].start : self.words[j - 1].end]
        return normalize_text(raw) if norm else raw

    # -- the scan

    def run(self) -> tuple[Place, ...]:
        i = 0
        while i < len(self.words):
            i = self.at_keyword(i) or self.bare(i)
        return tuple(self.found)

    def keyword_at(self, i: int) -> tuple[tuple[str, ...], int] | None:
        for n in range(min(_MAX_KW, len(self.words) - i), 0, -1):
            key = tuple(self.folds[i : i + n])
            if key in _KEYWORDS and not self.barrier(i, i + n - 1):
                return key, n
        return None

    def at_keyword(self, i: int) -> int | None:
        """Index after a place introduced by a keyword at ``i``, or None."""
        kw = self.keyword_at(i)
        if kw is None:
            return None
        key, n = kw
        kind, accented_forms = _KEYWORDS[key]
        nxt = i + n
        if nxt >= len(self.words) or self.barrier(nxt - 1, nxt) or self.folds[nxt] in _NOT_AFTER.get(key, ()):
            return None
        if i > 0 and self.folds[i - 1] in _NOT_BEFORE.get(key, ()):
            return None
        # Heard with its accents, the keyword is unambiguous; folded ("xa", "pho") it
        # also means "far", "noodle soup"…, so only a gazetteer name or number follows it.
        strong = self.said(i, nxt) in accented_forms
        if kind in ADMIN_KINDS:
            return self.admin(i, nxt, kind, strong)
        handler = {"street": self.street, "alley": self.alley, "house_number": self.house, "hamlet": self.hamlet}[kind]
        return handler(i, nxt, key, strong)

    def admin(self, i: int, nxt: int, kind: str, strong: bool) -> int | None:
        # people still say "xã Ea Kao" for what is now a ward: any local kind matches
        allowed = {kind} | (_LOCAL_KINDS if kind in _LOCAL_KINDS else set())
        m = self.gaz.match(self.name_words(nxt), allowed, prefer=kind, as_of=self.as_of, near=self.near)
        if m:
            return self.add(kind, i, self.skip_names(nxt, m[0]), "", m[2])
        unknown_ok = kind in _LOCAL_KINDS or (kind == "district" and self.folds[i] == "huyen")
        if not (strong and unknown_ok) or self.words[nxt].is_digits or self.folds[nxt] in _NOT_NAMES:
            return None
        if i > 0 and self.folds[i - 1] in _INSTITUTION_BEFORE and not any(ch.isupper() for ch in self.text):
            return None
        # An unknown unit: with ASR casing, the capitalised words; without (all
        # lower case), at most two words that are not function words.
        cased = any(ch.isupper() for ch in self.text)
        k = nxt
        while (
            k < len(self.words)
            and k - nxt < (3 if cased else 2)
            and (cased or self.folds[k] not in _STOP)
            and self.folds[k] not in _NOT_NAMES
            and self.words[k].is_word
            and not self.words[k].is_digits
            and (not cased or self.words[k].text[:1].isupper())
            and not (k > nxt and self.barrier(k - 1, k))
        ):
            k += 1
        if k == nxt:
            return None
        if not cased and (k - nxt == 1 or self.folds[k - 1] in _TRAILING) and \
                phonetic_key(self.folds[nxt]) in self.gaz._first_syllables:
            # "xã hòa …" with the rest misheard: the start of a known name, not a unit called "Hòa"
            return None
        return self.add(kind, i, k, _title(self.said(nxt, k, norm=False)))

    def street(self, i: int, nxt: int, key: tuple[str, ...], strong: bool) -> int | None:
        words = self.words
        if key in _ROADS and words[nxt].is_digits:
            return self.add("street", i, nxt + 1, f"{_ROADS[key]} {words[nxt].fold}")
        m = self.gaz.match(self.name_words(nxt), {"street"})
        if m:
            return self.add("street", i, nxt + m[0], m[2].name)
        if not (strong and key == ("duong",)):
            return None
        if self.folds[nxt] == "so" and nxt + 1 < len(words) and words[nxt + 1].is_digits:
            return self.add("street", i, nxt + 2, f"Đường số {words[nxt + 1].fold}")
        if words[nxt].text[:1].isupper():
            # an unknown street, recognised by the capitals ASR wrote
            k = nxt
            while k < len(words) and k - nxt < 4 and words[k].text[:1].isupper() and self.folds[k] not in _STOP:
                k += 1
            return self.add("street", i, k, self.said(nxt, k, norm=False))
        return None

    def alley(self, i: int, nxt: int, key: tuple[str, ...], strong: bool) -> int | None:
        k = _number_at(self.words, nxt)
        if not k:
            spoken = _spoken_number(self.words, nxt) if strong else None
            if spoken is None:
                return None
            return self.add("alley", i, nxt + spoken[0], f"{self.said(i, nxt).capitalize()} {spoken[1]}")
        name = normalize_text(self.said(i, nxt + k, norm=False), keep_punct=True).capitalize()
        return self.add("alley", i, nxt + k, name)

    def house(self, i: int, nxt: int, key: tuple[str, ...], strong: bool) -> int | None:
        k = _number_at(self.words, nxt)
        if not k:
            spoken = _spoken_number(self.words, nxt) if strong else None
            return self.add("house_number", i, nxt + spoken[0], spoken[1]) if spoken else None
        return self.add("house_number", i, nxt + k, self.said(nxt, nxt + k, norm=False))

    def hamlet(self, i: int, nxt: int, key: tuple[str, ...], strong: bool) -> int | None:
        words, folds = self.words, self.folds
        kw_said = self.said(i, nxt).capitalize()
        if words[nxt].is_digits and len(folds[nxt]) <= 3:
            return self.add("hamlet", i, nxt + 1, f"{kw_said} {folds[nxt]}")
        if not strong:
            return None
        spoken = _spoken_small_number(words, nxt) if key != ("buon",) else None
        if spoken:
            return self.add("hamlet", i, nxt + spoken[0], f"{kw_said} {spoken[1]}")
        if key not in {("thon",), ("buon",), ("xom",)}:
            return None
        if key == ("buon",):
            # "buôn Ma Thuột" is the city, not a hamlet called "Ma Thuột"
            city = self.gaz.match(self.name_words(i), {"district", "ward"}, exact=True)
            if city:
                return None
        k = nxt
        while (
            k < len(words)
            and k - nxt < 3
            and words[k].is_word
            and folds[k] not in _STOP
            and not words[k].is_digits
            and not (k > nxt and self.barrier(k - 1, k))
        ):
            k += 1
        return self.add("hamlet", i, k, f"{kw_said} {_title(self.said(nxt, k))}") if k > nxt else None

    def bare(self, i: int) -> int:
        """Places said without a keyword at word ``i``; returns the index to go on from."""
        words, folds, gaz = self.words, self.folds, self.gaz
        # a number right before a street: "123 Lê Duẩn", "số 78 đường …", "45/3 hẻm …"
        k = _number_at(words, i)
        if k and i + k < len(words):
            after = folds[i + k]
            street = gaz.match([f for f in folds[i + k : i + k + 5] if f != "'"], {"street"}, exact=True)
            before = folds[i - 1] if i > 0 else ""
            if (after in ("duong", "hem", "kiet", "ngo", "pho") or street) and before not in _NUMBERED_KEYWORDS:
                said_so = i > 0 and words[i - 1].says("số") and not (self.found and self.found[-1].end > words[i - 1].start)
                self.add("house_number", i - 1 if said_so else i, i + k, self.said(i, i + k, norm=False))
                return i + k
        # "số bốn mươi lăm đường …": a house number read out (viet-asr spells numbers)
        if words[i].says("số") and not (i > 0 and folds[i - 1] in ("so", "dien", "thoai", "ma")):
            spoken = _spoken_number(words, i + 1)
            if spoken and i + 1 + spoken[0] < len(words):
                j = i + 1 + spoken[0]
                after = folds[j]
                street = gaz.match([f for f in folds[j : j + 5] if f != "'"], {"street"}, exact=True)
                if after in ("duong", "hem", "kiet", "ngo", "pho") or street:
                    self.add("house_number", i, j, spoken[1])
                    return j
        if not words[i].is_word or words[i].is_digits:
            return i + 1
        cands = [f for f in folds[i : i + 5] if f != "'"]
        # provinces and districts by their (two-syllable or longer) names: "Buôn Ma Thuột"
        m = gaz.match(cands, {"province", "district"}, exact=True)
        if m and m[0] >= 2:
            return self.add("", i, self.skip_names(i, m[0]), "", m[2])
        # a known street without "đường": long names, or after a cue or a number
        cue = any(tuple(folds[max(0, i - n) : i]) in _STREET_CUES for n in (1, 2))
        after_number = bool(self.found) and self.found[-1].kind in ("house_number", "alley")
        m = gaz.match(cands, {"street"}, exact=True)
        if m and (m[0] >= 3 or cue or after_number):
            return self.add("street", i, i + m[0], m[2].name)
        return i + 1


# Keywords whose own handler reads the number after them.
_NUMBERED_KEYWORDS = {"nha", "hem", "kiet", "ngo", "to", "thon", "khoi"}


def extract_places(text: str, gazetteer: Gazetteer | None = None, *, as_of: date | None = None) -> tuple[Place, ...]:
    """Places said in ``text``, in order, without overlaps.

    ``gazetteer`` defaults to the one shipped in ``models/data``. ``as_of`` is the
    call date: a name is read as the unit that bore it on that day (so "phường Tân
    An" in 2024 is the old ward, in 2026 the new one), and old unit names are
    resolved to the units valid on ``as_of`` (default: the newest), with
    ``resolved_from`` set. A district said in the text picks among communes of the
    same name. Offsets are char offsets into ``text``.
    """
    gaz = gazetteer or default_gazetteer()
    found = _Scan(text, gaz, as_of).run()
    # A district said anywhere in the call (addresses go small to large: "xã Hòa Phú,
    # huyện Cư Kuin") picks among same-named communes: scan again knowing it.
    district = next((p.unit_code for p in found if p.kind == "district" and p.unit_code), None)
    if district is None:
        return found
    return _Scan(text, gaz, as_of, near=district).run()
