"""The scores of ``hotline eval redaction-audio`` (pipeline.eval.redaction_audio): what counts as a digit or
a name syllable heard over a spoken item, and as non-PII speech lost to the silence."""

from __future__ import annotations

from pipeline.eval import redaction_audio as ra


def _call(items, speech):
    return ra.BuiltCall("c", "test", False, 30.0, items=list(items), speech=list(speech))


PHONE = ra.GoldItem("phone", "0905123456", 10.0, 14.0, None, "spliced")
NAME = ra.GoldItem("person_name", "nguyễn văn hùng", 20.0, 21.5, None, "spliced")


def test_digits_heard_over_a_number_count_digit_words_and_written_digits():
    words = [("không", 10.1, 10.4), ("chín", 10.5, 10.8), ("0512", 11.0, 12.0), ("là", 9.0, 9.7),
             ("mốt", 13.7, 14.1), ("hai", 14.1, 14.3), ("ba", 15.0, 15.2)]
    # two digit words + "0512" (4) + "mốt" inside; "hai" within the 0.2 s tolerance; "ba" and "là" outside
    assert ra.heard(words, PHONE) == 8
    assert ra.heard([], PHONE) == 0


def test_name_syllables_heard_are_the_names_own():
    words = [("nguyễn", 20.0, 20.4), ("văn", 20.5, 20.8), ("anh", 21.0, 21.3), ("hùng", 25.0, 25.4)]
    assert ra.heard(words, NAME) == 2  # "anh" is not the name's; "hùng" is too late


def test_speech_lost_is_the_non_pii_speech_inside_the_silence():
    call = _call([PHONE], [("số", 8.0, 8.5, None), ("của", 8.6, 9.0, None), ("tôi", 9.1, 9.5, None), ("nhé", 14.2, 14.8, None)])
    lost_s, lost_words, n = ra.speech_lost(call, [(9.75, 14.3)])
    assert n == 4 and abs(lost_s - 0.1) < 1e-9 and lost_words == 0  # 0.1 s of "nhé", under half of it
    lost_s, lost_words, _ = ra.speech_lost(call, [(9.0, 14.8)])
    assert abs(lost_s - 1.0) < 1e-9 and lost_words == 2  # "tôi" (0.4 of 0.4 s) and "nhé" (all of it)


def test_an_item_is_scored_against_the_silence_written_and_the_words_heard_after():
    call = _call([PHONE, NAME], [])
    proc = ra.Processed("c", "16k", "c.wav", "id", 30.0, [(10.2, 13.9, "phone", "words")], [("không", 10.1, 10.4)], {})
    intervals = ra.silence_intervals([ra.RedactedSpan(a, b, k, 0, t) for a, b, k, t in proc.spans], 30.0)
    phone, name = ra.score_items(call, proc, intervals, after=[("hùng", 21.0, 21.4)])
    assert phone.detected and phone.covered == 1.0 and phone.heard_before == 1 and phone.heard_after == 0
    assert abs(phone.lead_s - 0.2) < 1e-9 and abs(phone.lag_s - 0.1) < 1e-9
    assert not name.detected and name.heard_after == 1 and name.lead_s is None
