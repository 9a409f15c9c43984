"""People's names in transcript text, without the streets and schools named after people.

Used by :mod:`pipeline.analysis.pii` for the ``person_name`` kind. A name is found from a cue:

- ``strong``: "tên (là)", "tên tôi là", "họ tên", "đứng tên"… any words that follow,
  up to five, until a stop word: ASR mishears names ("nguyễn văn hừng") and the cue
  is reliable enough to take them as they come.
- ``self``: "tôi là", "em là", "mình là"… then a word that looks like a name
  (capitalised, or a known given name, surname or Ê Đê / M'Nông / Gia Rai name part).
- ``kin``: a kinship or honorific word ("anh", "chị", "ông", "bà", "chú", "cháu",
  "bé", "thằng"…) or a title ("bác sĩ", "cô giáo", "tổng đài viên"…) then a name-like word.
- no cue: a full name of three or more words starting with a Vietnamese surname,
  capitalised, or in lower case with a usual middle name (văn, thị, hữu…); or a
  capitalised Y…/H'…/Ksor… name.

A name is never one when it is part of a place: the words after a place keyword
(đường, phố, hẻm, kiệt, ngõ, phường, xã, trường, chợ, công viên, bệnh viện, cầu…)
are protected, and a name without a person cue that is exactly a gazetteer street or
unit ("Lê Duẩn", "Y Jút", "Nguyễn Tất Thành") stays. A person cue wins over the
gazetteer ("ông Võ Văn Kiệt hàng xóm"), except where the cue word is part of the
street's own name ("Bà Triệu", "Hai Bà Trưng").

Works on clean text and on ASR form (lower case, no punctuation, accents possibly
lost): words are compared with :meth:`pipeline.textnorm.Token.says`.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.analysis.places import default_gazetteer
from pipeline.textnorm import Token, fold_accents, normalize_text, tokenize


def _words(s: str) -> frozenset[str]:
    return frozenset(normalize_text(w) for w in s.split())


SURNAMES = _words(
    """
    nguyễn trần lê phạm hoàng huỳnh phan vũ võ đặng bùi đỗ hồ ngô dương lý trương đinh đoàn lâm mai
    trịnh cao lưu hà quách lương kiều tạ thái chu lại mạc tăng tô giang khúc kim âu đồng bạch châu
    phùng tiêu triệu thân tôn ưng ninh vương diệp thạch hứa quan lã lữ mẫn đàm doãn nghiêm phó tống
    hàn khổng đậu hầu viên lục lò ngụy nông hoàng la văn vi sầm lạc giáp cù
    """
)
# Middle names that make "surname + middle + word" a full name even without capitals.
MIDDLES = _words(
    """
    văn thị hữu đức công đình ngọc quốc xuân thu bảo minh thanh hoàng quang kim hồng trọng tấn khánh
    thế duy như mỹ gia hoài phương tuấn anh thùy bích diệu nhật huy trung thành viết bá sỹ sĩ
    """
)
GIVEN = _words(
    """
    hùng lan hoa mai hương hà nam dũng tuấn minh anh linh trang thảo hằng hạnh nga nhung phương thủy
    thúy tâm tú huy hoàng long phong sơn thắng hải hiếu khánh quang trung đức cường bình hòa tùng việt
    vinh hiền yến oanh loan cúc đào liên hồng nhàn vân dung ngọc tiến toàn thành tài lộc phúc phước
    hưng kiên quân đạt khoa nghĩa phát sang thịnh tín trí vũ xuân thu đông lâm hậu bảo chi my vy ly
    thư nhi uyên châu giang hân ngân quyên thoa tuyết xuyến huệ lệ mận lụa tư tí tèo na bin bo su út
    hạ vi diễm bích nhung ánh khang khải kiệt lợi trọng thanh hiệp hiển hoan huyền lành lực luân mạnh
    nhân nhật ninh phụng quý quyết sinh thái thông thuận thụ tiên tịnh trâm trinh tuyền tường vương
    vượng xoan yên ngà nguyệt hậu đăng định đông giao hải hào hảo hiên hiếu hòe hợp hưởng kha khiêm
    khôi lam lễ liễu lộc luyến mến miên my nhã nhạn nhu oanh phượng quế quỳnh sa sương tâm thảo thi
    thơ thoan thơm thu thục thuỷ tình trà triều truyền tuệ tuyến vàng vĩnh xinh ý yên đảm đào điệp
    sáu tám páo dương phú tân thiện toản trường sỹ thiên thương hoài trúc tuyên hiển khương cảnh
    chiến công chương đại điền duy hanh hiên hòa khiết lân lĩnh lượng mẫn nghị nguyên phi quyền
    sâm thạch thuyết tiệp toán tuệ vỹ vĩ hữu quốc
    """
)
# Birth-order names ("chú Tư", "anh Ba", "dì Út"): names only right after a kin word.
BIRTH_ORDER = _words("hai ba tư năm sáu bảy tám chín mười út cả")
# Ê Đê, M'Nông, Gia Rai and other Central Highlands name parts (folded): clan names,
# the male prefix Y, teknonyms Ama / Ami.
ETHNIC = frozenset(
    """
    y nie eban mlo ksor siu nay kpa puih rcom hdok bya adrong ayun knul kbuor mju bkrong kdam aleo
    enuol dieu rmah rocham ro mah cham rahlan rah buon krong ama ami ami mdrang hmok eya ktla
    """.split()
)
ETHNIC_STARTS = frozenset("y ksor siu dieu ama ami rmah ro rah nie eban mlo kpa puih rcom".split())

# Words after which a person's name is the name of a place or institution.
PLACE_KEYWORDS = tuple(
    normalize_text(p)
    for p in """
    đường|phố|hẻm|kiệt|ngõ|ngách|phường|xã|thị trấn|huyện|tỉnh|thôn|buôn|bon|tổ dân phố|khu phố|khu vực|
    khu|trường|chợ|công viên|bệnh viện|cầu|ngã tư|ngã ba|ngã năm|ngã sáu|quán|nhà văn hóa|trung tâm|
    bến xe|chùa|nhà thờ|đại lộ|quốc lộ|tỉnh lộ|sân vận động|trạm y tế|ủy ban|thành phố|quận|giao|
    tượng đài|nhà hàng|khách sạn|siêu thị|trạm|tiệm|cửa hàng|công ty|hội trường|sân|bến|đình|làng|xóm|
    đội|ấp|tp
    """.replace("\n", "").split("|")
    if p.strip()
)
# Words between a place keyword and its name: "trường THCS …", "bệnh viện đa khoa tỉnh …".
_PLACE_MODIFIERS = _words(
    """
    tiểu học trung cơ sở phổ thông thcs thpt th mầm non mẫu giáo đại cao đẳng dân lập chuyên quốc tế
    đa khoa tỉnh thành phố huyện tế số nhỏ lớn mới cũ chính
    """
)
_PLACE_RUN = 5  # words protected after a place keyword

# Words that end a name (and a protected place run). Kin words are added below.
STOP = _words(
    """
    là và với của cho ở tại nhà số bị có không đã đang rồi thì mà nhưng nên vào ra đi về từ đến tới qua
    này đó kia ấy gần cạnh bên trước sau trong ngoài chỗ mất ngập tắc kẹt hỏng thiếu bán mở đông xây
    sửa thu rác đèn cây xe học người tai vụ phản báo gọi các những một cũng lại đều quá lắm rất chạy
    điểm ổ hay hoặc cắt cả đổ chất ơi à ạ dạ vâng nha nhé nhá đây xin chào nghe tên họ hiện sống quê
    sinh muốn hỏi làm chủ thuộc tổ dân giúp ghi ngày hôm tối sáng chiều năm tháng tuần lúc khi nếu
    vì do bởi để đâu gì sao nào thế vậy được phải cần hết còn chưa vừa mới sẽ luôn cứ hàng xóm
    trưởng giáo viên sĩ nói biết thấy nhìn đánh cãi nợ dạy khám phạt bảo kêu chửi đòi
    ngã té sốt đau ốm chết ai tui tôi mình tớ tao chúng ta bọn họ nó hắn thằng người ta ông bà anh
    chị em cô chú bác con cháu dì mợ cậu thím dượng bé cu mẹ bố cha má vợ chồng trai gái ơi hả
    đứa cái chiếc tuổi lần giờ phút đồng triệu nghìn
    """
)
STOP = STOP | frozenset(w for p in PLACE_KEYWORDS for w in p.split() if len(p.split()) == 1)

KIN = _words("anh chị em cô chú bác ông bà con cháu dì mợ cậu thím dượng bé thằng cu bạn thầy")
# Kin words still taken as such in text without accents ("co" is mostly "có", "di" "đi").
KIN_BARE = frozenset("anh chi em ong ba chau chu".split())
# Surnames and middle names still taken for a full name in text without accents.
SURNAMES_BARE = frozenset("nguyen tran pham hoang huynh phan bui trinh quach luong kieu phung trieu vuong diep".split())
MIDDLES_BARE = frozenset("van thi huu duc ngoc quoc xuan minh thanh quang hong trong".split())
# Titles that work like a kin word before a name: "bác sĩ X", "cô giáo X".
TITLES = tuple(
    normalize_text(p)
    for p in (
        "bác sĩ|y tá|cô giáo|thầy giáo|thầy|cán bộ|đồng chí|trưởng thôn|trưởng buôn|công an|chủ tịch|"
        "phó chủ tịch|tổ trưởng|tổ phó|trưởng ấp|trưởng khu phố|già làng|bí thư|giám đốc|hiệu trưởng|kế toán"
    ).split("|")
)
STAFF_TITLES = tuple(normalize_text(p) for p in "tổng đài viên|điện thoại viên|nhân viên tổng đài|nhân viên".split("|"))
# Pronoun + "là" introduces the speaker.
SELF_PRONOUNS = _words("tôi em mình cháu con tui tớ tao")
# "tên": the strongest cue; words skipped between it and the name.
_STRONG_SKIP = _words("là tôi em mình cháu con tui của đầy đủ thật gọi ạ dạ thì")

# Two-word phrases that start with a name-like syllable but are ordinary words
# ("thành viên", "bình thường", "an ninh"): never a name.
COMPOUNDS = frozenset(
    tuple(normalize_text(p).split())
    for p in """
    thành viên|thành phố|thành thật|thành công|thành lập|an ninh|an toàn|an tâm|bình thường|bình tĩnh|
    bình yên|hòa giải|hòa bình|tâm lý|tâm sự|minh bạch|hải quan|nam giới|thông cảm|thông báo|thông tin|
    thông qua|tổng đài|liên hệ|liên lạc|liên quan|liên tục|liên tiếp|hùng hổ|dũng cảm|quang cảnh|trung tâm|trung thu|trung học|tài xế|tài sản|tài khoản|
    tài liệu|lợi ích|phúc đáp|phát hiện|phát sinh|sang đường|sang nhà|tín dụng|trí tuệ|vinh dự|
    hiền lành|yên tâm|cường độ|đạt được|khoa học|nghĩa vụ|phương án|phương tiện|phương pháp|thu gom|
    thu tiền|thu phí|thủy lợi|đông người|xuân này|lâm vào|lâm thời|hậu quả|bảo vệ|bảo hiểm|bảo lãnh|
    chi phí|chi trả|châu chấu|giang hồ|ngân hàng|tuyết rơi|lộc trời|hoa quả|hoa màu|mai mốt|mai táng|
    hà khắc|kiên quyết|quân đội|quân sự|đào tạo|nhân dân|nhân viên|nhân khẩu|thái độ|thuận lợi|
    định cư|sinh hoạt|sinh viên|sinh sống|lành lặn|mạnh khỏe|quý vị|yên ổn|hiếu thảo|hào hứng|
    thư viện|thư ký|thanh toán|thanh niên|thanh tra|thanh lý|văn hóa|văn phòng|văn bản|quốc lộ|
    quốc tế|quốc gia|công ty|công nhân|công việc|công trình|công khai|công viên|đình chỉ|kim loại|
    thị trấn|thị xã|thị trường|tâm trạng|ý kiến|hạnh phúc|vân vân|na ná|tư vấn|tư nhân|tư pháp|
    út ít|hai bên|ba mẹ|ba má|năm nay|năm ngoái|sáu tháng|tám giờ|mười giờ|chú ý|hàn quốc|nông dân|
    nông nghiệp|nông thôn|nghiêm trọng|nghiêm túc|nghiêm cấm|tôn trọng|tôn giáo|tôn vinh|hồ sơ|lý do|
    cao su|cao tốc|cao điểm|thái lan|lâm đồng|hà nội|kim cương|quan tâm|quan trọng|quan hệ|quan sát|
    hoàng gia|vương quốc|đồng ý|đồng hồ|đồng thời|đàm phán|văn minh|lục soát|lạc quan|thân thiện|
    thân nhân|công an|công chức|công dân|công đoàn|công nghệ|công bằng|công cộng|công văn|minh mẫn|bình an|
    hòa nhã|ba hoa|lan tỏa|hồng hào|lâm nguy|hoàng hôn|quang minh|bình minh|an cư|an phận|hạnh kiểm|
    thương binh|thương tật|thương lượng|thương mại|thương hiệu|khổng lồ|châu âu|châu á|châu phi|
    triệu chứng|hứa hẹn|ưng ý|ninh bình|giang sơn|
    đỗ xe|lê la|mạc kệ|cù lao|giáp ranh|âu lo|lý lịch|đinh ốc|phùng mang|bạch tạng|tạ ơn|kiều bào|
    lương thực|lương hưu|lương tâm|trương mục|đoàn kết|đoàn viên|lưu ý|lưu trú|lưu hành|quách tĩnh
    """.replace("\n", "").split("|")
    if p.strip()
)


_COMPOUNDS_BY_FOLD: dict[str, tuple[tuple[str, str], ...]] = {}
for _pair in COMPOUNDS:
    _COMPOUNDS_BY_FOLD[fold_accents(_pair[0])] = (*_COMPOUNDS_BY_FOLD.get(fold_accents(_pair[0]), ()), _pair)


@dataclass(frozen=True)
class NameSpan:
    start: int  # char offset of the name's first character
    end: int  # char offset just past the name
    cue: str  # strong | self | kin | staff | none


def _says_any(tok: Token, words: frozenset[str]) -> bool:
    """``tok`` is one of ``words`` (normalised), honouring accents when the token has them."""
    if tok.norm in words:
        return True
    return tok.bare and tok.fold in _folded(words)


@functools.lru_cache(maxsize=64)
def _folded_cached(words: frozenset[str]) -> frozenset[str]:
    return frozenset(fold_accents(w) for w in words)


def _folded(words: frozenset[str]) -> frozenset[str]:
    return _folded_cached(words)


@functools.lru_cache(maxsize=16)
def _by_first_fold(phrases: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    for p in phrases:
        out.setdefault(fold_accents(p.split()[0]), []).append(p)
    return {k: tuple(v) for k, v in out.items()}


def _phrase_len(words: Sequence[Token], i: int, phrases: tuple[str, ...]) -> int:
    """Tokens of the longest phrase in ``phrases`` said at ``words[i]`` (0 if none)."""
    best = 0
    for p in _by_first_fold(phrases).get(words[i].fold, ()):
        parts = p.split()
        if len(parts) > best and i + len(parts) <= len(words) and all(
            words[i + k].says(part) for k, part in enumerate(parts)
        ):
            best = len(parts)
    return best


@functools.lru_cache(maxsize=1)
def _gazetteer_names() -> tuple[frozenset[tuple[str, ...]], frozenset[tuple[str, ...]]]:
    """Folded word tuples of the gazetteer's (streets, units), aliases included.

    Reads :func:`pipeline.analysis.places.default_gazetteer` through its ``streets`` and
    ``units`` (each with ``name`` and ``aliases``); an unreadable gazetteer gives
    empty sets (the place keywords still protect).
    """
    try:
        gaz = default_gazetteer()
        streets_src = list(getattr(gaz, "streets", ()) or ())
        units_src = list(getattr(gaz, "units", ()) or ())
    except Exception:  # noqa: BLE001 - the gazetteer is an aid here, not a requirement
        return frozenset(), frozenset()

    def keys(items) -> frozenset[tuple[str, ...]]:
        out = set()
        for it in items:
            for spelling in (getattr(it, "name", ""), *(getattr(it, "aliases", ()) or ())):
                key = tuple(t.fold for t in tokenize(str(spelling)) if t.is_word)
                if key:
                    out.add(key)
        return frozenset(out)

    return keys(streets_src), keys(units_src)


@dataclass(frozen=True)
class _Strict(Token):
    """A token of text that carries its accents: a word without any is written so."""

    @property
    def bare(self) -> bool:
        return False

    def says(self, syllable: str) -> bool:
        return self.norm == syllable


ACCENTED_SHARE = 0.25  # share of words with diacritics above which the text is taken as accented


def _strict(tokens: Sequence[Token]) -> tuple[Token, ...]:
    """``tokens`` as :class:`_Strict` when the text is written with accents.

    Vietnamese text puts diacritics on most syllables; when a text has them, an
    unaccented word ("lan", "minh") is meant as written, not "lần", "mình" with the
    accents lost.
    """
    words = [t for t in tokens if t.is_word and not t.is_digits]
    if len(words) < 3 or sum(not t.bare for t in words) < ACCENTED_SHARE * len(words):
        return tuple(tokens)
    return tuple(_Strict(t.text, t.fold, t.start, t.end, t.norm) for t in tokens)


class _Finder:
    def __init__(self, text: str, tokens: Sequence[Token]):
        self.text = text
        tokens = _strict(tokens)
        self.tokens = tokens
        # word tokens only; an apostrophe glued between two letters joins them (H'Hen, K'Lúi)
        self.words: list[Token] = []
        self.glued: list[bool] = []  # word i is glued to word i-1 by an apostrophe
        for k, t in enumerate(tokens):
            if t.is_word:
                glued = (
                    k >= 2
                    and tokens[k - 1].text in ("'", "’")
                    and tokens[k - 1].start == tokens[k - 2].end
                    and tokens[k - 1].end == t.start
                    and tokens[k - 2].is_word
                )
                self.words.append(t)
                self.glued.append(glued)
        self.protected: set[int] = set()
        self._protect_places()

    # -- helpers --------------------------------------------------------------

    def gap_is_space(self, i: int) -> bool:
        """Between word i-1 and word i there is only white space (or a gluing apostrophe)."""
        if i <= 0:
            return False
        if self.glued[i]:
            return True
        between = self.text[self.words[i - 1].end : self.words[i].start]
        return between.strip() == ""

    def capitalised(self, i: int) -> bool:
        return self.words[i].text[:1].isupper()

    def sentence_start(self, i: int) -> bool:
        if i == 0:
            return True
        between = self.text[self.words[i - 1].end : self.words[i].start]
        return any(c in between for c in ".!?:\n")

    def is_stop(self, i: int) -> bool:
        return _says_any(self.words[i], STOP)

    def compound_at(self, i: int) -> bool:
        if i + 1 >= len(self.words) or not self.gap_is_space(i + 1):
            return False
        a, b = self.words[i], self.words[i + 1]
        return any(a.says(x) and b.says(y) for x, y in _COMPOUNDS_BY_FOLD.get(a.fold, ()))

    def ethnic(self, i: int) -> bool:
        return self.words[i].fold in ETHNIC

    def h_prefix(self, i: int) -> bool:
        """``H'`` + a glued word (women's names), or a lone "h" before a word in ASR form."""
        return self.words[i].fold in ("h", "k") and i + 1 < len(self.words) and self.glued[i + 1]

    def y_prefix(self, i: int) -> bool:
        """The male prefix "Y" followed by a word that is not "tế", "như", "sĩ"…"""
        if self.words[i].fold != "y" or i + 1 >= len(self.words) or not self.gap_is_space(i + 1):
            return False
        nxt = self.words[i + 1]
        return nxt.fold not in ("te", "nhu", "si", "bac", "khoa", "hoc", "ta", "nguyen", "het", "vay", "chang", "duoc")

    def name_like(self, i: int, *, lower_ok: bool) -> bool:
        """Could word ``i`` start or continue a name?"""
        if self.is_stop(i) and not self.capitalised(i):
            return False
        if self.words[i].is_digits:
            return False
        if self.capitalised(i) and not self.is_stop(i):
            return True
        if not lower_ok:
            return False
        w = self.words[i]
        return (
            _says_any(w, GIVEN) or _says_any(w, SURNAMES) or _says_any(w, MIDDLES)
            or self.ethnic(i) or self.h_prefix(i) or self.y_prefix(i)
        )

    # -- places ---------------------------------------------------------------

    def _protect_places(self) -> None:
        streets, units = _gazetteer_names()
        n = len(self.words)
        i = 0
        while i < n:
            k = _phrase_len(self.words, i, PLACE_KEYWORDS)
            if k and self.title_then_person(i, k):
                k = 0  # "trưởng thôn Lương Văn Cường", "già làng Y Khu Niê": the village's chief, a person
            if k and self.clan_pair(i) and i > 0 and (self.glued[i - 1] or self.ethnic(i - 1)):
                k = 0  # "H'Yam Buôn Krông": a clan name, not a village
            if k == 1 and i > 0 and self.gap_is_space(i) and (
                _says_any(self.words[i - 1], MIDDLES) or _says_any(self.words[i - 1], SURNAMES)
                or self.words[i - 1].fold == "y"
            ) and not self.sentence_start(i - 1) and self.capitalised(i) == self.capitalised(i - 1):
                k = 0  # "Võ Văn Kiệt", "Y Khu Niê": a name going on, not an alley or an area
            if not k:
                i += 1
                continue
            j = i + k
            # modifiers and numbers: "trường THCS", "hẻm 45", "bệnh viện đa khoa tỉnh"
            while j < n and self.gap_is_space(j) and (
                _says_any(self.words[j], _PLACE_MODIFIERS) or self.words[j].is_digits
            ):
                j += 1
            # a gazetteer name right there is protected whole, kin words included ("phố Bà Triệu")
            m = self._gazetteer_at(j, streets | units)
            if m:
                self.protected.update(range(j, j + m))
                i = j + m
                continue
            start = j
            while j < n and j - start < _PLACE_RUN and (j == start or self.gap_is_space(j)) and (
                not self.is_stop(j) or self.capitalised(j) and j > start
            ) and not self.words[j].is_digits:
                if j > start and not self.capitalised(j) and self.capitalised(start):
                    break  # "Trường Nguyễn Du có …": a capitalised name ends at the first lower-case word
                j += 1
            self.protected.update(range(start, j))
            i = max(j, i + k)

    def title_then_person(self, i: int, k: int) -> bool:
        """Keyword at i (k words) ends a title ("trưởng thôn", "già làng", "chủ tịch xã") and a person's name follows."""
        if i == 0 or not self.gap_is_space(i) or not _says_any(self.words[i - 1], _TITLE_HEADS):
            return False
        j = i + k
        if j + 1 >= len(self.words) or not self.gap_is_space(j) or not self.gap_is_space(j + 1):
            return False
        if self.y_prefix(j) or self.h_prefix(j):
            return True
        return _says_any(self.words[j], SURNAMES) and _says_any(self.words[j + 1], MIDDLES)

    def _gazetteer_at(self, i: int, names: frozenset[tuple[str, ...]]) -> int:
        """Words of the longest gazetteer name starting at word ``i`` (0 if none)."""
        for m in range(min(5, len(self.words) - i), 0, -1):
            if tuple(w.fold for w in self.words[i : i + m]) in names and all(
                self.gap_is_space(i + q) for q in range(1, m)
            ):
                return m
        return 0

    # -- names ----------------------------------------------------------------

    def stop_word(self, i: int) -> bool:
        """A stop word that is not also a given name ("thu", "anh", "bảo" may be names)."""
        if not self.is_stop(i) or _says_any(self.words[i], GIVEN):
            return False
        # "Vương Đình Huệ": a middle name after a surname, though "đình" is also a place word
        return not (i > 0 and _says_any(self.words[i], MIDDLES) and _says_any(self.words[i - 1], SURNAMES))

    def clan_pair(self, j: int) -> int:
        """2 when words j, j+1 are the clan name "Buôn Krông" / "Buôn Yă", else 0."""
        if j + 1 < len(self.words) and self.words[j].fold == "buon" and self.words[j + 1].fold in ("krong", "ya"):
            return 2 if self.gap_is_space(j + 1) else 0
        return 0

    def run_from(self, i: int, *, strong: bool) -> int:
        """End (exclusive) of the name starting at word ``i``; ``i`` when there is none."""
        n = len(self.words)
        if i >= n or i in self.protected or self.words[i].is_digits:
            return i
        cased = self.capitalised(i)
        if strong:
            if self.stop_word(i) and not cased:
                return i
        elif not self.name_like(i, lower_ok=True) and not (self.is_stop(i) and _says_any(self.words[i], GIVEN)):
            return i
        if not cased and self.compound_at(i):
            return i
        ethnic_run = self.y_prefix(i) or self.h_prefix(i) or self.words[i].fold in ETHNIC_STARTS
        j = i + 1
        while j < n and j - i < 6 and self.gap_is_space(j) and j not in self.protected:
            if self.glued[j]:
                j += 1
                continue
            if self.words[j].is_digits:
                break
            pair = self.clan_pair(j)
            if pair and (self.glued[j - 1] or self.ethnic(j - 1) or self.y_prefix(j - 2 if j >= 2 else 0)):
                j += pair
                continue
            if cased:
                # a capitalised name continues with capitalised words (or a glued H'…)
                if not self.capitalised(j) or self.stop_word(j) and _says_any(self.words[j], KIN | SELF_PRONOUNS):
                    break
            elif strong:
                if self.stop_word(j) or self.compound_at(j):
                    break
            else:
                if self.stop_word(j) or self.compound_at(j):
                    break
                cur = self.words[j]
                lexical = (_says_any(cur, GIVEN) or _says_any(cur, MIDDLES) or _says_any(cur, SURNAMES)
                           or self.ethnic(j) or self.h_prefix(j) or self.y_prefix(j))
                ethnic_tail = (self.y_prefix(j - 1) or self.ethnic(j - 1) or self.glued[j - 1] or ethnic_run) \
                    and not self.is_stop(j)
                # one word of any kind after surname + middle: a misheard given name ("võ văn kiết")
                free = (j - i >= 2 and _says_any(self.words[j - 1], MIDDLES) and _says_any(self.words[i], SURNAMES)
                        and not self.is_stop(j))
                if not (lexical or ethnic_tail or free):
                    break
                if not (lexical or ethnic_tail):
                    j += 1
                    break
            j += 1
        if j - i > 5:
            j = i + 5
        # a lower-case stop word that may be a given name ("bảo", "thu") is a name only with company
        if not cased and self.is_stop(i) and j - i < 2 and not strong and not self.vocative(j):
            return i
        return j

    def vocative(self, j: int) -> bool:
        """Word j ends the utterance or calls out ("ơi", "à", "ạ"): the word before is a name."""
        if j >= len(self.words) or not self.gap_is_space(j):
            return True
        return self.words[j].says("ơi") or self.words[j].says("à") or self.words[j].says("ạ")

    def span(self, i: int, j: int, cue: str) -> NameSpan:
        return NameSpan(self.words[i].start, self.words[j - 1].end, cue)

    def gazetteer_block(self, i: int, j: int, cue: str, cue_start: int) -> bool:
        """Whether words i..j are a place name by the gazetteer, given the cue."""
        streets, units = _gazetteer_names()
        name = tuple(w.fold for w in self.words[i:j])
        with_cue = tuple(w.fold for w in self.words[cue_start:j])
        if cue in ("strong", "self", "staff"):
            return False
        if self.words[i].bare and cue == "kin":
            cue = "none"  # without accents the kin word itself is uncertain ("o", "cau", "duong")
        if cue == "kin":
            # "Bà Triệu", "Hai Bà Trưng": the kin word is part of the street's name
            return with_cue in streets or with_cue in units or name in units
        # the name, or a gazetteer name that contains it ("Ea H'leo"), or starts it ("hoàng diệu chiếm…")
        places = streets | units
        for m in range(2, j - i + 1):
            if tuple(w.fold for w in self.words[i : i + m]) in streets:
                return True
        for a in range(max(0, i - 2), i + 1):
            for b in range(j, min(len(self.words), j + 2) + 1):
                if tuple(w.fold for w in self.words[a:b]) in places:
                    return True
        return False

    def find(self) -> list[NameSpan]:
        out: list[NameSpan] = []
        used: set[int] = set()
        n = len(self.words)
        i = 0

        def take(a: int, b: int, cue: str, cue_start: int) -> bool:
            if b <= a or any(q in used for q in range(a, b)) or any(q in self.protected for q in range(a, b)):
                return False
            if self.gazetteer_block(a, b, cue, cue_start):
                return False
            out.append(self.span(a, b, cue))
            used.update(range(a, b))
            return True

        while i < n:
            w = self.words[i]
            if i in self.protected:
                i += 1
                continue
            # strong cue: "tên (là)" and "đứng tên"
            if w.says("tên") and not (i + 1 < n and self.compound_tên(i + 1)) and not self.counted(i) and not (
                i > 0 and self.gap_is_space(i) and _says_any(self.words[i - 1], _NOT_BEFORE_TEN)
            ):
                j = i + 1
                while j < n and j - i <= 4 and _says_any(self.words[j], _STRONG_SKIP) and not self.capitalised(j):
                    j += 1
                if j < n and self.gap_or_comma(j):
                    e = self.run_from(j, strong=True)
                    if not any(self.words[q].says("là") for q in range(i + 1, j)) and not any(
                        self.capitalised(q) or self.name_like(q, lower_ok=True) or _says_any(self.words[q], GIVEN)
                        for q in range(j, min(e, j + 2))
                    ):
                        e = j  # "tên" without "là" before words that look like no name: "tên trên mạng"
                    speaker = (i > 0 and self.gap_is_space(i) and self.first_person(i - 1)) or any(
                        _says_any(self.words[q], SELF_PRONOUNS) for q in range(i + 1, j)
                    )
                    if take(j, e, "self" if speaker else "strong", i):
                        i = e
                        continue
            # self-introduction: pronoun + "là" (a kin word too: "chị là Hạnh", said of oneself or of the listener)
            if (_says_any(w, SELF_PRONOUNS) or _says_any(w, KIN) and not w.bare) and i + 1 < n and self.words[i + 1].says("là") \
                    and self.gap_is_space(i + 1):
                j = i + 2
                if j < n and self.gap_is_space(j):
                    e = self.run_from(j, strong=False)
                    if e > j and self.lower_single_ok(j, e) and take(j, e, "self" if self.first_person(i) else "strong", i):
                        i = e
                        continue
            # staff titles, then other titles, then kin words
            k = _phrase_len(self.words, i, STAFF_TITLES)
            cue = "staff"
            if not k:
                k, cue = _phrase_len(self.words, i, TITLES), "kin"
            if not k and _says_any(w, KIN) and (not w.bare or w.fold in KIN_BARE):
                k, cue = 1, "kin"
            if k:
                j = i + k
                if j < n and self.gap_is_space(j) and not _says_any(self.words[j], KIN - {"bé"}) and not (
                    k == 1 and self.compound_at(i)
                ):
                    e = self.birth_order(j) if cue == "kin" else j
                    if e == j:
                        e = self.run_from(j, strong=False)
                        if e > j and not self.lower_single_ok(j, e):
                            e = j
                    if e > j and take(j, e, cue, i):
                        i = e
                        continue
            # no cue: full names and capitalised highland names
            e = self.full_name(i)
            if e > i and take(i, e, "none", i):
                i = e
                continue
            i += 1
        return out

    def compound_tên(self, j: int) -> bool:
        """"tên trộm", "tên cướp", "tên lửa": not a name cue."""
        return _says_any(self.words[j], _NOT_AFTER_TEN)

    def first_person(self, i: int) -> bool:
        """Word i is "tôi", "em"… meaning the speaker, not "chồng tôi", "con em"."""
        if not _says_any(self.words[i], SELF_PRONOUNS):
            return False
        if i == 0 or not self.gap_is_space(i):
            return True
        return not _says_any(self.words[i - 1], _OWNERS)

    def counted(self, i: int) -> bool:
        """"bảy tên", "các tên", "mấy tên": "tên" counts thugs here, it does not introduce a name."""
        if i == 0 or not self.gap_is_space(i):
            return False
        prev = self.words[i - 1]
        return prev.is_digits or _says_any(prev, _COUNTERS)

    def gap_or_comma(self, j: int) -> bool:
        between = self.text[self.words[j - 1].end : self.words[j].start]
        return between.strip() in ("", ",", ":", "-")

    def lower_single_ok(self, j: int, e: int) -> bool:
        """A one-word lower-case name after "em là" must be a known given name."""
        if e - j > 1 or self.capitalised(j):
            return True
        return _says_any(self.words[j], GIVEN) and not self.compound_at(j)

    def birth_order(self, j: int) -> int:
        """End of a birth-order name at word j ("chú Tư", "anh Ba"); j when it is a number or absent."""
        n = len(self.words)
        if not _says_any(self.words[j], BIRTH_ORDER) or self.compound_at(j):
            return j
        if self.words[j].bare and not self.capitalised(j):
            return j  # "chu tu" without accents is too ambiguous
        if j + 1 < n and self.gap_is_space(j + 1):
            nxt = self.words[j + 1]
            if _says_any(nxt, _NUMBER_WORDS) or nxt.is_digits or _says_any(nxt, _COUNT_WORDS):
                return j  # "hai ba ngày", "ba tuổi", "ba cái"
            if _says_any(nxt, GIVEN) and not self.is_stop(j + 1) and not self.compound_at(j + 1):
                return j + 2  # "ông Hai Thành", "chú Ba Lợi"
        return j + 1

    def full_name(self, i: int) -> int:
        """End of a full name without a cue at word i, or i."""
        w = self.words[i]
        cased = self.capitalised(i)
        if cased and (w.fold in ETHNIC_STARTS or self.h_prefix(i)) and not self.sentence_start(i):
            e = self.run_from(i, strong=False)
            return e if e - i >= 2 else i
        if not _says_any(w, SURNAMES):
            return i
        e = self.run_from(i, strong=False)
        if e - i < 3 or e - i > 4:
            return i
        if cased:
            return e if all(self.capitalised(q) for q in range(i, e)) else i
        # lower case: surname + a usual middle name + …, accents written
        middle = self.words[i + 1]
        if w.bare and not (w.fold in SURNAMES_BARE and middle.fold in MIDDLES_BARE):
            return i
        if not _says_any(middle, MIDDLES) or _says_any(middle, KIN) or self.compound_at(i + 1):
            return i
        return e


