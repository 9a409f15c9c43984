"""The case and punctuation model's training and export (models.readable_training): the numpy inference
of models.readable_text reproduces the torch network it was exported from, and training learns."""

import numpy as np

from models.readable_text import ReadableModelMissing, load_readable_model, shape
from models.readable_training import Run, TrainOptions, save_model, torch_logits, train


def _runs(n_runs=120, seed=0):
    """Runs over 40 made-up syllables: "ten" after "tôi" is a name (capital), a full stop follows "ạ"."""
    rng = np.random.default_rng(seed)
    # made-up syllables without digits (a syllable with a digit is read as a number, id 2)
    vocab = ["<pad>", "<unk>", "<num>", "tôi", "ten", "ạ"] + [f"w{'abcdefghijklmnopq'[i % 17]}{'xy'[i // 17]}" for i in range(34)]
    runs = []
    for _ in range(n_runs):
        ids = rng.integers(3, len(vocab), size=24)
        ids[rng.integers(0, 20)] = 3
        cases = np.zeros(24, dtype=np.int8)
        puncts = np.zeros(24, dtype=np.int8)
        for k in range(23):
            if ids[k] == 3:
                ids[k + 1] = 4
        cases[1:][ids[:-1] == 3] = 1
        puncts[ids == 5] = 2
        shapes = np.array([shape(vocab[i]) for i in ids], dtype=np.int8)  # as the numpy inference computes them
        runs.append(Run(ids.astype(np.int32), shapes, cases, puncts))
    return runs, vocab


def test_numpy_inference_reproduces_the_exported_network(tmp_path):
    runs, vocab = _runs()
    opt = TrainOptions(emb_dim=8, shape_dim=4, channels=16, dilations=(1, 2), epochs=3, batch_tokens=512, lr=1e-2)
    done = train(runs, vocab, opt)
    path = save_model(done.arrays, tmp_path / "m.npz", mixed={"ten": "TeN"}, meta={"files": "synthetic"})
    model = load_readable_model(path)
    r = runs[0]
    case_t, punct_t = torch_logits(done.net, r.ids, r.shapes)
    case_n, punct_n = model.logits([vocab[i] for i in r.ids])
    # int8 embeddings and float16 weights: close, and the same decisions
    assert np.abs(case_n - case_t).max() < 0.15 and np.abs(punct_n - punct_t).max() < 0.15
    assert (case_n.argmax(1) == case_t.argmax(1)).mean() >= 0.95
    tags = model.tag([vocab[i] for i in r.ids])
    assert len(tags.cases) == len(r.ids) and tags.mixed[list(r.ids).index(4)] == "TeN"
    assert model.meta["files"] == "synthetic" and model.fingerprint.startswith("sha256:")


def test_training_learns_the_rules_of_the_made_up_language():
    runs, vocab = _runs()
    opt = TrainOptions(emb_dim=8, shape_dim=4, channels=16, dilations=(1, 2), epochs=8, batch_tokens=512, lr=1e-2)
    done = train(runs, vocab, opt)
    test, _ = _runs(n_runs=20, seed=1)
    right = total = 0
    for r in test:
        case, punct = torch_logits(done.net, r.ids, r.shapes)
        right += int((case.argmax(1) == r.cases).sum() + (punct.argmax(1) == r.puncts).sum())
        total += 2 * len(r.ids)
    assert right / total > 0.97


def test_a_missing_or_foreign_file_is_a_named_error(tmp_path):
    import pytest

    with pytest.raises(ReadableModelMissing, match="no case and punctuation model"):
        load_readable_model(tmp_path / "none.npz")
    bad = tmp_path / "bad.npz"
    np.savez(bad, x=np.zeros(3))
    with pytest.raises(ReadableModelMissing, match="not a case and punctuation model"):
        load_readable_model(bad)


def test_the_linear_model_learns_the_made_up_language_and_loads_from_its_file(tmp_path):
    from models.readable_training import LinearOptions, train_linear

    runs, vocab = _runs(n_runs=200)
    done = train_linear(runs, len(vocab), LinearOptions(bits=12, alpha=1e-4, epochs=10))
    arrays = done.arrays | {"vocab": np.array(vocab)}
    path = save_model(arrays, tmp_path / "lin.npz", mixed={"ten": "TeN"}, meta={"files": "synthetic"})
    model = load_readable_model(path)
    assert model.linear and model.bits == 12
    test, _ = _runs(n_runs=20, seed=1)
    right = total = 0
    for r in test:
        tags = model.tag([vocab[i] for i in r.ids])
        right += int((np.array(tags.cases) == r.cases).sum() + (np.array(tags.puncts) == r.puncts).sum())
        total += 2 * len(r.ids)
    assert right / total > 0.97
    # the capital follows "tôi" (a bigram feature), not "ten" itself: "ten" alone stays lower case
    assert model.tag(["wax", "ten", "wbx"]).cases[1] == 0 and model.tag(["tôi", "ten", "wbx"]).cases[1] == 1


def test_hashed_features_are_the_same_for_the_same_syllables_and_differ_by_context():
    from models.readable_text import TEMPLATES, hashed_features

    ids = np.array([5, 6, 7, 8], dtype=np.int64)
    shapes = np.array([2, 2, 3, 2], dtype=np.int64)
    f = hashed_features(ids, shapes, vocab_size=10, bits=16)
    assert f.shape == (4, len(TEMPLATES) + 1) and f.min() >= 0 and f.max() < 2**16
    assert (f == hashed_features(ids, shapes, vocab_size=10, bits=16)).all()
    unigram_0 = TEMPLATES.index((0,))
    g = hashed_features(np.array([9, 6, 7, 8]), shapes, vocab_size=10, bits=16)
    assert g[1, unigram_0] == f[1, unigram_0] and g[1, TEMPLATES.index((-1, 0))] != f[1, TEMPLATES.index((-1, 0))]
