import random
import re

from models.asr_noise import number_words, spell_numbers, syllable_vocab, vietasr_like
from pipeline.textnorm import fold_accents, normalize_text


def test_numbers_read_as_viet_asr_writes_them():
    assert number_words(45) == "bốn mươi lăm"
    assert number_words(21) == "hai mươi mốt"
    assert number_words(105) == "một trăm linh năm"
    assert number_words(2025) == "hai nghìn không trăm hai mươi lăm"
    assert spell_numbers("hẻm 45/3, số 0905") == "hẻm bốn mươi lăm xẹt ba, số không chín không năm"


def test_vietasr_like_keeps_diacritics_and_mishears_real_syllables():
    text = "Alo, rác ở hẻm 45 đường Y Jút, phường Tân Tiến cả tuần không ai thu gom, bốc mùi quá trời!"
    vocab = syllable_vocab([text, "thu gom rác không được bốc mùi quá trời đường phường"])
    outs = [vietasr_like(text, random.Random(s), vocab=vocab) for s in range(30)]
    assert outs[0] == vietasr_like(text, random.Random(0), vocab=vocab)  # seeded
    for o in outs:
        assert o == normalize_text(o) and not re.search(r"\d|[,!.]", o)
        assert fold_accents(o) != o  # diacritics are kept, unlike Whisper-like noise
        assert set(o.split()) <= vocab | {"à", "ờ", "thì", "là", "mà", "và", "ạ", "có", "cho", "nó"}
    ref = normalize_text(spell_numbers(text)).split()
    changed = sum(o.split() != ref for o in outs)
    assert changed >= 25  # the measured error rate (0.36 per syllable) changes nearly every sentence