# Words before "tôi"/"em" that make it a possessive: "vợ tôi", "con em", "hàng xóm tôi".
_OWNERS = KIN | _words("vợ chồng mẹ bố cha má ba bạn xóm trai gái nội ngoại nhà của với cho")
_NUMBER_WORDS = _words("không một mốt hai ba bốn tư năm lăm sáu bảy bẩy tám chín mười mươi trăm linh lẻ rưỡi")
# Last words of titles that end in a place word: "trưởng thôn", "già làng", "bí thư xã", "chủ tịch phường".
_TITLE_HEADS = _words("trưởng già thư tịch phó")
_COUNTERS = _words("một hai ba bốn năm sáu bảy tám chín mười các những mấy vài nhiều hai tên")
_NOT_AFTER_TEN = _words("trộm cướp lửa miền tuổi gọi đường làng kia đó này ấy cũ mới trên dưới")
# "đổi tên", "mang tên" (a school named after someone), "đặt tên", "sai tên": no introduction
_NOT_BEFORE_TEN = _words("đổi mang đặt sai chính")
_COUNT_WORDS = _words("tuổi cái chiếc con đứa người lần ngày tháng năm giờ phút đồng nghìn triệu tấn ký kg mét")


def find_names(text: str, tokens: Sequence[Token] | None = None) -> list[NameSpan]:
    """People's names in ``text`` (see the module docstring), in order."""
    tokens = tokenize(text) if tokens is None else tokens
    return _Finder(text, tokens).find()


def initials(name: str) -> str:
    """The press's way of naming a caller: "Nguyễn Văn Hùng" → "N.V.H.", "H'Hen Niê" → "H.H.N."."""
    letters = [t.text[0].upper() for t in tokenize(name) if t.is_word and not t.is_digits]
    return "".join(f"{c}." for c in letters)
