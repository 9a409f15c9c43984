"""The ONNX route's decoding pieces without the model: features, prefix beam search, CTC alignment, word times."""

from __future__ import annotations

import math

import numpy as np
import pytest

from models import vietasr_ctc as vc

V = 6  # toy vocabulary: 0 blank, 1 "▁a", 2 "b", 3 "▁c", 4 "d", 5 "▁e"
VOCAB = {0: "<blank>", 1: "\u2581a", 2: "b", 3: "\u2581c", 4: "d", 5: "\u2581e"}


def _logp(best: list[int], p: float = 0.9) -> np.ndarray:
    """Frames whose best token is ``best[t]`` with probability ``p``, the rest spread evenly."""
    out = np.full((len(best), V), math.log((1 - p) / (V - 1)), np.float32)
    for t, k in enumerate(best):
        out[t, k] = math.log(p)
    return out


def test_beam_search_collapses_repeats_and_keeps_blank_separated_ones():
    assert vc.prefix_beam_search(_logp([0, 1, 1, 0, 2, 0])) == [1, 2]
    assert vc.prefix_beam_search(_logp([1, 0, 1, 0])) == [1, 1]  # a blank between: two tokens
    assert vc.prefix_beam_search(_logp([0, 0, 0])) == []


def test_beam_search_sums_paths_where_greedy_does_not():
    # Frame-wise best is blank, blank (greedy: nothing), but token 3 summed over its
    # paths (3-3, 3-blank, blank-3) is more probable than the all-blank path.
    logp = np.log(np.array([[0.4, 0, 0, 0.35, 0, 0.25], [0.4, 0, 0, 0.35, 0, 0.25]], np.float64) + 1e-12)
    assert logp[0].argmax() == 0 and logp[1].argmax() == 0
    assert vc.prefix_beam_search(logp.astype(np.float32)) == [3]


def test_alignment_gives_each_token_its_frames():
    logp = _logp([0, 1, 1, 0, 2, 0, 0, 3, 0])
    assert vc.ctc_align(logp, [1, 2, 3]) == [(1, 2), (4, 4), (7, 7)]
    assert vc.ctc_align(_logp([1, 0, 1]), [1, 1]) == [(0, 0), (2, 2)]


def test_output_frames_map_to_time_through_non_overlapping_43_frame_chunks():
    assert vc.frame_start(0) == 0.0
    assert vc.frame_start(1) == pytest.approx(0.04)
    assert vc.frame_start(10) == pytest.approx(0.43)  # chunk 2 starts at feature frame 43
    assert vc.frame_end(9) < vc.frame_start(10) + 0.1


def test_words_get_times_from_the_alignment_and_probabilities_from_the_posteriors():
    best = [0] * 5 + [1] * 2 + [2] + [0] * 20 + [3] + [4] + [0] * 5
    logp = _logp(best, p=0.8)
    logp[29] = math.log(0.1)
    logp[29, 4] = math.log(0.5)  # "d" less sure
    words = vc.words_from_alignment(logp, [1, 2, 3, 4], VOCAB)
    assert [w.text for w in words] == ["ab", "cd"]
    a, c = words
    assert a.start == pytest.approx(vc.frame_start(5)) and a.end <= c.start
    assert c.start == pytest.approx(vc.frame_start(28))  # 20 blank frames (0.8 s) later: a pause kept
    assert a.probability == pytest.approx(0.8, abs=1e-3)
    assert c.probability == pytest.approx(math.sqrt(0.8 * 0.5), abs=1e-3)  # geometric mean of its tokens


def test_short_gaps_between_words_are_closed():
    logp = _logp([1, 0, 0, 3, 0], p=0.9)
    a, c = vc.words_from_alignment(logp, [1, 3], VOCAB)
    assert a.end == pytest.approx(c.start)  # 80 ms gap inside fluent speech: the word runs on


