"""Emergencies in a call: fire, accident, violence, flooding, collapse, gas leak, electrical.

Phrase lists, not a model: each reason has trigger phrases, and a trigger does not
count when a phrase around it shows it means something else ("cháy hàng" is sold
out, "đổ rác" is dumping rubbish) or when it is negated or only a risk ("không có
cháy", "dễ gây tai nạn"). Matching is accent-insensitive where ASR dropped the
accents but respects accents that are there ("chạy" is not "cháy"), see
:meth:`pipeline.analysis.places.Token.says`.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.textnorm import Token, find_phrases, phrase_at, tokenize

REASONS = ("fire", "accident", "violence", "flooding", "collapse", "gas_leak", "electrical", "distress")

# reason -> trigger phrases
_TRIGGERS: dict[str, tuple[str, ...]] = {
    "fire": ("cháy", "bốc cháy", "hỏa hoạn", "bốc khói", "khói bốc", "đám cháy", "lửa bốc", "cháy nổ", "phát nổ"),
    "accident": (
        "tai nạn", "đâm xe", "tông xe", "đụng xe", "va chạm", "lật xe", "xe lật", "bị thương", "người bị thương",
        "bất tỉnh", "đuối nước", "chết đuối", "bị xe tông", "bị xe đâm",
    ),
    "violence": (
        "đánh nhau", "đâm chém", "chém nhau", "chém người", "đâm người", "cướp", "cướp giật", "hành hung",
        "đánh người", "bạo lực", "ẩu đả", "bắt cóc", "dọa giết", "nổ súng",
    ),
    # "lũ" alone is also a collective noun ("lũ trẻ", "lũ hà mã"): only flood phrases
    "flooding": (
        "ngập", "ngập lụt", "ngập nước", "lụt", "nước dâng", "nước lên", "nước cuốn", "vỡ đê", "tràn bờ",
        "lũ lụt", "lũ quét", "lũ về", "nước lũ", "lũ dâng", "lũ lên", "lũ tràn", "lũ cuốn", "cơn lũ", "trận lũ",
        "đợt lũ", "bị lũ", "mưa lũ",
    ),
    "collapse": ("sập", "sạt lở", "sạt", "sụt lún", "lở đất", "đổ sập", "sụp", "sụp đổ"),
    "gas_leak": ("rò rỉ gas", "rò gas", "xì gas", "hở gas", "mùi gas", "rò rỉ ga", "rò ga", "xì ga", "mùi ga", "rò rỉ khí", "rò khí"),
    "electrical": ("điện giật", "giật điện", "đứt dây điện", "chập điện", "chập cháy"),
    "distress": ("cứu với", "cứu tôi", "cứu em", "cứu tui", "khẩn cấp", "nguy hiểm tính mạng", "nguy hiểm đến tính mạng"),
}
# "<thing> (bị) <verb>": "cây xanh bị ngã", "dây điện bị đứt". A verb such as "đổ"
# alone is no emergency ("đổ rác" is dumping rubbish), so it needs its subject.
_SUBJECT_VERB: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "collapse",
        ("cây", "cây xanh", "tường", "nhà", "mái", "mái nhà", "cầu", "công trình", "giàn giáo", "cổng", "biển quảng cáo"),
        ("đổ", "ngã", "gãy", "sập", "đổ sập"),
    ),
    (
        "electrical",
        ("dây điện", "đường dây điện", "cột điện", "trụ điện", "dây cáp điện"),
        ("đứt", "rơi", "rớt", "đổ", "ngã", "chập", "bốc cháy", "phát nổ", "gãy"),
    ),
)
# Phrases that contain a trigger but mean something else; matched around the trigger.
_NOT: dict[str, tuple[str, ...]] = {
    "fire": (
        "cháy hàng", "cháy vé", "cháy túi", "cháy nắng", "cháy phố", "cháy khét", "cơm cháy", "phòng cháy",
        "phòng cháy chữa cháy", "pccc",
        "chữa cháy rừng", "cháy máy", "cháy chợ", "cháy sạch tiền",
    ),
    "accident": ("bảo hiểm tai nạn", "va chạm nhẹ"),
    "violence": ("cướp lời", "cướp công", "cướp biển", "cướp đất"),
    "flooding": ("ngập rác", "ngập tràn", "ngập ngừng", "ngập đầu", "ngập mặt", "lũ trẻ", "lũ nó", "lũ thanh niên", "lũ này", "lũ kia", "lũ chúng", "ngập nợ"),
    "collapse": ("sập bẫy", "sập nguồn", "sập mạng", "sập web", "sập giá", "sập sàn", "sụp mí", "sạt nghiệp"),
    "gas_leak": (),
    "electrical": (),
    "distress": (),
}
# A trigger right after one of these is negated or only a risk.
_HEDGES = (
    "không", "không có", "chưa", "chưa có", "chẳng", "chả", "nguy cơ", "dễ", "dễ gây", "dễ bị", "có thể", "có nguy cơ",
    "sợ", "lo", "tiềm ẩn", "phòng", "phòng chống", "chống", "tránh", "gây", "hay bị", "mỗi khi mưa",
)
_HEDGE_WINDOW = 3  # words before the trigger
# Talk about the past is a complaint, not an emergency: "năm ngoái khu này bị ngập".
_PAST = ("năm ngoái", "năm trước", "trước đây", "hồi trước", "lần trước", "tháng trước", "nghe nói", "mấy năm trước")
_PAST_WINDOW = 6  # words before the trigger


@dataclass(frozen=True)
class Urgency:
    urgent: bool  # at least one emergency reason was found
    reasons: tuple[str, ...]  # keys of REASONS, in order of first mention
    evidence: tuple[str, ...] = ()  # the phrases as said, one per reason


def _hedged(words: list[Token], i: int) -> bool:
    """The trigger at ``words[i]`` is negated, a risk, or in the past."""
    for start in range(max(0, i - _HEDGE_WINDOW), i):
        for hedge in _HEDGES:
            n = phrase_at(words, start, hedge)
            if n and start + n >= i - 1 and start + n <= i:
                return True
    return any(phrase_at(words, start, past) for start in range(max(0, i - _PAST_WINDOW), i) for past in _PAST)


def _excluded(words: list[Token], i: int, n: int, reason: str) -> bool:
    """True when the trigger at ``words[i:i+n]`` is part of a phrase that means something else."""
    for phrase in _NOT[reason]:
        length = len(phrase.split())
        for start in range(max(0, i - length + 1), i + n):
            m = phrase_at(words, start, phrase)
            if m and start <= i < start + m:
                return True
    return False


def meant_at(words: list[Token], i: int, n: int) -> bool:
    """Whether an emergency word at ``words[i:i+n]`` is meant as one: not negated, a risk or the
    past ("không có cháy"), and not part of a phrase that means something else ("cháy hàng").

    The call-category rules (:mod:`pipeline.analysis.rules`, ``"meant": true``) share this with
    :func:`detect_urgency`, so the urgent rule and the detector drop the same mentions."""
    return not _hedged(words, i) and not any(_excluded(words, i, n, reason) for reason in _NOT)


def detect_urgency(text: str) -> Urgency:
    """Whether ``text`` reports an emergency, and which kinds (see :data:`REASONS`)."""
    words = [t for t in tokenize(text) if t.is_word]
    found: dict[str, tuple[int, str]] = {}

    def note(reason: str, i: int, n: int) -> None:
        if reason not in found or i < found[reason][0]:
            found[reason] = (i, text[words[i].start : words[i + n - 1].end])

    for reason, phrases in _TRIGGERS.items():
        for i, n, _ in find_phrases(words, phrases):
            if _excluded(words, i, n, reason) or _hedged(words, i):
                continue
            note(reason, i, n)
    for reason, subjects, verbs in _SUBJECT_VERB:
        for i, n, _ in find_phrases(words, verbs):
            j = i - 1
            if j >= 0 and words[j].says("bị"):
                j -= 1
            for subject in sorted(subjects, key=len, reverse=True):
                k = len(subject.split())
                start = j - k + 1
                if start >= 0 and phrase_at(words, start, subject) == k and not _hedged(words, start):
                    note(reason, start, i + n - start)
                    break
    ordered = sorted(found.items(), key=lambda kv: kv[1][0])
    return Urgency(bool(ordered), tuple(r for r, _ in ordered), tuple(ev for _, (_, ev) in ordered))
