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