def test_features_follow_the_sdk_front_end():
    t = np.arange(16000) / 16000
    x = (0.1 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    f = vc.features(x)
    assert f.shape == (1 + (16000 - 400) // 160, 80)
    # the SDK's mel bank, with edges floored to FFT bins, leaves filters 1 and 6 empty: log(1e-10)
    assert np.all(f[:, 1] == pytest.approx(math.log(1e-10))) and np.all(f[:, 6] == pytest.approx(math.log(1e-10)))
    peak = int(np.argmax(f[50]))
    centre = np.argmax(vc._MEL[peak]) * 16000 / 512
    assert abs(centre - 440) < 80  # the 440 Hz tone lands in the filter around 440 Hz
    assert vc.features(np.zeros(100, np.float32)).shape == (0, 80)


def test_the_sdk_resampler_interpolates_8_to_16_khz_with_its_hold_back():
    n = 8000
    x = (3000 * np.sin(2 * np.pi * 440 * np.arange(n) / 8000)).astype(np.float32)
    y, before_flush = vc.sdk_resample(x, 8000)
    assert len(y) == 2 * n and before_flush == 2 * (n - vc.RESAMPLER_MARGIN)
    assert np.allclose(y[0::2], x, atol=1e-2)  # at whole input samples the sinc passes the sample through
    truth = 3000 * np.sin(2 * np.pi * 440 * (np.arange(1, 2 * n, 2) / 16000))
    assert np.abs(y[1::2][100:-100] - truth[100:-100]).max() < 15  # half-way samples: interpolated, not held
    assert vc._sinc_window(np.array([0.0, 16.0, 20.0]), 16.0).tolist() == [1.0, 0.0, 0.0]


# ----- shallow fusion of a word language model (issue 27)

def _toy_lm(sentences):
    from models import ngram_lm

    return ngram_lm.from_tables(*ngram_lm.estimate(sentences, order=3, prune=(0, 0, 0)))


def _ambiguous() -> np.ndarray:
    """Acoustically "a" then "c" or "e" almost tied ("c" slightly ahead): the LM should decide."""
    rows = [[0.9, 0.1, 0, 0, 0, 0], [0.1, 0.9, 0, 0, 0, 0], [0.9, 0.1, 0, 0, 0, 0],
            [0.1, 0, 0, 0.46, 0, 0.44], [0.9, 0, 0, 0.05, 0, 0.05]]
    return np.log(np.array(rows, np.float64) + 1e-6).astype(np.float32)


def test_a_zero_weight_language_model_gives_the_plain_search_token_for_token():
    lm = _toy_lm(["a e", "a e", "c a"])
    rng = np.random.default_rng(0)
    for _ in range(20):
        logp = np.log(rng.dirichlet(np.full(V, 0.3), size=12)).astype(np.float32)
        zero = vc.LMFusion(lm, VOCAB, alpha=0.0, beta=0.0)
        assert vc.prefix_beam_search(logp, fusion=zero) == vc.prefix_beam_search(logp)


def test_the_language_model_picks_the_likelier_word_where_the_sound_is_nearly_tied():
    logp = _ambiguous()
    assert vc.prefix_beam_search(logp) == [1, 3]  # acoustics alone: "a c"
    lm = _toy_lm(["a e"] * 5 + ["c a"])  # "e" follows "a", "c" never does
    assert vc.prefix_beam_search(logp, fusion=vc.LMFusion(lm, VOCAB, alpha=0.5, beta=0.0)) == [1, 5]
    # words are looked up in the normalised form: "A" is the LM's "a"
    assert vc.LMFusion(lm, VOCAB).word_id("A") == lm.word_id("a") != lm.unk_id


def test_a_piece_where_the_model_heard_nothing_stays_empty_with_a_language_model():
    silent = _logp([0] * 8, p=0.6)  # blank is the best token of every frame
    assert vc.heard_nothing(silent) and not vc.heard_nothing(_ambiguous())
    lm = _toy_lm(["a e"] * 5)
    ctc = vc.VietAsrCtc.__new__(vc.VietAsrCtc)  # decode_logp needs only the vocabulary
    ctc.vocab = VOCAB
    strong = vc.LMFusion(lm, VOCAB, alpha=2.0, beta=8.0)  # a bonus that would write words anywhere
    assert vc.prefix_beam_search(silent, fusion=strong)  # the search alone would invent some
    assert ctc.decode_logp(silent, strong).text == ""
    assert ctc.decode_logp(_ambiguous(), vc.LMFusion(lm, VOCAB, alpha=0.5, beta=0.0)).text == "a e"
