"""The decoder's word n-gram model: Kneser-Ney estimates, pruning, the file format, mixtures (no audio, no corpus)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from models import ngram_lm as L

CORPUS = [
    "rác để cả tuần rồi",
    "rác thải ứ đọng ở hẻm",
    "xe rác không tới lấy rác",
    "đèn đường hư cả tuần rồi",
    "đèn đường ở hẻm bốn mươi lăm hư",
    "ở hẻm có ổ gà",
    "san francisco san francisco san francisco san francisco san francisco",
    "xe máy té ở ổ gà",
] * 3 + ["cả xóm mất điện", "mất nước cả tuần", "nước thải ở hẻm"]


def _sum_over_vocab(lm, context) -> float:
    return sum(10 ** lm.score(context, w) for w in lm.vocab if w != L.BOS)


@pytest.mark.parametrize("prune", [(0, 0, 0), (0, 0, 1), (0, 1, 1), (0, 2, 3)])
def test_every_context_is_a_distribution_before_and_after_pruning(prune):
    lm = L.from_tables(*L.estimate(CORPUS, order=3, prune=prune))
    for context in [(), ("ở",), ("ở", "hẻm"), ("cả", "tuần"), ("nobody", "said"), ("hẻm", "nobody"), (L.BOS,)]:
        assert _sum_over_vocab(lm, context) == pytest.approx(1.0, abs=1e-9), context


def test_pruning_drops_rare_ngrams_but_keeps_the_contexts_of_kept_ones():
    full = L.from_tables(*L.estimate(CORPUS, order=3, prune=(0, 0, 0)))
    pruned_vocab, pruned = L.estimate(CORPUS, order=3, prune=(0, 3, 3))
    assert len(pruned[2].keys) < full.sizes[2] and len(pruned[1].keys) < full.sizes[1]
    contexts = set((pruned[2].keys >> np.uint64(L.BITS)).tolist())
    assert contexts <= set(pruned[1].keys.tolist())


def test_kneser_ney_gives_a_word_seen_after_one_word_only_a_low_unigram():
    # "francisco" is as frequent as "rác" but only ever follows "san": its continuation count is 1
    lm = L.from_tables(*L.estimate(CORPUS, order=3, prune=(0, 0, 0)))
    counts = {w: sum(s.split().count(w) for s in CORPUS) for w in ("francisco", "rác")}
    assert counts["francisco"] >= counts["rác"]
    assert lm.score((), "francisco") < lm.score((), "rác") - 0.3  # a maximum-likelihood unigram: the other way round
    assert lm.score(("san",), "francisco") > math.log10(0.9)


def test_context_helps_and_unknown_words_are_unlikely():
    lm = L.from_tables(*L.estimate(CORPUS, order=3, prune=(0, 0, 0)))
    assert lm.score(("đèn",), "đường") > lm.score((), "đường")
    assert lm.score(("ổ",), "gà") > lm.score(("ổ",), "rác")
    assert lm.score((), "chưa-nghe-bao-giờ") < min(lm.score((), w) for w in lm.vocab if w not in (L.BOS, L.UNK))
    ppl_in, oov_in = lm.perplexity(["rác thải ứ đọng ở hẻm"])
    ppl_out, oov_out = lm.perplexity(["gà đọng tuần san ứ"])
    assert ppl_in < ppl_out and oov_in == oov_out == 0.0


def test_the_file_keeps_the_model_within_its_8_bit_quantisation(tmp_path):
    vocab, tables = L.estimate(CORPUS, order=3, prune=(0, 0, 1))
    exact = L.from_tables(vocab, tables)
    fp = L.save_model(vocab, tables, tmp_path / "m.npz", {"sources": [{"name": "toy"}]})
    loaded = L.load_model(tmp_path / "m.npz")
    assert loaded.fingerprint == fp == L.file_fingerprint(tmp_path / "m.npz")
    assert loaded.meta["sources"] == [{"name": "toy"}] and loaded.sizes == exact.sizes
    for context, w in [((), "rác"), (("ở",), "hẻm"), (("ở", "hẻm"), "có"), (("xe",), "máy"), (("a", "b"), "gà")]:
        assert loaded.score(context, w) == pytest.approx(exact.score(context, w), abs=0.15)


def test_a_damaged_file_is_refused_with_its_name(tmp_path):
    bad = tmp_path / "broken.npz"
    bad.write_bytes(b"not a model")
    with pytest.raises(L.LMFormatError, match="broken.npz"):
        L.load_model(bad)
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(L.LMFormatError, match="other.npz"):
        L.load_model(tmp_path / "other.npz")


def test_a_mixture_is_a_distribution_over_both_vocabularies_and_its_weight_follows_the_held_out_text():
    general = L.from_tables(*L.estimate(["luật này quy định về dân sự", "bộ luật dân sự", "quốc hội ban hành luật"] * 4),
                            {"fingerprint": "sha256:general"})
    site = L.from_tables(*L.estimate(CORPUS), {"fingerprint": "sha256:site"})
    mix = L.MixedLM([general, site], [0.7, 0.3])
    for context in [(), ("ở",), ("bộ", "luật"), ("rác", "luật")]:
        assert _sum_over_vocab(mix, context) == pytest.approx(1.0, abs=1e-9)
    assert mix.fingerprint == L.mixture_fingerprint(["sha256:general", "sha256:site"], [0.7, 0.3])
    assert mix.fingerprint != L.MixedLM([general, site], [0.5, 0.5]).fingerprint
    lam_site_text = L.mixture_weight([general, site], ["rác ở hẻm bốn mươi lăm", "đèn đường hư"])
    lam_law_text = L.mixture_weight([general, site], ["bộ luật dân sự", "quốc hội ban hành luật này"])
    assert lam_site_text[1] > 0.8 > 0.2 > lam_law_text[1]
