from pipeline.textnorm import fold_accents, normalize_text, syllables


def test_nfc_and_lower_case_make_composed_and_decomposed_equal():
    decomposed = "Tha\u0300nh pho\u0302\u0301"  # "Thành phố" typed with combining marks
    assert normalize_text(decomposed) == normalize_text("THÀNH PHỐ") == "thành phố"


def test_one_tone_mark_placement_for_oa_oe_uy():
    assert normalize_text("hoà") == normalize_text("hòa") == "hòa"
    assert normalize_text("thuý") == normalize_text("thúy") == "thúy"
    assert normalize_text("khoẻ") == "khỏe"
    # "qu" is a consonant: the mark stays on y; a final consonant keeps it on the second vowel.
    assert normalize_text("quý") == "quý"
    assert normalize_text("hoàng") == "hoàng"


def test_d_lookalikes_and_punctuation_and_spaces():
    assert normalize_text("Ðắk  Lắk,\tBuôn Ma Thuột!") == "đắk lắk buôn ma thuột"


def test_fold_accents_strips_every_mark():
    assert fold_accents("Đắk Lắk, Hòa Thắng") == "dak lak hoa thang"
    assert fold_accents("hoà") == fold_accents("hòa")


def test_syllables_counts_written_words():
    assert syllables("Tôi muốn phản ánh, rác thải!") == ["tôi", "muốn", "phản", "ánh", "rác", "thải"]
    assert syllables("  ") == []
